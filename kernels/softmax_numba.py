"""Softmax and log-softmax on the CPU with Numba: one fused kernel per op, parallel over rows.

The math (and why we subtract the row maximum) is in softmax_numpy.py. What changes here is
how the work meets the memory:

* NumPy evaluates ``e = exp(x - max(x)); e / sum(e)`` as five separate passes, each reading a
  whole array from memory and most writing a new temporary. Here each thread takes whole rows
  and does every step for one row before moving on. A row (4096 float32 = 16 KiB) stays in the
  core's L1/L2 cache between steps, so main memory sees x read once and y written once.
* Rows are independent, so ``prange`` spreads them over threads with no synchronisation.
* exp is our vectorisable ``exp_float32`` (see _numba_exp.py) for float32; a scalar ``expf``
  call per element would cost more than all the memory traffic saved. float64 uses ``np.exp``.

Why not "online softmax" (one pass keeping a running max m and a running sum s, rescaled by
exp(m_old - m_new) whenever the max grows)? It saves a pass over *memory*, which matters on a
GPU where a row is re-read from global memory (softmax_cuda.py uses it). On a CPU the row is
already in cache for the second pass, while online softmax needs two exps per element and a
loop-carried dependency that stops vectorisation: written with the same fast exp, it took
54 ms against this kernel's 13 ms on 4096x4096 float32 during development (docs/kernels.md).

All kernels use ``error_model="numpy"``: a division by zero gives inf or NaN, as in NumPy,
instead of raising ZeroDivisionError (which also saves a test per division).

Sums are accumulated in float64 (a few thousand float32 terms would otherwise lose digits).
Only the sums may be reassociated (``fastmath={"reassoc"}``), which lets LLVM vectorise them.
They are plain ``@njit`` functions, not ``inline="always"`` ones like the other helpers:
Numba compiles an inlined helper with its caller's flags, so the caller's lack of
``reassoc`` would keep every addition waiting for the one before (softmax_backward of
(4096, 64) float32 rows: 179 us that way, 48 us this way, serial build); a plain function is
compiled with its own flags and LLVM inlines it keeping them;
no flag that assumes "no NaN / no inf" is used anywhere: -inf entries (masked positions) must
give exactly 0 probability, and a NaN must propagate to its row as it does in NumPy.
"""

from __future__ import annotations

import numpy as np

from ._numba_cpu import njit, parallel_njit, prange
from ._numba_exp import exp_float32, exp_nonpositive_float32

# ---------------------------------------------------------------------------------------------
# Row helpers. Each loops over ``range(n)`` of a contiguous row, the form LLVM vectorises.
# ``row.itemsize == 4`` is known when Numba compiles for a dtype, so the branch costs nothing.
# ---------------------------------------------------------------------------------------------

@njit(inline="always", cache=True, error_model="numpy")
def _row_max(row):
    m = row[0]
    for j in range(row.shape[0]):
        m = max(m, row[j])
    return m


@njit(fastmath={"reassoc"}, cache=True, error_model="numpy")
def _row_sum(row):
    total = 0.0                      # float64 accumulator
    for j in range(row.shape[0]):
        total += row[j]
    return total


@njit(fastmath={"reassoc"}, cache=True, error_model="numpy")
def _row_dot(u, v):
    total = 0.0
    for j in range(u.shape[0]):
        total += np.float64(u[j]) * np.float64(v[j])
    return total


@njit(inline="always", fastmath={"contract"}, cache=True, error_model="numpy")
def _exp_shifted_row(row, row_max, out):
    """out[j] = exp(row[j] - row_max); every exponent is <= 0."""
    if row.itemsize == 4:
        for j in range(row.shape[0]):
            out[j] = exp_nonpositive_float32(row[j] - row_max)
    else:
        for j in range(row.shape[0]):
            out[j] = np.exp(row[j] - row_max)


@njit(inline="always", fastmath={"contract"}, cache=True, error_model="numpy")
def _exp_row(row, out):
    """out[j] = exp(row[j])."""
    if row.itemsize == 4:
        for j in range(row.shape[0]):
            out[j] = exp_float32(row[j])
    else:
        for j in range(row.shape[0]):
            out[j] = np.exp(row[j])


@njit(inline="always", cache=True, error_model="numpy")
def _scale_row(row, factor):
    """row[j] *= factor, in the row's own precision (factor is a float64 scalar)."""
    if row.itemsize == 4:
        f = np.float32(factor)
        for j in range(row.shape[0]):
            row[j] *= f
    else:
        for j in range(row.shape[0]):
            row[j] *= factor


# ---------------------------------------------------------------------------------------------
# Kernels over 2-D arrays of rows (C-contiguous, at least one column)
# ---------------------------------------------------------------------------------------------

@parallel_njit(cache=True, error_model="numpy")
def softmax_rows(x, y):
    """y[r] = softmax(x[r]) for every row r."""
    for r in prange(x.shape[0]):
        m = _row_max(x[r])
        _exp_shifted_row(x[r], m, y[r])            # y holds exp(x - m) ...
        _scale_row(y[r], 1.0 / _row_sum(y[r]))   # ... then is normalised in place


@parallel_njit(cache=True, error_model="numpy")
def log_softmax_rows(x, y):
    """y[r] = (x[r] - m) - log(sum(exp(x[r] - m))), m = max(x[r])."""
    for r in prange(x.shape[0]):
        xr, yr = x[r], y[r]
        m = _row_max(xr)
        _exp_shifted_row(xr, m, yr)               # scratch: y holds exp(x - m) only to be summed
        log_sum = np.log(_row_sum(yr))
        for j in range(xr.shape[0]):
            yr[j] = (xr[j] - m) - log_sum


@parallel_njit(fastmath={"contract"}, cache=True, error_model="numpy")
def softmax_backward_rows(y, gy, gx):
    """gx[r] = y[r] * (gy[r] - sum(gy[r] * y[r]))."""
    for r in prange(y.shape[0]):
        yr, gyr, gxr = y[r], gy[r], gx[r]
        dot = _row_dot(yr, gyr)
        for j in range(yr.shape[0]):
            gxr[j] = yr[j] * (gyr[j] - dot)


@parallel_njit(fastmath={"contract"}, cache=True, error_model="numpy")
def log_softmax_backward_rows(y, gy, gx):
    """gx[r] = gy[r] - exp(y[r]) * sum(gy[r])."""
    for r in prange(y.shape[0]):
        yr, gyr, gxr = y[r], gy[r], gx[r]
        total = _row_sum(gyr)
        _exp_row(yr, gxr)                 # gx holds exp(y) ...
        for j in range(yr.shape[0]):
            gxr[j] = gyr[j] - gxr[j] * total   # ... then becomes the gradient


# ---------------------------------------------------------------------------------------------
# Entry points used by ops.py: 2-D float arrays, softmax over the last axis, no empty rows.
# ---------------------------------------------------------------------------------------------

def _run(kernel, *arrays):
    arrays = [np.ascontiguousarray(a) for a in arrays]
    out = np.empty_like(arrays[0])
    kernel(*arrays, out)
    return out


def softmax(x):
    return _run(softmax_rows, x)


def log_softmax(x):
    return _run(log_softmax_rows, x)


def softmax_backward(y, gy):
    return _run(softmax_backward_rows, y, gy)


def log_softmax_backward(y, gy):
    return _run(log_softmax_backward_rows, y, gy)
