"""Distances between vectors: ``cosine_similarity`` and ``pairwise_distance``.

Both are compositions of existing ops (norms, products, sums), so their gradients and second
derivatives come for free. Two details follow PyTorch exactly:

* A Euclidean norm's gradient x / ||x|| is 0 / 0 at the zero vector. The norm here takes the
  square root only where the sum of squares is positive (the "double where" trick), so the
  zero vector gets gradient 0, as PyTorch's ``linalg.vector_norm`` gives, instead of NaN.
* ``cosine_similarity`` divides each input by its norm clamped at ``eps`` *without* the
  clamp's gradient: PyTorch clamps the norms in place under ``no_grad``, so the backward pass
  still differentiates the unclamped norm. ``_clamped_norm`` gets the same numbers by adding
  the clamp as a constant: value max(||x||, eps), gradient that of ||x||.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..tensor import Tensor
from .arguments import normalize_dim
from .elementwise import sqrt, where
from .movement import broadcast_to


def _float_pair(name, x1: Tensor, x2: Tensor, integers_ok: bool):
    """x1 and x2 in one floating dtype, broadcast to one shape. Two integer inputs are an
    error (cosine_similarity) or become the default float (pairwise_distance), as in
    PyTorch."""
    dtype = backend.promote_types(x1.dtype, x2.dtype)
    if dtype.kind != "f":
        if not integers_ok:
            raise RuntimeError(f"{name}: expected floating point inputs, got {x1.dtype} and "
                               f"{x2.dtype}")
        dtype = backend.DEFAULT_FLOAT
    try:
        shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError:
        raise RuntimeError(f"{name}: x1 of shape {tuple(x1.shape)} and x2 of shape "
                           f"{tuple(x2.shape)} can't be broadcast to one shape") from None
    return (broadcast_to(x1.to(dtype), shape), broadcast_to(x2.to(dtype), shape), shape)


def _euclidean_norm(x: Tensor, dim: int, keepdim: bool) -> Tensor:
    """||x||_2 along ``dim``, with gradient 0 (not NaN) at the zero vector."""
    s = (x * x).sum(dim, keepdim=keepdim)
    positive = s > 0
    return where(positive, sqrt(where(positive, s, 1.0)), 0.0)


def _clamped_norm(x: Tensor, dim: int, eps: float) -> Tensor:
    """max(||x||, eps) in value, with the gradient of ||x|| (see the module docstring)."""
    norm = _euclidean_norm(x, dim, keepdim=True)
    floor = norm.detach()
    return norm + (floor.clamp(min=eps) - floor)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along ``dim`` (in [-1, 1]).

    x1 and x2 broadcast to one shape; ``dim`` indexes that shape and is removed. Each vector
    is normalised first (more stable than dividing the dot product by the product of norms).
    """
    x1, x2, shape = _float_pair("cosine_similarity", x1, x2, integers_ok=False)
    d = normalize_dim("cosine_similarity", dim, len(shape))
    return ((x1 / _clamped_norm(x1, d, eps)) * (x2 / _clamped_norm(x2, d, eps))).sum(d)


def _p_norm(x: Tensor, p: float, dim: int, keepdim: bool) -> Tensor:
    """The p-norm along ``dim`` (p = inf: max |x|; p = 0: the number of non-zeros)."""
    if p == 2:
        return _euclidean_norm(x, dim, keepdim)
    if math.isinf(p):
        return x.abs().amax(dim, keepdim=keepdim) if p > 0 else x.abs().amin(dim,
                                                                              keepdim=keepdim)
    if p == 0:     # a count: no gradient
        return (x.detach() != 0).to(x.dtype).sum(dim, keepdim=keepdim)
    s = (x.abs() ** p).sum(dim, keepdim=keepdim)
    positive = s > 0
    return where(positive, where(positive, s, 1.0) ** (1.0 / p), 0.0)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dimension (x1 and x2 broadcast to one shape).

    ``eps`` is added to the difference (PyTorch's rule), so identical vectors are at distance
    eps * n^(1/p), not 0, and the gradient stays finite there.
    """
    x1, x2, shape = _float_pair("pairwise_distance", x1, x2, integers_ok=True)
    if len(shape) == 0:
        raise RuntimeError("pairwise_distance: expected inputs with at least one dimension "
                           "(vectors), got 0-d tensors")
    return _p_norm(x1 - x2 + eps, float(p), len(shape) - 1, keepdim)


__all__ = ["cosine_similarity", "pairwise_distance"]
