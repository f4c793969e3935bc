"""GELU and its backward on the CPU with Numba: one pass each, parallel over blocks.

The math is in gelu_numpy.py. NumPy needs about ten passes over memory for GELU (erf, the
products, the sums, each writing a temporary) and has no erf at all; here every element is
read once and written once, and a loop over a block of a contiguous array does everything.

float32: PyTorch's vectorised CPU GELU, done the same way. The loops vectorise only if they
call no library function (see _numba_exp.py), and ``math.erfc`` is one. So erfc comes from
Abramowitz & Stegun's formula 7.1.26 (what PyTorch's vectorised ``erf`` uses too):

    erfc(z) ~= (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) * exp(-z^2),  t = 1 / (1 + p z),  z >= 0

with an absolute error below 1.5e-7, about one float32 ulp of a number near 1, and exp from
_numba_exp.py. With z = |x| / sqrt 2, exp(-z^2) = exp(-x^2 / 2) is also the normal density's
exponential, so the backward computes it once for both Phi and phi. Phi(x) is erfc(z) / 2 for
x < 0 (accurate far into the tail) and 1 - erfc(z) / 2 for x >= 0.

The tanh approximation needs no tanh: (1 + tanh(u)) / 2 = 1 / (1 + exp(-2u)) = s, so

    y = x * s,     dy/dx = s + 2 x s (1 - s) du/dx

and s is computed from exp(-2|u|) <= 1 (s = 1 / (1 + e) for u >= 0, e / (1 + e) for u < 0), so
nothing overflows.

float64 keeps the library's ``math.erfc`` and ``math.exp`` (exact to an ulp or two: float64
is what the gradient checks run in), one call per element.

Parallel: GELU is two to five times as much arithmetic as memory traffic in float32 (and
float64's library calls are slower still), so a large activation (a GPT's 16 x 64 x 512)
is worth both cores; small ones run the serial build (kernels/_threads.py). The blocks are
whole chunks of 4096 elements, so every thread runs the vectorised inner loop.
"""

from __future__ import annotations

import math

import numpy as np

from ._numba_cpu import njit, parallel_njit, prange
from ._numba_exp import exp_nonpositive_float32

_f32 = np.float32
BLOCK = 4096

# Abramowitz & Stegun 7.1.26
AS_P = _f32(0.3275911)
AS_A1, AS_A2, AS_A3 = _f32(0.254829592), _f32(-0.284496736), _f32(1.421413741)
AS_A4, AS_A5 = _f32(-1.453152027), _f32(1.061405429)

SQRT_HALF = math.sqrt(0.5)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
TANH_CUBIC = 0.044715
SQRT_HALF_32, INV_SQRT_2PI_32 = _f32(SQRT_HALF), _f32(INV_SQRT_2PI)
SQRT_2_OVER_PI_32, TANH_CUBIC_32 = _f32(SQRT_2_OVER_PI), _f32(TANH_CUBIC)
THREE_TANH_CUBIC_32 = _f32(3 * TANH_CUBIC)


# ---------------------------------------------------------------------------------------------
# One element: (value, slope) helpers, inlined into the loops
# ---------------------------------------------------------------------------------------------

@njit(inline="always", fastmath={"contract"}, cache=True, error_model="numpy")
def _cdf_pdf_float32(v):
    """(Phi(v), phi(v)) for a float32 v, with the A&S erfc (no library call)."""
    z = abs(v) * SQRT_HALF_32
    t = _f32(1.0) / (_f32(1.0) + AS_P * z)
    poly = ((((AS_A5 * t + AS_A4) * t + AS_A3) * t + AS_A2) * t + AS_A1) * t
    e = exp_nonpositive_float32(_f32(-0.5) * (v * v))
    half_erfc = _f32(0.5) * poly * e
    cdf = half_erfc if v < _f32(0.0) else _f32(1.0) - half_erfc
    return cdf, INV_SQRT_2PI_32 * e


@njit(inline="always", cache=True, error_model="numpy")
def _cdf_pdf_float64(v):
    return 0.5 * math.erfc(-v * SQRT_HALF), INV_SQRT_2PI * math.exp(-0.5 * (v * v))


@njit(inline="always", fastmath={"contract"}, cache=True, error_model="numpy")
def _s_du_float32(v):
    """(s, du/dx) of the tanh approximation for a float32 v: s = (1 + tanh(u)) / 2."""
    v2 = v * v
    u = SQRT_2_OVER_PI_32 * (v + TANH_CUBIC_32 * (v2 * v))
    e = exp_nonpositive_float32(_f32(-2.0) * abs(u))
    s = (_f32(1.0) if u >= _f32(0.0) else e) / (_f32(1.0) + e)
    return s, SQRT_2_OVER_PI_32 * (_f32(1.0) + THREE_TANH_CUBIC_32 * v2)


@njit(inline="always", cache=True, error_model="numpy")
def _s_du_float64(v):
    v2 = v * v
    u = SQRT_2_OVER_PI * (v + TANH_CUBIC * (v2 * v))
    e = math.exp(-2.0 * abs(u))
    s = (1.0 if u >= 0.0 else e) / (1.0 + e)
    return s, SQRT_2_OVER_PI * (1.0 + 3.0 * TANH_CUBIC * v2)


# ---------------------------------------------------------------------------------------------
# Kernels over 1-D C-contiguous arrays, block by block
# ---------------------------------------------------------------------------------------------

@parallel_njit(fastmath={"contract"}, cache=True, error_model="numpy")
def gelu_into(x, out, tanh):
    """out = gelu(x) (the tanh approximation if ``tanh``), elementwise."""
    n = x.shape[0]
    for b in prange((n + BLOCK - 1) // BLOCK):
        start = b * BLOCK
        xb, ob = x[start:min(start + BLOCK, n)], out[start:min(start + BLOCK, n)]
        if x.itemsize == 4:
            if tanh:
                for i in range(xb.shape[0]):
                    v = xb[i]
                    ob[i] = v * _s_du_float32(v)[0]
            else:
                for i in range(xb.shape[0]):
                    v = xb[i]
                    ob[i] = v * _cdf_pdf_float32(v)[0]
        else:
            if tanh:
                for i in range(xb.shape[0]):
                    v = xb[i]
                    ob[i] = v * _s_du_float64(v)[0]
            else:
                for i in range(xb.shape[0]):
                    v = xb[i]
                    ob[i] = v * _cdf_pdf_float64(v)[0]


@parallel_njit(fastmath={"contract"}, cache=True, error_model="numpy")
def gelu_backward_into(gy, x, out, tanh):
    """out = gy * gelu'(x), elementwise."""
    n = x.shape[0]
    two = x.dtype.type(2.0)
    one = x.dtype.type(1.0)
    for b in prange((n + BLOCK - 1) // BLOCK):
        start = b * BLOCK
        stop = min(start + BLOCK, n)
        xb, gb, ob = x[start:stop], gy[start:stop], out[start:stop]
        if x.itemsize == 4:
            if tanh:
                for i in range(xb.shape[0]):
                    v = xb[i]
                    s, du = _s_du_float32(v)
                    ob[i] = gb[i] * (s + two * v * s * (one - s) * du)
            else:
                for i in range(xb.shape[0]):
                    v = xb[i]
                    cdf, pdf = _cdf_pdf_float32(v)
                    ob[i] = gb[i] * (cdf + v * pdf)
        else:
            if tanh:
                for i in range(xb.shape[0]):
                    v = xb[i]
                    s, du = _s_du_float64(v)
                    ob[i] = gb[i] * (s + two * v * s * (one - s) * du)
            else:
                for i in range(xb.shape[0]):
                    v = xb[i]
                    cdf, pdf = _cdf_pdf_float64(v)
                    ob[i] = gb[i] * (cdf + v * pdf)


# ---------------------------------------------------------------------------------------------
# Entry points used by ops.py (checked arguments, at least one element)
# ---------------------------------------------------------------------------------------------

def _flat(a):
    return np.ascontiguousarray(a).reshape(-1)


def gelu(x, approximate):
    """GELU of x; see gelu_numpy.py."""
    flat = _flat(x)
    out = np.empty_like(flat)
    gelu_into(flat, out, approximate == "tanh")
    return out.reshape(x.shape)


def gelu_backward(gy, x, approximate):
    """gy * GELU'(x); see gelu_numpy.py."""
    gy_flat, x_flat = _flat(gy), _flat(x)
    out = np.empty_like(gy_flat)
    gelu_backward_into(gy_flat, x_flat, out, approximate == "tanh")
    return out.reshape(gy.shape)
