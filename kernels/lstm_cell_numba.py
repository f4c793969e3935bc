"""The LSTM cell's gate arithmetic on the CPU with Numba: one pass instead of fifteen.

The math is in lstm_cell_numpy.py. NumPy evaluates it one operation at a time: every sigmoid,
product and sum is a call that walks a (N, H) array and writes a temporary. At teaching sizes
(N = 32, H = 128: 4096 elements per gate) each call costs a few microseconds, mostly the call
itself, and an LSTM step makes about fifteen of them forward and as many backward: more than
the step's matrix product. Here each element of the cell is computed start to finish in one
loop iteration, reading gates and c once and writing each output once.

Two details keep the loop fast:

* the inner loop runs over ``range(H)`` of row slices, the form LLVM vectorises (see
  matmul_numba.py's pitfall note);
* float32 sigmoid and tanh are built on ``_numba_exp.exp_nonpositive_float32``, which LLVM can
  vectorise, instead of the C library's scalar ``expf``. Both only ever take exp of -|z|, so
  nothing overflows:

      sigmoid(z) = 1 / (1 + e)  (z >= 0)  or  e / (1 + e)  (z < 0),     e = exp(-|z|)
      tanh(z)    = sign(z) * (1 - e2) / (1 + e2),                        e2 = exp(-2|z|)

  The tanh form loses relative accuracy near 0 (1 - e2 cancels) but its *absolute* error stays
  within a few float32 ulps of 1, which is what the sum c_t = f c + i g sees; where that
  matters (float64, the gradient checks) the float64 path uses NumPy's own exp and tanh.

Rows (samples) are independent, so they are spread over threads with ``prange``. With the
OpenMP layer a parallel launch costs ~1.3 us, and one step at N = 32, H = 128 (20k input
elements, above ``SMALL_WORK``) takes the parallel build; smaller cells run the serial one
(kernels/_threads.py).
"""

from __future__ import annotations

import numpy as np

from ._numba_cpu import njit, parallel_njit, prange
from ._numba_exp import exp_nonpositive_float32

_ONE = np.float32(1.0)


@njit(inline="always", fastmath={"contract"}, cache=True, error_model="numpy")
def _sigmoid32(z):
    e = exp_nonpositive_float32(-abs(z))
    return _ONE / (_ONE + e) if z >= 0 else e / (_ONE + e)


@njit(inline="always", fastmath={"contract"}, cache=True, error_model="numpy")
def _tanh32(z):
    e2 = exp_nonpositive_float32(np.float32(-2.0) * abs(z))
    t = (_ONE - e2) / (_ONE + e2)
    return t if z >= 0 else -t


@njit(inline="always", cache=True, error_model="numpy")
def _sigmoid64(z):
    e = np.exp(-abs(z))
    return 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)


@parallel_njit(fastmath={"contract"}, cache=True, error_model="numpy")
def lstm_cell_into(gates, c, h_new, c_new, acts, tanh_c):
    """One pass over the cell: fills h_new, c_new, tanh_c (N, H) and acts (N, 4H)."""
    N, H = c.shape
    for n in prange(N):
        z = gates[n]
        a_i, a_f, a_g, a_o = acts[n, :H], acts[n, H:2 * H], acts[n, 2 * H:3 * H], acts[n, 3 * H:]
        z_i, z_f, z_g, z_o = z[:H], z[H:2 * H], z[2 * H:3 * H], z[3 * H:]
        c_old, c_out, t_out, h_out = c[n], c_new[n], tanh_c[n], h_new[n]
        if gates.itemsize == 4:        # known at compile time: one branch per dtype
            for j in range(H):
                i, f, g, o = _sigmoid32(z_i[j]), _sigmoid32(z_f[j]), _tanh32(z_g[j]), _sigmoid32(z_o[j])
                cj = f * c_old[j] + i * g
                tc = _tanh32(cj)
                a_i[j], a_f[j], a_g[j], a_o[j] = i, f, g, o
                c_out[j], t_out[j], h_out[j] = cj, tc, o * tc
        else:
            for j in range(H):
                i, f, g, o = _sigmoid64(z_i[j]), _sigmoid64(z_f[j]), np.tanh(z_g[j]), _sigmoid64(z_o[j])
                cj = f * c_old[j] + i * g
                tc = np.tanh(cj)
                a_i[j], a_f[j], a_g[j], a_o[j] = i, f, g, o
                c_out[j], t_out[j], h_out[j] = cj, tc, o * tc


@parallel_njit(fastmath={"contract"}, cache=True, error_model="numpy")
def lstm_cell_backward_into(acts, tanh_c, c, gh, gc, d_gates, d_c):
    """One pass over the backward formula: fills d_gates (N, 4H) and d_c (N, H)."""
    N, H = c.shape
    for n in prange(N):
        a = acts[n]
        a_i, a_f, a_g, a_o = a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:]
        d = d_gates[n]
        d_i, d_f, d_g, d_o = d[:H], d[H:2 * H], d[2 * H:3 * H], d[3 * H:]
        tc, c_old, g_h, g_c, dc_out = tanh_c[n], c[n], gh[n], gc[n], d_c[n]
        for j in range(H):
            i, f, g, o, t = a_i[j], a_f[j], a_g[j], a_o[j], tc[j]
            total = g_c[j] + g_h[j] * o * (1 - t * t)
            d_i[j] = total * g * i * (1 - i)
            d_f[j] = total * c_old[j] * f * (1 - f)
            d_g[j] = total * i * (1 - g * g)
            d_o[j] = g_h[j] * t * o * (1 - o)
            dc_out[j] = total * f


def lstm_cell(gates, c):
    """(h_t, c_t, acts, tanh_c); see lstm_cell_numpy.py."""
    gates, c = np.ascontiguousarray(gates), np.ascontiguousarray(c)
    h_new, c_new, tanh_c = np.empty_like(c), np.empty_like(c), np.empty_like(c)
    acts = np.empty_like(gates)
    lstm_cell_into(gates, c, h_new, c_new, acts, tanh_c)
    return h_new, c_new, acts, tanh_c


def lstm_cell_backward(acts, tanh_c, c, gh, gc):
    """(d gates, dL/dc_{t-1}); see lstm_cell_numpy.py."""
    acts, tanh_c, c, gh, gc = (np.ascontiguousarray(a) for a in (acts, tanh_c, c, gh, gc))
    d_gates, d_c = np.empty_like(acts), np.empty_like(c)
    lstm_cell_backward_into(acts, tanh_c, c, gh, gc, d_gates, d_c)
    return d_gates, d_c
