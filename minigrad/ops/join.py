"""Joining and splitting: ``cat``, ``stack``, ``split``, ``chunk``, ``unbind``.

The gradient of a join is sliced into the pieces that went in; the gradient of a split is
joined back (missing pieces count as zeros)."""

from __future__ import annotations

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from .arguments import as_int, normalize_dim
from .movement import reshape
from .subscript import GetItem


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

    @staticmethod
    def backward_arrays(ctx, g):
        grads, start = [], 0
        for size, need in zip(ctx.sizes, ctx.needs_input_grad):
            key = (slice(None),) * ctx.dim + (slice(start, start + size),)
            grads.append(g[key] if need else None)
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

    @staticmethod
    def backward_arrays(ctx, *grads):
        return backend.array_module(*grads).concatenate(grads, axis=ctx.dim), None, None


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


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0):  # noqa: A002
    """Split along ``dim`` into ``n`` nearly equal pieces (an int: the first ``size % n``
    pieces one longer), or at the given indices (a list, tuple or 1-D int tensor: the pieces
    are x[:i0], x[i0:i1], ..., x[ik:], with Python's slice rules)."""
    _require_dims("tensor_split", input)
    d = normalize_dim("tensor_split", dim, input.ndim)
    n = input.shape[d]
    if isinstance(indices_or_sections, Tensor):
        if indices_or_sections.ndim > 1 or indices_or_sections.dtype.kind not in "iu":
            raise RuntimeError(f"tensor_split: indices_or_sections must be an int, a list of "
                               f"ints or a 0-d/1-D int tensor, got a "
                               f"{indices_or_sections.dtype} tensor of shape "
                               f"{tuple(indices_or_sections.shape)}")
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (tuple, list)):
        bounds = [None] + [as_int("tensor_split", "each index", i) for i in indices_or_sections]
        bounds.append(None)
        lead = (slice(None),) * d
        return tuple(input[lead + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:]))
    sections = as_int("tensor_split", "sections", indices_or_sections)
    if sections <= 0:
        raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got "
                           f"{sections}")
    q, r = divmod(n, sections)
    return split(input, [q + 1] * r + [q] * (sections - r), d)


def _split_along(op: str, input: Tensor, indices_or_sections, dim: int, min_dims: int):  # noqa: A002
    """hsplit/vsplit/dsplit: tensor_split along ``dim``; an int count must divide the size."""
    if input.ndim < min_dims:
        raise RuntimeError(f"{op}: requires a tensor with at least {min_dims} dimension(s), "
                           f"got shape {tuple(input.shape)}")
    if not isinstance(indices_or_sections, (tuple, list, Tensor)):
        sections = as_int(op, "sections", indices_or_sections)
        size = input.shape[dim]
        if sections <= 0 or size % sections:
            raise RuntimeError(f"{op}: attempted to split along dimension {dim}, but the size "
                               f"of the dimension {size} is not divisible by the split_size "
                               f"{sections}")
    return tensor_split(input, indices_or_sections, dim)


def hsplit(input: Tensor, indices_or_sections):  # noqa: A002
    """Split the columns: dim 1, or dim 0 for a 1-D tensor."""
    return _split_along("hsplit", input, indices_or_sections, 0 if input.ndim == 1 else 1, 1)


def vsplit(input: Tensor, indices_or_sections):  # noqa: A002
    """Split the rows: dim 0, of a tensor of 2 or more dims."""
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections):  # noqa: A002
    """Split along the depth: dim 2, of a tensor of 3 or more dims."""
    return _split_along("dsplit", input, indices_or_sections, 2, 3)
