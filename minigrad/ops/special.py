"""Special functions NumPy lacks: erf (for the exact GELU) and erfc, and the ops lgamma,
digamma, polygamma and erfinv.

NumPy has no ``erf`` or ``erfc``. Python's ``math.erf``/``math.erfc`` are exact but work on one
number at a time, so we compile them into NumPy ufuncs with Numba (lazily, on first use, and
cached on disk). On the GPU, CuPy ships ``cupyx.scipy.special.erf`` and ``erfc``.

lgamma is ``math.lgamma`` per element. digamma follows PyTorch's CPU code (a recurrence up to
x >= 10, then an asymptotic series; reflection for x < 0) and agrees with it to the last bits;
polygamma(n >= 1) is (-1)^(n+1) n! zeta(n + 1, x) with a Hurwitz zeta by Euler-Maclaurin
summation, as PyTorch computes n >= 2 (for n = 1 PyTorch uses a shorter series, good to about
5e-10 relative; the zeta form is good to ~1e-15). erfinv refines a rational first guess with
Newton steps, on erfc in the tails so that inputs near +-1 keep every digit. All are computed
in float64 and rounded to the input's dtype.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from .elementwise import _float_input, exp


@functools.lru_cache(maxsize=None)
def _erf_ufuncs():
    """Numba ufuncs (float32 and float64) for erf and erfc."""
    import numba

    @numba.vectorize(["float32(float32)", "float64(float64)"], cache=True)
    def erf_ufunc(x):
        return math.erf(x)

    @numba.vectorize(["float32(float32)", "float64(float64)"], cache=True)
    def erfc_ufunc(x):
        return math.erfc(x)

    return dict(erf=erf_ufunc, erfc=erfc_ufunc)


def _erf_family(name, x):
    """``name`` ("erf" or "erfc") of every element of a NumPy or CuPy array. On the CPU a
    float32 or float64 array keeps its dtype and any other dtype is computed in float64."""
    if backend.array_module(x) is not np:
        import cupyx.scipy.special
        return getattr(cupyx.scipy.special, name)(x)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    return _erf_ufuncs()[name](x)


def erf_array(x):
    """erf of every element of a NumPy or CuPy array, in the array's dtype."""
    return _erf_family("erf", x)


def erfc_array(x):
    """erfc = 1 - erf of every element, computed directly (accurate where erf is near 1)."""
    return _erf_family("erfc", x)


# ---------------------------------------------------------------------------------------------
# lgamma, digamma, polygamma, erfinv: PyTorch's CPU algorithms (ATen's Math.h, from Cephes),
# compiled per element with Numba; CuPy has them in cupyx.scipy.special.
# ---------------------------------------------------------------------------------------------

_PSI_10 = 2.25175258906672110764        # digamma(10)
_DIGAMMA_SERIES = (8.33333333333333333333E-2, -2.10927960927960927961E-2,
                   7.57575757575757575758E-3, -4.16666666666666666667E-3,
                   3.96825396825396825397E-3, -8.33333333333333333333E-3,
                   8.33333333333333333333E-2)
# Euler-Maclaurin coefficients of the Hurwitz zeta function: (2k)! / B_2k
_ZETA_EM = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
            7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
            -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18)
_MACHEP = 1.11022302462515654042E-16


@functools.lru_cache(maxsize=None)
def _gamma_ufuncs():
    """Numba ufuncs (float64) for lgamma, digamma, polygamma (n >= 1) and erfinv."""
    import numba

    series = np.array(_DIGAMMA_SERIES)
    em = np.array(_ZETA_EM)

    @numba.njit(cache=True)
    def digamma_scalar(x):
        if x == 0.0:
            return math.copysign(math.inf, -x)     # digamma(+0) = -inf, digamma(-0) = +inf
        if x < 0.0:
            if x == math.trunc(x):
                return math.nan                    # the poles at -1, -2, ...
            # reflection: psi(x) = psi(1 - x) - pi / tan(pi x); tan of the fractional part
            # only, which is exact, keeps pi * x from losing digits for large |x|
            r = x - math.trunc(x)
            return digamma_scalar(1.0 - x) - math.pi / math.tan(math.pi * r)
        result = 0.0
        while x < 10.0:                            # psi(x) = psi(x + 1) - 1/x
            result -= 1.0 / x
            x += 1.0
        if x == 10.0:
            return result + _PSI_10
        y = 0.0
        if x < 1.0e17:                             # the asymptotic series in 1/x^2
            z = 1.0 / (x * x)
            poly = 0.0
            for c in series:
                poly = poly * z + c
            y = z * poly
        return result + math.log(x) - 0.5 / x - y

    @numba.vectorize(["float64(float64)"], cache=True)
    def digamma_ufunc(x):
        return digamma_scalar(x)

    @numba.vectorize(["float64(float64)"], cache=True)
    def lgamma_ufunc(x):
        return math.lgamma(x)

    @numba.njit(cache=True)
    def hurwitz_zeta(s, q):
        """zeta(s, q) = sum_k (k + q)^-s, by Euler-Maclaurin summation (Cephes)."""
        if s == 1.0:
            return math.inf
        if s < 1.0:
            return math.nan
        if q == math.inf:
            return 0.0                             # the limit (PyTorch: NaN for n >= 2)
        if q <= 0.0:
            if q == math.floor(q):
                return math.inf
            if s != math.floor(s):
                return math.nan                    # q^-s is not real
        total = q ** -s
        a = q
        i = 0
        b = 0.0
        while i < 9 or a <= 9.0:                   # the first terms, summed directly
            i += 1
            a += 1.0
            b = a ** -s
            total += b
            if -_MACHEP * total < b < _MACHEP * total:
                return total
        w = a
        total += b * w / (s - 1.0)                 # the tail's integral ...
        total -= 0.5 * b
        a = 1.0
        k = 0.0
        for j in range(12):                        # ... and its correction terms
            a *= s + k
            b /= w
            t = a * b / em[j]
            total = total + t
            if abs(t / total) < _MACHEP:
                return total
            k += 1.0
            a *= s + k
            b /= w
            k += 1.0
        return total

    @numba.vectorize(["float64(int64, float64)"], cache=True)
    def polygamma_ufunc(n, x):
        """psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x), for n >= 1."""
        sign = 1.0 if n % 2 else -1.0
        return sign * math.exp(math.lgamma(n + 1.0)) * hurwitz_zeta(n + 1.0, x)

    @numba.vectorize(["float64(float64)"], cache=True)
    def erfinv_ufunc(y):
        y_abs = abs(y)
        if y_abs > 1.0:
            return math.nan
        if y_abs == 1.0:
            return math.copysign(math.inf, y)
        if y_abs <= 0.7:                           # a rational first guess, central ...
            z = y * y
            num = ((-0.140543331 * z + 0.914624893) * z - 1.645349621) * z + 0.886226899
            dem = (((0.012229801 * z - 0.329097515) * z + 1.442710462) * z
                   - 2.118377725) * z + 1.0
            x = y * num / dem
        else:                                      # ... and in the tails
            z = math.sqrt(-math.log((1.0 - y_abs) / 2.0))
            num = ((1.641345311 * z + 3.429567803) * z - 1.624906493) * z - 1.970840454
            dem = (1.637067800 * z + 3.543889200) * z + 1.0
            x = math.copysign(num, y) / dem
        slope = 2.0 / math.sqrt(math.pi)
        if y_abs <= 0.7:                           # Newton steps on erf(x) = y ...
            for _ in range(3):
                x = x - (math.erf(x) - y) / (slope * math.exp(-x * x))
        else:                                      # ... on erfc(|x|) = 1 - |y| in the tails,
            t = abs(x)                             # where 1 - |y| is exact and erfc keeps
            for _ in range(3):                     # every digit that 1 - erf would lose
                t = t + (math.erfc(t) - (1.0 - y_abs)) / (slope * math.exp(-t * t))
            x = math.copysign(t, y)
        return x

    return dict(lgamma=lgamma_ufunc, digamma=digamma_ufunc, polygamma=polygamma_ufunc,
                erfinv=erfinv_ufunc)


def _in_float64(name, x, *leading):
    """Run ufunc ``name`` in float64 on a NumPy array; the result in x's dtype. Poles give
    inf or NaN silently, as in PyTorch (no NumPy warning)."""
    with np.errstate(all="ignore"):
        out = _gamma_ufuncs()[name](*leading, x.astype(np.float64, copy=False))
    return np.asarray(out).astype(x.dtype, copy=False)


def lgamma_array(x):
    if backend.array_module(x) is not np:
        import cupyx.scipy.special
        return cupyx.scipy.special.gammaln(x)
    return _in_float64("lgamma", x)


def digamma_array(x):
    if backend.array_module(x) is not np:
        import cupyx.scipy.special
        return cupyx.scipy.special.digamma(x)
    return _in_float64("digamma", x)


def polygamma_array(n: int, x):
    """psi^(n)(x), the n-th derivative of digamma."""
    if n == 0:
        return digamma_array(x)
    if backend.array_module(x) is not np:
        import cupyx.scipy.special
        return cupyx.scipy.special.polygamma(n, x).astype(x.dtype)
    return _in_float64("polygamma", x, np.int64(n))


def erfinv_array(x):
    if backend.array_module(x) is not np:
        import cupyx.scipy.special
        return cupyx.scipy.special.erfinv(x)
    return _in_float64("erfinv", x)


# ---------------------------------------------------------------------------------------------
# The differentiable ops
# ---------------------------------------------------------------------------------------------

class Lgamma(ArrayFunction):
    """y = log |Gamma(x)|.   dy/dx = digamma(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return lgamma_array(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * digamma(x)


class Polygamma(ArrayFunction):
    """y = psi^(n)(x), the n-th derivative of digamma = d/dx lgamma (n = 0: digamma itself).
    dy/dx = psi^(n+1)(x): every order has a derivative of the same family."""

    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.n = n
        return polygamma_array(n, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * Polygamma.apply(x, ctx.n + 1), None


class Erfinv(ArrayFunction):
    """y = erfinv(x), so that erf(y) = x, on [-1, 1].
    dy/dx = 1 / erf'(y) = sqrt(pi)/2 * exp(y^2)."""

    @staticmethod
    def forward(ctx, x):
        y = erfinv_array(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (math.sqrt(math.pi) / 2) * exp(y * y)


def lgamma(input):  # noqa: A002 - PyTorch's names
    """The natural log of |Gamma(x)|, elementwise (inf at 0, -1, -2, ...)."""
    return Lgamma.apply(_float_input(input, "lgamma"))


def digamma(input):  # noqa: A002
    """psi(x) = d/dx lgamma(x), elementwise (-inf at +0, NaN at -1, -2, ...)."""
    return Polygamma.apply(_float_input(input, "digamma"), 0)


def polygamma(n, input):  # noqa: A002
    """psi^(n)(x), the n-th derivative of digamma, elementwise (n = 0 is digamma)."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"polygamma(): n must be an int, got {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n, got n={n}")
    return Polygamma.apply(_float_input(input, "polygamma"), int(n))


def erfinv(input):  # noqa: A002
    """The inverse of erf on [-1, 1], elementwise (+-inf at +-1, NaN outside)."""
    return Erfinv.apply(_float_input(input, "erfinv"))
