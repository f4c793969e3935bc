"""Statistics: var_mean/std_mean, median, unique and searchsorted.

``median`` has a gradient, to the element(s) it picked, like ``max``. ``unique`` and
``searchsorted`` return indices and counts, which have none (PyTorch defines no gradient for
them either), so they work on arrays and hand back plain tensors.
"""

from __future__ import annotations

import collections
import math

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from .arguments import normalize_dim
from .indexing import gather
from .movement import reshape
from .reduce import mean, std, var

MedianResult = collections.namedtuple("median", ["values", "indices"])


def _dim_or_unbiased(dim, unbiased):
    """``var_mean(x, True)`` is PyTorch's (input, unbiased) overload: a bool is not a dim."""
    if isinstance(dim, (bool, np.bool_)):
        return None, bool(dim)
    return dim, unbiased


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,  # noqa: A002
             correction=None):
    """(variance, mean) over ``dim`` in one call; correction 1 (N - 1) by default."""
    dim, unbiased = _dim_or_unbiased(dim, unbiased)
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,  # noqa: A002
             correction=None):
    """(standard deviation, mean) over ``dim`` in one call; correction 1 by default."""
    dim, unbiased = _dim_or_unbiased(dim, unbiased)
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


# ---------------------------------------------------------------------------------------------
# median
# ---------------------------------------------------------------------------------------------

class MedianAll(ArrayFunction):
    """y = the lower median of all elements: the ((n - 1) // 2)-th smallest (NaN if any is).

    dy/dx: g shared evenly among the elements equal to y, as PyTorch does for median().
    """

    @staticmethod
    def forward(ctx, x):
        xp = backend.array_module(x)
        flat = x.reshape(-1)
        if flat.size == 0 or bool(xp.isnan(flat).any()):
            y = xp.asarray(np.nan, dtype=x.dtype)
        else:
            k = (flat.size - 1) // 2
            y = xp.partition(flat, k)[k].reshape(())
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        xp = backend.array_module(x.array)
        picked = (x.array == y.array) | (xp.isnan(x.array) & xp.isnan(y.array))
        share = picked / max(int(picked.sum()), 1)
        return g * Tensor._make(share.astype(g.dtype))


def _median_indices(x, d: int):
    """Index along ``d`` of each slice's lower median (of its first NaN if it has one)."""
    xp = backend.array_module(x)
    k = (x.shape[d] - 1) // 2
    order = xp.argsort(x, axis=d, kind="stable")
    idx = xp.take(order, [k], axis=d)
    nan = xp.isnan(x) if x.dtype.kind == "f" else None
    if nan is not None and bool(nan.any()):
        first_nan = xp.expand_dims(xp.argmax(nan, axis=d), d)
        idx = xp.where(nan.any(axis=d, keepdims=True), first_nan, idx)
    return idx.astype(np.int64)


def median(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A002 - PyTorch's names
    """``median(x)``: the lower median of all elements. ``median(x, dim)``: the named tuple
    (values, indices) of each slice's lower median along ``dim``, like ``max(x, dim)``; the
    values' gradient goes to the picked element."""
    if dim is None:
        if keepdim:
            raise TypeError("median(): keepdim needs dim")
        return MedianAll.apply(input)
    d = normalize_dim("median", dim, input.ndim)
    if input.ndim == 0:
        return MedianResult(input.clone(), Tensor._make(np.asarray(0, dtype=np.int64)))
    if input.shape[d] == 0:
        raise IndexError(f"median(): expected reduction dim {d} to have non-zero size "
                         f"(shape {tuple(input.shape)})")
    idx = _median_indices(input.array, d)
    values = gather(input, d, idx)
    if not keepdim:
        shape = tuple(s for i, s in enumerate(input.shape) if i != d)
        values, idx = reshape(values, shape), idx.reshape(shape)
    return MedianResult(values, Tensor._make(idx))


# ---------------------------------------------------------------------------------------------
# unique and searchsorted (no gradient)
# ---------------------------------------------------------------------------------------------

def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim=None):
    """The distinct elements in ascending order (``sorted=False`` also sorts, a valid order),
    or the distinct slices along ``dim``; optionally the inverse (where each input element
    went: ``output[inverse]`` is the input) and the counts."""
    xp = backend.array_module(input.array)
    if dim is None:
        values, inverse, counts = xp.unique(input.array.reshape(-1), return_inverse=True,
                                            return_counts=True)
        inverse = inverse.reshape(input.shape)
    else:
        d = normalize_dim("unique", dim, input.ndim)
        values, inverse, counts = xp.unique(input.array, return_inverse=True,
                                            return_counts=True, axis=d)
        inverse = inverse.reshape(-1)
    out = [Tensor._make(values)]
    if return_inverse:
        out.append(Tensor._make(inverse.astype(np.int64)))
    if return_counts:
        out.append(Tensor._make(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def searchsorted(sorted_sequence: Tensor, values, *, out_int32: bool = False,
                 right: bool = False, side=None, sorter=None) -> Tensor:
    """For each value, the index where it would be inserted into ``sorted_sequence`` (along
    its last dim) to keep it sorted: before equal elements (``side='left'``, the default) or
    after them (``right=True`` / ``side='right'``). An N-D sequence searches each row for the
    values of the same row."""
    op = "searchsorted"
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"{op}: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise RuntimeError(f"{op}: side and right can't be set to opposites, got side of "
                               "left while right was True")
        right = side == "right"
    seq = sorted_sequence.array
    xp = backend.array_module(seq)
    if sorter is not None:
        order = sorter.array if isinstance(sorter, Tensor) else xp.asarray(sorter)
        if tuple(order.shape) != tuple(seq.shape):
            raise RuntimeError(f"{op}: sorter {tuple(order.shape)} must have the shape of the "
                               f"sorted sequence {tuple(seq.shape)}")
        seq = xp.take_along_axis(seq, order, axis=-1)
    scalar = not isinstance(values, Tensor)
    vals = xp.asarray(values) if scalar else values.array
    if seq.ndim == 0:
        raise RuntimeError(f"{op}: the sorted sequence must have at least 1 dimension")
    if seq.ndim > 1 and (scalar or tuple(seq.shape[:-1]) != tuple(vals.shape[:-1])):
        raise RuntimeError(f"{op}: a sorted sequence of shape {tuple(seq.shape)} needs values "
                           f"whose leading dims match its own ({tuple(seq.shape[:-1])}), got "
                           f"{'a number' if scalar else tuple(vals.shape)}")
    how = "right" if right else "left"
    if seq.ndim == 1:
        out = xp.searchsorted(seq, vals, side=how)
    else:
        n_rows = math.prod(seq.shape[:-1])        # not reshape(-1, ...): rows may be empty
        rows = seq.reshape(n_rows, seq.shape[-1])
        row_values = vals.reshape(n_rows, vals.shape[-1])
        out = xp.zeros(vals.shape, dtype=np.int64).reshape(n_rows, vals.shape[-1])
        for i, (r, v) in enumerate(zip(rows, row_values)):
            out[i] = xp.searchsorted(r, v, side=how)
        out = out.reshape(vals.shape)
    return Tensor._make(xp.asarray(out, dtype=np.int32 if out_int32 else np.int64))
