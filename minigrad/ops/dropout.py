"""Dropout: during training, zero each element with probability p and scale the rest by
1 / (1 - p), so that the expected value of every output equals its input. At evaluation time
it is the identity (``training=False``), which is why ``model.eval()`` matters.

``dropout1d/2d/3d`` drop whole channels instead of single elements; ``alpha_dropout`` keeps a
SELU network's activations at mean 0 and variance 1.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import default_generator


def _uniform(xp, shape):
    """Uniform [0, 1) numbers of ``shape`` from minigrad's seeded generator (NumPy), or
    CuPy's (seeded by mg.manual_seed too)."""
    if xp is np:
        return default_generator().random(shape)
    return xp.random.random(shape)


def _uniform_like(x):
    """Uniform [0, 1) numbers of x's shape, on x's device."""
    return _uniform(backend.array_module(x), x.shape)


class _MaskScaled(ArrayFunction):
    """The dropouts' shared backward: each forward saves the ``scale`` that multiplied x (the
    mask, and the factor that keeps the mean), and dy/dx is that same scale."""

    @staticmethod
    def backward(ctx, g):
        (scale,) = ctx.saved_tensors
        return g * scale, None

    @staticmethod
    def backward_arrays(ctx, g):
        (scale,) = ctx.saved_arrays
        return g * scale, None


class Dropout(_MaskScaled):
    """y = x * m / (1 - p),  m_i ~ Bernoulli(1 - p).   dy/dx = m / (1 - p) (the same mask)."""

    @staticmethod
    def forward(ctx, x, p):
        keep = _uniform_like(x) >= p
        scale = keep.astype(x.dtype) * (1.0 / (1.0 - p)) if p < 1 else keep.astype(x.dtype)
        ctx.save_for_backward(scale)
        return x * scale


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):  # noqa: A002
    """Zero elements with probability ``p`` (and rescale the others) when ``training``.

    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    return Dropout.apply(input, float(p))


# ---------------------------------------------------------------------------------------------
# Channel dropout (dropout1d/2d/3d) and alpha dropout
# ---------------------------------------------------------------------------------------------

class ChannelDropout(_MaskScaled):
    """Zero whole channels: x of shape (N, C, *spatial) times a mask of shape (N, C, 1, ...),
    m ~ Bernoulli(1 - p) / (1 - p). Neighbouring pixels of a feature map are correlated, so
    dropping single elements hardly regularizes a convolutional layer; dropping a channel
    does.   dy/dx = the same mask."""

    @staticmethod
    def forward(ctx, x, p):
        mask_shape = x.shape[:2] + (1,) * (x.ndim - 2)
        keep = _uniform(backend.array_module(x), mask_shape) >= p
        scale = keep.astype(x.dtype) * (1.0 / (1.0 - p)) if p < 1 else keep.astype(x.dtype)
        ctx.save_for_backward(scale)
        return x * scale


def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _channel_dropout(input, p, training, batched: bool):  # noqa: A002
    """Dropout of whole channels; an unbatched input (C, *spatial) is one sample."""
    if input.ndim < 2:
        raise RuntimeError(f"Feature dropout requires at least 2 dimensions in the input, got "
                           f"an input of shape {tuple(input.shape)}")
    if not training or p == 0.0:
        return input
    if not batched:
        return ChannelDropout.apply(input.unsqueeze(0), float(p)).squeeze(0)
    return ChannelDropout.apply(input, float(p))


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):  # noqa: A002
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability ``p`` (and rescale
    the others) when ``training``."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input of shape "
            f"{tuple(input.shape)}. Note that dropout1d exists to provide channel-wise dropout "
            "on inputs with 1 spatial dimension, a channel dimension, and an optional batch "
            "dimension (i.e. 2D or 3D inputs).")
    return _channel_dropout(input, p, training, batched=input.ndim == 3)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):  # noqa: A002
    """Zero whole channels of (N, C, H, W) or (C, H, W) inputs; PyTorch's warnings for other
    ranks (a 3-D input is still read as (N, C, L), as PyTorch does)."""
    _check_p(p)
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and "
            "will result in an error in a future release. To retain the behavior and silence "
            "this warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, "
            "and an optional batch dimension (i.e. 3D or 4D inputs).", UserWarning,
            stacklevel=2)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C "
            "is the channel dim. This behavior will change in a future release to interpret "
            "the input as one without a batch dimension, i.e. shape (C, H, W). To maintain "
            "the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            UserWarning, stacklevel=2)
    return _channel_dropout(input, p, training, batched=True)


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):  # noqa: A002
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs."""
    _check_p(p)
    if input.ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and "
            "will result in an error in a future release. To retain the behavior and silence "
            "this warning, please use dropout instead. Note that dropout3d exists to provide "
            "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, "
            "and an optional batch dimension (i.e. 4D or 5D inputs).", UserWarning,
            stacklevel=2)
    return _channel_dropout(input, p, training, batched=input.ndim != 4)


# SELU's negative saturation value, -scale * alpha: where alpha dropout sends dropped units
_SELU_SATURATION = 1.7580993408473766


class AlphaDropout(_MaskScaled):
    """For SELU networks: dropped units are set to SELU's saturation value -alpha' instead of
    0, then an affine map a * y + b restores mean 0 and variance 1 (Klambauer et al., 2017):

        y = x * m * a + (m - 1) * alpha' * a + alpha' * a * p,   m ~ Bernoulli(1 - p)
        a = 1 / sqrt((alpha'^2 p + 1)(1 - p))
    dy/dx = m * a."""

    @staticmethod
    def forward(ctx, x, p):
        a = 1.0 / math.sqrt((_SELU_SATURATION ** 2 * p + 1) * (1 - p))
        keep = (_uniform_like(x) >= p).astype(x.dtype)
        shift = ((keep - 1) * (_SELU_SATURATION * a) + _SELU_SATURATION * a * p).astype(x.dtype)
        scale = keep * a
        ctx.save_for_backward(scale)
        return (x * scale + shift).astype(x.dtype, copy=False)


def alpha_dropout(input, p: float = 0.5, training: bool = False,  # noqa: A002
                  inplace: bool = False):
    """Alpha dropout (keeps SELU's self-normalization) when ``training`` (False by default,
    as in PyTorch's functional form)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0
    return AlphaDropout.apply(input, float(p))
