"""The work list: ops (OpInfo) and layers (ModuleInfo) whose PyTorch inputs minigrad fails.

``test_opinfo_conformance.py`` marks each (op, dtype) listed here as a strict xfail: once
minigrad passes every sample of that op, its xfail fails and the entry must be deleted, so the
table only shrinks (``test_moduleinfo_conformance.py`` does the same for layers). Keys are
``opinfo_harness.op_key`` names (``"max.reduction_with_dim"``) or layer names (``"nn.LSTM"``);
a key ending in ``/float32`` or ``/float64`` applies to that dtype only, a plain key to both.
Each reason names the cause and a failing sample, so the fix can start from it;
``make conformance`` (``benchmarks/results/conformance.md``) lists every failing sample.

``DELIBERATE`` is the other table: differences minigrad keeps on purpose, each with the reason.
Its entries are strict xfails too (a difference that disappears must be taken off the list).
"""

from __future__ import annotations

KNOWN_FAILURES: dict[str, str] = {
}

DELIBERATE: dict[str, str] = {
    "cov": "the gradient of float32 aweights differs from PyTorch's by float32 rounding only: "
           "PyTorch rounds it to float32 at each use of the weights, minigrad accumulates and "
           "rounds once (1-2 float32 ulps, 1.7e-7 relative, beyond the float64 tolerance of "
           "1e-7: float64 samples 8, 33, 37); float32 sample 24's true gradient is 0 and both "
           "give rounding noise of ~3e-5 (atol 1e-5). Values and the input's gradient match.",
}


def expected_failure(key: str, dtype: str) -> tuple[str, str] | None:
    """("known" or "deliberate", reason) if (op, dtype) is listed, else None."""
    for table_name, table in (("known", KNOWN_FAILURES), ("deliberate", DELIBERATE)):
        for name in (f"{key}/{dtype}", key):
            if name in table:
                return table_name, table[name]
    return None
