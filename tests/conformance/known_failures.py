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

DELIBERATE: dict[str, str] = {}


def expected_failure(key: str, dtype: str) -> tuple[str, str] | None:
    """("known" or "deliberate", reason) if (op, dtype) is listed, else None."""
    for table_name, table in (("known", KNOWN_FAILURES), ("deliberate", DELIBERATE)):
        for name in (f"{key}/{dtype}", key):
            if name in table:
                return table_name, table[name]
    return None
