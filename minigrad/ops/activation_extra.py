"""More activations: the "hard" piecewise-linear ones of mobile networks (hardtanh, relu6,
hardsigmoid, hardswish), mish, GLU, softmin and softsign.

The piecewise-linear ones are ``ArrayFunction``s because their kinks must follow PyTorch exactly:
the gradient is taken *strictly* inside each linear piece (hardtanh's gradient at x = max_val
is 0, not 1), which a composition of ``clamp`` (whose gradient includes the ends) would not
give. The rest are compositions of existing ops, whose gradients (and second derivatives)
come for free.
"""

from __future__ import annotations

import warnings

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from .activation import softmax, softplus
from .arguments import normalize_dim
from .elementwise import sigmoid, tanh, where
from .join import chunk

# ---------------------------------------------------------------------------------------------
# Piecewise linear: hardtanh, relu6, hardsigmoid, hardswish
# ---------------------------------------------------------------------------------------------


class Hardtanh(ArrayFunction):
    """y = min(max(x, lo), hi).   dy/dx = 1 for lo < x < hi, else 0 (0 at both ends)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = backend.array_module(x)
        ctx.save_for_backward((x > lo) & (x < hi))
        return xp.clip(x, lo, hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (inside,) = ctx.saved_tensors
        return g * inside.to(g.dtype), None, None


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,  # noqa: A002
             inplace: bool = False) -> Tensor:
    """x clipped to [min_val, max_val]. (``inplace`` is accepted; the result is a new tensor.)"""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    return Hardtanh.apply(input, min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(x, 0), 6): hardtanh between 0 and 6 (MobileNetV2)."""
    return Hardtanh.apply(input, 0.0, 6.0)


class Hardsigmoid(ArrayFunction):
    """y = relu6(x + 3) / 6: 0 below -3, 1 above 3, x/6 + 1/2 between.
    dy/dx = 1/6 for -3 < x < 3, else 0."""

    @staticmethod
    def forward(ctx, x):
        xp = backend.array_module(x)
        ctx.save_for_backward((x > -3) & (x < 3))
        return (xp.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (inside,) = ctx.saved_tensors
        return g * inside.to(g.dtype) / 6


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """A piecewise-linear sigmoid: relu6(x + 3) / 6 (MobileNetV3's gates)."""
    return Hardsigmoid.apply(input)


class Hardswish(ArrayFunction):
    """y = x * relu6(x + 3) / 6: 0 below -3, x above 3, x (x + 3) / 6 between.

    dy/dx = 0 for x <= -3, x/3 + 1/2 for -3 < x < 3, 1 for x >= 3 (PyTorch's choice at the
    kinks). The slope is written with Tensor ops on x, so the second derivative is 1/3 strictly
    between -3 and 3 and 0 elsewhere.
    """

    @staticmethod
    def forward(ctx, x):
        xp = backend.array_module(x)
        ctx.save_for_backward(x)
        return (x * xp.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        outside = (x >= 3).to(g.dtype)          # slope 1 above, 0 below (constants)
        return g * where((x > -3) & (x < 3), x / 3 + 0.5, outside)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * hardsigmoid(x) (MobileNetV3)."""
    return Hardswish.apply(input)


# ---------------------------------------------------------------------------------------------
# Compositions: mish, glu, softmin, softsign
# ---------------------------------------------------------------------------------------------


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * tanh(softplus(x)) (Misra, 2019): smooth, non-monotonic, like SiLU."""
    return input * tanh(softplus(input))


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """Gated linear unit: split ``dim`` in halves a, b and return a * sigmoid(b)."""
    if input.ndim == 0:
        raise RuntimeError("glu: does not support 0-d tensors (the halved dimension must be "
                           "even)")
    d = normalize_dim("glu", dim, input.ndim)
    if input.shape[d] % 2:
        raise RuntimeError(f"glu: halving dimension must be even, but dimension {d} of the "
                           f"input of shape {tuple(input.shape)} is size {input.shape[d]}")
    a, b = chunk(input, 2, dim=d)
    return a * sigmoid(b)


def softmin(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:  # noqa: A002
    """softmax(-x) along ``dim``: weights that favour the *smallest* entries."""
    if dim is None:
        warnings.warn("Implicit dimension choice for softmin has been deprecated. Change the "
                      "call to include dim=X as an argument.", stacklevel=_stacklevel)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return softmax(-input, dim, dtype=dtype)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """x / (1 + |x|): a tanh-like squashing with polynomial tails."""
    return input / (input.abs() + 1)


__all__ = ["hardtanh", "relu6", "hardsigmoid", "hardswish", "mish", "glu", "softmin",
           "softsign"]
