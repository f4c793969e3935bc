"""Distances between vectors: ``cosine_similarity``, ``pairwise_distance`` and ``cdist``.

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
    # |x|^p with the double-where trick at x = 0, where p |x|^(p-1) is infinite for p < 1:
    # zero coordinates get gradient 0, as in PyTorch's norm backward
    magnitude = x.abs()
    nonzero = magnitude > 0
    s = where(nonzero, where(nonzero, magnitude, 1.0) ** p, 0.0).sum(dim, keepdim=keepdim)
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


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The p-norm distance between each row of x1 (..., P, M) and each row of x2 (..., R, M):
    (..., P, R), batch dims broadcast. p = 0 counts differing coordinates, p = inf takes the
    largest difference.

    Computed from the differences x1_i - x2_j ((..., P, R, M) in memory), so every p gets the
    same exact formula and the gradient is 0 where two rows coincide (as in PyTorch).
    ``compute_mode`` picks PyTorch's matrix-product shortcut for p = 2; it is accepted and
    changes nothing here.
    """
    op = "cdist"
    for name, x in (("X1", x1), ("X2", x2)):
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}: expected Tensors, got {type(x).__name__} for {name}")
        if x.ndim < 2:
            raise RuntimeError(f"{op} only supports at least 2D tensors, {name} got: "
                               f"{x.ndim}D")
        if x.dtype.kind != "f":
            raise RuntimeError(f"{op} only supports floating-point dtypes, {name} got: "
                               f"{x.dtype}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if x1.dtype != x2.dtype:
        raise RuntimeError(f"{op}: X1 and X2 must have the same dtype, got {x1.dtype} and "
                           f"{x2.dtype}")
    if not p >= 0:
        raise RuntimeError(f"{op} only supports non-negative p values, got {p}")
    if compute_mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    differences = x1.unsqueeze(-2) - x2.unsqueeze(-3)          # (..., P, R, M)
    if p == 0:      # a count of differing coordinates: in the graph with gradient 0, as PyTorch
        from .compare import _step
        return _step(lambda d: (d != 0).sum(-1).astype(d.dtype), differences)
    return _p_norm(differences, float(p), differences.ndim - 1, keepdim=False)


__all__ = ["cdist", "cosine_similarity", "pairwise_distance"]
