"""PyTorch's ModuleInfo inputs, run through minigrad's layers: one test per (module, dtype).

Each layer minigrad has under PyTorch's name is built from the ModuleInfo's constructor
arguments, given PyTorch's state_dict, and compared on forward outputs, state after forward
and gradients of inputs and parameters (``moduleinfo_harness.py`` says how). Failures still to
fix are strict xfails listed in ``known_failures.py``, the same table as the ops'.

Runtime: a (module, dtype) with more than ``MAX_INPUTS`` inputs runs that many, evenly spaced
(CrossEntropyLoss, the transformer layers, MultiheadAttention and the recurrent layers have
more); ``make conformance`` runs them all.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")   # PyTorch's test database imports it

import moduleinfo_harness as harness  # noqa: E402
from known_failures import expected_failure  # noqa: E402

MAX_INPUTS = 32


def _cases() -> list:
    cases = []
    for case in harness.minigrad_modules():
        if all(harness.takes_a_torch_module(mi)
               for _, _, mi in harness.module_inputs(case, torch.float64, 4)):
            continue                    # TransformerEncoder(encoder_layer): see the report
        for dtype in harness.module_dtypes(case):
            name = str(dtype).replace("torch.", "")
            listed = expected_failure(case.key, name)
            reason = f"listed as a {listed[0]} failure in known_failures.py" if listed else ""
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if listed else []
            cases.append(pytest.param(case, dtype, id=f"{case.key}-{name}", marks=marks))
    return cases


@pytest.mark.parametrize("case,dtype", _cases())
def test_module_inputs_match_torch(case, dtype):
    result = harness.run_module(case, dtype, MAX_INPUTS)
    assert result.counted, f"{result.key}: no input was compared"
    failures = result.failures
    report = "\n".join(f"  input {s.index} ({s.description}): {s.message}"
                       for s in failures[:10])
    assert not failures, (f"{result.key} {result.dtype}: {len(failures)} of "
                          f"{len(result.counted)} inputs differ from PyTorch:\n{report}")


def test_harness_catches_a_wrong_layer():
    """A Linear that scales its output, and one whose weight has another name, both fail."""
    import minigrad as mg

    linear = next(c for c in harness.minigrad_modules() if c.key == "nn.Linear")

    class ScaledLinear(mg.nn.Linear):
        def forward(self, input):  # noqa: A002  (PyTorch's argument name: called as input=)
            return super().forward(input) * 1.001

    class RenamedLinear(mg.nn.Module):                  # parameters "w" and "b"
        def __init__(self, in_features, out_features, bias=True):
            super().__init__()
            inner = mg.nn.Linear(in_features, out_features, bias)
            self.w, self.b = inner.weight, inner.bias

        def forward(self, input):  # noqa: A002
            return mg.nn.functional.linear(input, self.w, self.b)

    correct = harness.run_module(linear, torch.float64, 2)
    scaled = harness.run_module(harness.ModuleCase(linear.info, ScaledLinear), torch.float64, 2)
    renamed = harness.run_module(harness.ModuleCase(linear.info, RenamedLinear), torch.float64,
                                 2)
    assert correct.counted and correct.passed
    assert scaled.failures and scaled.failures[0].cause == "mismatch"
    assert renamed.failures and "state_dict" in renamed.failures[0].message
