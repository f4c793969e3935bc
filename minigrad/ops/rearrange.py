"""Rearranging ops: roll, movedim, tile, hstack/vstack, repeat_interleave, diagonal, tril/triu.

Like ``movement.py`` they move numbers without computing new ones, so each gradient moves
them back: roll by the opposite shift, put the diagonal back on a zero matrix, keep the same
triangle. Most are written with the shape, joining and indexing ops (permute, repeat, cat, ``x[key]``), whose
gradients are already there; ``Roll``, ``Diagonal`` and ``Triangle`` are ArrayFunctions of their own.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from .arguments import normalize_dim
from .join import cat
from .movement import _sizes, permute, repeat, reshape

# ---------------------------------------------------------------------------------------------
# roll
# ---------------------------------------------------------------------------------------------


class Roll(ArrayFunction):
    """y = x shifted by ``shifts`` along ``dims``, wrapping around (y_{i+s} = x_i).

    dx = g rolled back by -shifts.
    """

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return backend.array_module(x).roll(x, shifts, axis=dims)

    @staticmethod
    def backward(ctx, g):
        return Roll.apply(g, tuple(-s for s in ctx.shifts), ctx.dims), None, None


def roll(input: Tensor, shifts, dims=None) -> Tensor:  # noqa: A002 - PyTorch's names
    """Shift elements along ``dims`` (or over the flattened tensor when ``dims`` is None)."""
    shifts = _int_tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: without dims, shifts must be a single number, got "
                               f"{list(shifts)}")
        return reshape(Roll.apply(reshape(input, (-1,)), shifts, (0,)), tuple(input.shape))
    dims = _int_tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts {list(shifts)} and dims {list(dims)} must have the "
                           "same length")
    dims = tuple(normalize_dim("roll", d, input.ndim) for d in dims)
    if input.ndim == 0:
        return input.clone()
    return Roll.apply(input, shifts, dims)


def _int_tuple(v):
    return tuple(int(s) for s in v) if isinstance(v, (tuple, list)) else (int(v),)


# ---------------------------------------------------------------------------------------------
# moving and tiling dimensions, joining
# ---------------------------------------------------------------------------------------------

def movedim(input: Tensor, source, destination) -> Tensor:  # noqa: A002
    """Move dims ``source`` to positions ``destination``; the others keep their order."""
    src, dst = _int_tuple(source), _int_tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    n = input.ndim
    src = tuple(normalize_dim("movedim", d, n) for d in src)
    dst = tuple(normalize_dim("movedim", d, n) for d in dst)
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(dims)})")
    order = [None] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(n) if d not in src)
    order = [next(rest) if o is None else o for o in order]
    return permute(input, tuple(order)) if n else input


moveaxis = movedim


def tile(input: Tensor, dims) -> Tensor:  # noqa: A002
    """``repeat`` that accepts fewer repetitions than dimensions (leading ones are 1)."""
    dims = _sizes((dims,) if isinstance(dims, int) else tuple(dims), "tile", "dims")
    dims = (1,) * (input.ndim - len(dims)) + dims
    return repeat(input, dims)


def _at_least(t: Tensor, ndim: int) -> Tensor:
    """``t`` with size-1 dims in front until it has ``ndim`` dims (atleast_1d/2d)."""
    return reshape(t, (1,) * (ndim - t.ndim) + tuple(t.shape)) if t.ndim < ndim else t


def hstack(tensors) -> Tensor:
    """Join along dim 1 (dim 0 when every tensor is 1-D), as NumPy's hstack."""
    tensors = [_at_least(t, 1) for t in _tensor_list(tensors, "hstack")]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Join along dim 0, 1-D tensors becoming rows, as NumPy's vstack."""
    return cat([_at_least(t, 2) for t in _tensor_list(tensors, "vstack")], 0)


def _tensor_list(tensors, op):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{op}: expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: entry {i} is a {type(t).__name__}, expected a Tensor")
    return tensors


def repeat_interleave(input: Tensor, repeats=None, dim=None, *, output_size=None):  # noqa: A002
    """Repeat each element ``repeats`` times along ``dim`` (flattened when dim is None):
    [a, b] with repeats 2 -> [a, a, b, b]. ``repeats`` is a number or one count per element.

    ``repeat_interleave(counts)`` alone gives the indices 0, 1, ... each repeated count times.
    Written as ``x[..., index]`` with index = [0, 0, 1, 1, ...]: the gradient adds back.
    """
    if repeats is None:
        counts = _repeat_counts(input, input.numel(), "repeat_interleave")
        index = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
        return Tensor._make(backend.to_device(index, input.device))
    x = reshape(input, (-1,)) if dim is None else input
    d = 0 if dim is None else normalize_dim("repeat_interleave", dim, x.ndim)
    if x.ndim == 0:
        x = reshape(x, (1,))
    n = x.shape[d]
    counts = _repeat_counts(repeats, n, "repeat_interleave")
    # the index is built on the host (counts are few), then moved to x's device
    index = np.repeat(np.arange(n, dtype=np.int64), counts)
    if output_size is not None and int(output_size) != index.size:
        raise RuntimeError(f"repeat_interleave: output_size is {output_size} but the repeats "
                           f"add up to {index.size}")
    return x[(slice(None),) * d + (backend.to_device(index, x.device),)]


def _repeat_counts(repeats, n, op):
    """``repeats`` as a NumPy int64 array of n counts (one count is used for every element)."""
    if isinstance(repeats, Tensor):
        if repeats.dtype.kind not in "iu":
            raise RuntimeError(f"{op}: repeats must be an integer tensor, got {repeats.dtype}")
        if repeats.ndim > 1:
            raise RuntimeError(f"{op}: repeats must be 0-d or 1-d, got shape "
                               f"{tuple(repeats.shape)}")
        counts = backend.to_device(repeats.array, backend.CPU).reshape(-1).astype(np.int64)
    else:
        counts = np.asarray([int(repeats)], dtype=np.int64)
    if counts.size == 1:
        counts = np.full(n, int(counts[0]), dtype=np.int64)
    if counts.size != n:
        raise RuntimeError(f"{op}: repeats must have the same size as input along dim: "
                           f"{counts.size} repeats for {n} elements")
    if counts.size and int(counts.min()) < 0:
        raise RuntimeError(f"{op}: repeats can not be negative (got {int(counts.min())})")
    return counts


# ---------------------------------------------------------------------------------------------
# diagonals and triangles
# ---------------------------------------------------------------------------------------------

def _diagonal_positions(xp, shape, offset, dim1, dim2):
    """Row and column indices (along dim1, dim2) of the diagonal ``offset`` of ``shape``."""
    length = max(0, min(shape[dim1] + min(offset, 0), shape[dim2] - max(offset, 0)))
    i = xp.arange(length)
    return i - min(offset, 0), i + max(offset, 0)


class Diagonal(ArrayFunction):
    """y[..., i] = x[..., i, i + offset] over dims (dim1, dim2); the diagonal becomes the last
    dim.   dx = zeros of x's shape with g written back on that diagonal (``DiagonalBackward``).
    """

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.x_shape, ctx.args = x.shape, (offset, dim1, dim2)
        return backend.array_module(x).diagonal(x, offset, dim1, dim2).copy()

    @staticmethod
    def backward(ctx, g):
        return DiagonalBackward.apply(g, ctx.x_shape, *ctx.args), None, None, None


class DiagonalBackward(ArrayFunction):
    """y = zeros(shape) with g on the diagonal ``offset`` of (dim1, dim2).

    Linear in g, and its adjoint is reading that diagonal: dg = diagonal(gy).
    """

    @staticmethod
    def forward(ctx, g, shape, offset, dim1, dim2):
        ctx.args = (offset, dim1, dim2)
        xp = backend.array_module(g)
        out = xp.zeros(shape, dtype=g.dtype)
        rows, cols = _diagonal_positions(xp, shape, offset, dim1, dim2)
        # a view with dim1, dim2 last: writing into it writes into out
        xp.moveaxis(out, (dim1, dim2), (-2, -1))[..., rows, cols] = g
        return out

    @staticmethod
    def backward(ctx, gg):
        return Diagonal.apply(gg, *ctx.args), None, None, None, None


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """The diagonal ``offset`` (0 main, > 0 above, < 0 below) of the matrices over dims
    (dim1, dim2), as a new last dim."""
    if input.ndim < 2:
        raise RuntimeError(f"diagonal: expected a tensor with at least 2 dimensions, got shape "
                           f"{tuple(input.shape)}")
    d1, d2 = normalize_dim("diagonal", dim1, input.ndim), normalize_dim("diagonal", dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal: diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, int(offset), d1, d2)


class Triangle(ArrayFunction):
    """y = x where the element is on the kept side of diagonal ``k`` of the last two dims,
    else 0 (``lower``: tril, j <= i + k; else triu, j >= i + k).

    Multiplying by a fixed 0/1 mask is its own adjoint: dx = the same triangle of g.
    """

    @staticmethod
    def forward(ctx, x, k, lower):
        ctx.k, ctx.lower = k, lower
        xp = backend.array_module(x)
        return (xp.tril if lower else xp.triu)(x, k)

    @staticmethod
    def backward(ctx, g):
        return Triangle.apply(g, ctx.k, ctx.lower), None, None


def _triangle(x: Tensor, diagonal, lower: bool, op: str) -> Tensor:
    if x.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape "
                           f"{tuple(x.shape)}")
    return Triangle.apply(x, int(diagonal), lower)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The lower triangle of the last two dims (on and below diagonal ``diagonal``)."""
    return _triangle(input, diagonal, True, "tril")


def triu(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The upper triangle of the last two dims (on and above diagonal ``diagonal``)."""
    return _triangle(input, diagonal, False, "triu")


def meshgrid(*tensors, indexing: str | None = None):
    """Coordinate grids: for 1-D tensors of sizes n1, n2, ... one tensor per input, each of
    shape (n1, n2, ...) (``indexing="ij"``, the default) holding its input along its own dim;
    ``indexing="xy"`` swaps the first two dims (n2, n1, ...), as NumPy's default does."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if not tensors:
        raise RuntimeError("meshgrid: expects a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid: expects 0-D or 1-D tensors, got tensor {i} of "
                               f"shape {tuple(t.shape)}")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError(f"meshgrid: expects all tensors to have the same dtype, got "
                               f"{tensors[0].dtype} (tensor 0) and {t.dtype} (tensor {i})")
    dims = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        dims[0], dims[1] = 1, 0                  # input 0 runs along dim 1, input 1 along 0
    sizes = [t.numel() for t in tensors]
    shape = [0] * len(tensors)
    for i, d in enumerate(dims):
        shape[d] = sizes[i]
    grids = []
    for i, t in enumerate(tensors):
        along = [1] * len(tensors)
        along[dims[i]] = sizes[i]
        grids.append(reshape(t, tuple(along)).expand(*shape))
    return tuple(grids)


def cartesian_prod(*tensors) -> Tensor:
    """Every combination of one element from each 1-D tensor, as the rows of an
    (n1 * n2 * ..., k) tensor in row-major order; with one tensor, that tensor."""
    for i, t in enumerate(tensors):
        if t.ndim != 1:
            raise RuntimeError(f"cartesian_prod: expects 1-D tensors, got tensor {i} of shape "
                               f"{tuple(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    from .join import stack
    return stack([reshape(g, (-1,)) for g in meshgrid(*tensors, indexing="ij")], 1)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: A002
    """Each last-dim vector of ``input`` (length n) placed on diagonal ``offset`` of an
    (n + |offset|)-square matrix whose two dims are ``dim1`` and ``dim2`` of the output (zeros
    elsewhere). Written as where(on the diagonal, the values, 0): the gradient is the
    gradient's diagonal, and no inf or NaN leaks off the diagonal."""
    from .elementwise import where
    from .padding import pad
    n = input.shape[-1] if input.ndim else 1
    out_ndim = input.ndim + 1
    d1, d2 = normalize_dim("diag_embed", dim1, out_ndim), normalize_dim("diag_embed", dim2,
                                                                        out_ndim)
    if d1 == d2:
        raise RuntimeError(f"diag_embed: diagonal dimensions cannot be identical, got dim1="
                           f"{dim1} and dim2={dim2}")
    rows = reshape(input, tuple(input.shape) + (1,))            # (..., n, 1): row i holds v_i
    eye = Tensor._make(backend.to_device(np.eye(n, dtype=np.bool_), input.device))
    zero = Tensor._make(backend.array_module(input.array).zeros((), dtype=input.dtype))
    square = where(eye, rows, zero)             # (..., n, n), v on the diagonal, input's dtype
    k = abs(int(offset))
    if k:       # above the diagonal: zero columns on the left and zero rows at the bottom
        widths = (k, 0, 0, k) if offset > 0 else (0, k, k, 0)
        square = pad(square, widths)
    # the two new dims are the last two; move them to (d1, d2)
    return movedim(square, (out_ndim - 2, out_ndim - 1), (d1, d2))


def diagflat(input: Tensor, offset: int = 0) -> Tensor:  # noqa: A002
    """The elements of ``input``, flattened, on diagonal ``offset`` of a square matrix."""
    return diag_embed(reshape(input, (-1,)), offset)


_matrix_diagonal = diagonal     # diag's argument is named ``diagonal`` (PyTorch's name)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """A 1-D input: the square matrix with it on diagonal ``diagonal``; a 2-D input: that
    diagonal of it, as a vector."""
    if input.ndim == 1:
        return diag_embed(input, diagonal)
    if input.ndim == 2:
        return _matrix_diagonal(input, diagonal)
    raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got shape {tuple(input.shape)}")
