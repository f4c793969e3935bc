"""Still more activations: SELU, CELU, the shrinkage functions (softshrink, hardshrink,
tanhshrink), threshold, PReLU (a learned leaky slope) and RReLU (a random one), and the
in-place forms ``relu_``, ``elu_``, ``leaky_relu_``, ``hardtanh_``, ``threshold_``,
``rrelu_``, ``selu_``, ``celu_``.

The ones with kinks (softshrink, hardshrink, threshold, rrelu) are ``ArrayFunction``s whose
gradient mask is PyTorch's: taken strictly inside each piece (softshrink's gradient at
x = lambd is 0). SELU and CELU are ELU rescaled, tanhshrink and PReLU compositions of
existing ops, so their second derivatives come for free.
"""

from __future__ import annotations

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from .activation import Elu, elu, leaky_relu
from .activation_extra import hardtanh
from .dropout import _uniform_like
from .elementwise import relu, tanh, where

# SELU's constants (Klambauer et al., 2017): the fixed point of mean 0, variance 1
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """scale * elu(x, alpha) with SELU's constants: self-normalizing networks."""
    return SELU_SCALE * Elu.apply(input, SELU_ALPHA)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise: ELU made continuously
    differentiable for every alpha (it is alpha * elu(x / alpha))."""
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0 (the negative side is exp(x / alpha))")
    return alpha * Elu.apply(input / alpha, 1.0)


class _Masked(ArrayFunction):
    """y = f(x), with dy/dx = 1 where ``mask`` holds and 0 elsewhere."""

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return (g * mask.to(g.dtype),) + (None,) * ctx.extra_args


class Softshrink(_Masked):
    """y = x - lambd for x > lambd, x + lambd for x < -lambd, 0 between."""

    @staticmethod
    def forward(ctx, x, lambd):
        xp = backend.array_module(x)
        outside = (x > lambd) | (x < -lambd)
        ctx.save_for_backward(outside)
        ctx.extra_args = 1
        return xp.where(outside, x - xp.sign(x) * lambd, 0).astype(x.dtype, copy=False)


class Hardshrink(_Masked):
    """y = x for |x| > lambd, 0 otherwise."""

    @staticmethod
    def forward(ctx, x, lambd):
        xp = backend.array_module(x)
        outside = (x > lambd) | (x < -lambd)
        ctx.save_for_backward(outside)
        ctx.extra_args = 1
        return xp.where(outside, x, 0).astype(x.dtype, copy=False)


class Threshold(_Masked):
    """y = x for x > threshold, value otherwise."""

    @staticmethod
    def forward(ctx, x, threshold, value):
        xp = backend.array_module(x)
        above = x > threshold
        ctx.save_for_backward(above)
        ctx.extra_args = 2
        return xp.where(above, x, value).astype(x.dtype, copy=False)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be >= 0, but found to be {lambd}")
    return Softshrink.apply(input, float(lambd))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    return Hardshrink.apply(input, float(lambd))


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """x - tanh(x)."""
    return input - tanh(input)


def threshold(input: Tensor, threshold: float, value: float,  # noqa: A002
              inplace: bool = False) -> Tensor:
    return Threshold.apply(input, float(threshold), float(value))


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """x for x > 0, a * x otherwise, with learned slopes ``weight``: one for all channels
    (1 element) or one per channel (dim 1 of the input; dim 0 of a 1-D input)."""
    if not isinstance(weight, Tensor) or weight.ndim > 1:
        shape = tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"prelu: weight must be a 1-D tensor (one slope, or one per "
                         f"channel), got {shape}")
    slopes = weight.numel() if weight.ndim else 1
    if slopes == 1:
        weight = weight.reshape(())              # broadcasts to any input, 0-d included
    else:
        channel_dim = 0 if input.ndim == 1 else 1
        channels = input.shape[channel_dim] if input.ndim >= 1 else 1
        if channels != slopes:
            raise RuntimeError(f"prelu: weight has {slopes} slopes but the input "
                               f"{tuple(input.shape)} has {channels} channels (dim "
                               f"{channel_dim}); use 1 slope or one per channel")
        weight = weight.reshape((slopes,) + (1,) * (input.ndim - channel_dim - 1))
    return where(input > 0, input, weight * input)


class RandomLeakyRelu(ArrayFunction):
    """y = x for x >= 0, a * x otherwise, with a ~ U(lower, upper) drawn per element.
    dy/dx = 1 or a (the same draws)."""

    @staticmethod
    def forward(ctx, x, lower, upper):
        slopes = (lower + (upper - lower) * _uniform_like(x)).astype(x.dtype, copy=False)
        factor = backend.array_module(x).where(x >= 0, 1, slopes).astype(x.dtype, copy=False)
        ctx.save_for_backward(factor)
        return x * factor

    @staticmethod
    def backward(ctx, g):
        (factor,) = ctx.saved_tensors
        return g * factor, None, None


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,  # noqa: A002
          training: bool = False, inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: in training, each negative element gets its own slope drawn
    uniformly from [lower, upper] (from minigrad's seeded generator); in evaluation, the
    mean slope (lower + upper) / 2."""
    if not 0 <= lower <= upper:
        raise ValueError(f"rrelu: expected 0 <= lower <= upper, got lower={lower}, "
                         f"upper={upper}")
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    return RandomLeakyRelu.apply(input, float(lower), float(upper))


# -- in-place forms: the result written into the input (Tensor._inplace), returned -------------

def relu_(input: Tensor) -> Tensor:  # noqa: A002
    return input._inplace("relu_()", lambda: relu(input))


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    return input._inplace("elu_()", lambda: elu(input, alpha))


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    return input._inplace("leaky_relu_()", lambda: leaky_relu(input, negative_slope))


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    return input._inplace("hardtanh_()", lambda: hardtanh(input, min_val, max_val))


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:  # noqa: A002
    return input._inplace("threshold_()", lambda: Threshold.apply(input, float(threshold),
                                                                  float(value)))


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,  # noqa: A002
           training: bool = False) -> Tensor:
    return input._inplace("rrelu_()", lambda: rrelu(input, lower, upper, training))


def selu_(input: Tensor) -> Tensor:  # noqa: A002
    return input._inplace("selu_()", lambda: selu(input))


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    return input._inplace("celu_()", lambda: celu(input, alpha))
