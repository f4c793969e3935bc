"""GELU and its backward, reference implementation (NumPy or CuPy).

    gelu(x, "none")  y = x * Phi(x),   Phi(x) = erfc(-x / sqrt 2) / 2, the normal CDF
    gelu(x, "tanh")  y = x / 2 * (1 + tanh(u)),   u = sqrt(2 / pi) * (x + 0.044715 x^3)

    gelu_backward(gy, x, "none")  gx = gy * (Phi(x) + x * phi(x)),  phi(x) = exp(-x^2/2) / sqrt(2 pi)
    gelu_backward(gy, x, "tanh")  gx = gy * ((1 + t) / 2 + x / 2 * (1 - t^2) * du/dx),
                                  t = tanh(u),  du/dx = sqrt(2 / pi) * (1 + 3 * 0.044715 x^2)

The backward takes the forward's *input* x (GELU is not monotonic, so y does not determine x).

Phi is written with erfc rather than (1 + erf(x / sqrt 2)) / 2: for negative x, 1 + erf is a
difference of two numbers near 1 and loses every digit below x ~ -5, while erfc(-x / sqrt 2)
keeps them. NumPy has no erf or erfc, so on the CPU this reference calls Python's
``math.erfc`` (correctly rounded to a few ulp) once per element, in float64: exact, and slow
(~50 ns an element); gelu_numba.py is the fast one. On a GPU it is CuPy's
``cupyx.scipy.special.erfc``.

Both return a new C-contiguous array in x's dtype.
"""

from __future__ import annotations

import math

import numpy as np

from ._device import array_module

SQRT_HALF = math.sqrt(0.5)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
TANH_CUBIC = 0.044715            # the x^3 coefficient of the tanh approximation
APPROXIMATIONS = ("none", "tanh")

_erfc_of_floats = np.frompyfunc(math.erfc, 1, 1)


def _erfc(x):
    """erfc of every element of a float array, in float64 on the CPU (x's dtype on a GPU)."""
    xp = array_module(x)
    if xp is not np:
        import cupyx.scipy.special
        return cupyx.scipy.special.erfc(x)
    return _erfc_of_floats(x.astype(np.float64)).astype(np.float64)


def normal_cdf(x):
    """Phi(x) = erfc(-x / sqrt 2) / 2."""
    return 0.5 * _erfc(-SQRT_HALF * x)


def _tanh_u(x):
    """tanh(sqrt(2 / pi) * (x + 0.044715 x^3)), in x's dtype."""
    xp = array_module(x)
    return xp.tanh(SQRT_2_OVER_PI * (x + TANH_CUBIC * (x * x * x)))


def gelu(x, approximate):
    """y = x * Phi(x), or its tanh approximation; in x's dtype."""
    with np.errstate(over="ignore", invalid="ignore"):     # inf and NaN in, NaN out, quietly
        if approximate == "tanh":
            y = 0.5 * x * (1.0 + _tanh_u(x))
        else:
            y = x * normal_cdf(x)
    return y.astype(x.dtype, order="C", copy=False)


def gelu_backward(gy, x, approximate):
    """gy * dy/dx at x, in gy's dtype."""
    xp = array_module(x)
    with np.errstate(over="ignore", invalid="ignore"):
        if approximate == "tanh":
            t = _tanh_u(x)
            du = SQRT_2_OVER_PI * (1.0 + 3.0 * TANH_CUBIC * (x * x))
            slope = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du
        else:
            slope = normal_cdf(x) + x * (INV_SQRT_2PI * xp.exp(-0.5 * (x * x)))
        gx = gy * slope
    return gx.astype(gy.dtype, order="C", copy=False)
