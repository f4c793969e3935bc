"""Comparisons and other ops with no useful gradient.

``x > 0`` is a step function: its derivative is zero everywhere it exists, so PyTorch (and
minigrad) return plain boolean tensors, cut from the graph.

The rounding ops (``floor``, ``ceil``, ``round``, ``trunc``, ``sign``, and ``div`` with a
``rounding_mode``) are step functions too, but their outputs are floats that stay in the graph:
as in PyTorch, the output of a float input that requires grad requires grad, and its gradient
is zero (``ZeroGradient``), so ``loss = floor(x).sum() + ...; loss.backward()`` works.
"""

from __future__ import annotations

import collections

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from .arguments import as_int, normalize_dim


class ZeroGradient(ArrayFunction):
    """y = compute(*inputs), an op whose gradient PyTorch defines as zero: step functions
    (floor, round, sign...: zero everywhere, also at the jumps), overwrites (``zero_``,
    ``fill_``) and random draws (``normal(mean, std)``). The output stays in the graph and
    backward hands each tensor input a zero gradient of its own shape.
    """

    @staticmethod
    def forward(ctx, compute, *arrays):
        ctx.input_meta = [(a.shape, a.dtype) if hasattr(a, "shape") else None for a in arrays]
        return backend.as_array(compute(*arrays))

    @staticmethod
    def backward(ctx, g):
        xp = backend.array_module(g.array)
        return (None,) + tuple(None if meta is None else Tensor._make(xp.zeros(*meta))
                               for meta in ctx.input_meta)


def _step(compute, *inputs) -> Tensor:
    """compute(*arrays) as a Tensor; in the graph with zero gradient when floats need grad."""
    if any(isinstance(t, Tensor) and t.requires_grad for t in inputs):
        return ZeroGradient.apply(compute, *inputs)
    arrays = [t.array if isinstance(t, Tensor) else t for t in inputs]
    return _wrap(compute(*arrays))


def _wrap(result) -> Tensor:
    """A Tensor of a raw result (NumPy hands back scalars, not arrays, for 0-d inputs)."""
    return Tensor._make(backend.as_array(result))


def _data(x, like: Tensor):
    if isinstance(x, Tensor):
        if x.device != like.device:
            raise RuntimeError(f"comparison: expected both tensors on the same device, got "
                               f"{like.device} and {x.device}")
        return x.array
    return x


def _compare(ufunc_name):
    def op(a: Tensor, b) -> Tensor:
        xp = backend.array_module(a.array)
        bd = _data(b, a)
        try:
            return _wrap(getattr(xp, ufunc_name)(a.array, bd))
        except ValueError:
            raise RuntimeError(f"{ufunc_name}: shapes {tuple(a.shape)} and {np.shape(bd)} can't "
                               "be broadcast together") from None
    op.__name__ = ufunc_name
    op.__doc__ = f"Elementwise ``{ufunc_name}`` (a boolean tensor, no gradient)."
    return op


eq = _compare("equal")
ne = _compare("not_equal")
lt = _compare("less")
le = _compare("less_equal")
gt = _compare("greater")
ge = _compare("greater_equal")
logical_and = _compare("logical_and")
logical_or = _compare("logical_or")
logical_xor = _compare("logical_xor")
bitwise_and = _compare("bitwise_and")
bitwise_or = _compare("bitwise_or")


# ---------------------------------------------------------------------------------------------
# Rounded division and remainder (no gradient here)
# ---------------------------------------------------------------------------------------------

def _trunc_divide_arrays(xp, a, b, dtype):
    """a / b rounded towards zero. For integers: floor division, plus one where it rounded
    a negative quotient down (a nonzero remainder and operands of opposite signs)."""
    if dtype.kind == "f":
        return xp.trunc(a / b)
    q = xp.floor_divide(a, b)
    rounded_down = (a - q * b != 0) & ((xp.asarray(a) < 0) != (xp.asarray(b) < 0))
    return q + rounded_down


def _rounded_division(op: str, compute):
    """An op of two operands (tensors or Python numbers) with PyTorch's type promotion and a
    zero gradient (a step function).

    Integers divided by an integer 0 raise ``RuntimeError: ZeroDivisionError`` as in PyTorch
    (NumPy would return 0 with a warning); floats give inf and nan without a warning.
    """
    def fn(a, b):
        from .elementwise import _as_operands, ieee_specials
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            _data(b, a)                                      # same device
        a, b = _as_operands(op, a, b)
        check_integer_division(op, a, b)
        t = a if isinstance(a, Tensor) else b
        xp = backend.array_module(t.array)
        with ieee_specials():
            return _step(lambda ad, bd: compute(xp, ad, bd, t.dtype), a, b)
    fn.__name__ = op
    return fn


def check_integer_division(op: str, a, b) -> None:
    """Rounded division and remainders refuse bools, and integers divided by an integer 0
    raise ``RuntimeError: ZeroDivisionError`` as in PyTorch (NumPy would return 0 with a
    warning). ``a``, ``b``: operands after ``_as_operands`` (one of them a Tensor)."""
    t = a if isinstance(a, Tensor) else b
    if t.dtype == np.bool_:
        raise RuntimeError(f"{op}: not implemented for bool tensors; convert them with "
                           ".long() first")
    if t.dtype.kind in "iu":
        bd = b.array if isinstance(b, Tensor) else b
        zeros = int((bd == 0).sum()) if isinstance(b, Tensor) else int(bd == 0)
        if zeros:
            raise RuntimeError(f"ZeroDivisionError: {op} of integers by zero (the divisor "
                               f"has {zeros} zero{'s' if zeros > 1 else ''}; dividend "
                               f"{_describe(a)}, divisor {_describe(b)})")


def _describe(v) -> str:
    if isinstance(v, Tensor):
        return f"{v.dtype} tensor of shape {tuple(v.shape)}"
    return repr(v)


trunc_divide = _rounded_division("trunc_divide", _trunc_divide_arrays)
trunc_divide.__doc__ = ("a / b rounded towards zero (``div(a, b, rounding_mode='trunc')``), "
                        "gradient 0. The remainders are in pointwise.py.")
floor_quotient = _rounded_division("floor_divide",
                                   lambda xp, a, b, dtype: xp.floor_divide(a, b))
floor_quotient.__doc__ = ("a / b rounded down (``div(a, b, rounding_mode='floor')``), gradient "
                          "0. ``floor_divide`` (pointwise.py) computes the same values without "
                          "a gradient, as in PyTorch, whose floor_divide has no derivative.")


def _unary(name):
    def op(x: Tensor) -> Tensor:
        return _wrap(getattr(backend.array_module(x.array), name)(x.array))
    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` (no gradient)."
    return op


logical_not = _unary("logical_not")
isnan = _unary("isnan")
isinf = _unary("isinf")
isfinite = _unary("isfinite")
bitwise_not = _unary("invert")


def _rounding(name):
    def op(x: Tensor) -> Tensor:
        return _step(getattr(backend.array_module(x.array), name), x)
    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` (gradient 0)."
    return op


floor = _rounding("floor")
ceil = _rounding("ceil")
trunc = _rounding("trunc")


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 elementwise (gradient 0), and 0 for NaN, as in PyTorch (NumPy's sign
    gives NaN there). ``abs``'s gradient is g * sign(x): 0 at NaN too."""
    def sign_arrays(a):
        xp = backend.array_module(a)
        s = xp.sign(a)
        return xp.where(xp.isnan(s), 0, s) if s.dtype.kind == "f" else s
    return _step(sign_arrays, x)


def round(x: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001
    """x rounded half to even, to ``decimals`` decimal places (gradient 0)."""
    xp = backend.array_module(x.array)
    return _step(lambda a: xp.round(a, decimals), x)


def equal(a: Tensor, b: Tensor) -> bool:
    """True if both tensors have the same shape and elements."""
    return a.shape == b.shape and bool((a.array == b.array).all())


def allclose(a: Tensor, b: Tensor, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:
    xp = backend.array_module(a.array)
    return bool(xp.allclose(a.array, _data(b, a), rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(a: Tensor, b, rtol=1e-5, atol=1e-8, equal_nan=False) -> Tensor:
    xp = backend.array_module(a.array)
    return _wrap(xp.isclose(a.array, _data(b, a), rtol=rtol, atol=atol, equal_nan=equal_nan))


def nonzero(x: Tensor, as_tuple: bool = False):
    """The indices of the nonzero elements: an (n, ndim) int64 tensor, or one index tensor
    per dim. A 0-d tensor counts as one element with no dims (PyTorch: shape (1, 0) or
    (0, 0); as a tuple, one tensor [0] or [] as if it were 1-D)."""
    xp = backend.array_module(x.array)
    if x.ndim == 0:
        count = int(bool(x.array))
        if as_tuple:
            return (Tensor._make(xp.zeros(count, np.int64)),)
        return Tensor._make(xp.zeros((count, 0), np.int64))
    idx = xp.nonzero(x.array)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64)) for i in idx)
    return Tensor._make(xp.stack(idx, axis=1).astype(np.int64) if idx else
                        xp.zeros((0, 0), np.int64))


# (values, indices) named tuples, as PyTorch returns them
SortResult = collections.namedtuple("sort", ["values", "indices"])
TopKResult = collections.namedtuple("topk", ["values", "indices"])


def _sorted_indices(x: Tensor, d: int, descending: bool):
    """Indices that sort x along d (stable: equal values keep their order), as int64."""
    xp = backend.array_module(x.array)
    if x.ndim == 0:
        return xp.zeros((), dtype=np.int64)
    key = x.array
    if descending:
        key = ~key if key.dtype == np.bool_ else -key
    return xp.argsort(key, axis=d, kind="stable").astype(np.int64)


def sort(x: Tensor, dim: int = -1, descending: bool = False, *, stable: bool | None = False):
    """(values, indices) sorted along ``dim``; values are differentiable through gather.
    The sort is always stable (equal values keep their order), so ``stable`` changes nothing;
    it is accepted for PyTorch's signature."""
    from .indexing import gather
    d = normalize_dim("sort", dim, x.ndim)
    idx_t = Tensor._make(_sorted_indices(x, d, descending))
    return SortResult(gather(x, d, idx_t), idx_t)


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The k largest (or smallest) values along ``dim`` and their indices, largest first.
    k must lie in 0..size of that dim."""
    from .indexing import gather
    k = as_int("topk", "k", k)
    d = normalize_dim("topk", dim, x.ndim)
    size = x.shape[d] if x.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"topk: selected index k out of range: k={k}, but dimension {d} of "
                           f"the tensor of shape {tuple(x.shape)} has size {size} (k must be "
                           f"in 0..{size})")
    idx = _sorted_indices(x, d, descending=largest)
    if x.ndim:
        xp = backend.array_module(idx)
        idx = xp.take(idx, xp.arange(k), axis=d)
    idx_t = Tensor._make(idx)
    return TopKResult(gather(x, d, idx_t), idx_t)


def argsort(x: Tensor, dim: int = -1, descending: bool = False, *,
            stable: bool | None = False) -> Tensor:
    """The indices that sort ``x`` along ``dim`` (always stable, whatever ``stable`` says)."""
    d = normalize_dim("argsort", dim, x.ndim)
    return Tensor._make(_sorted_indices(x, d, descending))


def argwhere(x: Tensor) -> Tensor:
    """The indices of the nonzero elements, one row per element: ``nonzero(x)``."""
    return nonzero(x)
