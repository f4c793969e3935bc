"""More elementwise ops: logarithms and exponentials in other bases, tan, atan2, erfc,
remainders, one-sided clamps, nan_to_num, and the fused ``addcmul``/``addcdiv``.

Like ``elementwise.py``: each op is an ``ArrayFunction`` whose forward works on arrays and whose
backward is written with minigrad ops (so it can be differentiated again), and binary ops
broadcast in forward and ``sum_to`` in backward. Integer and bool inputs of float functions
become the default float, as in PyTorch.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from .elementwise import (
    _as_operands,
    _float_input,
    _scalar,
    _shape,
    add,
    clamp,
    div,
    exp,
    ieee_specials,
    mul,
    where,
)
from .movement import sum_to

# ---------------------------------------------------------------------------------------------
# Functions of one variable
# ---------------------------------------------------------------------------------------------


class Log2(ArrayFunction):
    """y = log2(x) = ln(x) / ln 2.   dy/dx = 1 / (x ln 2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ieee_specials():           # log2(0) = -inf, log2(-1) = nan
            return backend.array_module(x).log2(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x * math.log(2.0))


class Log10(ArrayFunction):
    """y = log10(x) = ln(x) / ln 10.   dy/dx = 1 / (x ln 10)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ieee_specials():           # log10(0) = -inf, log10(-1) = nan
            return backend.array_module(x).log10(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x * math.log(10.0))


class Log1p(ArrayFunction):
    """y = ln(1 + x).   dy/dx = 1 / (1 + x).

    ``log(1 + x)`` computed as written loses x when it is tiny: in float32, 1 + 1e-8 == 1 and
    the log is 0. The array module's ``log1p`` keeps full relative accuracy near 0.
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ieee_specials():           # log1p(-1) = -inf, log1p(-2) = nan, as in PyTorch
            return backend.array_module(x).log1p(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x + 1)


class Expm1(ArrayFunction):
    """y = exp(x) - 1 (accurate near 0, like log1p).   dy/dx = exp(x) = y + 1."""

    @staticmethod
    def forward(ctx, x):
        y = backend.array_module(x).expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (y + 1)


class Tan(ArrayFunction):
    """y = tan(x).   dy/dx = 1 / cos^2(x) = 1 + y^2."""

    @staticmethod
    def forward(ctx, x):
        y = backend.array_module(x).tan(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 + y * y)


class Erfc(ArrayFunction):
    """y = erfc(x) = 1 - erf(x).   dy/dx = -2/sqrt(pi) exp(-x^2).

    Computed directly, not as 1 - erf(x): for x = 5, erf(x) = 0.9999999999984626 and the
    subtraction keeps only four digits of erfc(5) = 1.5375e-12.
    """

    @staticmethod
    def forward(ctx, x):
        from .special import erfc_array
        ctx.save_for_backward(x)
        return erfc_array(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (-2.0 / math.sqrt(math.pi)) * exp(-x * x)


class NanToNum(ArrayFunction):
    """y = x with NaN, +inf and -inf replaced by finite numbers.

    dy/dx = 1 where x is finite, 0 where it was replaced (a constant does not move with x).
    """

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        xp = backend.array_module(x)
        ctx.save_for_backward(xp.isfinite(x))
        return xp.nan_to_num(x, copy=True, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, g):
        (finite,) = ctx.saved_tensors
        return where(finite, g, 0.0), None, None, None


# ---------------------------------------------------------------------------------------------
# Functions of two variables (broadcasting)
# ---------------------------------------------------------------------------------------------

class Atan2(ArrayFunction):
    """z = atan2(a, b), the angle of the point (b, a).

    dz/da = b / (a^2 + b^2),   dz/db = -a / (a^2 + b^2).
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        return backend.array_module(a, b).arctan2(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        scale = g / (a * a + b * b)
        return (sum_to(scale * b, ctx.a_shape) if na else None,
                sum_to(-scale * a, ctx.b_shape) if nb else None)


class Remainder(ArrayFunction):
    """z = a - b * floor(a / b): Python's ``%``, with the sign of the divisor.

    dz/da = 1,   dz/db = -floor(a / b)   (floor is a step: its own derivative is 0).
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return backend.array_module(a, b).remainder(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _remainder_grads(ctx, g, floor_divide(a, b))


class Fmod(ArrayFunction):
    """z = a - b * trunc(a / b): C's ``fmod``, with the sign of the dividend.

    dz/da = 1,   dz/db = -trunc(a / b).
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return backend.array_module(a, b).fmod(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        quotient = div(a, b)
        xp = backend.array_module(quotient.array)
        return _remainder_grads(ctx, g, Tensor._make(xp.trunc(quotient.array)))


def _remainder_grads(ctx, g, quotient):
    """(dz/da, dz/db) of z = a - b * quotient, with the quotient held constant."""
    na, nb = ctx.needs_input_grad
    return (sum_to(g, ctx.a_shape) if na else None,
            sum_to(-g * quotient.detach(), ctx.b_shape) if nb else None)


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------

def log2(input):  # noqa: A002 - PyTorch's argument names
    return Log2.apply(_float_input(input))


def log10(input):  # noqa: A002
    return Log10.apply(_float_input(input))


def log1p(input):  # noqa: A002
    return Log1p.apply(_float_input(input))


def expm1(input):  # noqa: A002
    return Expm1.apply(_float_input(input))


def tan(input):  # noqa: A002
    return Tan.apply(_float_input(input))


def erfc(input):  # noqa: A002
    return Erfc.apply(_float_input(input))


def atan2(input, other):  # noqa: A002
    """The angle of (other, input) in (-pi, pi], elementwise with broadcasting."""
    a, b = _as_operands("atan2", input, other)
    a = _float_input(a) if isinstance(a, Tensor) else float(a)
    b = _float_input(b) if isinstance(b, Tensor) else float(b)
    return Atan2.apply(a, b)


def _check_integer_divisor(op, a, b):
    """Bools refused, integer division by zero raised: compare.check_integer_division."""
    from .compare import check_integer_division
    check_integer_division(op, a, b)


def remainder(input, other):  # noqa: A002
    """``input % other`` with the sign of ``other`` (Python's and PyTorch's rule)."""
    a, b = _as_operands("remainder", input, other)
    _check_integer_divisor("remainder", a, b)
    return Remainder.apply(a, b)


def fmod(input, other):  # noqa: A002
    """The remainder of ``input / other`` with the sign of ``input`` (C's fmod)."""
    a, b = _as_operands("fmod", input, other)
    _check_integer_divisor("fmod", a, b)
    return Fmod.apply(a, b)


class FloorDivide(ArrayFunction):
    """z = floor(a / b). A step function: its derivative is 0 almost everywhere and undefined
    at the steps, and PyTorch declares it not implemented rather than return zeros. minigrad
    does the same: the result takes part in the graph (``requires_grad`` as PyTorch says), and
    a backward through it raises."""

    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return backend.as_array(backend.array_module(a, b).floor_divide(a, b))

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("floor_divide: the derivative is not implemented (floor(a / b) is a "
                           "step function, as in PyTorch); for zero gradients through it use "
                           "a.div(b, rounding_mode='floor')")


def floor_divide(input, other):  # noqa: A002
    """floor(input / other), with PyTorch's dtype rules. No gradient: a step function."""
    a, b = _as_operands("floor_divide", input, other)
    _check_integer_divisor("floor_divide", a, b)
    return FloorDivide.apply(a, b)


def clamp_min(input, min):  # noqa: A002
    """max(input, min) elementwise; ``min`` a number or a Tensor that broadcasts."""
    if isinstance(min, Tensor):
        # x where x >= min, else min: the gradient goes to x at ties, as in PyTorch (NaN in x
        # stays NaN, because NaN < min is False)
        return where(input < min, min, input)
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    """min(input, max) elementwise; ``max`` a number or a Tensor that broadcasts."""
    if isinstance(max, Tensor):
        return where(input > max, max, input)
    return clamp(input, max=max)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):  # noqa: A002
    """NaN -> ``nan``, +inf -> ``posinf``, -inf -> ``neginf``; the infinities default to the
    largest and smallest finite numbers of the dtype. Integer tensors are copied unchanged."""
    if input.dtype.kind not in "fc":
        return input.clone()
    return NanToNum.apply(input, _scalar(nan), _scalar(posinf), _scalar(neginf))


def addcmul(input, tensor1, tensor2, *, value=1):  # noqa: A002
    """input + value * tensor1 * tensor2 (broadcasting)."""
    product = mul(tensor1, tensor2)
    return add(input, product if value == 1 else mul(product, value))


def addcdiv(input, tensor1, tensor2, *, value=1):  # noqa: A002
    """input + value * tensor1 / tensor2 (broadcasting; floats only, as in PyTorch)."""
    for name, t in (("tensor1", tensor1), ("tensor2", tensor2)):
        if isinstance(t, Tensor) and t.dtype.kind in "biu":
            raise RuntimeError(f"addcdiv: integer division is not supported ({name} is "
                               f"{t.dtype}); convert to float first, e.g. tensor1.float()")
    quotient = div(tensor1, tensor2)
    return add(input, quotient if value == 1 else mul(quotient, value))
