"""Comparisons and other ops with no useful gradient (their outputs never require grad).

``x > 0`` is a step function: its derivative is zero everywhere it exists, so PyTorch (and
minigrad) return plain boolean tensors, cut from the graph.
"""

from __future__ import annotations

import collections

import numpy as np

from .. import backend
from ..tensor import Tensor


def _wrap(result) -> Tensor:
    """A Tensor of a raw result (NumPy hands back scalars, not arrays, for 0-d inputs)."""
    return Tensor._make(backend.as_array(result))


def _data(x, like: Tensor):
    if isinstance(x, Tensor):
        if x.device != like.device:
            raise RuntimeError(f"comparison: expected both tensors on the same device, got "
                               f"{like.device} and {x.device}")
        return x.data
    return x


def _compare(ufunc_name):
    def op(a: Tensor, b) -> Tensor:
        xp = backend.array_module(a.data)
        bd = _data(b, a)
        try:
            return _wrap(getattr(xp, ufunc_name)(a.data, bd))
        except ValueError:
            raise RuntimeError(f"{ufunc_name}: shapes {tuple(a.shape)} and {np.shape(bd)} can't "
                               "be broadcast together") from None
    op.__name__ = ufunc_name
    op.__doc__ = f"Elementwise ``{ufunc_name}`` (a boolean tensor, no gradient)."
    return op


eq = _compare("equal")
ne = _compare("not_equal")
lt = _compare("less")
le = _compare("less_equal")
gt = _compare("greater")
ge = _compare("greater_equal")
logical_and = _compare("logical_and")
logical_or = _compare("logical_or")
logical_xor = _compare("logical_xor")
floor_divide = _compare("floor_divide")
remainder = _compare("remainder")
bitwise_and = _compare("bitwise_and")
bitwise_or = _compare("bitwise_or")


def _unary(name):
    def op(x: Tensor) -> Tensor:
        return _wrap(getattr(backend.array_module(x.data), name)(x.data))
    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` (no gradient)."
    return op


logical_not = _unary("logical_not")
isnan = _unary("isnan")
isinf = _unary("isinf")
isfinite = _unary("isfinite")
floor = _unary("floor")
ceil = _unary("ceil")
trunc = _unary("trunc")
bitwise_not = _unary("invert")


def round(x: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001
    return _wrap(backend.array_module(x.data).round(x.data, decimals))


def equal(a: Tensor, b: Tensor) -> bool:
    """True if both tensors have the same shape and elements."""
    return a.shape == b.shape and bool((a.data == b.data).all())


def allclose(a: Tensor, b: Tensor, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:
    xp = backend.array_module(a.data)
    return bool(xp.allclose(a.data, _data(b, a), rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(a: Tensor, b, rtol=1e-5, atol=1e-8, equal_nan=False) -> Tensor:
    xp = backend.array_module(a.data)
    return _wrap(xp.isclose(a.data, _data(b, a), rtol=rtol, atol=atol, equal_nan=equal_nan))


def nonzero(x: Tensor, as_tuple: bool = False):
    xp = backend.array_module(x.data)
    idx = xp.nonzero(x.data)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64)) for i in idx)
    return Tensor._make(xp.stack(idx, axis=1).astype(np.int64) if idx else
                        xp.zeros((0, 0), np.int64))


# (values, indices) named tuples, as PyTorch returns them
SortResult = collections.namedtuple("sort", ["values", "indices"])
TopKResult = collections.namedtuple("topk", ["values", "indices"])


def sort(x: Tensor, dim: int = -1, descending: bool = False):
    """(values, indices) sorted along ``dim``; values are differentiable through gather."""
    from .movement import gather
    xp = backend.array_module(x.data)
    idx = xp.argsort(-x.data if descending else x.data, axis=dim, kind="stable")
    idx_t = Tensor._make(idx.astype(np.int64))
    return SortResult(gather(x, dim, idx_t), idx_t)


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    from .movement import gather
    xp = backend.array_module(x.data)
    idx = xp.argsort(-x.data if largest else x.data, axis=dim, kind="stable")
    idx = xp.take(idx, xp.arange(k), axis=dim).astype(np.int64)
    idx_t = Tensor._make(idx)
    return TopKResult(gather(x, dim, idx_t), idx_t)


def argsort(x: Tensor, dim: int = -1, descending: bool = False) -> Tensor:
    return sort(x, dim, descending).indices
