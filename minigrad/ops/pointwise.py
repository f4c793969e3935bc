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
from .compare import isnan
from .elementwise import (
    _as_operands,
    _float_input,
    _scalar,
    _shape,
    add,
    clamp,
    cos,
    div,
    exp,
    ieee_specials,
    mul,
    pow,
    rsqrt,
    sigmoid,
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
    """max(input, min) elementwise; ``min`` a number or a Tensor that broadcasts. It is
    ``clamp`` with one bound: NaN on either side gives NaN, and x gets the gradient at ties."""
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    """min(input, max) elementwise; ``max`` a number or a Tensor that broadcasts (as
    ``clamp_min``)."""
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


# ---------------------------------------------------------------------------------------------
# Inverse trigonometric and hyperbolic functions, exp2, frac, sinc
# ---------------------------------------------------------------------------------------------

class _UnaryUfunc(ArrayFunction):
    """y = f(x) for the array module's ufunc ``ufunc`` (named in each subclass); the input is
    saved for the backward. inf and nan come out where IEEE arithmetic says (asin(2) = nan)."""

    ufunc = ""

    @classmethod
    def forward(cls, ctx, x):
        ctx.save_for_backward(x)
        with ieee_specials():
            return getattr(backend.array_module(x), cls.ufunc)(x)


class Asin(_UnaryUfunc):
    """y = asin(x).   dy/dx = 1 / sqrt(1 - x^2)."""

    ufunc = "arcsin"

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * rsqrt(1 - x * x)


class Acos(_UnaryUfunc):
    """y = acos(x).   dy/dx = -1 / sqrt(1 - x^2)."""

    ufunc = "arccos"

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g * rsqrt(1 - x * x)


class Atan(_UnaryUfunc):
    """y = atan(x).   dy/dx = 1 / (1 + x^2)."""

    ufunc = "arctan"

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 + x * x)


class Sinh(_UnaryUfunc):
    """y = sinh(x) = (e^x - e^-x) / 2.   dy/dx = cosh(x)."""

    ufunc = "sinh"

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * cosh(x)


class Cosh(_UnaryUfunc):
    """y = cosh(x) = (e^x + e^-x) / 2.   dy/dx = sinh(x)."""

    ufunc = "cosh"

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * sinh(x)


class Asinh(_UnaryUfunc):
    """y = asinh(x) = ln(x + sqrt(x^2 + 1)).   dy/dx = 1 / sqrt(x^2 + 1)."""

    ufunc = "arcsinh"

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * rsqrt(x * x + 1)


class Acosh(_UnaryUfunc):
    """y = acosh(x) = ln(x + sqrt(x^2 - 1)), x >= 1.   dy/dx = 1 / sqrt(x^2 - 1)."""

    ufunc = "arccosh"

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * rsqrt(x * x - 1)


class Atanh(_UnaryUfunc):
    """y = atanh(x) = ln((1 + x) / (1 - x)) / 2, |x| < 1.   dy/dx = 1 / (1 - x^2)."""

    ufunc = "arctanh"

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 - x * x)


class Exp2(ArrayFunction):
    """y = 2^x.   dy/dx = 2^x ln 2 = y ln 2."""

    @staticmethod
    def forward(ctx, x):
        with ieee_specials():
            y = backend.array_module(x).exp2(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * math.log(2.0)


class Frac(ArrayFunction):
    """y = x - trunc(x), the fractional part with the sign of x.   dy/dx = 1 (trunc is a step,
    whose derivative is taken as 0, as PyTorch does)."""

    @staticmethod
    def forward(ctx, x):
        with ieee_specials():           # frac(inf) = nan
            return x - backend.array_module(x).trunc(x)

    @staticmethod
    def backward(ctx, g):
        return g


class Sinc(ArrayFunction):
    """y = sin(pi x) / (pi x), and 1 at x = 0 (the limit).

    dy/dx = (cos(pi x) - y) / x, and 0 at x = 0 (sinc is even, flat there). That 0 is
    written in, as in PyTorch, so the second derivative at exactly 0 comes out 0 rather than
    the limit -pi^2/3.
    """

    @staticmethod
    def forward(ctx, x):
        with ieee_specials():                   # sinc(inf) = nan, as in PyTorch
            # NumPy's sinc is the normalized one, like PyTorch's
            y = backend.array_module(x).sinc(x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        zero = x == 0
        safe_x = where(zero, 1.0, x)            # no 0/0 where the limit is used
        slope = (cos(math.pi * safe_x) - y) / safe_x
        return g * where(zero, 0.0, slope)


class Logit(ArrayFunction):
    """y = ln(p / (1 - p)), with p clamped to [eps, 1 - eps] first when eps is given.

    dy/dp = 1 / (p (1 - p)); with eps, 0 outside [eps, 1 - eps] (the clamp is flat there);
    without, NaN outside [0, 1] (as in PyTorch: no logit exists there).
    """

    @staticmethod
    def forward(ctx, p, eps):
        ctx.save_for_backward(p)
        ctx.eps = eps
        xp = backend.array_module(p)
        z = p if eps is None else xp.clip(p, eps, 1.0 - eps)
        with ieee_specials():
            return xp.log(z / (1 - z))

    @staticmethod
    def backward(ctx, g):
        (p,) = ctx.saved_tensors
        # + 0.0 turns p = -0.0's denominator -0.0 into +0.0: PyTorch's gradient at p = 0 is
        # +inf (for g > 0) whatever the sign of the zero
        slope = g / (p * (1 - p) + 0.0)
        if ctx.eps is None:
            return where((p < 0) | (p > 1), float("nan"), slope), None
        return where((p < ctx.eps) | (p > 1 - ctx.eps), 0.0, slope), None


# ---------------------------------------------------------------------------------------------
# More functions of two variables (broadcasting)
# ---------------------------------------------------------------------------------------------

class Hypot(ArrayFunction):
    """z = sqrt(a^2 + b^2), computed without overflow of a^2.   dz/da = a / z, dz/db = b / z."""

    @staticmethod
    def forward(ctx, a, b):
        z = backend.array_module(a, b).hypot(a, b)
        ctx.save_for_backward(a, b, z)
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        return z

    @staticmethod
    def backward(ctx, g):
        a, b, z = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        scale = g / z
        return (sum_to(scale * a, ctx.a_shape) if na else None,
                sum_to(scale * b, ctx.b_shape) if nb else None)


class LogAddExp(ArrayFunction):
    """z = ln(e^a + e^b), without overflow.

    dz/da = e^a / (e^a + e^b) = sigmoid(a - b),   dz/db = sigmoid(b - a).
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        with ieee_specials():
            return backend.array_module(a, b).logaddexp(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _softmax_pair_grads(ctx, g, a - b)


class LogAddExp2(ArrayFunction):
    """z = log2(2^a + 2^b), without overflow.

    dz/da = 2^a / (2^a + 2^b) = sigmoid((a - b) ln 2),   dz/db = sigmoid((b - a) ln 2).
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        with ieee_specials():
            return backend.array_module(a, b).logaddexp2(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _softmax_pair_grads(ctx, g, (a - b) * math.log(2.0))


def _softmax_pair_grads(ctx, g, difference):
    """(g * sigmoid(d), g * sigmoid(-d)): the two weights of a two-way softmax, d = a - b
    (scaled). 1 - sigmoid(d) = sigmoid(-d), computed as such to stay accurate."""
    na, nb = ctx.needs_input_grad
    return (sum_to(g * sigmoid(difference), ctx.a_shape) if na else None,
            sum_to(g * sigmoid(-difference), ctx.b_shape) if nb else None)


class Xlogy(ArrayFunction):
    """z = a ln(b), and 0 where a = 0 (unless b is NaN): the term of an entropy, where
    0 ln 0 counts as 0.

    dz/da = ln(b) (0 where a = 0 and b <= 0, as PyTorch has it),   dz/db = a / b.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        xp = backend.array_module(a, b)
        with ieee_specials():
            # a Python number's log stays a Python number, so that it cannot widen a's dtype
            # (NumPy's float64 scalar would: xlogy(float32 tensor, 3.3) is float32)
            log_b = float(np.log(b)) if isinstance(b, float) else xp.log(b)
            product = a * log_b
        return xp.where((a == 0) & ~xp.isnan(b), 0, product).astype(product.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        grad_a = grad_b = None
        if na:
            grad_a = sum_to(where((a == 0) & (b <= 0), 0.0, xlogy(g, b)), ctx.a_shape)
        if nb:
            grad_b = sum_to(g * a / b, ctx.b_shape)
        return grad_a, grad_b


class Copysign(ArrayFunction):
    """z = |a| with the sign of b (the sign bit: -0.0 counts as negative).

    dz/da = z / a = +-1 (0 at a = 0, as PyTorch has it),   dz/db = 0.
    """

    @staticmethod
    def forward(ctx, a, b):
        z = backend.array_module(a, b).copysign(a, b)
        ctx.save_for_backward(a, z)
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        return z

    @staticmethod
    def backward(ctx, g):
        a, z = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        flips = where(a == 0, 0.0, z / where(a == 0, 1.0, a))
        return (sum_to(g * flips, ctx.a_shape) if na else None,
                sum_to(g * 0.0, ctx.b_shape) if nb else None)


class Fmax(ArrayFunction):
    """z = max(a, b), ignoring NaN: the other value where one is NaN (NaN if both are).

    dz/da = 1 where z came from a (a >= b, or b is NaN), else 0;  dz/db = 1 - dz/da.
    Ties go to a, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        return backend.array_module(a, b).fmax(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _pick_grads(ctx, g, (a >= b) | isnan(b))


class Fmin(ArrayFunction):
    """z = min(a, b), ignoring NaN: the other value where one is NaN (NaN if both are).

    dz/da = 1 where z came from a (a <= b, or b is NaN), else 0;  dz/db = 1 - dz/da.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        return backend.array_module(a, b).fmin(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _pick_grads(ctx, g, (a <= b) | isnan(b))


def _pick_grads(ctx, g, from_a):
    """g to a where the output was a's value, to b elsewhere."""
    na, nb = ctx.needs_input_grad
    return (sum_to(where(from_a, g, 0.0), ctx.a_shape) if na else None,
            sum_to(where(from_a, 0.0, g), ctx.b_shape) if nb else None)


# ---------------------------------------------------------------------------------------------
# Public functions (continued)
# ---------------------------------------------------------------------------------------------

def asin(input):  # noqa: A002
    return Asin.apply(_float_input(input, "asin"))


def acos(input):  # noqa: A002
    return Acos.apply(_float_input(input, "acos"))


def atan(input):  # noqa: A002
    return Atan.apply(_float_input(input, "atan"))


def sinh(input):  # noqa: A002
    return Sinh.apply(_float_input(input, "sinh"))


def cosh(input):  # noqa: A002
    return Cosh.apply(_float_input(input, "cosh"))


def asinh(input):  # noqa: A002
    return Asinh.apply(_float_input(input, "asinh"))


def acosh(input):  # noqa: A002
    return Acosh.apply(_float_input(input, "acosh"))


def atanh(input):  # noqa: A002
    return Atanh.apply(_float_input(input, "atanh"))


# NumPy's names, which PyTorch accepts too
arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh


def exp2(input):  # noqa: A002
    return Exp2.apply(_float_input(input, "exp2"))


def frac(input):  # noqa: A002
    """x - trunc(x). Floats only, as in PyTorch (an integer's fractional part is always 0)."""
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        kind = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise TypeError(f"frac: expected a floating-point Tensor, got {kind}")
    return Frac.apply(input)


def sinc(input):  # noqa: A002
    """The normalized sinc, sin(pi x) / (pi x), with sinc(0) = 1."""
    return Sinc.apply(_float_input(input, "sinc"))


def deg2rad(input):  # noqa: A002
    """Degrees to radians: x * pi / 180."""
    return mul(_float_input(input, "deg2rad"), math.pi / 180.0)


def rad2deg(input):  # noqa: A002
    """Radians to degrees: x * 180 / pi."""
    return mul(_float_input(input, "rad2deg"), 180.0 / math.pi)


def logit(input, eps=None):  # noqa: A002
    """ln(p / (1 - p)), the inverse of the sigmoid. With ``eps``, p is first clamped to
    [eps, 1 - eps] (so the result is finite, and the gradient is 0 outside that range)."""
    return Logit.apply(_float_input(input, "logit"), None if eps is None else float(eps))


def _float_operands(op, input, other, integers_allowed=True):
    """Broadcastable float operands of a float function of two variables (ints and bools
    become the default float, as in PyTorch); Python numbers stay numbers. Where PyTorch has
    no integer version of the op (``integers_allowed=False``), integer tensors are refused."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{op}: expected at least one Tensor, got {type(input).__name__} and "
                        f"{type(other).__name__}")
    a, b = _as_operands(op, input, other)
    if not integers_allowed:
        for t in (a, b):
            if isinstance(t, Tensor) and t.dtype.kind in "biu":
                raise TypeError(f"{op}: expected floating-point tensors, got {t.dtype} (as in "
                                f"PyTorch, {op} has no integer version); convert with .float()")
    a = _float_input(a) if isinstance(a, Tensor) else float(a)
    b = _float_input(b) if isinstance(b, Tensor) else float(b)
    return a, b


def hypot(input, other):  # noqa: A002
    """sqrt(input^2 + other^2), elementwise with broadcasting."""
    return Hypot.apply(*_float_operands("hypot", input, other,
                                         integers_allowed=False))


def logaddexp(input, other):  # noqa: A002
    """ln(e^input + e^other), elementwise with broadcasting, without overflow."""
    return LogAddExp.apply(*_float_operands("logaddexp", input, other,
                                             integers_allowed=False))


def logaddexp2(input, other):  # noqa: A002
    """log2(2^input + 2^other), elementwise with broadcasting, without overflow."""
    return LogAddExp2.apply(*_float_operands("logaddexp2", input, other,
                                              integers_allowed=False))


def xlogy(input, other):  # noqa: A002
    """input * ln(other), 0 where input is 0 (and other is not NaN)."""
    return Xlogy.apply(*_float_operands("xlogy", input, other))


def copysign(input, other):  # noqa: A002
    """|input| with the sign of other."""
    return Copysign.apply(*_float_operands("copysign", input, other))


def fmax(input, other):  # noqa: A002
    """Elementwise maximum that ignores NaN (``maximum`` propagates it)."""
    a, b = _as_operands("fmax", input, other)
    return Fmax.apply(a, b)


def fmin(input, other):  # noqa: A002
    """Elementwise minimum that ignores NaN (``minimum`` propagates it)."""
    a, b = _as_operands("fmin", input, other)
    return Fmin.apply(a, b)


def float_power(input, exponent):  # noqa: A002
    """input ** exponent computed in float64, whatever the inputs' dtypes (PyTorch's rule)."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(f"float_power: expected at least one Tensor, got "
                        f"{type(input).__name__} and {type(exponent).__name__}")
    base = input.to(np.float64) if isinstance(input, Tensor) else float(input)
    power = exponent.to(np.float64) if isinstance(exponent, Tensor) else float(exponent)
    if not isinstance(base, Tensor):
        base = Tensor._make(np.asarray(base, dtype=np.float64))
    return pow(base, power)
