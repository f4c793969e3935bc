"""Elementwise ops: arithmetic with broadcasting, and the usual functions of one variable.

Broadcasting in forward means *summing* in backward: if ``b`` of shape (3,) was added to every
row of ``a`` of shape (2, 3), each element of ``b`` influenced two outputs, so its gradient is
the sum of those two gradients. ``sum_to(grad, shape)`` does that reduction.

Every backward here is written with minigrad ops, so it can be differentiated again. The
frequent cheap ones also have ``backward_arrays``, the same formulas on arrays, which the
engine runs when the backward is not recorded (see ``ArrayFunction``); their broadcast
reductions are ``_sum_to_array``, the array code behind ``sum_to``.
"""

from __future__ import annotations

import builtins

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from . import kernel_calls
from .movement import _sum_to_array, sum_to

# ---------------------------------------------------------------------------------------------
# Preparing operands: Python scalars, dtype promotion, broadcast checks
# ---------------------------------------------------------------------------------------------


def _as_operands(op: str, a, b):
    """Make (a, b) ready for a binary op: PyTorch dtype promotion, clear shape errors."""
    a_t, b_t = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_t != b_t and isinstance(b if a_t else a, np.ndarray) and (b if a_t else a).ndim:
        # np.ones(3) + t: NumPy defers to Tensor (__array_priority__); the array joins as a
        # tensor of its own dtype, as PyTorch takes it
        a, b = (a, Tensor._make(b)) if a_t else (Tensor._make(a), b)
        a_t = b_t = True
    if a_t and b_t:
        if a.dtype != b.dtype:
            dt = backend.result_type(a.dtype, a.array.ndim, b.dtype, b.array.ndim)
            a, b = a.to(dt), b.to(dt)
        if a.array.shape != b.array.shape:
            try:
                np.broadcast_shapes(a.array.shape, b.array.shape)
            except ValueError:
                raise RuntimeError(
                    f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} can't be broadcast "
                    "together: aligned from the right, each pair of sizes must be equal or 1."
                ) from None
        return a, b
    if a_t:
        return _with_scalar(op, a, b), _scalar(b)
    if b_t:
        return _scalar(a), _with_scalar(op, b, a)
    if op in _NUMBER_PAIR_OPS and type(a) in _NUMBER_DTYPE and type(b) in _NUMBER_DTYPE:
        # torch.add(2.0, 3.0) is tensor(5.): the first number becomes a 0-d tensor
        return _as_operands(op, Tensor._make(np.asarray(a, dtype=_NUMBER_DTYPE[type(a)])), b)
    raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and "
                    f"{type(b).__name__}")


# The ops that PyTorch also runs on two Python numbers (torch.maximum(2, 3) and the others
# raise), and the dtype a number becomes: the default float, int64 or bool.
_NUMBER_PAIR_OPS = frozenset({"add", "sub", "mul", "div", "floor_divide", "trunc_divide"})
_NUMBER_DTYPE = {float: backend.DEFAULT_FLOAT, int: backend.DEFAULT_INT, bool: np.dtype(bool)}


def _with_scalar(op, t: Tensor, scalar):
    kind, scalar_type = t.array.dtype.kind, type(scalar)
    if (scalar_type is float and kind in "fc") or (scalar_type is int and kind in "iufc"):
        return t      # the usual case: a Python number that cannot change the tensor's dtype
    if isinstance(scalar, np.ndarray) and scalar.ndim > 0:
        raise TypeError(f"{op}: mixing a Tensor with a NumPy array of shape {scalar.shape}; "
                        "wrap it with mg.tensor(...) first")
    if not isinstance(scalar, (int, float, bool, np.number, np.bool_, np.ndarray)):
        raise TypeError(f"{op}: unsupported operand of type {type(scalar).__name__}")
    dt = backend.scalar_dtype(t.dtype, scalar.item() if isinstance(scalar, np.generic) else
                              scalar)
    return t if dt == t.dtype else t.to(dt)


def _shape(x):
    """Shape of an array, () for a Python scalar (faster than np.shape on arrays)."""
    if type(x) is np.ndarray:       # the usual case (hasattr would build the shape twice)
        return x.shape
    return x.shape if hasattr(x, "shape") else ()


def _scalar(x):
    """Python scalars keep their weak type in NumPy (float32 array * 0.5 stays float32)."""
    return x.item() if isinstance(x, (np.generic, np.ndarray)) else x


# ---------------------------------------------------------------------------------------------
# Arithmetic
# ---------------------------------------------------------------------------------------------

def ieee_specials():
    """``with ieee_specials():`` lets NumPy return inf and nan where IEEE arithmetic says so
    (1 / 0 = inf, log(0) = -inf, sqrt(-1) = nan, exp(1000) = inf) without a RuntimeWarning,
    as PyTorch does. Used around the ops that make such values from ordinary inputs: entering
    np.errstate costs about a microsecond, as much as a small add, so add/sub/mul go without
    (they warn only on overflow or when their inputs already hold inf or nan)."""
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")

class Add(ArrayFunction):
    """z = a + b.   dz/da = 1, dz/db = 1 (then summed over broadcast dimensions)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        return a + b

    @staticmethod
    def backward(ctx, g):
        na, nb = ctx.needs_input_grad
        return (sum_to(g, ctx.a_shape) if na else None,
                sum_to(g, ctx.b_shape) if nb else None)

    @staticmethod
    def backward_arrays(ctx, g):
        na, nb = ctx.needs_input_grad      # no broadcasting: _sum_to_array hands g back
        return (_sum_to_array(g, ctx.a_shape) if na else None,
                _sum_to_array(g, ctx.b_shape) if nb else None)


class Sub(ArrayFunction):
    """z = a - b.   dz/da = 1, dz/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        return a - b

    @staticmethod
    def backward(ctx, g):
        na, nb = ctx.needs_input_grad
        return (sum_to(g, ctx.a_shape) if na else None,
                sum_to(-g, ctx.b_shape) if nb else None)

    @staticmethod
    def backward_arrays(ctx, g):
        na, nb = ctx.needs_input_grad
        return (_sum_to_array(g, ctx.a_shape) if na else None,
                _sum_to_array(-g, ctx.b_shape) if nb else None)


class Mul(ArrayFunction):
    """z = a * b.   dz/da = b, dz/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (sum_to(g * b, ctx.a_shape) if na else None,
                sum_to(g * a, ctx.b_shape) if nb else None)

    @staticmethod
    def backward_arrays(ctx, g):
        a, b = ctx.saved_arrays
        na, nb = ctx.needs_input_grad
        return (_sum_to_array(g * b, ctx.a_shape) if na else None,
                _sum_to_array(g * a, ctx.b_shape) if nb else None)


class Div(ArrayFunction):
    """z = a / b.   dz/da = 1/b, dz/db = -a/b^2."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        if isinstance(b, (int, float)) and builtins.abs(b) >= 1:    # can't divide by 0 or overflow
            return a / b
        with ieee_specials():
            return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (sum_to(g / b, ctx.a_shape) if na else None,
                sum_to(-g * a / (b * b), ctx.b_shape) if nb else None)

    @staticmethod
    def backward_arrays(ctx, g):
        a, b = ctx.saved_arrays
        na, nb = ctx.needs_input_grad
        with ieee_specials():                # as forward: x / 0 = inf
            return (_sum_to_array(g / b, ctx.a_shape) if na else None,
                    _sum_to_array(-g * a / (b * b), ctx.b_shape) if nb else None)


class Neg(ArrayFunction):
    """y = -x.   dy/dx = -1."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g

    @staticmethod
    def backward_arrays(ctx, g):
        return -g


class Pow(ArrayFunction):
    """z = a ** b.   dz/da = b * a^(b-1),   dz/db = a^b * log(a)   (for a > 0).

    Each derivative is computed first and then multiplied by g (``g * (z * log a)``), in
    PyTorch's order. When a float32 operand was broadcast, its gradient is a sum of terms
    that grow like a^b and come with both signs: their float32 rounding, summed, can cancel
    down to ~1e-5 relative. Then the gradients are computed in float64 and rounded once.
    """

    @staticmethod
    def forward(ctx, a, b):
        with ieee_specials():
            z = a ** b
        ctx.save_for_backward(a, b, z)
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        return z

    @staticmethod
    def backward(ctx, g):
        a, b, z = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        summed = [shape for shape, need in ((ctx.a_shape, na), (ctx.b_shape, nb))
                  if need and tuple(shape) != tuple(g.shape)]
        widen = g.dtype == np.float32 and bool(summed)
        if widen:
            a, b, g = (v.to(np.float64) if isinstance(v, Tensor) else v for v in (a, b, g))
            z = a ** b
        ga = gb = None
        if na:
            if isinstance(b, Tensor):
                ga = g * (b * a ** (b - 1))
            else:
                ga = g * (b * a ** (b - 1)) if b != 0 else g * 0
            ga = sum_to(ga, ctx.a_shape)
        if nb:
            # log(a) for a <= 0 is undefined; PyTorch returns 0 there when a == 0
            log_a = where(a > 0, log(where(a > 0, a, 1.0)), 0.0) if isinstance(a, Tensor) \
                else float(np.log(a))
            gb = sum_to(g * (z * log_a), ctx.b_shape)
        if widen:
            ga, gb = (None if t is None else t.to(np.float32) for t in (ga, gb))
        return ga, gb


# ---------------------------------------------------------------------------------------------
# Functions of one variable
# ---------------------------------------------------------------------------------------------

class Exp(ArrayFunction):
    """y = exp(x).   dy/dx = exp(x) = y."""

    @staticmethod
    def forward(ctx, x):
        with ieee_specials():                # exp(1000) = inf
            y = backend.array_module(x).exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y

    @staticmethod
    def backward_arrays(ctx, g):
        (y,) = ctx.saved_arrays
        return g * y


class Log(ArrayFunction):
    """y = log(x).   dy/dx = 1/x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ieee_specials():                # log(0) = -inf, log(-1) = nan
            return backend.array_module(x).log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(ArrayFunction):
    """y = sqrt(x).   dy/dx = 1 / (2 sqrt(x)) = 1 / (2y)."""

    @staticmethod
    def forward(ctx, x):
        with ieee_specials():                # sqrt(-1) = nan
            y = backend.array_module(x).sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g / (2 * y)


class Abs(ArrayFunction):
    """y = |x|.   dy/dx = sign(x)  (0 at x = 0, as in PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return backend.array_module(x).abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * sign(x)


class Sin(ArrayFunction):
    """y = sin(x).   dy/dx = cos(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ieee_specials():                # sin(inf) = nan
            return backend.array_module(x).sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * cos(x)


class Cos(ArrayFunction):
    """y = cos(x).   dy/dx = -sin(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ieee_specials():
            return backend.array_module(x).cos(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g * sin(x)


class Tanh(ArrayFunction):
    """y = tanh(x).   dy/dx = 1 - y^2."""

    @staticmethod
    def forward(ctx, x):
        y = backend.array_module(x).tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)

    @staticmethod
    def backward_arrays(ctx, g):
        (y,) = ctx.saved_arrays
        return g * (1 - y * y)


def sigmoid_array(x):
    """The sigmoid of a float array (see ``Sigmoid``), in its dtype: four passes, in place."""
    xp = backend.array_module(x)
    t = xp.negative(x, out=xp.empty_like(x))    # an array even for a 0-d x (not a scalar)
    with np.errstate(over="ignore"):        # exp(-x) -> inf for x < -88 (float32): harmless
        xp.exp(t, out=t)
    t += 1
    return xp.reciprocal(t, out=t)


class Sigmoid(ArrayFunction):
    """y = 1 / (1 + exp(-x)).   dy/dx = y (1 - y).

    Is this formula stable? exp(-x) overflows to +inf for very negative x (x < -88.7 in
    float32), and then 1 / (1 + inf) = 0: the right answer, since the true value is below the
    smallest float32 anyway. For large positive x, exp(-x) underflows to 0 and y = 1. No inf
    or NaN is ever produced from a finite x, and relative accuracy holds in both tails (unlike
    0.5 * tanh(x / 2) + 0.5, which returns 0 at x = -30 where the answer is 9.4e-14). IEEE
    arithmetic's overflow-to-infinity does the work; only NumPy's overflow warning is silenced.
    It is four passes over the array (negate, exp, add, reciprocal), done in place: the
    alternative exp(-|x|) with a select by sign takes seven (19 us vs 11 us on an LSTM's
    (32, 384) gate block).
    """

    @staticmethod
    def forward(ctx, x):
        y = sigmoid_array(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * (1 - y)

    @staticmethod
    def backward_arrays(ctx, g):
        (y,) = ctx.saved_arrays
        return g * y * (1 - y)


class Relu(ArrayFunction):
    """y = max(x, 0).   dy/dx = 1 where x > 0, else 0 (0 at x = 0, as in PyTorch).

    Both passes are kernels (``minigrad.kernels.relu`` and ``relu_backward``): on the CPU one
    Numba pass each, where NumPy needs ``maximum`` forward and three passes backward (compare,
    convert the mask, multiply). The gradient needs only y: y > 0 exactly where x > 0. It is
    ``ReluBackward``, itself an ArrayFunction, so ReLU can be differentiated twice. relu(NaN) = NaN.
    """

    @staticmethod
    def forward(ctx, x):
        y = kernel_calls.relu(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        # the mask is no function of x to differentiate (see ReluBackward): y without its graph
        return ReluBackward.apply(g, y.detach())

    @staticmethod
    def backward_arrays(ctx, g):
        (y,) = ctx.saved_arrays
        return kernel_calls.relu_backward(g, y)


class ReluBackward(ArrayFunction):
    """gx = g where y > 0, else 0: ReLU's gradient, given its output y.

    A select, not ``g * (y > 0)``: where y <= 0 the result is 0 even if g is inf or NaN (as
    PyTorch's ``threshold_backward``; NaN > 0 is False, so a NaN y gets 0 too).
    Linear in g with a fixed mask, so its own gradient is the same select of the incoming
    gradient: ``ReluBackward(gg, y)``. y gets none: the mask is a step function of y, whose
    derivative is 0 wherever it exists (the formula ``g * (y > 0)`` gave none either).
    """

    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(y)
        return kernel_calls.relu_backward(g, y)

    @staticmethod
    def backward(ctx, gg):
        (y,) = ctx.saved_tensors
        return ReluBackward.apply(gg, y), None


class Erf(ArrayFunction):
    """y = erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt.   dy/dx = 2/sqrt(pi) exp(-x^2)."""

    @staticmethod
    def forward(ctx, x):
        from .special import erf_array
        ctx.save_for_backward(x)
        return erf_array(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (2.0 / np.sqrt(np.pi)) * exp(-x * x)


class Clamp(ArrayFunction):
    """y = min(max(x, lo), hi).   dy/dx = 1 where lo <= x <= hi, else 0."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = backend.array_module(x)
        y = x
        if lo is not None:
            y = xp.maximum(y, lo)
        if hi is not None:
            y = xp.minimum(y, hi)
        inside = xp.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        ctx.save_for_backward(inside)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (inside,) = ctx.saved_tensors
        return g * inside.to(g.dtype), None, None


class Where(ArrayFunction):
    """z = cond ? a : b.   dz/da = cond, dz/db = not cond (cond gets no gradient)."""

    @staticmethod
    def forward(ctx, cond, a, b):
        xp = backend.array_module(cond, a, b)
        ctx.save_for_backward(cond)
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        return _select(xp, cond, a, b)

    @staticmethod
    def backward(ctx, g):
        # a true 0 for the branch not taken (not g * 0: an inf or nan g would leak through
        # it, and the "double where" trick depends on that branch getting exactly 0)
        (cond,) = ctx.saved_tensors
        _, na, nb = ctx.needs_input_grad
        return (None,
                sum_to(where(cond, g, 0.0), ctx.a_shape) if na else None,
                sum_to(where(cond, 0.0, g), ctx.b_shape) if nb else None)

    @staticmethod
    def backward_arrays(ctx, g):
        (cond,) = ctx.saved_arrays
        _, na, nb = ctx.needs_input_grad
        xp = backend.array_module(g)
        zero = xp.zeros((), dtype=g.dtype)
        return (None,
                _sum_to_array(_select(xp, cond, g, zero), ctx.a_shape) if na else None,
                _sum_to_array(_select(xp, cond, zero, g), ctx.b_shape) if nb else None)


def _select(xp, cond, a, b):
    """``xp.where(cond, a, b)``. When a or b is one number (masked_fill, and the zeros of
    Where's own backward), the other is copied and the number written where it belongs:
    ``where`` is a three-way select element by element, which NumPy runs at ~1 ns per
    element, twice a copy plus ``copyto(..., where=)`` (an attention mask's (16, 4, 64, 64)
    float32 scores: 290 vs 140 us, one-off)."""
    scalar_a, scalar_b = a.ndim == 0, b.ndim == 0
    if scalar_a == scalar_b or a.dtype != b.dtype:
        return xp.where(cond, a, b)
    out = xp.empty(np.broadcast_shapes(cond.shape, a.shape, b.shape), dtype=a.dtype)
    if scalar_a:
        out[...] = b
        xp.copyto(out, a, where=cond)
    else:
        out[...] = a
        xp.copyto(out, b, where=~cond)
    return out


def _winner_weights(a, b, a_lost, b_lost, dtype):
    """(a's share of the gradient, b's): 1 where it won, 0 where it lost, 1/2 at ties, as
    PyTorch splits a tie evenly. Where a or b is NaN (so is the result) neither lost, since
    every comparison with NaN is False, and both get the whole gradient, as in PyTorch."""
    tie = 0.5 * (a == b).to(dtype)
    return (~a_lost).to(dtype) - tie, (~b_lost).to(dtype) - tie


class Maximum(ArrayFunction):
    """z = max(a, b).   dz/da = 1 where a > b, 0 where a < b, 1/2 at ties; dz/db likewise."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        return backend.array_module(a, b).maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _split(ctx, g, *_winner_weights(a, b, a < b, b < a, g.dtype))


class Minimum(ArrayFunction):
    """z = min(a, b).   dz/da = 1 where a < b, 0 where a > b, 1/2 at ties; dz/db likewise."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        return backend.array_module(a, b).minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _split(ctx, g, *_winner_weights(a, b, a > b, b > a, g.dtype))


def _split(ctx, g, weight_a, weight_b):
    na, nb = ctx.needs_input_grad
    return (sum_to(g * weight_a, ctx.a_shape) if na else None,
            sum_to(g * weight_b, ctx.b_shape) if nb else None)


# ---------------------------------------------------------------------------------------------
# Public functions (``mg.exp(x)``; the same as ``x.exp()``)
# ---------------------------------------------------------------------------------------------

def add(a, b, alpha=1):
    if alpha != 1:
        b = mul(b, alpha)
    a, b = _as_operands("add", a, b)
    return Add.apply(a, b)


def _is_bool(x) -> bool:
    return isinstance(x, (bool, np.bool_)) or (isinstance(x, Tensor) and x.array.dtype.kind == "b")


def sub(a, b, alpha=1):
    if _is_bool(a) or _is_bool(b):
        raise RuntimeError("sub: subtraction, the `-` operator, with a bool tensor is not "
                           "supported; to invert a mask use the `~` operator or logical_not()")
    if alpha != 1:
        b = mul(b, alpha)
    a, b = _as_operands("sub", a, b)
    return Sub.apply(a, b)


def mul(a, b):
    a, b = _as_operands("mul", a, b)
    return Mul.apply(a, b)


def div(a, b, rounding_mode=None):
    """a / b. ``rounding_mode="floor"`` rounds the quotient down (``a // b``), ``"trunc"``
    towards zero; integers divided by an integer 0 with either mode raise, as in PyTorch."""
    if rounding_mode is not None:
        from .compare import floor_quotient, trunc_divide
        if rounding_mode not in ("floor", "trunc"):
            raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got "
                             f"{rounding_mode!r}")
        return (floor_quotient if rounding_mode == "floor" else trunc_divide)(a, b)
    # true division: integers divide into the default float dtype, as in PyTorch
    a, b = _as_operands("div", a, b)
    t = a if isinstance(a, Tensor) else b
    if t.dtype.kind in "biu":
        a = a.to(backend.DEFAULT_FLOAT) if isinstance(a, Tensor) else float(a)
        b = b.to(backend.DEFAULT_FLOAT) if isinstance(b, Tensor) else float(b)
    return Div.apply(a, b)


def neg(x):
    if _tensor_input("neg", x).array.dtype.kind == "b":
        raise RuntimeError("neg: negation, the `-` operator, on a bool tensor is not "
                           "supported; to invert a mask use the `~` operator or logical_not()")
    return Neg.apply(x)


def pow(a, b):  # noqa: A001 - PyTorch's name
    a, b = _as_operands("pow", a, b)
    _check_integer_power(a, b)
    return Pow.apply(a, b)


def _check_integer_power(a, b):
    """An integer to a negative integer power is a fraction, which an integer can't hold."""
    def is_int(v):
        return v.dtype.kind in "iu" if isinstance(v, Tensor) else isinstance(v, (int, np.integer))
    if not (is_int(a) and is_int(b)):
        return
    exponent = b.array if isinstance(b, Tensor) else np.asarray(b)
    if exponent.size and bool((exponent < 0).any()):
        raise RuntimeError(f"pow: integers to negative integer powers are not allowed (base "
                           f"{_describe(a)}, exponent {_describe(b)}); make the base a float, "
                           "e.g. x.float() ** -1")


def _describe(v) -> str:
    if isinstance(v, Tensor):
        return f"{v.dtype} tensor of shape {tuple(v.shape)}"
    return repr(v)


def _tensor_input(op: str, x) -> Tensor:
    """``x`` itself if it is a Tensor, else PyTorch's TypeError: exp(3.5) is refused, not
    computed (use math.exp) nor failed on a missing ``dtype`` deep inside."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")
    return x


def _float_input(x: Tensor, op: str = "") -> Tensor:
    """Integer and bool inputs of float functions (exp, log, ...) become the default float;
    with ``op`` named, a non-Tensor ``x`` is refused (``_tensor_input``)."""
    if op:
        _tensor_input(op, x)
    if x.dtype.kind in "biu":
        return x.to(backend.DEFAULT_FLOAT)
    return x


def exp(x):
    return Exp.apply(_float_input(x, "exp"))


def log(x):
    return Log.apply(_float_input(x, "log"))


def sqrt(x):
    return Sqrt.apply(_float_input(x, "sqrt"))


def rsqrt(x):
    return 1.0 / sqrt(_tensor_input("rsqrt", x))


def abs(x):  # noqa: A001
    return Abs.apply(_tensor_input("abs", x))


def sin(x):
    return Sin.apply(_float_input(x, "sin"))


def cos(x):
    return Cos.apply(_float_input(x, "cos"))


def tanh(x):
    return Tanh.apply(_float_input(x, "tanh"))


def sigmoid(x):
    return Sigmoid.apply(_float_input(x, "sigmoid"))


def relu(x):
    if _tensor_input("relu", x).array.dtype.kind == "b":
        raise RuntimeError("relu: Boolean inputs not supported for relu")
    return Relu.apply(x)


def erf(x):
    return Erf.apply(_float_input(x, "erf"))


def square(x):
    return mul(_tensor_input("square", x), x)


def reciprocal(x):
    return div(1.0, _tensor_input("reciprocal", x))


def log1p(x):
    from .pointwise import log1p as accurate_log1p  # exact near 0 (pointwise imports us)
    return accurate_log1p(x)


class ClampTensors(ArrayFunction):
    """y = min(max(x, lo), hi) with tensor bounds (either may be None), broadcasting.

    PyTorch's gradients: x gets g where lo <= x <= hi; lo gets g where x < lo < hi; hi gets g
    where x > hi or hi < lo (when the bounds cross, every output is hi). At x == lo == hi
    nothing gets a gradient, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = backend.array_module(x)
        ctx.save_for_backward(x, lo, hi)
        ctx.shapes = (_shape(x), _shape(lo), _shape(hi))
        y = x if lo is None else xp.maximum(x, lo)
        return y if hi is None else xp.minimum(y, hi)

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        inside = None
        for mask in ((x >= lo) if lo is not None else None, (x <= hi) if hi is not None else None):
            if mask is not None:
                inside = mask if inside is None else inside & mask
        grad_lo = grad_hi = None
        if lo is not None:
            lo_wins = (x < lo) & (lo < hi) if hi is not None else x < lo
            grad_lo = sum_to(where(lo_wins, g, 0.0), ctx.shapes[1])
        if hi is not None:
            hi_wins = (x > hi) | (hi < lo) if lo is not None else x > hi
            grad_hi = sum_to(where(hi_wins, g, 0.0), ctx.shapes[2])
        return sum_to(where(inside, g, 0.0), ctx.shapes[0]), grad_lo, grad_hi


def _clamp_dtype(x: Tensor, bounds) -> np.dtype:
    """PyTorch's result dtype: 0-d bounds next to a tensor with dims count like Python
    numbers (they never widen within a category), the others promote as tensors do."""
    dtype = x.dtype
    with_dims = x.ndim > 0 or any(b.ndim > 0 for b in bounds)
    for b in bounds:
        if b.ndim > 0 or not with_dims:
            dtype = backend.promote_types(dtype, b.dtype)
    for b in bounds:
        if b.ndim == 0 and with_dims:
            dtype = backend.scalar_dtype(dtype, b.array.item())
    return dtype


def _clamp_with_tensors(x: Tensor, min, max) -> Tensor:  # noqa: A002
    bounds = [b for b in (min, max) if b is not None]
    if not all(isinstance(b, Tensor) for b in bounds):
        raise TypeError(f"clamp: min and max must both be Tensors (or None) or both numbers, "
                        f"got {type(min).__name__} and {type(max).__name__}")
    try:
        np.broadcast_shapes(x.array.shape, *(b.array.shape for b in bounds))
    except ValueError:
        raise RuntimeError(f"clamp: input {tuple(x.shape)}, min "
                           f"{None if min is None else tuple(min.shape)} and max "
                           f"{None if max is None else tuple(max.shape)} can't be broadcast "
                           "together") from None
    dtype = _clamp_dtype(x, bounds)
    x, min, max = (None if v is None else v.to(dtype) for v in (x, min, max))
    return ClampTensors.apply(x, min, max)


def clamp(x, min=None, max=None):  # noqa: A002 - PyTorch's argument names
    """min(max(x, min), max). The bounds are Python numbers, or Tensors that broadcast with x
    (then they get gradients too)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_with_tensors(x, min, max)
    lo, hi = _scalar(min), _scalar(max)
    for bound in (lo, hi):       # a float bound makes an int tensor's result float, as in add
        if bound is not None:
            x = _with_scalar("clamp", x, bound)
    return Clamp.apply(x, lo, hi)


def where(condition, input, other):  # noqa: A002
    """Elements of ``input`` where ``condition`` is True, else of ``other``."""
    cond = condition if isinstance(condition, Tensor) else Tensor._make(np.asarray(condition))
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where: expected condition to be a boolean tensor, got dtype "
                           f"{cond.dtype}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        if type(input) not in _NUMBER_DTYPE or type(other) not in _NUMBER_DTYPE:
            raise TypeError(f"where: input and other must be Tensors or Python numbers, got "
                            f"{type(input).__name__} and {type(other).__name__}")
        # two numbers, as PyTorch takes them: input as a 0-d tensor, other promoted with it
        input = Tensor._make(backend.array_module(cond.array).asarray(
            input, dtype=_NUMBER_DTYPE[type(input)]))
    if not isinstance(input, Tensor):
        input = Tensor._make(backend.array_module(other.array).asarray(
            input, dtype=backend.scalar_dtype(other.dtype, input)))
    if not isinstance(other, Tensor):
        other = Tensor._make(backend.array_module(input.array).asarray(
            other, dtype=backend.scalar_dtype(input.dtype, other)))
    input, other = _as_operands("where", input, other)
    try:
        np.broadcast_shapes(cond.array.shape, input.array.shape, other.array.shape)
    except ValueError:
        raise RuntimeError(f"where: condition {tuple(cond.shape)}, input {tuple(input.shape)} "
                           f"and other {tuple(other.shape)} can't be broadcast together") from None
    return Where.apply(cond, input, other)


def maximum(a, b):
    a, b = _as_operands("maximum", a, b)
    return Maximum.apply(a, b)


def minimum(a, b):
    a, b = _as_operands("minimum", a, b)
    return Minimum.apply(a, b)


def sign(x):
    """-1, 0 or 1 (gradient 0, as in PyTorch: sign is constant away from 0)."""
    from .compare import sign
    return sign(x)


def lerp(start, end, weight):
    return start + weight * (end - start)
