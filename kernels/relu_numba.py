"""ReLU and its backward on the CPU with Numba: one pass each, no temporaries.

The math is in relu_numpy.py. NumPy is slow at both here, for different reasons:

* forward: ``np.maximum(x, 0)`` is a binary ufunc whose second operand is a broadcast scalar,
  and it must propagate NaN, so it does not take NumPy's fastest loop (0.25 ms on a
  (64, 16, 28, 28) float32 array, where this loop takes ~0.06 ms);
* backward: ``gy * (y > 0)`` is three passes (compare into a bool array, convert it to gy's
  dtype, multiply), each writing a temporary the size of the input.

Here each element is read once and written once. Both loops are a *select*
(``zero if v <= zero else v``), which LLVM turns into vector compare + blend instructions:
no branch per element. Two details keep it so:

* the loops run over ``range(n)`` of raveled, C-contiguous 1-D arrays (the functions below
  make them so), the form LLVM vectorises (see gemm_broadcast_numba.py's pitfall note);
* zero is written ``x.dtype.type(0)``, a constant of the array's own dtype: a bare ``0`` or
  ``0.0`` is an int64/float64 literal to Numba and float32 comparisons would go through
  float64.

``zero if v <= zero else v`` rather than ``max(v, zero)``: NaN <= 0 is False, so NaN stays NaN
(as with ``np.maximum``); -0.0 <= 0 is True, so -0.0 becomes +0.0 (which is what
``np.maximum(x, 0)`` returns for float32/float64 here, so the two agree bit for bit).

The kernels are serial: ReLU is memory-bound (one read, one write per element), and entering
a ``parallel=True`` function costs ~90 us on the 2-core machine this was written on, more than
the whole pass over a CNN layer's activations (kernels/_threads.py).
"""

from __future__ import annotations

import numpy as np

from ._numba_cpu import njit


@njit(cache=True, error_model="numpy")
def relu_into(x, out):
    """out[i] = max(x[i], 0) for 1-D C-contiguous x and out (NaN stays NaN)."""
    zero = x.dtype.type(0)
    for i in range(x.size):
        v = x[i]
        out[i] = zero if v <= zero else v


@njit(cache=True, error_model="numpy")
def relu_backward_into(gy, y, out):
    """out[i] = gy[i] if y[i] > 0 else 0, for 1-D C-contiguous arrays of one length."""
    zero = gy.dtype.type(0)
    yzero = y.dtype.type(0)
    for i in range(gy.size):
        out[i] = gy[i] if y[i] > yzero else zero


def relu(x):
    """max(x, 0); see relu_numpy.py."""
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty_like(flat)
    relu_into(flat, out)
    return out.reshape(x.shape)


def relu_backward(gy, y):
    """gy where y > 0, else 0; see relu_numpy.py."""
    gy_flat = np.ascontiguousarray(gy).reshape(-1)
    y_flat = np.ascontiguousarray(y).reshape(-1)
    out = np.empty_like(gy_flat)
    relu_backward_into(gy_flat, y_flat, out)
    return out.reshape(gy.shape)
