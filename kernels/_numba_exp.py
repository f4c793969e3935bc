"""exp(t) for float32, written so that LLVM can vectorise loops that call it.

Why not just ``np.exp`` inside a Numba loop? Numba compiles ``np.exp(t)`` on a scalar into a call
of the C library's ``expf``. LLVM vectorises loops of additions and multiplications into SIMD
instructions (16 float32 lanes with AVX-512), but it cannot vectorise a loop that calls a
library function: every element pays for one scalar call. NumPy's own ``np.exp`` on whole arrays
uses hand-written SIMD code, so a "fused" Numba softmax built on scalar ``expf`` only breaks even
with NumPy's five separate passes over memory.

The fix is the classic one (this is Cephes' ``expf``, the algorithm most C libraries use):

    t = k*ln2 + r     with k = round(t / ln2) an integer and |r| <= ln2/2
    exp(t) = 2**k * exp(r)

* ``r`` is computed as ``t - k*LN2_HI - k*LN2_LO``: ln2 split in two so ``k*LN2_HI`` is exact
  (LN2_HI has few mantissa bits); a single ``t - k*ln2`` would lose up to ~|k| ulp.
* ``exp(r)`` on the small interval is a degree-6 polynomial (Cephes' minimax coefficients).
* ``2**k`` (k <= 0 here) is a product of the constants 2**-1, 2**-2, 2**-4, ..., 2**-64, one
  per set bit of -k: exact, and made only of multiplies and selects. (C code would write k
  into the exponent bits of the float; Numba has no bit cast for scalars.)

Softmax only ever needs exp of numbers <= 0 (x minus the row maximum), which is what
``exp_nonpositive_float32`` computes; ``exp_float32`` covers the rest with exp(t) = 1/exp(-t).
Everything is arithmetic and range checks, which LLVM turns into vector selects. Accuracy: at
most ~1.5 ulp against a float64 exp for t <= 0 and ~2.5 ulp for t > 0 (tested in
tests/kernels/test_kernels_numba_exp.py). Results below float32's smallest normal number
(|t| > 87.34) are flushed to 0 (t < 0) or inf (t > 0; the true overflow is at t = 88.72).
"""

from __future__ import annotations

import numpy as np

from ._numba_cpu import njit

_f32 = np.float32
LOG2E = _f32(1.4426950408889634)     # 1 / ln 2
LN2_HI = _f32(0.693359375)           # ln 2 = LN2_HI + LN2_LO, LN2_HI exact in 9 bits
LN2_LO = _f32(-2.12194440e-4)
EXP_UNDERFLOW = _f32(-87.33655)      # exp(t) < smallest normal float32 below this
# exp(r) ~= 1 + r + r^2 * P(r) on |r| <= ln2/2 (Cephes expf)
P0, P1, P2 = _f32(1.9875691500e-4), _f32(1.3981999507e-3), _f32(8.3334519073e-3)
P3, P4, P5 = _f32(4.1665795894e-2), _f32(1.6666665459e-1), _f32(5.0000001201e-1)
# 2**-(2**b) for the bits b = 0..6 of -k (0 <= -k <= 126)
TWO_POW_M1, TWO_POW_M2, TWO_POW_M4, TWO_POW_M8 = _f32(2.0**-1), _f32(2.0**-2), _f32(2.0**-4), _f32(2.0**-8)
TWO_POW_M16, TWO_POW_M32, TWO_POW_M64 = _f32(2.0**-16), _f32(2.0**-32), _f32(2.0**-64)


@njit(inline="always", fastmath={"contract"}, cache=True, error_model="numpy")
def exp_nonpositive_float32(t):
    """exp(t) for a float32 scalar t <= 0 (NaN gives NaN); vectorisable in a loop."""
    if t < EXP_UNDERFLOW:
        return _f32(0.0)
    k = np.floor(t * LOG2E + _f32(0.5))          # nearest integer to t / ln2, <= 0
    r = (t - k * LN2_HI) - k * LN2_LO           # |r| <= ln2 / 2
    p = (((((P0 * r + P1) * r + P2) * r + P3) * r + P4) * r + P5) * r * r + r + _f32(1.0)
    bits = np.int32(-k)                          # multiply by 2**k = 2**-bits, bit by bit
    if bits & 1:
        p *= TWO_POW_M1
    if bits & 2:
        p *= TWO_POW_M2
    if bits & 4:
        p *= TWO_POW_M4
    if bits & 8:
        p *= TWO_POW_M8
    if bits & 16:
        p *= TWO_POW_M16
    if bits & 32:
        p *= TWO_POW_M32
    if bits & 64:
        p *= TWO_POW_M64
    return p


@njit(inline="always", fastmath={"contract"}, cache=True, error_model="numpy")
def exp_float32(t):
    """exp(t) for any float32 scalar t, as exp(t) = 1 / exp(-t) when t > 0; vectorisable."""
    e = exp_nonpositive_float32(-abs(t))
    return _f32(1.0) / e if t > 0 else e
