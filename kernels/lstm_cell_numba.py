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
* float32 sigmoid and tanh are built on ``_exp_nonpositive32`` below (the Cephes polynomial of
  ``_numba_exp.exp_nonpositive_float32``), which LLVM vectorises, instead of the C library's
  scalar ``expf``. Both only ever take exp of -|z|, so nothing overflows:

      sigmoid(z) = 1 / (1 + e)  (z >= 0)  or  e / (1 + e)  (z < 0),     e = exp(-|z|)
      tanh(z)    = sign(z) * (1 - e2) / (1 + e2),                        e2 = exp(-2|z|)

  The tanh form loses relative accuracy near 0 (1 - e2 cancels) but its *absolute* error stays
  within a few float32 ulps of 1, which is what the sum c_t = f c + i g sees; where that
  matters (float64, the gradient checks) the float64 path uses NumPy's own exp and tanh.

Rows (samples) are independent, so they are spread over threads with ``prange``. With the
OpenMP layer a parallel launch costs ~1.3 us, and one step at N = 32, H = 128 (20k input
elements, above ``SMALL_WORK``) takes the parallel build; smaller cells run the serial one
(kernels/_threads.py). The whole-layer loops at the end of this file split the batch the same
way, once for the whole sequence instead of once per step.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from . import _threads as threads
from ._make_gemm_tiles import ROWS as TILE_ROWS
from ._numba_cpu import compiled_with_slp, njit, numba, parallel_njit, prange
from ._numba_exp import LN2_HI, LN2_LO, LOG2E, P0, P1, P2, P3, P4, P5
from .gemm_packed_numba import gemm_packed_into, pack_rhs, padded_product, panel_tile

_ONE = np.float32(1.0)


@intrinsic
def _float32_from_bits(typingctx, bits):
    """The float32 whose bit pattern is ``bits`` as an int32 (NumPy's ``.view(np.float32)`` of a
    scalar, which Numba lacks): one LLVM bitcast, no instruction at all, so it vectorises.
    (Numba's integer arithmetic widens to int64; the call narrows it back.)"""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


# Below this, _exp_nonpositive32 returns 0: exp(-86.9) = 1.8e-38 is near float32's smallest
# normal number, 2**-126 = 1.2e-38, and a result below that (a subnormal) costs a slow
# microcode path on x86 CPUs in every multiply that makes or reads it.
_EXP_CUTOFF = np.float32(-86.9)


@njit(inline="always", fastmath={"contract"}, cache=True, error_model="numpy")
def _exp_nonpositive32(t):
    """exp(t) for a float32 t <= 0: ``_numba_exp.exp_nonpositive_float32``'s reduction and
    polynomial, with 2**k built from its bits, (k + 127) << 23, instead of seven multiplies
    chosen by the bits of -k: the cell's five exps per element were most of its time, and
    this exp is ~3x faster. t is clamped to _EXP_CUTOFF first (k >= -125 there, so 2**k and
    the result stay normal numbers) and the result is 0 below it; NaN gives NaN."""
    clamped = _EXP_CUTOFF if t < _EXP_CUTOFF else t
    k = np.floor(clamped * LOG2E + np.float32(0.5))       # nearest integer, -125 <= k <= 0
    r = (clamped - k * LN2_HI) - k * LN2_LO                # |r| <= ln2 / 2
    p = (((((P0 * r + P1) * r + P2) * r + P3) * r + P4) * r + P5) * r * r + r + _ONE
    k = k if k == k else np.float32(0.0)                   # NaN: p is NaN already
    scale = _float32_from_bits((np.int32(k) + np.int32(127)) << np.int32(23))
    return np.float32(0.0) if t < _EXP_CUTOFF else p * scale


@njit(inline="always", fastmath={"contract"}, cache=True, error_model="numpy")
def _sigmoid32(z):
    e = _exp_nonpositive32(-abs(z))
    return _ONE / (_ONE + e) if z >= 0 else e / (_ONE + e)


@njit(inline="always", fastmath={"contract"}, cache=True, error_model="numpy")
def _tanh32(z):
    e2 = _exp_nonpositive32(np.float32(-2.0) * abs(z))
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
# Here the loop over t is compiled and writes every step's results into slices of
# preallocated (L, ...) arrays.
#
# Threads split the *batch*, not each step. Sample n's h_t depends only on its own h_{t-1}
# and c_{t-1} (W_hh mixes hidden units, never samples), and its backward likewise, so a
# block of rows can run the whole time loop on its own: one parallel launch per sequence,
# each thread running every step of its rows with the serial product and cell. Splitting
# every step's product and cell instead costs two launches and two barriers per step, 64 per
# direction at L = 32; each barrier waits for the slower thread, and on a machine whose other
# processes take a core now and then, a thread switched out stalls the other at every step.
# The blocks are whole GEMM tiles (4 rows) so that only the last one has a partial tile.

@njit(fastmath={"contract"}, cache=True, error_model="numpy")
def _cell_after_product(gates, x_t, c_prev, h_out, c_out, acts, tanh_c):
    """A step's cell on gates = its product (rows padded) + x_t (added in place, row by row:
    each row slice is contiguous, so the cell's loops still vectorise)."""
    width = x_t.shape[1]
    for n in range(c_prev.shape[0]):
        z, x = gates[n, :width], x_t[n]
        for k in range(width):
            z[k] += x[k]
        _cell_row(z, c_prev[n], acts[n], c_out[n], tanh_c[n], h_out[n])


@njit(fastmath={"contract"}, cache=True, error_model="numpy")
def _cell_backward_after_product(acts, tanh_c, c_prev, incoming, g_h_t, dh, dc, d_gates):
    """A step's cell backward on dh = incoming (the product from step t+1, rows padded) +
    g_h_t (from the layer's output); dc is updated in place."""
    hidden = dh.shape[1]
    for n in range(dh.shape[0]):
        gh, came, out = dh[n], incoming[n, :hidden], g_h_t[n]
        for j in range(hidden):
            gh[j] = came[j] + out[j]
        _cell_backward_row(acts[n], tanh_c[n], c_prev[n], gh, dc[n], d_gates[n], dc[n])


_gemm = gemm_packed_into.serial


@compiled_with_slp
@parallel_njit(cache=True, error_model="numpy")
def lstm_sequence_into(x_proj, h0, c0, w_panels, tile, hs, cs, acts, tanh_cs, gates, bounds):
    """Forward over t = 0 .. L-1, rows bounds[b] .. bounds[b+1] as block b (one thread each);
    gates: (blocks, rows of the largest block rounded up to 4, padded 4H), each block's work
    array; tile: w_panels' ``Tile``."""
    for block in prange(bounds.shape[0] - 1):
        lo, hi = bounds[block], bounds[block + 1]
        work = gates[block]
        for t in range(x_proj.shape[0]):
            h_prev = h0[lo:hi] if t == 0 else hs[t - 1, lo:hi]
            c_prev = c0[lo:hi] if t == 0 else cs[t - 1, lo:hi]
            _gemm(h_prev, w_panels, work, tile)
            _cell_after_product(work, x_proj[t, lo:hi], c_prev, hs[t, lo:hi], cs[t, lo:hi],
                                acts[t, lo:hi], tanh_cs[t, lo:hi])


@compiled_with_slp
@parallel_njit(cache=True, error_model="numpy")
def lstm_sequence_backward_into(acts, tanh_cs, cs, c0, w_panels, tile, g_hs, g_hn, dc, d_gates,
                                dh, dh_next, dh0, bounds):
    """Backpropagation through time, t = L-1 .. 0 (L >= 1), rows in blocks as in
    ``lstm_sequence_into``. g_hn: the final h's gradient; dc starts as the final c's and ends
    as c0's; dh: a work array; dh_next: (blocks, padded rows, padded H), each block's product
    d gates_t W_hh; dh0: h0's gradient, written at the end."""
    steps, hidden = acts.shape[0], dh.shape[1]
    for block in prange(bounds.shape[0] - 1):
        lo, hi = bounds[block], bounds[block + 1]
        below = dh_next[block]
        for t in range(steps - 1, -1, -1):
            incoming = g_hn[lo:hi] if t == steps - 1 else below
            c_prev = c0[lo:hi] if t == 0 else cs[t - 1, lo:hi]
            _cell_backward_after_product(acts[t, lo:hi], tanh_cs[t, lo:hi], c_prev, incoming,
                                         g_hs[t, lo:hi], dh[lo:hi], dc[lo:hi],
                                         d_gates[t, lo:hi])
            _gemm(d_gates[t, lo:hi], w_panels, below, tile)
        dh0[lo:hi] = below[:hi - lo, :hidden]


def _row_blocks(n, blocks):
    """Bounds of at most ``blocks`` blocks of whole 4-row tiles covering n rows, as even as
    whole tiles allow: block b is rows bounds[b] .. bounds[b+1]."""
    tiles = -(-n // TILE_ROWS)
    blocks = max(1, min(blocks, tiles))
    return np.array([min(n, TILE_ROWS * (b * tiles // blocks)) for b in range(blocks + 1)],
                    dtype=np.int64)


def _work_arrays(bounds, w_panels, k_len, dtype):
    """Each block's product array (``padded_product`` for its largest block), stacked."""
    rows = int((bounds[1:] - bounds[:-1]).max())
    return np.empty((len(bounds) - 1,) + padded_product(rows, w_panels, k_len, dtype).shape,
                    dtype=dtype)


def _runs_parallel(steps, n, four_h, hidden):
    """The whole layer is one launch: parallel if it reads enough elements for the rule of
    kernels/_threads.py (every step reads N x 4H and 4H x H) and there are two row tiles to
    share out."""
    work = steps * (n * four_h + four_h * hidden)
    return n > TILE_ROWS and threads.build_for(work) == "parallel"


def _run_blocks(kernel, blocks, n, run):
    """``run(kernel's build, row bounds)``. ``blocks``: how many blocks of rows (1: the serial
    build); None: one per thread ``threads.launch`` gives the parallel build (it may lower
    Numba's thread count for this launch, or run the serial build instead)."""
    if blocks == 1:
        return run(kernel.serial, _row_blocks(n, 1))
    if blocks is not None:
        return run(kernel.parallel, _row_blocks(n, blocks))
    return threads.launch(lambda: run(kernel.parallel, _row_blocks(n, numba.get_num_threads())),
                          lambda: run(kernel.serial, _row_blocks(n, 1)))


def _blocks_for(steps, n, four_h, hidden):
    """None (as many blocks as threads) if ``_runs_parallel``, else 1."""
    return None if _runs_parallel(steps, n, four_h, hidden) else 1


def lstm_sequence(x_proj, h0, c0, w_hh, blocks=None):
    """(hs, cs, acts, tanh_cs); see lstm_cell_numpy.py. ``blocks``: split the batch into that
    many blocks of rows (see above; default: one per thread, or a single one when the layer
    is small). Every split gives the same numbers."""
    x_proj, h0, c0 = (np.ascontiguousarray(a) for a in (x_proj, h0, c0))
    steps, n, four_h = x_proj.shape
    hidden = four_h // 4
    hs, cs, tanh_cs = (np.empty((steps, n, hidden), dtype=x_proj.dtype) for _ in range(3))
    acts = np.empty_like(x_proj)
    w_panels = pack_rhs(w_hh.T)                                        # B = W_hh^T (H, 4H)
    tile = panel_tile(w_panels, hidden)

    def run(build, bounds):
        gates = _work_arrays(bounds, w_panels, hidden, x_proj.dtype)
        build(x_proj, h0, c0, w_panels, tile, hs, cs, acts, tanh_cs, gates, bounds)
    if blocks is None:
        blocks = _blocks_for(steps, n, four_h, hidden)
    _run_blocks(lstm_sequence_into, blocks, n, run)
    return hs, cs, acts, tanh_cs


def lstm_sequence_backward(acts, tanh_cs, cs, c0, w_hh, g_hs, g_hn, g_cn, blocks=None):
    """(d_gates, dL/dh0, dL/dc0); see lstm_cell_numpy.py. ``blocks``: as in
    ``lstm_sequence``."""
    acts, tanh_cs, cs, c0, g_hs, g_hn = (np.ascontiguousarray(a, dtype=acts.dtype)
                                         for a in (acts, tanh_cs, cs, c0, g_hs, g_hn))
    steps, n, four_h = acts.shape
    hidden = four_h // 4
    dc = np.array(g_cn, dtype=acts.dtype, order="C")          # our own copy, updated in place
    if steps == 0:
        return np.empty_like(acts), g_hn.copy(), dc
    w_panels = pack_rhs(w_hh)                                          # B = W_hh (4H, H)
    tile = panel_tile(w_panels, four_h)
    d_gates, dh, dh0 = np.empty_like(acts), np.empty_like(c0), np.empty_like(c0)

    def run(build, bounds):
        dh_next = _work_arrays(bounds, w_panels, four_h, acts.dtype)
        build(acts, tanh_cs, cs, c0, w_panels, tile, g_hs, g_hn, dc, d_gates, dh, dh_next, dh0,
              bounds)
    if blocks is None:
        blocks = _blocks_for(steps, n, four_h, hidden)
    _run_blocks(lstm_sequence_backward_into, blocks, n, run)
    return d_gates, dh0, dc
