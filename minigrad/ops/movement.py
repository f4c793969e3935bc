"""Ops that move numbers around without computing new ones: shapes, indexing, joining, casts.

Their gradients move the numbers back: the gradient of a reshape is reshaped back, the
gradient of ``x[idx]`` is scattered into a zero tensor of x's shape at ``idx`` (adding where an
index repeats), the gradient of ``cat`` is sliced into pieces.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor, check_memory_format
from .arguments import as_int, check_index_range, normalize_dim, normalize_dims

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


class SumTo(ArrayFunction):
    """y = sum of x over the dimensions that broadcasting added.   dy/dx: broadcast g back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.x_shape = x.shape
        return _sum_to_array(x, shape)

    @staticmethod
    def backward(ctx, g):
        return expand(g, ctx.x_shape), None


class BroadcastTo(ArrayFunction):
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
    if x.array.shape == shape:
        return x
    return SumTo.apply(x, shape)


def expand(x: Tensor, *sizes) -> Tensor:
    """Broadcast to a bigger shape without copying; -1 keeps a dimension's size."""
    sizes = _sizes(sizes, "expand")
    if builtins.any(s < -1 for s in sizes):
        raise RuntimeError(f"expand: sizes must be >= 0, or -1 to keep a dimension's size; "
                           f"got {sizes}")
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


def _sizes(sizes, op: str = "reshape", name: str = "size"):
    """Sizes (or dims) given as ints or as one tuple or list: each must be an int (a float,
    even 2.0, None or a str is refused by name, never truncated)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    return tuple(as_int(op, name, s) for s in sizes)


# ---------------------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------------------

class Reshape(ArrayFunction):
    """y = x with a new shape (same elements, same order).   dx = g reshaped back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.x_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return reshape(g, ctx.x_shape), None


def _target_shape(op: str, x: Tensor, shape) -> tuple:
    """``shape`` with its one allowed -1 filled in; an error if it can't hold x's elements."""
    n = x.array.size
    known = math.prod(s for s in shape if s != -1)
    if shape.count(-1) > 1 or any(s < -1 for s in shape) or \
            (-1 not in shape and known != n) or (-1 in shape and (known == 0 or n % known)):
        raise RuntimeError(f"{op}: shape {list(shape)} is invalid for a tensor of "
                           f"{n} elements (shape {tuple(x.shape)})")
    if -1 in shape:
        shape = tuple(n // known if s == -1 else s for s in shape)
    return shape


def reshape(x: Tensor, *shape) -> Tensor:
    """The same elements in a new shape: a view of x's memory when strides allow, else a copy."""
    shape = _target_shape("reshape", x, _sizes(shape, "reshape"))
    if shape == tuple(x.shape):
        return x
    return Reshape.apply(x, shape)


def view_strides(shape, strides, new_shape):
    """Strides that lay ``new_shape`` over the memory of an array with ``shape`` and
    ``strides``, or None if no such strides exist (PyTorch's ``computeStride``).

    Walk x's dims from the last, grouping them into runs that are contiguous with each other
    (dim i-1 steps over exactly the whole of dims i..: stride[i-1] = size * stride of the run's
    last dim). Inside a run the elements are evenly spaced, so it can be cut into any sizes;
    a new dim that would take elements from two runs cannot be expressed with one stride.
    Merging the rows of a transposed matrix crosses runs, so ``x.t().view(-1)`` is refused.
    """
    if len(shape) == 0:
        return (0,) * len(new_shape) if math.prod(new_shape) == 1 else None
    if math.prod(shape) == 0:               # no memory is read: any strides do
        return (0,) * len(new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    base_stride = strides[-1]               # the stride of the current run's last dim
    run_numel = view_numel = 1
    for d in range(len(shape) - 1, -1, -1):
        run_numel *= shape[d]
        run_ends = d == 0 or (shape[d - 1] != 1 and strides[d - 1] != run_numel * base_stride)
        if not run_ends:
            continue
        while view_d >= 0 and (view_numel < run_numel or new_shape[view_d] == 1):
            new_strides[view_d] = view_numel * base_stride
            view_numel *= new_shape[view_d]
            view_d -= 1
        if view_numel != run_numel:
            return None
        if d > 0:
            base_stride, run_numel, view_numel = strides[d - 1], 1, 1
    return tuple(new_strides) if view_d == -1 else None


class View(ArrayFunction):
    """y = x's memory read in a new shape (never a copy: writes through y reach x).
    dx = g reshaped back."""

    @staticmethod
    def forward(ctx, x, shape, strides):
        ctx.x_shape = x.shape
        if strides is None:                 # contiguous: a reshape is a view
            return x.reshape(shape)
        xp = backend.array_module(x)
        return xp.lib.stride_tricks.as_strided(x, shape, strides)

    @staticmethod
    def backward(ctx, g):
        return reshape(g, ctx.x_shape), None, None


def view(x: Tensor, *shape) -> Tensor:
    """The same memory in a new shape, or PyTorch's error when strides can't express it.

    Unlike ``reshape``, ``view`` never copies, so writing through the result always changes
    x. That is only possible when each new dim lies within one evenly spaced run of x's
    memory (see ``view_strides``); otherwise use ``reshape`` (which copies) or
    ``x.contiguous().view(...)``.
    """
    shape = _target_shape("view", x, _sizes(shape, "view"))
    if shape == tuple(x.shape):
        return x
    data = x.array
    if data.flags.c_contiguous:
        return View.apply(x, shape, None)
    strides = view_strides(data.shape, data.strides, shape)
    if strides is None:
        raise RuntimeError(
            f"view size is not compatible with input tensor's size and stride (at least one "
            f"dimension spans across two contiguous subspaces): view{list(shape)} of a tensor "
            f"of shape {tuple(x.shape)} with strides {_element_strides(data)}. Use "
            f".reshape(...) instead.")
    return View.apply(x, shape, strides)


def _element_strides(array) -> tuple:
    return tuple(s // array.itemsize for s in array.strides)


class Permute(ArrayFunction):
    """y = x with its dimensions reordered.   dx = g with the inverse permutation."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        return permute(g, tuple(np.argsort(ctx.dims))), None


def permute(x: Tensor, *dims) -> Tensor:
    dims = _sizes(dims, "permute", "dims")
    if len(dims) != x.ndim:
        raise RuntimeError(f"permute: dims {list(dims)} must list each of the {x.ndim} "
                           f"dimensions of a tensor of shape {tuple(x.shape)} once")
    dims = tuple(normalize_dim("permute", d, x.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"permute: duplicate dims are not allowed: {list(dims)} for a "
                           f"tensor of shape {tuple(x.shape)}")
    if dims == tuple(range(x.ndim)):
        return x
    return Permute.apply(x, dims)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    d0, d1 = normalize_dim("transpose", dim0, x.ndim), normalize_dim("transpose", dim1, x.ndim)
    if x.ndim == 0:
        return x
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
        empty = isinstance(dim, (tuple, list)) and len(dim) == 0    # squeeze(x, ()): none
        dims = () if empty else normalize_dims("squeeze", dim, x.ndim)   # each dim once
        shape = tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1))
    return reshape(x, shape)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    d = normalize_dim("unsqueeze", dim, x.ndim + 1)
    shape = list(x.shape)
    shape.insert(d, 1)
    return reshape(x, shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    s, e = normalize_dim("flatten", start_dim, x.ndim), normalize_dim("flatten", end_dim, x.ndim)
    if x.ndim == 0:
        return reshape(x, (1,))
    if s > e:
        raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for "
                           f"a tensor of shape {tuple(x.shape)}")
    shape = tuple(x.shape[:s]) + (math.prod(x.shape[s:e + 1]),) + tuple(x.shape[e + 1:])
    return reshape(x, shape)


def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    d = normalize_dim("unflatten", dim, x.ndim)
    return reshape(x, tuple(x.shape[:d]) + tuple(sizes) + tuple(x.shape[d + 1:]))


class Repeat(ArrayFunction):
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
    reps = _sizes(reps, "repeat", "repeats")
    if builtins.any(r < 0 for r in reps):
        raise RuntimeError(f"repeat: repeats must be >= 0, got {reps}")
    if len(reps) < x.ndim:
        raise RuntimeError(f"repeat: number of repeat dims ({len(reps)}) can't be smaller than "
                           f"the number of tensor dims ({x.ndim})")
    return Repeat.apply(x, reps)


class Contiguous(ArrayFunction):
    """y = a contiguous copy of x (only if x is not contiguous).   dx = g."""

    @staticmethod
    def forward(ctx, x):
        return backend.array_module(x).ascontiguousarray(x)

    @staticmethod
    def backward(ctx, g):
        return g


class Clone(ArrayFunction):
    """y = a copy of x.   dx = g."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


def contiguous(x: Tensor, memory_format=None) -> Tensor:
    """x itself if its array is C-contiguous and writeable, else a C-contiguous copy. Every
    ``memory_format`` gives C order (see ``minigrad.memory_format``)."""
    check_memory_format("contiguous", memory_format, x.ndim)
    flags = x.array.flags
    return x if flags.c_contiguous and flags.writeable else Contiguous.apply(x)


def clone(x: Tensor, *, memory_format=None) -> Tensor:
    """A differentiable copy, C-contiguous whatever ``memory_format`` says."""
    check_memory_format("clone", memory_format, x.ndim)
    return Clone.apply(x)


# ---------------------------------------------------------------------------------------------
# Indexing
# ---------------------------------------------------------------------------------------------

def _index_key(key, xp):
    """Turn a Python/Tensor index into one NumPy/CuPy understands (Tensors become arrays).

    A 0-d integer tensor becomes a Python int: PyTorch indexes with it as with an int, while
    NumPy would treat a 0-d array as an advanced index (``x[t0, :, t1]`` on a (2, 3, 4)
    tensor is (3, 2) in PyTorch, (2, 3) in NumPy)."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    for k in key:
        if isinstance(k, Tensor):
            k = k.array
            if k.ndim == 0 and k.dtype.kind in "iu":
                k = int(k)
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


class GetItem(ArrayFunction):
    """y = x[key].   dx = zeros like x, with g *added* at key (repeated indices accumulate)."""

    @staticmethod
    def forward(ctx, x, key):
        ctx.x_shape, ctx.key = x.shape, key
        return x[key]

    @staticmethod
    def backward(ctx, g):
        return IndexAddInto.apply(g, ctx.key, ctx.x_shape), None


class IndexAddInto(ArrayFunction):
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


def _check_mask_shapes(key, shape) -> None:
    """Each bool mask must have the shape of the dims it indexes (NumPy lets an empty mask
    index a dim of any size; PyTorch does not)."""
    def width(k):                # how many dims of x this entry of the key consumes
        if k is None or k is Ellipsis:
            return 0
        return k.ndim if getattr(k, "dtype", None) == np.bool_ else 1
    dim = 0
    for i, k in enumerate(key):
        if k is Ellipsis:
            dim = len(shape) - sum(width(j) for j in key[i + 1:])
            continue
        n = width(k)
        if n and getattr(k, "dtype", None) == np.bool_ and tuple(k.shape) != shape[dim:dim + n]:
            raise IndexError(f"index: the shape of the mask {tuple(k.shape)} at index {i} does "
                             f"not match the shape of the indexed tensor {shape} at dim {dim}")
        dim += n


def _is_int(k) -> bool:
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


def _ints_first(key):
    """Split a key mixing ints with advanced (array) indices into (ints, rest): PyTorch takes
    the ints as selects before the advanced indexing, NumPy as advanced indices (on a
    (2, 3, 4) tensor, ``x[1, :, [0, 1]]`` is (3, 2) in PyTorch, (2, 3) in NumPy)."""
    ints = []
    for k in key:
        if _is_int(k) or k is Ellipsis:
            ints.append(k)
        elif isinstance(k, slice):
            ints.append(slice(None))
        elif k is not None:          # an array: a bool mask spans its ndim dims (0-d: none)
            width = k.ndim if k.dtype == np.bool_ else 1
            ints.extend([slice(None)] * width)
    return tuple(ints), tuple(k for k in key if not _is_int(k))


def getitem(x: Tensor, key) -> Tensor:
    xp = backend.array_module(x.array)
    k = _index_key(key, xp)
    _check_mask_shapes(k, tuple(x.shape))
    if not _is_basic(k) and builtins.any(_is_int(j) for j in k):
        ints, rest = _ints_first(k)
        return getitem(getitem(x, ints), rest)
    try:
        if _is_basic(k):
            return GetItem.apply(x, k)
        # advanced indexing: check now, so the error names the tensor, not numpy's internals
        x.array[k]
    except IndexError as e:
        raise IndexError(f"index {key!r} is invalid for a tensor of shape {tuple(x.shape)}: {e}") \
            from None
    return GetItem.apply(x, k)


class SetItem(ArrayFunction):
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
            mask = backend.array_module(g.array).ones(g.shape, dtype=g.dtype)
            mask[ctx.key] = 0
            gx = g * Tensor._make(mask)
        if nv:
            gv = sum_to(GetItem.apply(g, ctx.key), ctx.v_shape)
        return gx, None, gv


def setitem(x: Tensor, key, value):
    """``x[key] = value``: in place, like every other in-place op (see Tensor._inplace)."""
    xp = backend.array_module(x.array)
    k = _index_key(key, xp)
    if isinstance(value, Tensor):
        v = value if value.dtype == x.dtype else value.to(x.dtype)
    else:
        v = np.asarray(value, dtype=x.dtype) if not hasattr(value, "dtype") else value
    x._inplace("__setitem__", lambda: SetItem.apply(x, k, v))


def masked_fill(x: Tensor, mask: Tensor, value) -> Tensor:
    from .elementwise import where
    return where(mask, value.to(x.dtype) if isinstance(value, Tensor) else value, x)


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


# ---------------------------------------------------------------------------------------------
# Joining and splitting
# ---------------------------------------------------------------------------------------------

class Cat(ArrayFunction):
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
    """The tensors joined along ``dim``; all other sizes must match.

    A 1-D tensor of size 0 joins anything (PyTorch keeps this old rule so that ``cat([acc, x])``
    can start from an empty ``acc``): it is taken as an empty piece of the others' shape.
    """
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat: expected a non-empty list of tensors")
    if not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"cat: expected a list of Tensors, got "
                        f"{[type(t).__name__ for t in tensors]}")
    legacy_empty = [t.shape == (0,) for t in tensors]
    r = next((i for i, e in enumerate(legacy_empty) if not e), 0)
    ref = tensors[r]
    d = normalize_dim("cat", dim, ref.ndim)
    if ref.ndim == 0:
        raise RuntimeError("cat: zero-dimensional tensors can't be concatenated; "
                           "use stack, or unsqueeze them first")
    dtype = ref.dtype
    for t in tensors:
        dtype = backend.promote_types(dtype, t.dtype)
    empty_piece = tuple(0 if j == d else s for j, s in enumerate(ref.shape))
    tensors = [reshape(t, empty_piece) if e else t for t, e in zip(tensors, legacy_empty)]
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim or any(a != b for j, (a, b) in enumerate(zip(t.shape, ref.shape))
                                     if j != d):
            raise RuntimeError(
                f"cat: sizes of tensors must match except in dimension {d}: tensor {r} has "
                f"shape {tuple(ref.shape)}, tensor {i} has shape {tuple(t.shape)}")
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
    d = normalize_dim("stack", dim, tensors[0].ndim + 1)
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = backend.promote_types(dtype, t.dtype)
    return Stack.apply(*[t if t.dtype == dtype else t.to(dtype) for t in tensors], dim=d)


class Stack(ArrayFunction):
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


class Split(ArrayFunction):
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


class Unbind(ArrayFunction):
    """(y_0, y_1, ...) = the slices x[..., i, ...] along ``dim``.   dx = stack(g_0, g_1, ...)."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return tuple(x[(slice(None),) * dim + (i,)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(list(grads), dim=ctx.dim), None


def split(x: Tensor, split_size_or_sections, dim: int = 0):
    """Pieces of ``split_size`` along ``dim`` (the last one shorter), or of the given sizes.

    A split size of 0 is only allowed on an empty dim (one empty piece), as in PyTorch."""
    _require_dims("split", x)
    d = normalize_dim("split", dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, (tuple, list)):
        sizes = [as_int("split", "each split size", s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise RuntimeError(f"split: split sizes {sizes} must be non-negative and sum to "
                               f"the size {n} of dimension {d} (tensor of shape "
                               f"{tuple(x.shape)})")
    else:
        step = as_int("split", "split_size", split_size_or_sections)
        if step < 0 or (step == 0 and n != 0):
            raise RuntimeError(f"split: split_size must be positive (0 only for an empty "
                               f"dimension), got split_size={step} for dimension {d} of size "
                               f"{n} (tensor of shape {tuple(x.shape)})")
        # an empty dim still gives one (empty) piece, as in PyTorch
        sizes = [min(step, n - s) for s in range(0, n, step)] if n else [0]
    out = Split.apply(x, tuple(sizes), d)
    return out if isinstance(out, tuple) else (out,)


def _require_dims(op: str, x: Tensor):
    if x.ndim == 0:
        raise RuntimeError(f"{op}: expects at least a 1-dimensional tensor, got a 0-d tensor")


def chunk(x: Tensor, chunks: int, dim: int = 0):
    """``chunks`` pieces of equal size ceil(n / chunks) along ``dim`` (the last one smaller,
    and fewer pieces when they run out first: 5 rows in 4 chunks are 2 + 2 + 1)."""
    chunks = as_int("chunk", "chunks", chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk: expects `chunks` to be greater than 0, got {chunks}")
    _require_dims("chunk", x)
    d = normalize_dim("chunk", dim, x.ndim)
    n = x.shape[d]
    if n == 0:                  # PyTorch keeps the count here: ``chunks`` empty pieces
        return split(x, [0] * chunks, d)
    return split(x, -(-n // chunks), d)


def unbind(x: Tensor, dim: int = 0):
    _require_dims("unbind", x)
    d = normalize_dim("unbind", dim, x.ndim)
    if x.shape[d] == 0:
        return ()
    out = Unbind.apply(x, d)
    return out if isinstance(out, tuple) else (out,)


def flip(x: Tensor, dims) -> Tensor:
    dims = {normalize_dim("flip", d, x.ndim) for d in (dims if isinstance(dims, (tuple, list)) else [dims])}
    return GetItem.apply(x, tuple(slice(None, None, -1) if i in dims else slice(None)
                                  for i in range(x.ndim)))


class Pad(ArrayFunction):
    """y = x surrounded by ``value``.   dx = the middle of g (where x went)."""

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.key = tuple(slice(lo, lo + s) for (lo, _), s in zip(widths, x.shape))
        return backend.array_module(x).pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return GetItem.apply(g, ctx.key), None, None


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(x: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """PyTorch's F.pad: ``pad`` = (left, right) for the last dim, then (top, bottom) for the
    one before, ... A negative entry crops that side instead.

    ``mode``: 'constant' fills with ``value`` (default 0) and pads any number of dims;
    'reflect' mirrors the tensor without repeating the edge (pad < size), 'replicate' repeats
    the edge, 'circular' wraps around (pad <= size). These three pad the last 1, 2 or 3 dims
    of a batched or unbatched input: (C, W) or (N, C, W) for len(pad) == 2, and so on.
    Negative entries follow PyTorch: 'constant' and 'circular' crop first (so 'circular'
    wraps the cropped tensor); 'reflect' and 'replicate' shift their window over the
    reflected or edge-extended input. Every mode is a selection of input elements, so the
    gradient is g summed back into the places each output element was read from.
    """
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {_PAD_MODES}, got {mode!r}")
    amounts = [as_int("pad", "pad", p) for p in pad]
    if len(amounts) % 2 or len(amounts) // 2 > x.ndim:
        raise RuntimeError(f"pad: padding {tuple(amounts)} must have an even length of at most "
                           f"2 * {x.ndim} for a tensor of shape {tuple(x.shape)}")
    n_dims = len(amounts) // 2
    if mode != "constant":
        _check_mode_dims(mode, n_dims, x.ndim)
        if value not in (None, 0, 0.0):
            raise RuntimeError(f"pad: padding mode {mode!r} doesn't take in value argument "
                               f"(got value={value!r})")
    widths = [(0, 0)] * x.ndim
    for i in range(n_dims):
        widths[x.ndim - 1 - i] = (amounts[2 * i], amounts[2 * i + 1])
    if mode in ("constant", "circular"):
        x = _crop(x, widths)
        widths = tuple((max(lo, 0), max(hi, 0)) for lo, hi in widths)
    if mode == "constant":
        if all(w == (0, 0) for w in widths):
            return x
        return Pad.apply(x, widths, 0.0 if value is None else value)
    for d, (lo, hi) in enumerate(widths):
        if lo or hi:
            x = getitem(x, (slice(None),) * d + (_source_index(mode, x.shape[d], lo, hi, d),))
    return x


def _check_mode_dims(mode: str, n_dims: int, ndim: int) -> None:
    if n_dims not in (1, 2, 3) or ndim not in (n_dims + 1, n_dims + 2):
        raise NotImplementedError(
            f"pad: padding size {2 * n_dims} is not supported for a {ndim}-D input in mode "
            f"{mode!r}; non-constant modes pad the last 1, 2 or 3 dims of a batched or "
            "unbatched input: padding size 2 for 2-D or 3-D input, 4 for 3-D or 4-D, 6 for "
            "4-D or 5-D")


def _crop(x: Tensor, widths) -> Tensor:
    """x with the negative paddings cut off (a differentiable slice)."""
    if all(lo >= 0 and hi >= 0 for lo, hi in widths):
        return x
    key = []
    for d, (lo, hi) in enumerate(widths):
        start, stop = max(-lo, 0), x.shape[d] - max(-hi, 0)
        if stop - start + max(lo, 0) + max(hi, 0) < 0:
            raise RuntimeError(f"pad: padding {widths[d]} of dimension {d} (size {x.shape[d]}) "
                               "gives a negative output size")
        key.append(slice(start, max(stop, start)))
    return getitem(x, tuple(key))


def _source_index(mode: str, size: int, lo: int, hi: int, d: int):
    """For each output position along one dim, the input position it copies (int64).
    ``lo`` and ``hi`` may be negative for 'reflect' and 'replicate'."""
    if size + lo + hi < 0:
        raise RuntimeError(f"pad: padding ({lo}, {hi}) of dimension {d} (size {size}) gives a "
                           "negative output size")
    if mode == "reflect" and max(lo, hi) >= size:
        raise RuntimeError(f"pad: reflect padding ({lo}, {hi}) of dimension {d} must be less "
                           f"than its size {size}")
    if mode == "circular" and max(lo, hi) > size:
        raise RuntimeError(f"pad: circular padding ({lo}, {hi}) of dimension {d} (size {size}) "
                           "wraps around more than once; it must be at most the size")
    if size == 0:
        raise RuntimeError(f"pad: mode {mode!r} can't pad dimension {d} of size 0")
    j = np.arange(-lo, size + hi)
    if mode == "replicate":
        return np.clip(j, 0, size - 1)
    if mode == "circular":
        return j % size
    if size == 1:                                # reflect of one element: lo = hi = 0 here
        return j
    j = np.abs(j) % (2 * (size - 1))             # mirror at 0, then fold at size - 1
    return np.where(j >= size, 2 * (size - 1) - j, j)


# ---------------------------------------------------------------------------------------------
# Casts and device moves
# ---------------------------------------------------------------------------------------------

class ToDtype(ArrayFunction):
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


class ToDevice(ArrayFunction):
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
