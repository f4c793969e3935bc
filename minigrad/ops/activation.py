"""Activation functions: softmax and log_softmax, GELU, SiLU, leaky ReLU, ELU, softplus.

(``relu``, ``sigmoid`` and ``tanh`` are plain elementwise ops in ``ops/elementwise.py``.)

Each is an ``ArrayFunction`` whose forward works on arrays and whose backward is written with
minigrad ops, so every gradient here can be differentiated again.

Softmax and log_softmax are the hot ones (every classifier and every attention layer runs
them): both passes go through ``minigrad.kernels`` (see ``kernel_calls.py``), which has a
NumPy reference, a fused Numba kernel and a CUDA kernel. Their backward is an op
too (``SoftmaxBackward``, ``LogSoftmaxBackward``): its forward is the fused backward kernel,
and its own backward, written with Tensor ops, gives the second derivatives. When the
backward is not recorded, ``backward_arrays`` calls the backward kernel directly, with no
node (GELU's the same way).
"""

from __future__ import annotations

import math
import warnings

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from . import kernel_calls
from .arguments import normalize_dim
from .elementwise import exp, sigmoid, tanh, where

# ---------------------------------------------------------------------------------------------
# softmax and log_softmax
# ---------------------------------------------------------------------------------------------


class Softmax(ArrayFunction):
    """y_i = exp(x_i) / sum_j exp(x_j)   along ``axis``.

    Forward subtracts max(x) first: exp(x - m) / sum exp(x - m) is the same number, and no
    exp can overflow.

    Backward. dy_i/dx_j = y_i (delta_ij - y_j), so for an incoming gradient g:

        dx_j = sum_i g_i y_i (delta_ij - y_j) = y_j (g_j - sum_i g_i y_i)

    one elementwise product and one sum over the axis: the Jacobian is never built. That
    formula is ``SoftmaxBackward``, a Function of its own (fused kernel forward, and a
    backward for second derivatives).
    """

    @staticmethod
    def forward(ctx, x, axis):
        y = kernel_calls.softmax(x, axis)
        ctx.axis = axis
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return SoftmaxBackward.apply(g, y, ctx.axis), None

    @staticmethod
    def backward_arrays(ctx, g):
        (y,) = ctx.saved_arrays
        return kernel_calls.softmax_backward(y, g.astype(y.dtype, copy=False), ctx.axis), None


class SoftmaxBackward(ArrayFunction):
    """gx = y * (g - s),  s = sum_i g_i y_i along ``axis``: softmax's gradient from its output.

    Forward: the fused kernel (one pass over y and g, no temporaries).

    Backward, for an incoming gradient h of gx. Written out, gx_j = y_j g_j - y_j s, so

        dg_i = sum_j h_j d gx_j / d g_i = y_i (h_i - sum_j h_j y_j)    (SoftmaxBackward(h, y))
        dy_i = sum_j h_j d gx_j / d y_i = h_i (g_i - s) - g_i sum_j h_j y_j

    y is softmax's saved output, so dy flows on into softmax's node, which turns it into a
    gradient for x. Both lines are Tensor ops and this Function again: differentiable to any
    order.
    """

    @staticmethod
    def forward(ctx, g, y, axis):
        ctx.axis = axis
        ctx.save_for_backward(g, y)
        return kernel_calls.softmax_backward(y, g.astype(y.dtype, copy=False), axis)

    @staticmethod
    def backward(ctx, h):
        g, y = ctx.saved_tensors
        need_g, need_y = ctx.needs_input_grad[:2]
        axis = ctx.axis
        dg = SoftmaxBackward.apply(h, y, axis) if need_g else None
        dy = None
        if need_y:
            s = (g * y).sum(axis, keepdim=True)
            dy = h * (g - s) - g * (h * y).sum(axis, keepdim=True)
        return dg, dy, None


class LogSoftmax(ArrayFunction):
    """y_i = x_i - log sum_j exp(x_j)   along ``axis`` (computed as x - m - log sum exp(x - m)).

    Backward. dy_i/dx_j = delta_ij - softmax(x)_j = delta_ij - exp(y_j), so

        dx_j = g_j - exp(y_j) sum_i g_i

    (``LogSoftmaxBackward``). Never compute log(softmax(x)): softmax underflows to 0 for very
    negative logits and the log gives -inf; log_softmax stays finite.
    """

    @staticmethod
    def forward(ctx, x, axis):
        y = kernel_calls.log_softmax(x, axis)
        ctx.axis = axis
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return LogSoftmaxBackward.apply(g, y, ctx.axis), None

    @staticmethod
    def backward_arrays(ctx, g):
        (y,) = ctx.saved_arrays
        return (kernel_calls.log_softmax_backward(y, g.astype(y.dtype, copy=False), ctx.axis),
                None)


class LogSoftmaxBackward(ArrayFunction):
    """gx = g - exp(y) * sum_i g_i along ``axis``: log_softmax's gradient from its output.

    Forward: the fused kernel.

    Backward, for an incoming gradient h of gx (gx_j = g_j - exp(y_j) sum_i g_i):

        dg_i = h_i - sum_j h_j exp(y_j)
        dy_j = -h_j exp(y_j) sum_i g_i

    dy flows on into log_softmax's node (y is its saved output).
    """

    @staticmethod
    def forward(ctx, g, y, axis):
        ctx.axis = axis
        ctx.save_for_backward(g, y)
        return kernel_calls.log_softmax_backward(y, g.astype(y.dtype, copy=False), axis)

    @staticmethod
    def backward(ctx, h):
        g, y = ctx.saved_tensors
        need_g, need_y = ctx.needs_input_grad[:2]
        axis = ctx.axis
        p = exp(y)                                    # softmax(x)
        dg = h - (h * p).sum(axis, keepdim=True) if need_g else None
        dy = -h * p * g.sum(axis, keepdim=True) if need_y else None
        return dg, dy, None


def _softmax_dim(name: str, ndim: int, dim):
    """PyTorch's legacy rule when ``dim`` is not given (deprecated there too): warn, then pick
    dim 0 for 0-, 1- and 3-D inputs and dim 1 otherwise."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=4)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_input(name: str, input: Tensor, dim, dtype):  # noqa: A002
    if dtype is not None:
        input = input.to(dtype)
    elif input.dtype.kind not in "fc":
        raise RuntimeError(f"{name}: expected a floating point input, got {input.dtype}; "
                           "convert it with .float()")
    if input.ndim == 0:
        if dim is not None:
            normalize_dim(name, dim, 0)         # 0 and -1 are the only dims of a 0-d tensor
        return input, None
    return input, normalize_dim(name, _softmax_dim(name, input.ndim, dim), input.ndim)


def softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:  # noqa: A002
    """Probabilities along ``dim``: non-negative, summing to 1."""
    input, axis = _softmax_input("softmax", input, dim, dtype)
    if axis is None:  # a 0-d tensor: one row of one element (the value 1, the gradient 0)
        return Softmax.apply(input.reshape(1), 0).reshape(())
    return Softmax.apply(input, axis)


def log_softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:  # noqa: A002
    """log(softmax(input)) computed stably (the input of ``nll_loss``)."""
    input, axis = _softmax_input("log_softmax", input, dim, dtype)
    if axis is None:  # a 0-d tensor: as softmax above (the value 0, the gradient 0)
        return LogSoftmax.apply(input.reshape(1), 0).reshape(())
    return LogSoftmax.apply(input, axis)


# ---------------------------------------------------------------------------------------------
# Smooth ReLUs: GELU, SiLU, softplus
# ---------------------------------------------------------------------------------------------

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_C = 0.044715


class Gelu(ArrayFunction):
    """GELU: y = x * Phi(x), Phi the standard normal CDF = (1 + erf(x / sqrt 2)) / 2;
    with ``approximate="tanh"``, y = x/2 * (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3).

    Both passes are fused kernels (``minigrad.kernels``: gelu_numpy.py has the formulas, and
    gelu_numba.py the one-pass CPU loops); the backward, gx = g * GELU'(x), is
    ``GeluBackward``, a Function of its own so that it can be differentiated again.
    """

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.approximate = approximate
        ctx.save_for_backward(x)
        return kernel_calls.gelu(x, approximate)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return GeluBackward.apply(g, x, ctx.approximate), None

    @staticmethod
    def backward_arrays(ctx, g):
        (x,) = ctx.saved_arrays
        return kernel_calls.gelu_backward(g.astype(x.dtype, copy=False), x, ctx.approximate), None


class GeluBackward(ArrayFunction):
    """gx = g * s(x),  s = GELU' (the slope):

        exact:  s = Phi(x) + x phi(x),   phi(x) = exp(-x^2 / 2) / sqrt(2 pi) (normal density)
        tanh:   s = (1 + t)/2 + x/2 (1 - t^2) u',   t = tanh(u),  u' = sqrt(2/pi) (1 + 3c x^2)

    Forward: the fused kernel. Backward, for an incoming gradient h of gx:

        dg = h * s(x)          (this Function again)
        dx = h * g * s'(x),    exact: s' = phi(x) (2 - x^2)
                               tanh:  s' = (1 - t^2) (u' - x t u'^2 + x u''/2),
                                      u'' = 6c sqrt(2/pi) x

    dx is written with Tensor ops, so it is differentiable too.
    """

    @staticmethod
    def forward(ctx, g, x, approximate):
        ctx.approximate = approximate
        ctx.save_for_backward(g, x)
        return kernel_calls.gelu_backward(g.astype(x.dtype, copy=False), x, approximate)

    @staticmethod
    def backward(ctx, h):
        g, x = ctx.saved_tensors
        need_g, need_x = ctx.needs_input_grad[:2]
        dg = GeluBackward.apply(h, x, ctx.approximate) if need_g else None
        dx = h * g * _gelu_second_derivative(x, ctx.approximate) if need_x else None
        return dg, dx, None


def _gelu_second_derivative(x: Tensor, approximate: str) -> Tensor:
    if approximate == "tanh":
        u1 = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_C * x * x)
        u2 = (6.0 * _GELU_C * _SQRT_2_OVER_PI) * x
        t = tanh(_SQRT_2_OVER_PI * (x + _GELU_C * x * x * x))
        return (1.0 - t * t) * (u1 - x * t * u1 * u1 + 0.5 * x * u2)
    pdf = _INV_SQRT_2PI * exp(-0.5 * x * x)
    return pdf * (2.0 - x * x)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """Gaussian Error Linear Unit (the activation of BERT and GPT)."""
    if approximate in ("none", "tanh"):
        return Gelu.apply(input, approximate)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


class Silu(ArrayFunction):
    """SiLU (swish): y = x * sigmoid(x).   dy/dx = s (1 + x (1 - s)),  s = sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        xp = backend.array_module(x)
        ctx.save_for_backward(x)
        s = xp.exp(-xp.logaddexp(0, -x))  # sigmoid without overflow for large |x|
        return (x * s).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = sigmoid(x)
        return g * s * (1.0 + x * (1.0 - s))


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    return Silu.apply(input)


class Softplus(ArrayFunction):
    """y = log(1 + exp(beta x)) / beta, and y = x where beta x > threshold (a linear tail
    that avoids overflow; at threshold = 20 the two differ by 2e-9).

    dy/dx = sigmoid(beta x) (1 on the linear tail).
    """

    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = backend.array_module(x)
        bx = beta * x
        ctx.beta = beta
        ctx.save_for_backward(x)
        ctx.tail = bx > threshold
        y = xp.where(ctx.tail, x, xp.logaddexp(0, bx) / beta)  # logaddexp: no overflow
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        slope = sigmoid(ctx.beta * x)
        if ctx.tail.any():
            slope = where(Tensor._make(ctx.tail), 1.0, slope)
        return g * slope, None, None


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    return Softplus.apply(input, float(beta), float(threshold))


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """log(sigmoid(x)) = -softplus(-x), stable for any x (used by BCE with logits)."""
    return -Softplus.apply(-input, 1.0, math.inf)


# ---------------------------------------------------------------------------------------------
# Piecewise activations: leaky ReLU, ELU
# ---------------------------------------------------------------------------------------------

class LeakyRelu(ArrayFunction):
    """y = x for x > 0, slope * x otherwise.   dy/dx = 1 or slope."""

    @staticmethod
    def forward(ctx, x, slope):
        xp = backend.array_module(x)
        positive = x > 0
        ctx.save_for_backward(positive)
        ctx.slope = slope
        return xp.where(positive, x, x * slope).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (positive,) = ctx.saved_tensors
        return where(positive, g, g * ctx.slope), None


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    return LeakyRelu.apply(input, float(negative_slope))


class Elu(ArrayFunction):
    """y = x for x > 0, alpha (exp(x) - 1) otherwise.   dy/dx = 1 or alpha exp(x)."""

    @staticmethod
    def forward(ctx, x, alpha):
        xp = backend.array_module(x)
        ctx.alpha = alpha
        ctx.save_for_backward(x)
        # expm1 of min(x, 0): exact near 0, and never overflows on the unused positive side
        return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        negative_part = ctx.alpha * exp(where(x > 0, 0.0, x))
        return where(x > 0, g, g * negative_part), None


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    return Elu.apply(input, float(alpha))
