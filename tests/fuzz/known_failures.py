"""THE table of known failures: every way minigrad currently fails the fuzz property, one
entry per cause (id -> reason), with a minimal reproduction and a description of the failures
it explains.

* The fuzz tests let a failure through when an entry here ``matches`` it (so the suite passes
  while the bug exists, and keeps fuzzing everything else).
* ``test_known_failures.py`` runs every entry's ``repro`` under
  ``pytest.mark.xfail(strict=True)``: when a fix makes a repro pass, that test fails and says
  to delete the entry, which puts the fuzz tests back on guard for that cause.

An entry matches a failure (``harness.CaseFailure``) when its op is in ``ops``, its kind in
``kinds``, its detail matches the regex ``says`` and, if given, ``when(case)`` is true. Keep
entries narrow: a broad one hides new bugs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .harness import Case, T
from .kernel_cases import KernelCase
from .op_table import OPS_BY_NAME


@dataclass(frozen=True)
class KnownFailure:
    id: str
    reason: str
    repro: Callable                  # () -> Case or KernelCase that fails today
    ops: tuple
    kinds: tuple
    says: str = ""
    when: Callable | None = None

    def matches(self, failure) -> bool:
        return (failure.case.op.name in self.ops and failure.kind in self.kinds
                and re.search(self.says, failure.detail) is not None
                and (self.when is None or bool(self.when(failure.case))))


# ---------------------------------------------------------------------------------------------
# Building repros and describing cases
# ---------------------------------------------------------------------------------------------

def case(op_name, *args, **kwargs):
    return Case(OPS_BY_NAME[op_name], args, kwargs)


def t(values, dtype="float32", grad=False, view=()):
    return T(np.array(values, dtype=dtype), view, grad)


def _tensors(c):
    return c.tensors() if isinstance(c, Case) else []


def has_huge_or_nonfinite(c):
    def wild(a):
        with np.errstate(invalid="ignore"):
            v = a.astype(np.float64)
            return bool((~np.isfinite(v) | (np.abs(v) >= 1e20)).any())
    return any(wild(x.values) for x in _tensors(c) if x.dtype.kind == "f")


ALL_OPS = tuple(OPS_BY_NAME)


def _k(function, *args, **kwargs):
    return KernelCase(function, args, kwargs)


# ---------------------------------------------------------------------------------------------
# The table. First the causes others are fixing (the brief's list), then the ones this suite
# found. `explaining` returns the first entry that matches, so order narrow before broad.
# ---------------------------------------------------------------------------------------------

def _special(array):
    """inf, nan, huge or zero values: where NumPy warns (log(0), x/0, inf-inf, overflow)."""
    values = array.astype(np.float64)
    with np.errstate(invalid="ignore"):
        return bool((~np.isfinite(values) | (np.abs(values) >= 1e20) | (values == 0)).any())


def has_special_values(c):
    scalars = [a for a in c.args if isinstance(a, (int, float)) and not isinstance(a, str)]
    return any(_special(x.values) for x in _tensors(c)) or any(s == 0 for s in scalars)


KNOWN_FAILURES = [
    KnownFailure(
        "special-values-warn",
        "inf, nan or huge inputs make NumPy warn (overflow in mul, inf - inf in add/sub, nan in "
        "matmul) where PyTorch computes silently: add, sub and mul skip np.errstate for speed",
        lambda: case("mul", t([3e38]), 2.0),
        ALL_OPS, ("warning",), says=r"divide by zero|invalid value|overflow",
        when=has_special_values),
    KnownFailure(
        "huge-values-differ",
        "with inf/nan/1e30 inputs layer_norm, cross_entropy and MultiheadAttention give other "
        "values or gradients than PyTorch (which overflows to NaN where minigrad does not, "
        "and the reverse)",
        lambda: case("layer_norm", t([[-1e30]], grad=True), (1,), None, t([-1e30], grad=True),
                     1e-3),
        ("layer_norm", "cross_entropy", "nn.MultiheadAttention"), ("mismatch", "grad-mismatch"),
        when=has_huge_or_nonfinite),
    KnownFailure(
        "nan-gradient-conventions",
        "gradients at NaN differ from PyTorch's: relu' (minigrad 0, PyTorch 1)",
        lambda: case("relu", t([np.nan], grad=True)),
        ("relu",), ("grad-mismatch",),
        when=lambda c: any(np.isnan(x.values.astype(np.float64)).any() for x in _tensors(c))),
]


def explaining(failure):
    """The first known failure that explains ``failure``, or None."""
    for known in KNOWN_FAILURES:
        if known.matches(failure):
            return known
    return None


def _check_ids_unique():
    ids = [k.id for k in KNOWN_FAILURES]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"known failure ids must be unique: {duplicates}"


_check_ids_unique()
