"""Reductions: sum, mean, var, max/min, logsumexp, argmax/argmin over ``dim`` with ``keepdim``.

In backward, a reduction *spreads* the gradient back over what it reduced: every input element
of a sum gets the output's gradient; a max gives it only to the winning element(s).
"""

from __future__ import annotations

import builtins
import collections

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from .movement import ScatterAdd, _dim, expand, reshape

# PyTorch returns (values, indices) as a named tuple: x.max(dim=1)[0] and .values both work
MaxResult = collections.namedtuple("max", ["values", "indices"])
MinResult = collections.namedtuple("min", ["values", "indices"])


def _axes(dim, ndim, op):
    """Normalise ``dim`` (None, int or tuple) into a sorted tuple of axes."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = tuple(sorted({_dim(int(d), ndim, op) for d in dims}))
    if len(axes) != len(dims):
        raise RuntimeError(f"{op}: dim {dim} appears more than once")
    return axes


def _keep_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _spread(g: Tensor, x_shape, axes) -> Tensor:
    """Undo a reduction's shape: reshape g to keepdim form, then broadcast to x's shape."""
    return expand(reshape(g, _keep_shape(x_shape, axes)), tuple(x_shape))


class Sum(Function):
    """y = sum of x over ``axes``.   dx = g broadcast back over those axes."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.x_shape, ctx.axes = x.shape, axes
        return x.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return _spread(g, ctx.x_shape, ctx.axes), None, None


def sum(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:  # noqa: A001
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind in "bu" or (x.dtype.kind == "i" and x.dtype != np.int64):
        x = x.to(np.int64)  # PyTorch sums bools and small ints as int64
    return Sum.apply(x, _axes(dim, x.ndim, "sum"), keepdim)


def mean(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be floating "
                           f"point, but got {x.dtype}; use x.float().mean()")
    axes = _axes(dim, x.ndim, "mean")
    n = int(np.prod([x.shape[a] for a in axes]))
    return Sum.apply(x, axes, keepdim) / n if n else Sum.apply(x, axes, keepdim) * float("nan")


class Var(Function):
    """y = sum((x - mean)^2) / (N - correction).   dx = g * 2 (x - mean) / (N - correction)."""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        n = int(np.prod([x.shape[a] for a in axes]))
        ctx.x_shape, ctx.axes, ctx.denom = x.shape, axes, builtins.max(n - correction, 0)
        ctx.save_for_backward(x)
        xp = backend.array_module(x)
        centred = x - x.mean(axis=axes, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (xp.sum(centred * centred, axis=axes, keepdims=keepdim)
                    / ctx.denom).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        centred = x - mean(x, dim=ctx.axes, keepdim=True)
        return _spread(g, ctx.x_shape, ctx.axes) * centred * (2.0 / ctx.denom), None, None, None


def _correction(unbiased, correction):
    if correction is not None:
        return int(correction)
    return 1 if unbiased in (None, True) else 0


def var(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance; ``unbiased=True`` (default) divides by N - 1, as PyTorch does."""
    return Var.apply(x, _axes(dim, x.ndim, "var"), _correction(unbiased, correction), keepdim)


def std(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    from .elementwise import sqrt
    return sqrt(var(x, dim, unbiased, keepdim, correction=correction))


class AMax(Function):
    """y = max of x over ``axes``.   dx = g shared evenly among the elements equal to the max."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, largest):
        ctx.x_shape, ctx.axes = x.shape, axes
        y = x.max(axis=axes, keepdims=True) if largest else x.min(axis=axes, keepdims=True)
        ctx.save_for_backward(x, y)
        return y if keepdim else y.reshape(tuple(s for i, s in enumerate(y.shape)
                                                 if i not in axes))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        winners = (x == y.detach()).to(g.dtype)
        count = sum(winners, dim=ctx.axes, keepdim=True)
        return _spread(g, ctx.x_shape, ctx.axes) * winners / count, None, None, None


def _check_nonempty(x, axes, op):
    for a in axes:
        if x.shape[a] == 0:
            raise IndexError(f"{op}(): expected a non-empty dimension {a} to reduce, but the "
                             f"tensor has shape {tuple(x.shape)}")
    if x.numel() == 0:
        raise RuntimeError(f"{op}(): cannot reduce an empty tensor")


def amax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    axes = _axes(dim, x.ndim, "amax")
    _check_nonempty(x, axes, "amax")
    return AMax.apply(x, axes, keepdim, True)


def amin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    axes = _axes(dim, x.ndim, "amin")
    _check_nonempty(x, axes, "amin")
    return AMax.apply(x, axes, keepdim, False)


class MaxWithIndices(Function):
    """(values, indices) of the max along one dim.   dx = g placed at the returned index."""

    @staticmethod
    def forward(ctx, x, dim, keepdim, largest):
        xp = backend.array_module(x)
        idx = (xp.argmax if largest else xp.argmin)(x, axis=dim)
        idx_keep = xp.expand_dims(idx, dim)
        values = xp.take_along_axis(x, idx_keep, axis=dim)
        ctx.dim, ctx.idx_keep, ctx.x_shape = dim, idx_keep, x.shape
        if not keepdim:
            values, idx = values.reshape(idx.shape), idx.astype(np.int64)
        else:
            idx = idx_keep.astype(np.int64)
        ctx.mark_non_differentiable(idx)
        return values, idx

    @staticmethod
    def backward(ctx, g, _g_indices):
        g = reshape(g, ctx.idx_keep.shape)
        return ScatterAdd.apply(g, ctx.dim, ctx.idx_keep, ctx.x_shape), None, None, None


def _max_min(x, dim, keepdim, largest, op):
    if dim is None:
        if keepdim:
            raise TypeError(f"{op}(): keepdim needs dim")
        return (amax if largest else amin)(x)
    d = _dim(dim, x.ndim, op)
    _check_nonempty(x, (d,), op)
    values, indices = MaxWithIndices.apply(x, d, keepdim, largest)
    return (MaxResult if largest else MinResult)(values, indices)


def max(x: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """``x.max()`` is one value; ``x.max(dim)`` is the named tuple (values, indices)."""
    if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
        from .elementwise import maximum
        return maximum(x, dim)
    return _max_min(x, dim, keepdim, True, "max")


def min(x: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    if isinstance(dim, Tensor):
        from .elementwise import minimum
        return minimum(x, dim)
    return _max_min(x, dim, keepdim, False, "min")


def _arg(x, dim, keepdim, largest, op):
    xp = backend.array_module(x.data)
    fn = xp.argmax if largest else xp.argmin
    if dim is None:
        _check_nonempty(x, tuple(range(x.ndim)), op)
        out = fn(x.data.reshape(-1))
        out = out.reshape((1,) * x.ndim) if keepdim else out
    else:
        d = _dim(dim, x.ndim, op)
        _check_nonempty(x, (d,), op)
        out = fn(x.data, axis=d)
        if keepdim:
            out = xp.expand_dims(out, d)
    return Tensor._make(xp.asarray(out, dtype=np.int64))


def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _arg(x, dim, keepdim, True, "argmax")


def argmin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _arg(x, dim, keepdim, False, "argmin")


class LogSumExp(Function):
    """y = log(sum(exp(x))) = m + log(sum(exp(x - m))), with m = max(x).

    Subtracting the max keeps exp from overflowing (x = 1000 would give inf otherwise).
    dx = g * exp(x - y) = g * softmax(x).
    """

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = backend.array_module(x)
        m = x.max(axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf rows: exp(-inf - 0) = 0, y = -inf
        with np.errstate(divide="ignore"):
            y = m + xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=True))
        ctx.x_shape, ctx.axes = x.shape, axes
        y = y.astype(x.dtype, copy=False)
        if not keepdim:
            y = y.reshape(tuple(s for i, s in enumerate(y.shape) if i not in axes))
        ctx.save_for_backward(x, y)  # y is the output itself: d/dx of exp(x - y) needs it
        return y

    @staticmethod
    def backward(ctx, g):
        from .elementwise import exp
        x, y = ctx.saved_tensors
        y_keep = reshape(y, _keep_shape(ctx.x_shape, ctx.axes))
        return _spread(g, ctx.x_shape, ctx.axes) * exp(x - y_keep), None, None


def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    if x.dtype.kind not in "fc":
        x = x.to(backend.DEFAULT_FLOAT)
    return LogSumExp.apply(x, _axes(dim, x.ndim, "logsumexp"), keepdim)


def prod(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product of all elements or along ``dim``; its gradient is exact at zeros (scan.Prod)."""
    from .scan import prod as exact_prod  # the product lives with the scans it is made of
    return exact_prod(x, dim, keepdim, dtype=dtype)


def all(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    axes = _axes(dim, x.ndim, "all")
    return Tensor._make(backend.as_array(backend.array_module(x.data).all(x.data, axis=axes,
                                                                   keepdims=keepdim)))


def any(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    axes = _axes(dim, x.ndim, "any")
    return Tensor._make(backend.as_array(backend.array_module(x.data).any(x.data, axis=axes,
                                                                   keepdims=keepdim)))


def norm(x: Tensor, p=2, dim=None, keepdim: bool = False) -> Tensor:
    """The p-norm (p=2 by default; p=1, p=inf too)."""
    from .elementwise import sqrt
    if p == 2 or p == "fro":
        return sqrt(sum(x * x, dim=dim, keepdim=keepdim))
    if p == 1:
        return sum(x.abs(), dim=dim, keepdim=keepdim)
    if p == float("inf"):
        return amax(x.abs(), dim=dim, keepdim=keepdim)
    return sum(x.abs() ** p, dim=dim, keepdim=keepdim) ** (1.0 / p)
