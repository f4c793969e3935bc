"""Embedding lookup (a table of vectors indexed by integers) and ``one_hot``.

``embedding(idx, W)`` is ``W[idx]``: row ``idx[i]`` of the table for each index. It is the same
as ``one_hot(idx) @ W`` without building the one-hot matrix, and its gradient is the adjoint of
that: dW gets each output row's gradient *added* into row ``idx[i]`` (an index that occurs
twice collects two contributions).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .subscript import IndexAddInto


class Embedding(ArrayFunction):
    """y = W[idx]  (shape idx.shape + (D,)).

    dW = zeros like W, with g[i] added into row idx[i], except:
      * rows of ``padding_idx`` get no gradient (the padding vector stays what it is);
      * with ``scale_grad_by_freq``, each contribution is divided by how often its index
        occurs in this batch (so frequent words don't dominate).
    """

    @staticmethod
    def forward(ctx, weight, idx, padding_idx, scale_grad_by_freq):
        xp = backend.array_module(weight)
        scale = None
        if padding_idx is not None or scale_grad_by_freq:
            scale = xp.ones(idx.shape + (1,), dtype=weight.dtype)
            if scale_grad_by_freq:
                _, inverse, counts = xp.unique(idx.reshape(-1), return_inverse=True,
                                               return_counts=True)
                scale[..., 0] = 1.0 / counts[inverse].reshape(idx.shape)
            if padding_idx is not None:
                scale[idx == padding_idx] = 0
        ctx.idx, ctx.w_shape, ctx.scale = idx, weight.shape, scale
        return weight[idx]

    @staticmethod
    def backward(ctx, g):
        if ctx.scale is not None:
            g = g * Tensor._make(ctx.scale)
        return IndexAddInto.apply(g, (ctx.idx,), ctx.w_shape), None, None, None


def _index_array(name: str, input, num_embeddings: int):
    idx = input.array if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be an integer tensor (int64), got {idx.dtype}; "
                        "convert with .long()")
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= num_embeddings):
        bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
        raise IndexError(f"{name}: index {bad} is out of range for a table of "
                         f"{num_embeddings} rows (valid indices are 0..{num_embeddings - 1})")
    return idx


def _renorm_rows(weight: Tensor, idx, max_norm: float, norm_type: float):
    """In place, under no_grad: rows used by ``idx`` whose norm exceeds max_norm are scaled
    down to norm max_norm (what PyTorch's ``max_norm`` does before the lookup)."""
    xp = backend.array_module(weight.array)
    rows = xp.unique(idx.reshape(-1))
    with no_grad():
        w = weight.array[rows]
        norms = (xp.abs(w) ** norm_type).sum(axis=1, keepdims=True) ** (1.0 / norm_type)
        factor = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight.array[rows] = (w * factor).astype(weight.dtype, copy=False)
        weight._mark_modified()


def embedding(input, weight: Tensor, padding_idx: int | None = None,  # noqa: A002
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by the integer ``input``."""
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {tuple(weight.shape)}")
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported in minigrad")
    n = weight.shape[0]
    idx = _index_array("embedding", input, n)
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within "
                             f"num_embeddings ({n})")
        padding_idx = padding_idx % n
    if max_norm is not None:
        _renorm_rows(weight, idx, float(max_norm), float(norm_type))
    return Embedding.apply(weight, idx, padding_idx, bool(scale_grad_by_freq))


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """(…,) integer classes -> (…, num_classes) int64 tensor of 0s and 1s (no gradient).

    ``num_classes=-1`` means max(tensor) + 1.
    """
    idx = tensor.array if isinstance(tensor, Tensor) else np.asarray(tensor)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer (int64) tensor, got {idx.dtype}")
    xp = backend.array_module(idx)
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("one_hot: can not infer the number of classes from an empty "
                               "tensor; pass num_classes")
        num_classes = int(idx.max()) + 1
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= num_classes):
        raise RuntimeError(f"one_hot: class values must be in 0..{num_classes - 1}, got values "
                           f"from {int(idx.min())} to {int(idx.max())}")
    out = (idx[..., None] == xp.arange(num_classes)).astype(np.int64)
    return Tensor._make(out)
