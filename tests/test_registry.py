"""Gradcheck (and gradgradcheck) over every registered op; and a check that none is missing."""

from __future__ import annotations

import numpy as np
import pytest
from opinfo import all_entries

import minigrad as mg

ENTRIES = all_entries()
CASES = [(e, i) for e in ENTRIES for i in range(len(e.samples(np.random.default_rng(0))))]


def _case_id(case):
    entry, i = case
    return f"{entry.name}-{i}"


def _sample(entry, i):
    return entry.samples(np.random.default_rng(1000 + i))[i]


def _differentiable_call(entry, i):
    """The sample's function of its differentiable tensors only (the rest held fixed)."""
    s = _sample(entry, i)
    positions = [j for j, a in enumerate(s.args) if isinstance(a, mg.Tensor) and a.requires_grad]

    def fn(*xs):
        args = list(s.args)
        for j, x in zip(positions, xs):
            args[j] = x
        return entry.fn(*args, **s.kwargs)

    return fn, [s.args[j] for j in positions]


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_gradcheck(case):
    entry, i = case
    fn, tensors = _differentiable_call(entry, i)
    assert mg.autograd.gradcheck(fn, tensors, atol=entry.atol, rtol=entry.rtol)


GG_CASES = [c for c in CASES if c[0].gradgrad]


@pytest.mark.parametrize("case", GG_CASES, ids=[_case_id(c) for c in GG_CASES])
def test_gradgradcheck(case):
    entry, i = case
    fn, tensors = _differentiable_call(entry, i)
    assert mg.autograd.gradgradcheck(fn, tensors, atol=entry.atol, rtol=entry.rtol)


# Public names that are not differentiable ops (factories, comparisons, namespaces, dtypes...)
NOT_DIFFERENTIABLE = {
    "tensor", "zeros", "ones", "full", "arange", "eye", "randn", "rand", "zeros_like",
    "ones_like", "full_like", "rand_like", "randn_like", "from_numpy", "manual_seed", "empty",
    "linspace", "randint", "randperm", "normal", "is_tensor", "default_generator",
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not", "isnan",
    "isinf", "isfinite", "floor", "ceil", "round", "sign", "trunc", "allclose", "isclose", "equal",
    "nonzero", "argsort", "argmax", "argmin", "all", "any", "no_grad", "enable_grad",
    "set_grad_enabled", "is_grad_enabled", "device", "Tensor", "Size",
    "empty_like", "floor_divide", "unique", "searchsorted", "zero_", "multinomial",
    "count_nonzero", "argwhere", "bincount",
}


def _public_ops():
    """Ops under mg (``exp``) and under the mg.linalg namespace (``linalg.norm``)."""
    names = set()
    for prefix, namespace in (("", mg), ("linalg.", mg.linalg)):
        for name in dir(namespace):
            obj = getattr(namespace, name)
            if name.startswith("_") or not callable(obj) or isinstance(obj, (type, np.dtype)):
                continue
            if getattr(obj, "__module__", "").startswith("minigrad.ops"):
                names.add(prefix + name)
    return names - NOT_DIFFERENTIABLE


def test_every_public_op_is_registered():
    covered = set()
    for e in ENTRIES:
        covered.add(e.name)
        covered.update(e.covers)
    missing = sorted(n for n in _public_ops() if n not in covered)
    assert not missing, f"public differentiable ops without a registry entry: {missing}"


def test_every_functional_is_registered():
    F = pytest.importorskip("minigrad.nn.functional")
    covered = {e.name for e in ENTRIES} | {c for e in ENTRIES for c in e.covers}
    skip = {"one_hot", "dropout"} | NOT_DIFFERENTIABLE
    names = [n for n in dir(F) if not n.startswith("_") and callable(getattr(F, n))
             and getattr(getattr(F, n), "__module__", "").startswith("minigrad")
             and not isinstance(getattr(F, n), type)]
    missing = sorted(n for n in names if n not in skip and f"nn.functional.{n}" not in covered
                     and n not in covered)
    assert not missing, f"nn.functional ops without a registry entry: {missing}"
