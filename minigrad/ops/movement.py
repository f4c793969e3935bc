"""Ops that change a tensor's shape without computing new numbers: broadcasting and its
adjoint ``sum_to``, reshape/view, permute/transpose, squeeze/unsqueeze, flatten, repeat, clone.

Their gradients move the numbers back: the gradient of a reshape is reshaped back, the gradient
of a broadcast is summed over the broadcast dimensions, the gradient of a permute is permuted
back."""

from __future__ import annotations

import builtins
import math

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor, check_memory_format
from .arguments import as_int, normalize_dim, normalize_dims

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

    @staticmethod
    def backward_arrays(ctx, g):
        return backend.array_module(g).broadcast_to(g, ctx.x_shape), None


class BroadcastTo(ArrayFunction):
    """y = x broadcast to ``shape`` (a read-only view).   dx = sum_to(g, x.shape)."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.x_shape = x.shape
        return backend.array_module(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return sum_to(g, ctx.x_shape), None

    @staticmethod
    def backward_arrays(ctx, g):
        return _sum_to_array(g, ctx.x_shape), None


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
    x_shape = x.array.shape
    lead = len(sizes) - len(x_shape)
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes ({len(sizes)}) must be at least the "
                           f"number of dimensions of the tensor {x_shape}")
    shape = sizes if -1 not in sizes else tuple(
        x_shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    for i, s in enumerate(x_shape):
        if s != 1 and s != shape[lead + i]:
            raise RuntimeError(f"expand: the size {s} of dimension {i} of tensor "
                               f"{x_shape} must be 1 to expand it to {shape[lead + i]} "
                               f"(target shape {shape})")
    if shape == x_shape:
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

    @staticmethod
    def backward_arrays(ctx, g):
        return g.reshape(ctx.x_shape), None


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
    if shape == x.array.shape:
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

    @staticmethod
    def backward_arrays(ctx, g):
        return g.reshape(ctx.x_shape), None, None


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
        return permute(g, _inverse_permutation(ctx.dims)), None

    @staticmethod
    def backward_arrays(ctx, g):
        return g.transpose(_inverse_permutation(ctx.dims)), None


def _inverse_permutation(dims) -> tuple:
    """The inverse permutation (np.argsort, in Python: a few dims, where NumPy's call costs
    more)."""
    inverse = [0] * len(dims)
    for i, d in enumerate(dims):
        inverse[d] = i
    return tuple(inverse)


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
    ndim = x.array.ndim
    d0, d1 = normalize_dim("transpose", dim0, ndim), normalize_dim("transpose", dim1, ndim)
    if ndim == 0 or d0 == d1:
        return x
    dims = list(range(ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(x, tuple(dims))     # a valid permutation: permute's checks would pass


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


def ravel(x: Tensor) -> Tensor:
    """The elements as one dim, in row-major order (a 0-d tensor gives 1 element)."""
    return reshape(x, -1)


def broadcast_tensors(*tensors):
    """Every tensor expanded to the shape they broadcast to (views: no copy)."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    shapes = [tuple(t.shape) for t in tensors]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise RuntimeError(f"broadcast_tensors: shapes {shapes} don't broadcast to one shape "
                           f"(each dim must match or be 1, counted from the right)") from None
    return tuple(broadcast_to(t, shape) for t in tensors)
