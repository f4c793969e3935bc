"""The LSTM cell's gate arithmetic on the CPU with Numba: one pass instead of fifteen.

The math is in lstm_cell_numpy.py. NumPy evaluates it one operation at a time: every sigmoid,
product and sum is a call that walks a (N, H) array and writes a temporary. At teaching sizes
(N = 32, H = 128: 4096 elements per gate) each call costs a few microseconds, mostly the call
itself, and an LSTM step makes about fifteen of them forward and as many backward: more than
the step's matrix product. Here each element of the cell is computed start to finish in one
loop iteration, reading gates and c once and writing each output once.

Two details keep the loop fast:

* the inner loop runs over ``range(H)`` of row slices, the form LLVM vectorises (see
  gemm_broadcast_numba.py's pitfall note);
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

from . import _threads as threads
from ._numba_cpu import njit, parallel_njit, prange, slp_vectorizer
from ._numba_exp import exp_nonpositive_float32
from .gemm_packed_numba import gemm_packed_into, pack_rhs, padded_product, panel_tile

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


@njit(inline="always", fastmath={"contract"}, cache=True, error_model="numpy")
def _cell_row(z, c_old, a, c_out, t_out, h_out):
    """One sample's cell: z (4H) the gate pre-activations, c_old (H); writes a (4H) and
    c_out, t_out, h_out (H)."""
    H = c_old.shape[0]
    a_i, a_f, a_g, a_o = a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:]
    z_i, z_f, z_g, z_o = z[:H], z[H:2 * H], z[2 * H:3 * H], z[3 * H:]
    if z.itemsize == 4:            # known at compile time: one branch per dtype
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


@njit(inline="always", fastmath={"contract"}, cache=True, error_model="numpy")
def _cell_backward_row(a, tc, c_old, g_h, g_c, d, dc_out):
    """One sample's cell backward: writes d (4H) and dc_out (H) (dc_out may be g_c itself:
    each element is read before it is written)."""
    H = c_old.shape[0]
    a_i, a_f, a_g, a_o = a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:]
    d_i, d_f, d_g, d_o = d[:H], d[H:2 * H], d[2 * H:3 * H], d[3 * H:]
    for j in range(H):
        i, f, g, o, t = a_i[j], a_f[j], a_g[j], a_o[j], tc[j]
        total = g_c[j] + g_h[j] * o * (1 - t * t)
        d_i[j] = total * g * i * (1 - i)
        d_f[j] = total * c_old[j] * f * (1 - f)
        d_g[j] = total * i * (1 - g * g)
        d_o[j] = g_h[j] * t * o * (1 - o)
        dc_out[j] = total * f


@parallel_njit(fastmath={"contract"}, cache=True, error_model="numpy")
def lstm_cell_into(gates, c, h_new, c_new, acts, tanh_c):
    """One pass over the cell: fills h_new, c_new, tanh_c (N, H) and acts (N, 4H)."""
    for n in prange(c.shape[0]):
        _cell_row(gates[n], c[n], acts[n], c_new[n], tanh_c[n], h_new[n])


@parallel_njit(fastmath={"contract"}, cache=True, error_model="numpy")
def lstm_cell_backward_into(acts, tanh_c, c, gh, gc, d_gates, d_c):
    """One pass over the backward formula: fills d_gates (N, 4H) and d_c (N, H)."""
    for n in prange(c.shape[0]):
        _cell_backward_row(acts[n], tanh_c[n], c[n], gh[n], gc[n], d_gates[n], d_c[n])


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


# ---------------------------------------------------------------------------------------------
# A whole layer over a sequence (the math: lstm_cell_numpy.py): the time loop runs in Numba
# ---------------------------------------------------------------------------------------------
#
# Each step is one product and one cell, and both are already kernels (the packed GEMM with
# W_hh packed once, the cell above). Called from Python, a step also paid ~10 us of Python
# around them (dispatch, allocation, slicing), as much as the cell itself at N = 32, H = 128.
# Here the loop over t is compiled: it calls the same two kernels' parallel (or serial) builds
# directly, and writes every step's results into slices of preallocated (L, ...) arrays.

@parallel_njit(fastmath={"contract"}, cache=True, error_model="numpy")
def _cell_after_product_into(gates, x_t, c_prev, h_out, c_out, acts, tanh_c):
    """A step's cell, rows in parallel, on gates = its product (rows padded) + x_t (added in
    place, row by row: each row slice is contiguous, so the cell's loops still vectorise)."""
    width = x_t.shape[1]
    for n in prange(c_prev.shape[0]):
        z, x = gates[n, :width], x_t[n]
        for k in range(width):
            z[k] += x[k]
        _cell_row(z, c_prev[n], acts[n], c_out[n], tanh_c[n], h_out[n])


@parallel_njit(fastmath={"contract"}, cache=True, error_model="numpy")
def _cell_backward_after_product_into(acts, tanh_c, c_prev, incoming, g_h_t, dh, dc, d_gates):
    """A step's cell backward, rows in parallel, on dh = incoming (the product from step
    t+1, rows padded) + g_h_t (from the layer's output); dc is updated in place."""
    hidden = dh.shape[1]
    for n in prange(dh.shape[0]):
        gh, came, out = dh[n], incoming[n, :hidden], g_h_t[n]
        for j in range(hidden):
            gh[j] = came[j] + out[j]
        _cell_backward_row(acts[n], tanh_c[n], c_prev[n], gh, dc[n], d_gates[n], dc[n])


_gemm_parallel, _gemm_serial = gemm_packed_into.parallel, gemm_packed_into.serial
_cell_parallel = _cell_after_product_into.parallel
_cell_serial = _cell_after_product_into.serial
_cell_backward_parallel = _cell_backward_after_product_into.parallel
_cell_backward_serial = _cell_backward_after_product_into.serial


@njit(cache=True, error_model="numpy")
def lstm_sequence_into(x_proj, h0, c0, w_panels, tile, hs, cs, acts, tanh_cs, gates, parallel):
    """Forward over t = 0 .. L-1; gates: a (N rounded up to 4, padded 4H) work array; tile:
    w_panels' ``Tile``."""
    for t in range(x_proj.shape[0]):
        h_prev = h0 if t == 0 else hs[t - 1]
        c_prev = c0 if t == 0 else cs[t - 1]
        if parallel:
            _gemm_parallel(h_prev, w_panels, gates, tile)
            _cell_parallel(gates, x_proj[t], c_prev, hs[t], cs[t], acts[t], tanh_cs[t])
        else:
            _gemm_serial(h_prev, w_panels, gates, tile)
            _cell_serial(gates, x_proj[t], c_prev, hs[t], cs[t], acts[t], tanh_cs[t])


@njit(cache=True, error_model="numpy")
def lstm_sequence_backward_into(acts, tanh_cs, cs, c0, w_panels, tile, g_hs, g_hn, dc, d_gates,
                                dh, dh_next, parallel):
    """Backpropagation through time, t = L-1 .. 0 (L >= 1). g_hn: the final h's gradient; dc
    starts as the final c's and ends as c0's; dh: a work array; dh_next (N rounded up to 4,
    padded H) ends holding h0's gradient in its top-left corner."""
    steps = acts.shape[0]
    for t in range(steps - 1, -1, -1):
        incoming = g_hn if t == steps - 1 else dh_next
        c_prev = c0 if t == 0 else cs[t - 1]
        if parallel:
            _cell_backward_parallel(acts[t], tanh_cs[t], c_prev, incoming, g_hs[t], dh, dc,
                                    d_gates[t])
            _gemm_parallel(d_gates[t], w_panels, dh_next, tile)
        else:
            _cell_backward_serial(acts[t], tanh_cs[t], c_prev, incoming, g_hs[t], dh, dc,
                                  d_gates[t])
            _gemm_serial(d_gates[t], w_panels, dh_next, tile)


def _runs_parallel(n, four_h, hidden):
    """One step's product reads N x 4H (or H) and 4H x H elements: the same rule as a single
    product (kernels/_threads.py)."""
    return threads.build_for(n * four_h + four_h * hidden) == "parallel"


def _run_build(run, parallel):
    """``run(parallel)`` through ``threads.launch`` (a second Python thread may not share the
    parallel runtime on every threading layer)."""
    if not parallel:
        return run(False)
    return threads.launch(lambda: run(True), lambda: run(False))


def lstm_sequence(x_proj, h0, c0, w_hh):
    """(hs, cs, acts, tanh_cs); see lstm_cell_numpy.py."""
    x_proj, h0, c0 = (np.ascontiguousarray(a) for a in (x_proj, h0, c0))
    steps, n, four_h = x_proj.shape
    hidden = four_h // 4
    hs, cs, tanh_cs = (np.empty((steps, n, hidden), dtype=x_proj.dtype) for _ in range(3))
    acts = np.empty_like(x_proj)
    w_panels = pack_rhs(w_hh.T)                                        # B = W_hh^T (H, 4H)
    gates = padded_product(n, w_panels, hidden, x_proj.dtype)
    def run(parallel):
        lstm_sequence_into(x_proj, h0, c0, w_panels, panel_tile(w_panels, hidden), hs, cs, acts,
                           tanh_cs, gates, parallel)
    with slp_vectorizer():
        _run_build(run, _runs_parallel(n, four_h, hidden))
    return hs, cs, acts, tanh_cs


def lstm_sequence_backward(acts, tanh_cs, cs, c0, w_hh, g_hs, g_hn, g_cn):
    """(d_gates, dL/dh0, dL/dc0); see lstm_cell_numpy.py."""
    acts, tanh_cs, cs, c0, g_hs, g_hn = (np.ascontiguousarray(a, dtype=acts.dtype)
                                         for a in (acts, tanh_cs, cs, c0, g_hs, g_hn))
    n, hidden = c0.shape
    dc = np.array(g_cn, dtype=acts.dtype, order="C")          # our own copy, updated in place
    if acts.shape[0] == 0:
        return np.empty_like(acts), g_hn.copy(), dc
    w_panels = pack_rhs(w_hh)                                          # B = W_hh (4H, H)
    d_gates = np.empty_like(acts)
    dh = np.empty_like(c0)
    dh_next = padded_product(n, w_panels, 4 * hidden, acts.dtype)
    def run(parallel):
        lstm_sequence_backward_into(acts, tanh_cs, cs, c0, w_panels, panel_tile(w_panels, 4 * hidden),
                                    g_hs, g_hn, dc, d_gates, dh, dh_next, parallel)
    with slp_vectorizer():
        _run_build(run, _runs_parallel(n, 4 * hidden, hidden))
    return d_gates, np.ascontiguousarray(dh_next[:n, :hidden]), dc
