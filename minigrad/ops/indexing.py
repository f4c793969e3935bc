"""Indexing ops with index tensors: gather, scatter_add, index_select, index_add, take_along_dim, masked_select,
scatter, scatter_reduce; and narrow/select (slices by number).

Reading at indices and writing at indices are each other's adjoints: the gradient of a read
(``index_select``, ``take_along_dim``) adds the output gradient back at the same indices, and
the gradient of what a write put in place (``scatter``'s ``src``) reads the output gradient
at those indices. The building blocks are ``Gather``/``ScatterAdd`` (here) and
``GetItem``/``IndexAddInto`` (``subscript.py``); the PyTorch ops are made of them, with index
checks that name the op, the dimension and the bad index.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from .arguments import check_index_range, normalize_dim
from .elementwise import where
from .movement import expand, reshape
from .subscript import IndexAddInto, _scatter_add, getitem

# ---------------------------------------------------------------------------------------------
# Checking index tensors
# ---------------------------------------------------------------------------------------------


def _index_data(op: str, index):
    """The integer array behind ``index`` (a Tensor, or a list / array of ints)."""
    data = index.array if isinstance(index, Tensor) else np.asarray(index)
    if data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected an int64 or int32 index tensor, got {data.dtype}")
    return data


def _check_in_range(op: str, index, size: int, dim: int):
    """Every index must lie in [0, size): PyTorch does not wrap negative indices here."""
    if index.size == 0:
        return
    low, high = int(index.min()), int(index.max())
    if low < 0 or high >= size:
        bad = low if low < 0 else high
        raise IndexError(f"{op}: index {bad} is out of bounds for dimension {dim} with size "
                         f"{size}")


def _wrapped(op: str, index, size: int, dim: int):
    """Indices in [-size, size), negative ones counted from the end (take_along_dim's rule in
    PyTorch, unlike gather's), as indices in [0, size)."""
    if index.size and int(index.min()) < -size:
        raise IndexError(f"{op}: index {int(index.min())} is out of bounds for dimension {dim} "
                         f"with size {size}")
    _check_in_range(op, index + size * (index < 0), size, dim)   # reports a too-large index
    return index % size if size else index


def _check_scatter_shapes(op, x: Tensor, dim: int, index, src_shape):
    """``scatter``-family shapes: index has x's ndim, fits inside src, and inside x apart from
    ``dim``."""
    if index.ndim != x.ndim:
        raise RuntimeError(f"{op}: index {tuple(index.shape)} must have as many dimensions as "
                           f"self {tuple(x.shape)}")
    if src_shape is not None and len(src_shape) != x.ndim:
        raise RuntimeError(f"{op}: src {tuple(src_shape)} must have as many dimensions as "
                           f"self {tuple(x.shape)}")
    for d, size in enumerate(index.shape):
        if (d != dim and size > x.shape[d]) or (src_shape is not None and size > src_shape[d]):
            raise RuntimeError(
                f"{op}: expected index {tuple(index.shape)} to be no larger than self "
                f"{tuple(x.shape)} apart from dimension {dim}"
                + (f" and no larger than src {tuple(src_shape)}" if src_shape is not None
                   else ""))
    _check_in_range(op, index, x.shape[dim] if x.ndim else 1, dim)


def _gather_array(array, index, dim: int):
    """array[..index[i]..] along ``dim`` on raw arrays (Gather's forward: the index may be
    smaller than the array in the other dims)."""
    crop = tuple(slice(0, s) if d != dim else slice(None) for d, s in enumerate(index.shape))
    return backend.array_module(array).take_along_axis(array[crop], index, axis=dim)


def _crop(src: Tensor, shape) -> Tensor:
    """The leading ``shape`` block of src (scatter ops use only the part the index covers)."""
    if tuple(src.shape) == tuple(shape):
        return src
    return getitem(src, tuple(slice(0, s) for s in shape))


# ---------------------------------------------------------------------------------------------
# Reading at indices
# ---------------------------------------------------------------------------------------------

def index_select(input: Tensor, dim: int, index) -> Tensor:  # noqa: A002 - PyTorch's names
    """The entries ``index`` (a vector of ints) along ``dim``: x[..., index, ...]."""
    op = "index_select"
    idx = _index_data(op, index)
    if idx.ndim > 1:
        raise IndexError(f"{op}: index must be a vector (0-d or 1-d), got shape "
                         f"{tuple(idx.shape)}")
    if input.ndim == 0:
        normalize_dim(op, dim, 0)
        if idx.size != 1:
            raise RuntimeError(f"{op}: index to a 0-d tensor can have only 1 value, got "
                               f"{idx.size}")
        _check_in_range(op, idx, 1, 0)
        return input.clone()
    d = normalize_dim(op, dim, input.ndim)
    _check_in_range(op, idx, input.shape[d], d)
    return getitem(input, (slice(None),) * d + (idx.reshape(-1),))


def take_along_dim(input: Tensor, indices, dim=None) -> Tensor:  # noqa: A002
    """x[..., indices[..., i, ...], ...] along ``dim`` (the other dims broadcast), or the
    flattened x at the flattened indices when ``dim`` is None."""
    op = "take_along_dim"
    idx = _index_data(op, indices)
    if dim is None:
        idx = _wrapped(op, idx, input.numel(), 0)
        return gather(reshape(input, (-1,)), 0, idx.reshape(-1))
    if idx.ndim != input.ndim:
        raise RuntimeError(f"{op}: input {tuple(input.shape)} and indices {tuple(idx.shape)} "
                           "should have the same number of dimensions")
    d = normalize_dim(op, dim, input.ndim)
    idx = _wrapped(op, idx, input.shape[d], d)
    # broadcast every dim except ``dim``, where each keeps its own size
    try:
        common = list(np.broadcast_shapes(
            tuple(1 if i == d else s for i, s in enumerate(input.shape)),
            tuple(1 if i == d else s for i, s in enumerate(idx.shape))))
    except ValueError:
        raise RuntimeError(f"{op}: input {tuple(input.shape)} and indices "
                           f"{tuple(idx.shape)} can't be broadcast together apart from "
                           f"dimension {d}") from None
    x_shape, i_shape = list(common), list(common)
    x_shape[d], i_shape[d] = input.shape[d], idx.shape[d]
    xp = backend.array_module(idx)
    return gather(expand(input, tuple(x_shape)), d, xp.broadcast_to(idx, tuple(i_shape)))


def masked_select(input: Tensor, mask: Tensor) -> Tensor:  # noqa: A002
    """The elements where ``mask`` (bool, broadcast with input) is True, as a 1-D tensor."""
    if not isinstance(mask, Tensor) or mask.dtype != np.bool_:
        got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"masked_select: expected a bool tensor for mask, got {got}")
    try:
        shape = np.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    except ValueError:
        raise RuntimeError(f"masked_select: input {tuple(input.shape)} and mask "
                           f"{tuple(mask.shape)} can't be broadcast together") from None
    xp = backend.array_module(mask.array)
    return getitem(expand(input, shape), xp.broadcast_to(mask.array, shape))


def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:  # noqa: A002
    """x[..., start:start + length, ...] along ``dim`` (``start`` may be negative)."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = normalize_dim("narrow", dim, input.ndim)
    size, start, length = input.shape[d], int(start), int(length)
    if not -size <= start <= size:
        raise IndexError(f"narrow: start out of range (expected to be in range of "
                         f"[{-size}, {size}], but got {start})")
    start = start % size if start < 0 else start
    if length < 0 or start + length > size:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension "
                           f"size ({size}) of dimension {d}")
    return getitem(input, (slice(None),) * d + (slice(start, start + length),))


def select(input: Tensor, dim: int, index: int) -> Tensor:  # noqa: A002
    """x[..., index, ...] along ``dim``: that dimension is removed."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = normalize_dim("select", dim, input.ndim)
    size, index = input.shape[d], int(index)
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    return getitem(input, (slice(None),) * d + (index % size,))


# ---------------------------------------------------------------------------------------------
# Writing at indices
# ---------------------------------------------------------------------------------------------

def index_add(input: Tensor, dim: int, index, source: Tensor, *, alpha=1) -> Tensor:  # noqa: A002
    """x with ``alpha * source`` added at ``index`` along ``dim`` (repeated indices add up).

    The add into zeros is ``IndexAddInto``, the adjoint of indexing: source's gradient is
    ``index_select(g, dim, index)``, and x's is g.
    """
    op = "index_add"
    idx = _index_data(op, index)
    if idx.ndim > 1:
        raise IndexError(f"{op}: index must be a vector (0-d or 1-d), got shape "
                         f"{tuple(idx.shape)}")
    idx = idx.reshape(-1)
    d = normalize_dim(op, dim, input.ndim)
    x_shape = tuple(input.shape) if input.ndim else (1,)
    expected = x_shape[:d] + (idx.size,) + x_shape[d + 1:]
    if tuple(source.shape) != expected and not (input.ndim == 0 and source.numel() == 1):
        raise RuntimeError(f"{op}: source {tuple(source.shape)} must have the shape of self "
                           f"{tuple(input.shape)} with dimension {d} replaced by the number "
                           f"of indices ({idx.size}), i.e. {expected}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"{op}: self ({input.dtype}) and source ({source.dtype}) must have "
                           "the same dtype")
    _check_in_range(op, idx, x_shape[d], d)
    if alpha != 1:
        source = source * alpha
    if input.ndim == 0:
        return input + reshape(source, ())
    return input + IndexAddInto.apply(source, (slice(None),) * d + (idx,), x_shape)


class Scatter(ArrayFunction):
    """y = x with y[..index[i]..] = src[i] along ``dim`` (src a tensor or one number).

    dx = g with zeros where something was written (those x values were overwritten),
    dsrc = gather(g, dim, index) (each src value's own output position).
    """

    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim, ctx.index = dim, index
        xp = backend.array_module(x)
        out = x.copy()
        out[_full_index(index, dim, xp)] = src
        return out

    @staticmethod
    def backward(ctx, g):
        nx, _, _, nsrc = ctx.needs_input_grad
        return (Scatter.apply(g, ctx.dim, ctx.index, 0) if nx else None, None, None,
                Gather.apply(g, ctx.dim, ctx.index) if nsrc else None)


def scatter(input: Tensor, dim: int, index, src=None, *, value=None, reduce=None) -> Tensor:  # noqa: A002
    """x with ``src`` (a tensor, or one number ``value``) written at ``index`` along ``dim``:
    for dim 0, y[index[i][j]][j] = src[i][j]. Out of place; ``x.scatter_`` writes in place."""
    op = "scatter"
    if reduce is not None:
        raise NotImplementedError(f"{op}: reduce={reduce!r} is not supported; use "
                                  "scatter_reduce (or scatter_add) instead")
    if (src is None) == (value is None):
        raise TypeError(f"{op}: give exactly one of src (a tensor) or value (a number)")
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src                      # x.scatter(dim, index, 1.5)
    d = normalize_dim(op, dim, input.ndim)
    idx = _index_data(op, index)
    _check_scatter_shapes(op, input, d, idx, None if src is None else tuple(src.shape))
    if input.ndim == 0:                             # as a 1-element vector, then back
        out = scatter(reshape(input, (1,)), 0, idx.reshape(1),
                      None if src is None else reshape(src, (1,)), value=value)
        return reshape(out, ())
    if src is None:
        if isinstance(value, Tensor):
            value = value.item()
        return Scatter.apply(input, d, idx, value)
    if src.dtype != input.dtype:
        raise RuntimeError(f"{op}: expected self.dtype to be equal to src.dtype, got "
                           f"{input.dtype} and {src.dtype}")
    return Scatter.apply(input, d, idx, _crop(src, idx.shape))


# ---------------------------------------------------------------------------------------------
# scatter_reduce
# ---------------------------------------------------------------------------------------------

# what each reduction starts from where include_self=False drops x's own value
_IDENTITY = {"sum": 0, "mean": 0, "prod": 1, "amax": -np.inf, "amin": np.inf}
_UFUNC = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum",
          "amin": "minimum"}


def _identity(reduce, dtype):
    value = _IDENTITY[reduce]
    if np.dtype(dtype).kind in "iu" and np.isinf(value):
        info = np.iinfo(dtype)
        return info.min if value < 0 else info.max
    return value


def _ufunc_at(name: str, out, key, values):
    """out[key] (op)= values with repeated positions combined (NumPy's ufunc.at)."""
    xp = backend.array_module(out)
    if xp is np:
        getattr(np, name).at(out, key, values)
    elif name == "add":
        _scatter_add(out, key, values)
    elif name in ("maximum", "minimum"):
        import cupyx
        (cupyx.scatter_max if name == "maximum" else cupyx.scatter_min)(out, key, values)
    else:
        # CuPy has no scatter-multiply: run this one on the host
        host = backend.to_device(out, backend.CPU)
        host_key = tuple(backend.to_device(k, backend.CPU) if hasattr(k, "shape") else k
                         for k in key)
        getattr(np, name).at(host, host_key, backend.to_device(values, backend.CPU))
        out[...] = xp.asarray(host)
    return out


class ScatterReduce(ArrayFunction):
    """y = x with the src values at ``index`` (along ``dim``) combined into each position by
    ``reduce``: sum, prod, mean, amax or amin; x's own value takes part if ``include_self``.

    Gradients, per output position p with contributors c (x_p if included, src_i -> p):

    * sum:  dc = g_p.                        mean: dc = g_p / N_p (N_p contributors).
    * amax/amin: g_p shared evenly among the contributors equal to y_p.
    * prod: dc = g_p * (product of the other contributors): for x_p the product of its src
      values (a scatter_reduce of src into ones); for src_i, y_p / src_i where src_i != 0, the
      product with src_i replaced by 1 where it is the only zero at p, and 0 where p has two
      zeros or more. That last case is right to first order only (its derivative with respect
      to the other zero is not 0), so its gradient refuses to be differentiated again, as in
      PyTorch.
    Where include_self=False, x_p at positions that received src values gets no gradient.
    """

    @staticmethod
    def forward(ctx, x, dim, index, src, reduce, include_self):
        xp = backend.array_module(x)
        key = _full_index(index, dim, xp)
        scattered = xp.zeros(x.shape, dtype=bool)
        scattered[key] = True
        out = x.copy()
        if not include_self:
            out[scattered] = _identity(reduce, x.dtype)
        _ufunc_at(_UFUNC[reduce], out, key, src)
        if reduce == "mean":
            count = xp.zeros(x.shape, dtype=np.int64)
            _ufunc_at("add", count, key, xp.ones(index.shape, dtype=np.int64))
            count = count + 1 if include_self else xp.maximum(count, 1)
            out = out / count if x.dtype.kind == "f" else out // count
            ctx.count = count
        ctx.dim, ctx.index, ctx.reduce, ctx.include_self = dim, index, reduce, include_self
        ctx.scattered = scattered
        out = out.astype(x.dtype, copy=False)
        ctx.save_for_backward(x, src, out)     # out: the output itself (prod's gradient uses it)
        return out

    @staticmethod
    def backward(ctx, g):
        x, src, out = ctx.saved_tensors
        gx, gsrc = _SCATTER_REDUCE_GRADS[ctx.reduce](ctx, g, x, src, out)
        if not ctx.include_self:
            gx = where(Tensor._make(ctx.scattered), 0.0, gx)
        nx, _, _, nsrc = ctx.needs_input_grad[:4]
        return (gx if nx else None), None, None, (gsrc if nsrc else None), None, None


def _grads_sum(ctx, g, x, src, out):
    return g, Gather.apply(g, ctx.dim, ctx.index)


def _grads_mean(ctx, g, x, src, out):
    share = g / Tensor._make(ctx.count.astype(g.dtype))
    return share, Gather.apply(share, ctx.dim, ctx.index)


def _grads_extreme(ctx, g, x, src, out):
    dim, index = ctx.dim, ctx.index
    xp = backend.array_module(g.array)
    winner = out.array                                      # the max (or min) at each p
    x_wins = (x.array == winner)
    if not ctx.include_self:
        x_wins &= ~ctx.scattered
    src_wins = src.array == _gather_array(winner, index, dim)
    count = x_wins.astype(g.dtype)
    _ufunc_at("add", count, _full_index(index, dim, xp), src_wins.astype(g.dtype))
    share = g / Tensor._make(xp.maximum(count, 1))
    return (where(Tensor._make(x_wins), share, 0.0),
            where(Tensor._make(src_wins), Gather.apply(share, dim, index), 0.0))


def _grads_prod(ctx, g, x, src, out):
    dim, index, include_self = ctx.dim, ctx.index, ctx.include_self
    xp = backend.array_module(g.array)
    # x_p's cofactor: the product of the src values sent to p
    ones = Tensor._make(xp.ones(x.shape, dtype=x.dtype))
    gx = g * ScatterReduce.apply(ones, dim, index, src, "prod", True)
    # src_i's cofactor
    src_zero = src.array == 0
    zeros_at = xp.zeros(x.shape, dtype=np.int64)
    _ufunc_at("add", zeros_at, _full_index(index, dim, xp), src_zero.astype(np.int64))
    zeros_at_i = _gather_array(zeros_at, index, dim)
    only_zero = Tensor._make(src_zero & (zeros_at_i == 1))
    src_zero_t = Tensor._make(src_zero)
    without_i = Gather.apply(ScatterReduce.apply(x, dim, index, where(only_zero, 1.0, src),
                                                 "prod", include_self), dim, index)
    divided = Gather.apply(out, dim, index) / where(src_zero_t, 1.0, src)
    cofactor = where(only_zero, without_i, where(src_zero_t, 0.0, divided))
    gsrc = Gather.apply(g, dim, index) * cofactor
    if bool((zeros_at > 1).any()):    # right to first order; refuse to go further
        gsrc = NotTwiceDifferentiable.apply(
            gsrc, "scatter_reduce(reduce='prod'): the gradient for src cannot be "
                  "differentiated again where two or more zeros in src go to the same "
                  "position")
    return gx, gsrc


_SCATTER_REDUCE_GRADS = {"sum": _grads_sum, "mean": _grads_mean, "prod": _grads_prod,
                         "amax": _grads_extreme, "amin": _grads_extreme}


class NotTwiceDifferentiable(ArrayFunction):
    """y = x, for a gradient that is right to first order only: its backward raises
    ``message`` instead of returning a gradient that would be wrong."""

    @staticmethod
    def forward(ctx, x, message):
        ctx.message = message
        return x

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(ctx.message)


def scatter_reduce(input: Tensor, dim: int, index, src: Tensor, reduce: str, *,  # noqa: A002
                   include_self: bool = True) -> Tensor:
    """x with src values combined in at ``index`` along ``dim`` by ``reduce`` ("sum", "prod",
    "mean", "amax", "amin"); x's own values take part unless ``include_self=False``."""
    op = "scatter_reduce"
    if reduce not in _UFUNC:
        raise RuntimeError(f"{op}: reduce must be one of {sorted(_UFUNC)}, got {reduce!r}")
    if not isinstance(src, Tensor):
        raise TypeError(f"{op}: src must be a Tensor, got {type(src).__name__}")
    if src.dtype != input.dtype:
        raise RuntimeError(f"{op}: expected self.dtype to be equal to src.dtype, got "
                           f"{input.dtype} and {src.dtype}")
    d = normalize_dim(op, dim, input.ndim)
    idx = _index_data(op, index)
    _check_scatter_shapes(op, input, d, idx, tuple(src.shape))
    if input.ndim == 0:
        idx, x, s = idx.reshape(1), reshape(input, (1,)), reshape(src, (1,))
        return reshape(ScatterReduce.apply(x, 0, idx, s, reduce, bool(include_self)), ())
    return ScatterReduce.apply(input, d, idx, _crop(src, idx.shape), reduce,
                               bool(include_self))


class Gather(ArrayFunction):
    """y[..i..] = x[..index[..i..]..] along ``dim``.   dx = zeros with g added at the indices."""

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.dim, ctx.index, ctx.x_shape = dim, index, x.shape
        xp = backend.array_module(x)
        # torch.gather allows index to be smaller than x in the other dims: crop x to match
        crop = tuple(slice(0, s) if d != dim else slice(None) for d, s in enumerate(index.shape))
        return xp.take_along_axis(x[crop], index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return ScatterAdd.apply(g, ctx.dim, ctx.index, ctx.x_shape), None, None


class ScatterAdd(ArrayFunction):
    """y = zeros(shape); y[..index[i]..] += g[i] along ``dim``.   dg = gather(y_grad, index)."""

    @staticmethod
    def forward(ctx, g, dim, index, shape):
        ctx.dim, ctx.index = dim, index
        xp = backend.array_module(g)
        if xp is np and g.dtype.kind == "f":
            # np.add.at is slow; a histogram of flat positions weighted by g is the same sum
            flat = np.ravel_multi_index(np.broadcast_arrays(*_full_index(index, dim, np)),
                                        shape)
            total = np.bincount(flat.ravel(), weights=g.ravel(), minlength=math.prod(shape))
            return total.astype(g.dtype, copy=False).reshape(shape)
        out = xp.zeros(shape, dtype=g.dtype)
        _scatter_add(out, _full_index(index, dim, xp), g)
        return out

    @staticmethod
    def backward(ctx, gg):
        return Gather.apply(gg, ctx.dim, ctx.index), None, None, None


def _full_index(index, dim, xp):
    grids = list(xp.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def _index_array(op: str, index, x: Tensor):
    """The integer array behind ``index``, with as many dims as x (gather, scatter_add)."""
    idx = index.array if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: index must be an integer tensor (int64), got {idx.dtype} "
                           f"with shape {tuple(idx.shape)}")
    if idx.ndim != x.ndim:
        raise RuntimeError(f"{op}: index of shape {tuple(idx.shape)} must have as many "
                           f"dimensions as the tensor of shape {tuple(x.shape)}")
    return idx


def _no_larger(op: str, idx, d: int, other_shape, what: str, skip_d: bool):
    for i, (a, b) in enumerate(zip(idx.shape, other_shape)):
        if a > b and not (skip_d and i == d):
            apart = f" apart from dimension {d}" if skip_d else ""
            raise RuntimeError(f"{op}: expected index {list(idx.shape)} to be no larger than "
                               f"{what} {list(other_shape)}{apart} (dimension {i}: {a} > {b})")


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """out[i][j] = x[i][index[i][j]] for dim=1 (likewise for any dim). Every index must lie
    in 0..size-1 of that dim: negative indices are refused, as in PyTorch."""
    d = normalize_dim("gather", dim, x.ndim)
    idx = index.array if isinstance(index, Tensor) else np.asarray(index)
    if idx.size == 0 and idx.dtype.kind in "iu":
        # nothing to gather: PyTorch accepts an empty index of any rank (output: its shape)
        return reshape(reshape(x, (-1,))[:0], idx.shape)
    if x.ndim <= 1 and idx.ndim <= 1 and x.ndim != idx.ndim:
        # a 0-d tensor or index counts as 1-D with one element, as in PyTorch
        return reshape(gather(reshape(x, (-1,)), 0, idx.reshape(-1)), idx.shape)
    idx = _index_array("gather", index, x)
    if x.ndim == 0:                 # a 0-d tensor gathers from itself, as if it were 1-D
        return reshape(gather(reshape(x, (1,)), 0, idx.reshape(1)), ())
    _no_larger("gather", idx, d, x.shape, "input", skip_d=True)
    check_index_range("gather", idx, d, x.shape[d])
    return Gather.apply(x, d, idx)


def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """``x`` plus ``src`` added at ``index`` along ``dim`` (out of place, differentiable):
    out[i][index[i][j]] += src[i][j] for dim=1. index may be smaller than src (only its part
    of src is used) and than x apart from dim; every index must lie in 0..x.size(dim)-1."""
    d = normalize_dim("scatter_add", dim, x.ndim)
    idx = _index_array("scatter_add", index, x)
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add: src must be a Tensor, got {type(src).__name__}")
    if src.ndim != x.ndim:
        raise RuntimeError(f"scatter_add: src of shape {tuple(src.shape)} must have as many "
                           f"dimensions as the tensor of shape {tuple(x.shape)}")
    if x.ndim == 0:
        return reshape(scatter_add(reshape(x, (1,)), 0, idx.reshape(1), reshape(src, (1,))),
                       ())
    _no_larger("scatter_add", idx, d, x.shape, "self", skip_d=True)
    _no_larger("scatter_add", idx, d, src.shape, "src", skip_d=False)
    check_index_range("scatter_add", idx, d, x.shape[d])
    return x + ScatterAdd.apply(src[tuple(slice(0, s) for s in idx.shape)], d, idx,
                                tuple(x.shape))


def take(input: Tensor, index) -> Tensor:  # noqa: A002
    """The elements of ``input`` read as one flat vector (row-major), at ``index``: the
    output has index's shape. Negative indices count from the end, as in PyTorch."""
    op = "take"
    idx = _index_data(op, index)
    flat = reshape(input, (-1,))
    idx = _wrapped(op, backend.as_array(idx), flat.shape[0], 0)
    return getitem(flat, (idx.reshape(-1),)).reshape(tuple(idx.shape))
