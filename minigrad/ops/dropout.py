"""Dropout: during training, zero each element with probability p and scale the rest by
1 / (1 - p), so that the expected value of every output equals its input. At evaluation time
it is the identity (``training=False``), which is why ``model.eval()`` matters.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import default_generator


def _uniform_like(x):
    """Uniform [0, 1) numbers of x's shape, on x's device, from minigrad's seeded generator."""
    xp = backend.array_module(x)
    if xp is np:
        return default_generator().random(x.shape)
    return xp.random.random(x.shape)  # CuPy's generator (seeded by mg.manual_seed too)


class Dropout(ArrayFunction):
    """y = x * m / (1 - p),  m_i ~ Bernoulli(1 - p).   dy/dx = m / (1 - p) (the same mask)."""

    @staticmethod
    def forward(ctx, x, p):
        keep = _uniform_like(x) >= p
        scale = keep.astype(x.dtype) * (1.0 / (1.0 - p)) if p < 1 else keep.astype(x.dtype)
        ctx.save_for_backward(scale)
        return x * scale

    @staticmethod
    def backward(ctx, g):
        (scale,) = ctx.saved_tensors
        return g * scale, None


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):  # noqa: A002
    """Zero elements with probability ``p`` (and rescale the others) when ``training``.

    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    return Dropout.apply(input, float(p))
