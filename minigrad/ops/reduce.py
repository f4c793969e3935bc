"""Reductions: sum, mean, var, max/min, logsumexp, argmax/argmin over ``dim`` with ``keepdim``.

In backward, a reduction *spreads* the gradient back over what it reduced: every input element
of a sum gets the output's gradient; a max gives it only to the winning element(s).
"""

from __future__ import annotations

import builtins
import collections
import math
import warnings

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from .arguments import EVERY_DIM, normalize_dim, normalize_dims, refuse_none_dim
from .indexing import ScatterAdd
from .movement import expand, reshape

# PyTorch returns (values, indices) as a named tuple: x.max(dim=1)[0] and .values both work
MaxResult = collections.namedtuple("max", ["values", "indices"])
MinResult = collections.namedtuple("min", ["values", "indices"])


def _axes(dim, ndim, op):
    """``dim`` (None, int or tuple) as a sorted tuple of axes (see ``normalize_dims``)."""
    return normalize_dims(op, dim, ndim)


def _keep_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _spread(g: Tensor, x_shape, axes) -> Tensor:
    """Undo a reduction's shape: reshape g to keepdim form, then broadcast to x's shape."""
    return expand(reshape(g, _keep_shape(x_shape, axes)), tuple(x_shape))


class Sum(ArrayFunction):
    """y = sum of x over ``axes``.   dx = g broadcast back over those axes."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.x_shape, ctx.axes = x.shape, axes
        return x.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return _spread(g, ctx.x_shape, ctx.axes), None, None

    @staticmethod
    def backward_arrays(ctx, g):
        keep = g.reshape(_keep_shape(ctx.x_shape, ctx.axes))
        return backend.array_module(g).broadcast_to(keep, ctx.x_shape), None, None


def sum(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:  # noqa: A001
    if dtype is not None:
        x = x.to(dtype)
    elif x.array.dtype.kind in "biu" and x.array.dtype != np.int64:
        x = x.to(np.int64)  # PyTorch sums bools and small ints as int64
    return Sum.apply(x, normalize_dims("sum", dim, x.array.ndim), keepdim)


def mean(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be floating "
                           f"point, but got {x.dtype}; use x.float().mean()")
    axes = _axes(dim, x.ndim, "mean")
    n = int(np.prod([x.shape[a] for a in axes]))
    return Sum.apply(x, axes, keepdim) / n if n else Sum.apply(x, axes, keepdim) * float("nan")


# ---------------------------------------------------------------------------------------------
# Variance and standard deviation
# ---------------------------------------------------------------------------------------------

def _count(shape, axes) -> int:
    return math.prod(shape[a] for a in axes)


def _centred(x: Tensor, axes) -> Tensor:
    """x - mean(x), corrected by the mean of the result (the "corrected two-pass" algorithm):
    sum / N rounds, so a constant input has a mean a little off and centred values a little
    off zero; their mean is that error exactly, and subtracting it gives exact zeros (the
    variance of a constant is exactly 0, as PyTorch's Welford algorithm gives)."""
    centred = x - mean(x, dim=axes, keepdim=True)
    return centred - mean(centred.detach(), dim=axes, keepdim=True)


def _variance(x, axes, correction, keepdim):
    """sum((x - mean)^2) / (N - correction) on arrays. N - correction <= 0 divides by zero,
    as PyTorch does: nan for 0 / 0 (one element), inf otherwise; no NumPy warning."""
    xp = backend.array_module(x)
    n = _count(x.shape, axes)
    with np.errstate(divide="ignore", invalid="ignore"):
        centred = x - xp.sum(x, axis=axes, keepdims=True) / n      # n = 0: nan, no warning
        centred -= xp.sum(centred, axis=axes, keepdims=True) / n   # see _centred
        total = xp.sum(centred * centred, axis=axes, keepdims=keepdim)
        return (total / builtins.max(n - correction, 0)).astype(x.dtype, copy=False)


def _warn_no_degrees_of_freedom(op, shape, axes, correction):
    if _count(shape, axes) - correction <= 0:
        warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly "
                      f"less than the reduction factor (input numel divided by output numel): "
                      f"correction={correction}, {_count(shape, axes)} elements reduced.",
                      stacklevel=3)


def _variance_grad(ctx, x: Tensor, g: Tensor) -> Tensor:
    """d var / dx times g (g already broadcast to x's shape): 2 (x - mean) / (N - correction).

    With N - correction <= 0 this is PyTorch's answer, so that a one-element variance gives
    nan like it does: over all dims (dim=None), nan where x equals the mean and inf elsewhere;
    over given dims, the formula with 2 / 0 = inf (so nan where x equals the mean) or, for
    correction > N, the negative factor as written.
    """
    dof = _count(ctx.x_shape, ctx.axes) - ctx.correction
    centred = _centred(x, ctx.axes)
    if dof > 0:
        return g * centred * (2.0 / dof)
    with np.errstate(invalid="ignore", over="ignore"):   # inf * 0 = nan, on purpose
        if ctx.all_dims:
            c = centred.array
            slope = backend.array_module(c).where(c == 0, math.nan, math.inf).astype(c.dtype)
            return g * Tensor._make(slope)
        return g * centred * (2.0 / dof if dof else math.inf)


class Var(ArrayFunction):
    """y = sum((x - mean)^2) / (N - correction) over ``axes``.

    dx = g * 2 (x - mean) / (N - correction)   (see ``_variance_grad`` for N <= correction).
    """

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim, all_dims):
        ctx.x_shape, ctx.axes, ctx.correction, ctx.all_dims = x.shape, axes, correction, all_dims
        ctx.save_for_backward(x)
        return _variance(x, axes, correction, keepdim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _variance_grad(ctx, x, _spread(g, ctx.x_shape, ctx.axes)), None, None, None, None


class Std(ArrayFunction):
    """y = sqrt(var(x)).   dx = var's gradient times g / (2y), and 0 where y == 0.

    At y = 0 (a constant input) sqrt's slope is infinite but var's is 0: PyTorch defines the
    gradient there as 0 (its masked formula), not 0 * inf = nan, and so do we.
    """

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim, all_dims):
        ctx.x_shape, ctx.axes, ctx.correction, ctx.all_dims = x.shape, axes, correction, all_dims
        y = backend.array_module(x).sqrt(_variance(x, axes, correction, keepdim))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        from .elementwise import where
        x, y = ctx.saved_tensors
        zero = y == 0
        g_var = where(zero, 0.0, g / (2 * where(zero, 1.0, y)))
        return (_variance_grad(ctx, x, _spread(g_var, ctx.x_shape, ctx.axes)),
                None, None, None, None)


def _correction(unbiased, correction):
    """N - correction is the divisor; PyTorch accepts any real correction (0.5 as well)."""
    if correction is not None:
        c = float(correction)
        return int(c) if c.is_integer() else c
    return 1 if unbiased in (None, True) else 0


def _var_or_std(op, cls, x, dim, unbiased, keepdim, correction):
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"{op}(): expected a floating point input, got {x.dtype}; "
                           "use x.float()")
    if isinstance(dim, bool) and unbiased is None:    # PyTorch's var(x, unbiased) overload
        dim, unbiased = None, dim
    axes = _axes(dim, x.ndim, op)
    correction = _correction(unbiased, correction)
    _warn_no_degrees_of_freedom(op, x.shape, axes, correction)
    all_dims = dim is None or x.ndim == 0
    return cls.apply(x, axes, correction, keepdim, all_dims)


def var(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance; ``unbiased=True`` (default) divides by N - 1, as PyTorch does."""
    return _var_or_std("var", Var, x, dim, unbiased, keepdim, correction)


def std(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation, sqrt(var); its gradient at a constant input is 0, as in PyTorch."""
    return _var_or_std("std", Std, x, dim, unbiased, keepdim, correction)


class AMax(ArrayFunction):
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
    """max/min have no identity: every reduced dim needs an element. An empty dim that is not
    reduced is fine (amin over dim 0 of a (5, 0, 5) tensor is an empty (0, 5) tensor)."""
    for a in axes:
        if x.shape[a] == 0:
            raise IndexError(f"{op}(): expected a non-empty dimension {a} to reduce, but the "
                             f"tensor has shape {tuple(x.shape)}")


def amax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    axes = _axes(dim, x.ndim, "amax")
    _check_nonempty(x, axes, "amax")
    return AMax.apply(x, axes, keepdim, True)


def amin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    axes = _axes(dim, x.ndim, "amin")
    _check_nonempty(x, axes, "amin")
    return AMax.apply(x, axes, keepdim, False)


class MaxWithIndices(ArrayFunction):
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
    refuse_none_dim(op, dim)
    if dim is EVERY_DIM:
        if keepdim:
            raise TypeError(f"{op}(): keepdim needs dim")
        _check_nonempty(x, tuple(range(x.ndim)), op)      # named as the op the user called
        return (amax if largest else amin)(x)
    d = normalize_dim(op, dim, x.ndim)
    result = MaxResult if largest else MinResult
    if x.ndim == 0:              # one element: itself, at index 0
        values, indices = MaxWithIndices.apply(reshape(x, (1,)), 0, False, largest)
        return result(reshape(values, ()), reshape(indices, ()))
    _check_nonempty(x, (d,), op)
    values, indices = MaxWithIndices.apply(x, d, keepdim, largest)
    return result(values, indices)


def max(x: Tensor, dim=EVERY_DIM, keepdim: bool = False):  # noqa: A001
    """``x.max()`` is one value; ``x.max(dim)`` is the named tuple (values, indices)."""
    if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
        from .elementwise import maximum
        return maximum(x, dim)
    return _max_min(x, dim, keepdim, True, "max")


def min(x: Tensor, dim=EVERY_DIM, keepdim: bool = False):  # noqa: A001
    if isinstance(dim, Tensor):
        from .elementwise import minimum
        return minimum(x, dim)
    return _max_min(x, dim, keepdim, False, "min")


def _arg(x, dim, keepdim, largest, op):
    xp = backend.array_module(x.array)
    fn = xp.argmax if largest else xp.argmin
    if dim is None:
        _check_nonempty(x, tuple(range(x.ndim)), op)
        out = fn(x.array.reshape(-1))
        out = out.reshape((1,) * x.ndim) if keepdim else out
    elif x.ndim == 0:
        normalize_dim(op, dim, 0)
        out = xp.zeros((), dtype=np.int64)
    else:
        d = normalize_dim(op, dim, x.ndim)
        _check_nonempty(x, (d,), op)
        out = fn(x.array, axis=d)
        if keepdim:
            out = xp.expand_dims(out, d)
    return Tensor._make(xp.asarray(out, dtype=np.int64))


def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _arg(x, dim, keepdim, True, "argmax")


def argmin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _arg(x, dim, keepdim, False, "argmin")


class LogSumExp(ArrayFunction):
    """y = log(sum(exp(x))) = m + log(sum(exp(x - m))), with m = max(x).

    Subtracting the max keeps exp from overflowing (x = 1000 would give inf otherwise).
    dx = g * exp(x - y) = g * softmax(x).
    """

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = backend.array_module(x)
        if x.size:
            m = x.max(axis=axes, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0)  # all -inf rows: exp(-inf - 0) = 0, y = -inf
        else:                                   # no max to take; an empty sum is 0, y = -inf
            m = xp.zeros(_keep_shape(x.shape, axes), dtype=x.dtype)
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


def prod(x: Tensor, dim=EVERY_DIM, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product of all elements or along ``dim``; its gradient is exact at zeros (scan.Prod)."""
    from .scan import prod as exact_prod  # the product lives with the scans it is made of
    return exact_prod(x, dim, keepdim, dtype=dtype)


def all(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    axes = _axes(dim, x.ndim, "all")
    return Tensor._make(backend.as_array(backend.array_module(x.array).all(x.array, axis=axes,
                                                                   keepdims=keepdim)))


def any(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    axes = _axes(dim, x.ndim, "any")
    return Tensor._make(backend.as_array(backend.array_module(x.array).any(x.array, axis=axes,
                                                                   keepdims=keepdim)))


# ---------------------------------------------------------------------------------------------
# Vector norms
# ---------------------------------------------------------------------------------------------

class Norm(ArrayFunction):
    """y = ||x||_p over ``axes``: (sum |x|^p)^(1/p); p = inf is max |x|, -inf min |x|, and
    p = 0 counts the nonzero entries.

    Backward, with g broadcast back and y kept in the reduced dims (PyTorch's formulas):

        p = 1:       g sign(x)
        p = +-inf:   g sign(x) where |x| == y (shared evenly between ties), else 0
        p = 0:       0 (a count is a step function)
        p < 1:       g sign(x) |x|^(p - 1) y^(1 - p),   0 where x == 0
        p > 1:       g sign(x) |x|^(p - 1) / y^(p - 1),   0 where y == 0

    (p = 2 is the familiar g x / y.) The last two are masked: at the zero vector the slope of
    the 2-norm is undefined (0 / 0) and PyTorch's gradient there is 0, not nan; so is ours.
    """

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        xp = backend.array_module(x)
        a = xp.abs(x)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            if p == 1:
                y = a.sum(axis=axes, keepdims=True)
            elif p == 2:
                y = xp.sqrt((x * x).sum(axis=axes, keepdims=True))
            elif p == math.inf:
                y = a.max(axis=axes, keepdims=True)
            elif p == -math.inf:
                y = a.min(axis=axes, keepdims=True)
            elif p == 0:
                y = (x != 0).sum(axis=axes, keepdims=True)
            else:
                y = (a ** p).sum(axis=axes, keepdims=True) ** (1.0 / p)
        y = y.astype(x.dtype, copy=False)
        ctx.x_shape, ctx.axes, ctx.p = x.shape, axes, p
        if not keepdim:
            y = y.reshape(tuple(s for i, s in enumerate(y.shape) if i not in axes))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        from .elementwise import sign, where
        x, y = ctx.saved_tensors
        p = ctx.p
        g = _spread(g, ctx.x_shape, ctx.axes)
        y = reshape(y, _keep_shape(ctx.x_shape, ctx.axes))
        if p == 0:
            zeros = backend.array_module(x.array).zeros(ctx.x_shape, dtype=g.dtype)
            return Tensor._make(zeros), None, None, None
        if p == 1:
            return g * sign(x), None, None, None
        if math.isinf(p):
            at_norm = (x.abs() == y.detach()).to(g.dtype)
            return g * sign(x) * at_norm / sum(at_norm, ctx.axes, keepdim=True), None, None, None
        # where(mask, 0, f(where(mask, 1, v))): the masked entries never reach f, so neither
        # the value nor the gradient sees the 0 ** negative that would make them inf or nan
        if p < 1:
            x_zero = x == 0
            slope = where(x_zero, 0.0, where(x_zero, 1.0, x.abs()) ** (p - 1)) * y ** (1 - p)
        else:
            y_zero = y == 0
            slope = where(y_zero, 0.0, x.abs() ** (p - 1) / where(y_zero, 1.0, y) ** (p - 1))
        return g * sign(x) * slope, None, None, None


def norm(x: Tensor, p="fro", dim=None, keepdim: bool = False) -> Tensor:
    """The vector p-norm over ``dim`` (every element by default): p = 2, 1, inf, -inf, 0 or
    any other number. The default p = "fro" is the 2-norm over every element, one dim or two
    (a Frobenius norm: PyTorch refuses it over three dims or more). Its gradient at the zero
    vector is 0, as in PyTorch. p = "nuc" is the nuclear norm (the sum of the singular values)
    over two dims (all of them when None: a matrix), as ``linalg.matrix_norm``."""
    if isinstance(p, str):
        if p == "nuc":
            from .linalg import matrix_norm  # linalg imports this module
            dims = tuple(range(x.ndim)) if dim is None else (
                tuple(dim) if isinstance(dim, (tuple, list)) else (dim,))
            return matrix_norm(x, "nuc", dims, keepdim)
        if p != "fro":
            raise RuntimeError(f"norm: p={p!r} is not a norm; use 'fro', 'nuc' or a number")
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise RuntimeError(f"norm: the Frobenius norm (p='fro', the default) takes one dim "
                               f"or two, got dim={tuple(dim)}; give a number p for a vector "
                               "norm over more dims")
        p = 2
    p = float(p)
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"norm: expected a floating point tensor as input, got {x.dtype}; "
                           "use x.float()")
    axes = _axes(dim, x.ndim, "norm")
    if math.isinf(p) and builtins.any(x.shape[a] == 0 for a in axes):
        raise RuntimeError(f"norm: can't compute the {p} norm over an empty dimension of a "
                           f"tensor of shape {tuple(x.shape)}: max and min have no identity")
    return Norm.apply(x, p, axes, keepdim)


# ---- counting and NaN-skipping reductions ----------------------------------------------------

def count_nonzero(input: Tensor, dim=None) -> Tensor:  # noqa: A002
    """How many elements are not 0, over ``dim`` (an int, a tuple, or None for all): int64."""
    return sum(input != 0, dim)


def nansum(input: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:  # noqa: A002
    """The sum with NaNs counted as 0.   d/dx_i = 1 where x_i is not NaN, 0 where it is."""
    if input.dtype.kind in "fc":
        input = _without_nans(input)
    return sum(input, dim, keepdim, dtype)


def nanmean(input: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:  # noqa: A002
    """The mean of the elements that are not NaN (NaN where all are):
    nansum(x) / count(not NaN).   d/dx_i = 1 / count where x_i is not NaN, 0 where it is."""
    if dtype is not None:
        input = input.to(dtype)
    if input.dtype.kind not in "fc":
        raise RuntimeError(f"nanmean(): expected a floating point or complex tensor as input, "
                           f"got {input.dtype}")
    present = sum(~input.isnan(), dim, keepdim).to(input.dtype)
    return nansum(input, dim, keepdim) / present


def _without_nans(x: Tensor) -> Tensor:
    from .elementwise import where
    return where(x.isnan(), 0.0, x)


AminmaxResult = collections.namedtuple("aminmax", ["min", "max"])


def aminmax(input: Tensor, *, dim=None, keepdim: bool = False):  # noqa: A002
    """(amin, amax) in one call, as a named tuple ``(min, max)``; ``dim`` is one dim or None
    (all elements). Gradients as amin's and amax's (shared evenly among ties)."""
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"aminmax: dim must be an int or None, got {dim!r}")
    if dim is None and input.numel() == 0:
        raise RuntimeError("aminmax: cannot compute aminmax over an empty tensor")
    return AminmaxResult(amin(input, dim, keepdim), amax(input, dim, keepdim))
