"""PyTorch's own OpInfo sample inputs, run through minigrad: one test per (op, dtype).

Every op in PyTorch's ``op_db`` that minigrad exposes is run on its float32 and float64
samples and compared with PyTorch, outputs and gradients (``opinfo_harness.py`` says how).
A test passes when every sample passes. The ops that do not yet are listed, with the reason,
in ``known_failures.py`` and run as strict xfails: fixing an op turns its xfail into a
failure until the entry is deleted, so the table only shrinks.

Runtime: an (op, dtype) with more than ``MAX_SAMPLES`` samples runs that many, evenly spaced
(only max_pool2d has more: 1440); ``make conformance`` runs them all.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")   # PyTorch's test database imports it

import opinfo_harness as harness  # noqa: E402
from known_failures import DELIBERATE, KNOWN_FAILURES, expected_failure  # noqa: E402

MAX_SAMPLES = 200


def _dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


def _cases() -> list:
    cases = []
    for op, resolved in harness.minigrad_ops():
        for dtype in harness.float_dtypes(op):
            key, name = harness.op_key(op), _dtype_name(dtype)
            listed = expected_failure(key, name)
            reason = f"listed as a {listed[0]} failure in known_failures.py" if listed else ""
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if listed else []
            cases.append(pytest.param(op, resolved, dtype, id=f"{key}-{name}", marks=marks))
    return cases


CASES = _cases()


@pytest.mark.parametrize("op,resolved,dtype", CASES)
def test_opinfo_samples_match_torch(op, resolved, dtype):
    result = harness.run_op(op, dtype, MAX_SAMPLES, resolved)
    assert result.counted, f"{result.key}: PyTorch rejected every sample, nothing was compared"
    failures = result.failures
    report = "\n".join(f"  sample {s.index} ({s.description}): {s.message}"
                       for s in failures[:10])
    assert not failures, (f"{result.key} {result.dtype}: {len(failures)} of "
                          f"{len(result.counted)} samples differ from PyTorch "
                          f"(called as {resolved.how}):\n{report}")


def test_every_table_entry_names_a_tested_op():
    """A key that matches no (op or module, dtype) case (a typo, a renamed OpInfo) would
    silently never apply: every entry of both tables must name one."""
    import moduleinfo_harness

    ops = [(harness.op_key(op), harness.float_dtypes(op)) for op, _ in harness.minigrad_ops()]
    ops += [(case.key, moduleinfo_harness.module_dtypes(case))
            for case in moduleinfo_harness.minigrad_modules()]
    tested = {key for key, _ in ops}
    tested_with_dtype = {f"{key}/{_dtype_name(d)}" for key, dtypes in ops for d in dtypes}
    for key in list(KNOWN_FAILURES) + list(DELIBERATE):
        assert key in tested or key in tested_with_dtype, f"{key!r} names no tested op"
    assert not set(KNOWN_FAILURES) & set(DELIBERATE), "an op is in both tables"
