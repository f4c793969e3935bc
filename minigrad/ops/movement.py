"""Ops that move numbers around without computing new ones: shapes, indexing, joining, casts.

Their gradients move the numbers back: the gradient of a reshape is reshaped back, the
gradient of ``x[idx]`` is scattered into a zero tensor of x's shape at ``idx`` (adding where an
index repeats), the gradient of ``cat`` is sliced into pieces.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor

# ---------------------------------------------------------------------------------------------
# Broadcasting and its adjoint
# ---------------------------------------------------------------------------------------------


def _sum_to_array(x, shape):
    """Sum ``x`` down to ``shape`` (the inverse of broadcasting ``shape`` up to x.shape)."""
    if x.shape == tuple(shape):
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1)
    out = x.sum(axis=axes, keepdims=True) if axes else x
    if lead:
        out = out.reshape(out.shape[lead:])
    return out


class SumTo(Function):
    """y = sum of x over the dimensions that broadcasting added.   dy/dx: broadcast g back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.x_shape = x.shape
        return _sum_to_array(x, shape)

    @staticmethod
    def backward(ctx, g):
        return expand(g, ctx.x_shape), None


class BroadcastTo(Function):
    """y = x broadcast to ``shape`` (a read-only view).   dx = sum_to(g, x.shape)."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.x_shape = x.shape
        return backend.array_module(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return sum_to(g, ctx.x_shape), None


def sum_to(x: Tensor, shape) -> Tensor:
    shape = tuple(shape)
    if x.data.shape == shape:
        return x
    return SumTo.apply(x, shape)


def expand(x: Tensor, *sizes) -> Tensor:
    """Broadcast to a bigger shape without copying; -1 keeps a dimension's size."""
    sizes = _sizes(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes ({len(sizes)}) must be at least the "
                           f"number of dimensions of the tensor {tuple(x.shape)}")
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    for i, s in enumerate(x.shape):
        if s != 1 and s != shape[lead + i]:
            raise RuntimeError(f"expand: the size {s} of dimension {i} of tensor "
                               f"{tuple(x.shape)} must be 1 to expand it to {shape[lead + i]} "
                               f"(target shape {shape})")
    if shape == tuple(x.shape):
        return x
    return BroadcastTo.apply(x, shape)


def broadcast_to(x: Tensor, shape) -> Tensor:
    return expand(x, tuple(shape))


def _sizes(sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        return tuple(int(s) for s in sizes[0])
    return tuple(int(s) for s in sizes)


# ---------------------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------------------

class Reshape(Function):
    """y = x with a new shape (same elements, same order).   dx = g reshaped back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.x_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return reshape(g, ctx.x_shape), None


def reshape(x: Tensor, *shape) -> Tensor:
    shape = _sizes(shape)
    n = x.data.size
    known = math.prod(s for s in shape if s != -1)
    if shape.count(-1) > 1 or (-1 not in shape and known != n) or \
            (-1 in shape and (known == 0 or n % known)):
        raise RuntimeError(f"reshape: shape {list(shape)} is invalid for a tensor of "
                           f"{n} elements (shape {tuple(x.shape)})")
    if -1 in shape:
        shape = tuple(n // known if s == -1 else s for s in shape)
    if shape == tuple(x.shape):
        return x
    return Reshape.apply(x, shape)


view = reshape


class Permute(Function):
    """y = x with its dimensions reordered.   dx = g with the inverse permutation."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        return permute(g, tuple(np.argsort(ctx.dims))), None


def _dim(d, ndim, op="dim"):
    if not -ndim <= d < max(ndim, 1):
        raise IndexError(f"{op}: dimension out of range (expected to be in range of "
                         f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})")
    return d % ndim if ndim else 0


def permute(x: Tensor, *dims) -> Tensor:
    dims = _sizes(dims)
    if sorted(d % x.ndim for d in dims) != list(range(x.ndim)) or len(dims) != x.ndim:
        raise RuntimeError(f"permute: dims {list(dims)} are not a permutation of the "
                           f"{x.ndim} dimensions of a tensor of shape {tuple(x.shape)}")
    dims = tuple(d % x.ndim for d in dims)
    if dims == tuple(range(x.ndim)):
        return x
    return Permute.apply(x, dims)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    if x.ndim == 0:
        return x
    d0, d1 = _dim(dim0, x.ndim, "transpose"), _dim(dim1, x.ndim, "transpose")
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(x, dims)


def t(x: Tensor) -> Tensor:
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, got {x.ndim}")
    return transpose(x, 0, 1) if x.ndim == 2 else x


def squeeze(x: Tensor, dim=None) -> Tensor:
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        dims = {_dim(d, x.ndim, "squeeze") for d in (dim if isinstance(dim, (tuple, list))
                                                       else (dim,))}
        shape = tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1))
    return reshape(x, shape)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    d = _dim(dim, x.ndim + 1, "unsqueeze")
    shape = list(x.shape)
    shape.insert(d, 1)
    return reshape(x, shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if x.ndim == 0:
        return reshape(x, (1,))
    s, e = _dim(start_dim, x.ndim, "flatten"), _dim(end_dim, x.ndim, "flatten")
    shape = tuple(x.shape[:s]) + (math.prod(x.shape[s:e + 1]),) + tuple(x.shape[e + 1:])
    return reshape(x, shape)


def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    d = _dim(dim, x.ndim, "unflatten")
    return reshape(x, tuple(x.shape[:d]) + tuple(sizes) + tuple(x.shape[d + 1:]))


class Repeat(Function):
    """y = x tiled ``reps`` times along each dimension.

    Each input element appears once per tile, so its gradient is the sum over the tiles: view g
    as (r0, s0, r1, s1, ...) and sum over the r axes.
    """

    @staticmethod
    def forward(ctx, x, reps):
        xs = (1,) * (len(reps) - x.ndim) + x.shape
        ctx.x_shape, ctx.xs, ctx.reps = x.shape, xs, reps
        return backend.array_module(x).tile(x.reshape(xs), reps)

    @staticmethod
    def backward(ctx, g):
        from .reduce import sum as sum_
        interleaved = tuple(v for pair in zip(ctx.reps, ctx.xs) for v in pair)
        summed = sum_(reshape(g, interleaved), dim=tuple(range(0, 2 * len(ctx.reps), 2)))
        return reshape(summed, ctx.x_shape), None


def repeat(x: Tensor, *reps) -> Tensor:
    reps = _sizes(reps)
    if len(reps) < x.ndim:
        raise RuntimeError(f"repeat: number of repeat dims ({len(reps)}) can't be smaller than "
                           f"the number of tensor dims ({x.ndim})")
    return Repeat.apply(x, reps)


class Contiguous(Function):
    """y = a contiguous copy of x (only if x is not contiguous).   dx = g."""

    @staticmethod
    def forward(ctx, x):
        return backend.array_module(x).ascontiguousarray(x)

    @staticmethod
    def backward(ctx, g):
        return g


class Clone(Function):
    """y = a copy of x.   dx = g."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


def contiguous(x: Tensor) -> Tensor:
    flags = x.data.flags
    return x if flags.c_contiguous and flags.writeable else Contiguous.apply(x)


def clone(x: Tensor) -> Tensor:
    return Clone.apply(x)


# ---------------------------------------------------------------------------------------------
# Indexing
# ---------------------------------------------------------------------------------------------

def _index_key(key, xp):
    """Turn a Python/Tensor index into one NumPy/CuPy understands (Tensors become arrays)."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    for k in key:
        if isinstance(k, Tensor):
            k = k.data
        elif isinstance(k, list):
            k = xp.asarray(k)
            if k.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int or bool")
        if hasattr(k, "dtype") and getattr(k, "ndim", 0) > 0 and k.dtype.kind == "f":
            raise IndexError(f"tensors used as indices must be long, int or bool, got {k.dtype}")
        out.append(k)
    return tuple(out)


def _is_basic(key) -> bool:
    """Basic indexing (ints, slices, None, ...) gives each element at most once: no repeats."""
    return all(isinstance(k, (int, np.integer, slice, type(None), type(Ellipsis))) or
               (hasattr(k, "ndim") and k.ndim == 0 and k.dtype.kind in "iu") for k in key)


def _scatter_add(zeros, key, values):
    xp = backend.array_module(zeros)
    if xp is np:
        np.add.at(zeros, key, values)
    else:
        import cupyx
        cupyx.scatter_add(zeros, key, values)
    return zeros


class GetItem(Function):
    """y = x[key].   dx = zeros like x, with g *added* at key (repeated indices accumulate)."""

    @staticmethod
    def forward(ctx, x, key):
        ctx.x_shape, ctx.key = x.shape, key
        return x[key]

    @staticmethod
    def backward(ctx, g):
        return IndexAddInto.apply(g, ctx.key, ctx.x_shape), None


class IndexAddInto(Function):
    """y = zeros(shape) with g added at key.   dg = y_grad[key] (the adjoint of GetItem)."""

    @staticmethod
    def forward(ctx, g, key, shape):
        ctx.key = key
        xp = backend.array_module(g)
        out = xp.zeros(shape, dtype=g.dtype)
        if _is_basic(key):
            out[key] = g
        else:
            _scatter_add(out, key, g)
        return out

    @staticmethod
    def backward(ctx, gg):
        return GetItem.apply(gg, ctx.key), None, None


def getitem(x: Tensor, key) -> Tensor:
    xp = backend.array_module(x.data)
    k = _index_key(key, xp)
    try:
        if _is_basic(k):
            return GetItem.apply(x, k)
        # advanced indexing: check now, so the error names the tensor, not numpy's internals
        x.data[k]
    except IndexError as e:
        raise IndexError(f"index {key!r} is invalid for a tensor of shape {tuple(x.shape)}: {e}") \
            from None
    return GetItem.apply(x, k)


class SetItem(Function):
    """y = x with y[key] = v.   dx = g with zeros at key;  dv = sum_to(g[key], v.shape)."""

    @staticmethod
    def forward(ctx, x, key, v):
        ctx.key, ctx.v_shape = key, np.shape(v)
        y = x.copy()
        y[key] = v
        return y

    @staticmethod
    def backward(ctx, g):
        nx, _, nv = ctx.needs_input_grad
        gx = gv = None
        if nx:
            mask = backend.array_module(g.data).ones(g.shape, dtype=g.dtype)
            mask[ctx.key] = 0
            gx = g * Tensor._make(mask)
        if nv:
            gv = sum_to(GetItem.apply(g, ctx.key), ctx.v_shape)
        return gx, None, gv


def setitem(x: Tensor, key, value):
    """``x[key] = value``: in place, like every other in-place op (see Tensor._inplace)."""
    xp = backend.array_module(x.data)
    k = _index_key(key, xp)
    if isinstance(value, Tensor):
        v = value if value.dtype == x.dtype else value.to(x.dtype)
    else:
        v = np.asarray(value, dtype=x.dtype) if not hasattr(value, "dtype") else value
    x._inplace("__setitem__", lambda: SetItem.apply(x, k, v))


def masked_fill(x: Tensor, mask: Tensor, value) -> Tensor:
    from .elementwise import where
    return where(mask, value.to(x.dtype) if isinstance(value, Tensor) else value, x)


class Gather(Function):
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


class ScatterAdd(Function):
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


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    d = _dim(dim, x.ndim, "gather")
    idx = index.data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"gather: index must be an integer tensor, got {idx.dtype}")
    if idx.ndim != x.ndim:
        raise RuntimeError(f"gather: index {tuple(idx.shape)} must have as many dimensions as "
                           f"input {tuple(x.shape)}")
    for i, (a, b) in enumerate(zip(idx.shape, x.shape)):
        if i != d and a > b:
            raise RuntimeError(f"gather: index {tuple(idx.shape)} is larger than input "
                               f"{tuple(x.shape)} in dimension {i}")
    if idx.size and (int(idx.min()) < -x.shape[d] or int(idx.max()) >= x.shape[d]):
        raise IndexError(f"gather: index out of range for dimension {d} of size {x.shape[d]} "
                         f"(indices from {int(idx.min())} to {int(idx.max())})")
    return Gather.apply(x, d, idx % x.shape[d] if x.shape[d] else idx)


def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """``x`` plus ``src`` added at ``index`` along ``dim`` (out of place, differentiable)."""
    d = _dim(dim, x.ndim, "scatter_add")
    idx = index.data if isinstance(index, Tensor) else np.asarray(index)
    return x + ScatterAdd.apply(src[tuple(slice(0, s) for s in idx.shape)], d, idx,
                                tuple(x.shape))


# ---------------------------------------------------------------------------------------------
# Joining and splitting
# ---------------------------------------------------------------------------------------------

class Cat(Function):
    """y = [x0, x1, ...] joined along ``dim``.   dx_i = the slice of g where x_i went."""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return backend.array_module(*xs).concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        grads, start = [], 0
        for size, need in zip(ctx.sizes, ctx.needs_input_grad):
            if need:
                key = (slice(None),) * ctx.dim + (slice(start, start + size),)
                grads.append(GetItem.apply(g, key))
            else:
                grads.append(None)
            start += size
        return tuple(grads)


def cat(tensors, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat: expected a non-empty list of tensors")
    ref = tensors[0]
    d = _dim(dim, ref.ndim, "cat")
    dtype = ref.dtype
    for t in tensors[1:]:
        dtype = backend.promote_types(dtype, t.dtype)
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim or any(a != b for j, (a, b) in enumerate(zip(t.shape, ref.shape))
                                     if j != d):
            raise RuntimeError(
                f"cat: sizes of tensors must match except in dimension {d}: tensor 0 has shape "
                f"{tuple(ref.shape)}, tensor {i} has shape {tuple(t.shape)}")
    tensors = [t if t.dtype == dtype else t.to(dtype) for t in tensors]
    return Cat.apply(*tensors, dim=d)


concat = cat


def stack(tensors, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack: expects each tensor to be equal size, but got "
                               f"{tuple(tensors[0].shape)} at entry 0 and {tuple(t.shape)} at "
                               f"entry {i}")
    d = _dim(dim, tensors[0].ndim + 1, "stack")
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = backend.promote_types(dtype, t.dtype)
    return Stack.apply(*[t if t.dtype == dtype else t.to(dtype) for t in tensors], dim=d)


class Stack(Function):
    """y = [x0, x1, ...] stacked along a new dimension ``dim``.   dx_i = g[..., i, ...]."""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        return backend.array_module(*xs).stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        key = (slice(None),) * ctx.dim
        return tuple(GetItem.apply(g, key + (i,)) if need else None
                     for i, need in enumerate(ctx.needs_input_grad))


class Split(Function):
    """(y_0, y_1, ...) = consecutive pieces of x along ``dim``.   dx = cat(g_0, g_1, ...).

    One op with many outputs (not one slice op per piece): each piece's gradient is written
    once into its place, so splitting a length-T sequence costs O(T), not O(T^2).
    """

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        pieces, start = [], 0
        for size in sizes:
            pieces.append(x[(slice(None),) * dim + (slice(start, start + size),)])
            start += size
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):
        return cat(list(grads), dim=ctx.dim), None, None


class Unbind(Function):
    """(y_0, y_1, ...) = the slices x[..., i, ...] along ``dim``.   dx = stack(g_0, g_1, ...)."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return tuple(x[(slice(None),) * dim + (i,)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(list(grads), dim=ctx.dim), None


def split(x: Tensor, split_size_or_sections, dim: int = 0):
    d = _dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, n - s) for s in range(0, n, step)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise RuntimeError(f"split: sections {sizes} sum to {sum(sizes)}, but dimension {d} "
                               f"has size {n}")
    out = Split.apply(x, tuple(sizes), d)
    return out if isinstance(out, tuple) else (out,)


def chunk(x: Tensor, chunks: int, dim: int = 0):
    d = _dim(dim, x.ndim, "chunk")
    size = -(-x.shape[d] // chunks)
    return split(x, max(size, 1), d)


def unbind(x: Tensor, dim: int = 0):
    d = _dim(dim, x.ndim, "unbind")
    if x.shape[d] == 0:
        return ()
    out = Unbind.apply(x, d)
    return out if isinstance(out, tuple) else (out,)


def flip(x: Tensor, dims) -> Tensor:
    dims = {_dim(d, x.ndim, "flip") for d in (dims if isinstance(dims, (tuple, list)) else [dims])}
    return GetItem.apply(x, tuple(slice(None, None, -1) if i in dims else slice(None)
                                  for i in range(x.ndim)))


class Pad(Function):
    """y = x surrounded by ``value``.   dx = the middle of g (where x went)."""

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.key = tuple(slice(lo, lo + s) for (lo, _), s in zip(widths, x.shape))
        return backend.array_module(x).pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return GetItem.apply(g, ctx.key), None, None


def pad(x: Tensor, pad, mode: str = "constant", value: float = 0.0) -> Tensor:
    """PyTorch's F.pad: ``pad`` = (left, right) for the last dim, then the one before, ..."""
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is implemented, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise RuntimeError(f"pad: padding {tuple(pad)} must have an even length of at most "
                           f"2 * {x.ndim} for a tensor of shape {tuple(x.shape)}")
    if any(p < 0 for p in pad):
        raise NotImplementedError("pad: negative padding (cropping) is not supported; slice "
                                  "the tensor instead")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return Pad.apply(x, tuple(widths), value)


# ---------------------------------------------------------------------------------------------
# Casts and device moves
# ---------------------------------------------------------------------------------------------

class ToDtype(Function):
    """y = x converted to another dtype.   dx = g converted back (floats only)."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.x_dtype = x.dtype
        y = x.astype(dtype)
        if np.dtype(dtype).kind not in "fc":
            ctx.mark_non_differentiable(y)
        return y

    @staticmethod
    def backward(ctx, g):
        return to_dtype(g, ctx.x_dtype), None


def to_dtype(x: Tensor, dtype) -> Tensor:
    dtype = np.dtype(dtype)
    return x if x.dtype == dtype else ToDtype.apply(x, dtype)


class ToDevice(Function):
    """y = x copied to another device.   dx = g copied back."""

    @staticmethod
    def forward(ctx, x, device):
        ctx.x_device = backend.device_of(x)
        return backend.to_device(x, device)

    @staticmethod
    def backward(ctx, g):
        return to_device(g, ctx.x_device), None


def to_device(x: Tensor, device) -> Tensor:
    device = backend.Device(device)
    return x if x.device == device else ToDevice.apply(x, device)
