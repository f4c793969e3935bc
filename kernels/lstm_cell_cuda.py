"""The LSTM cell's gate arithmetic on the GPU with Numba CUDA: one thread per (sample, unit).

The math is in lstm_cell_numpy.py. Every element of the cell is independent of the others,
so this is the simplest kind of GPU kernel: thread k handles sample n = k // H and hidden
unit j = k % H, reads its four gate pre-activations and c[n, j], and writes its outputs.
Neighbouring threads handle neighbouring j, so they read neighbouring addresses (coalesced).
Grid-stride loops make any grid size correct (the simulator runs tiny grids).
"""

from __future__ import annotations

import functools
import math

from numba import cuda

from . import lstm_cell_numpy
from ._cuda_launch import grid_stride_launch
from ._device import array_module


@functools.lru_cache(maxsize=None)
def _kernels():
    """Compiled on first use (importing this module compiles nothing)."""

    @cuda.jit(device=True)
    def _sigmoid(z):
        e = math.exp(-abs(z))       # exp of a non-positive number: never overflows
        return 1 / (1 + e) if z >= 0 else e / (1 + e)

    @cuda.jit
    def lstm_cell_kernel(gates, c, h_new, c_new, acts, tanh_c):
        N, H = c.shape
        for k in range(cuda.grid(1), N * H, cuda.gridsize(1)):
            n, j = k // H, k % H
            i = _sigmoid(gates[n, j])
            f = _sigmoid(gates[n, H + j])
            g = math.tanh(gates[n, 2 * H + j])
            o = _sigmoid(gates[n, 3 * H + j])
            cj = f * c[n, j] + i * g
            tc = math.tanh(cj)
            acts[n, j], acts[n, H + j], acts[n, 2 * H + j], acts[n, 3 * H + j] = i, f, g, o
            c_new[n, j], tanh_c[n, j], h_new[n, j] = cj, tc, o * tc

    @cuda.jit
    def lstm_cell_backward_kernel(acts, tanh_c, c, gh, gc, d_gates, d_c):
        N, H = c.shape
        for k in range(cuda.grid(1), N * H, cuda.gridsize(1)):
            n, j = k // H, k % H
            i, f, g, o = acts[n, j], acts[n, H + j], acts[n, 2 * H + j], acts[n, 3 * H + j]
            t = tanh_c[n, j]
            total = gc[n, j] + gh[n, j] * o * (1 - t * t)
            d_gates[n, j] = total * g * i * (1 - i)
            d_gates[n, H + j] = total * c[n, j] * f * (1 - f)
            d_gates[n, 2 * H + j] = total * i * (1 - g * g)
            d_gates[n, 3 * H + j] = gh[n, j] * t * o * (1 - o)
            d_c[n, j] = total * f

    return lstm_cell_kernel, lstm_cell_backward_kernel


def lstm_cell(gates, c):
    """(h_t, c_t, acts, tanh_c); see lstm_cell_numpy.py."""
    xp = array_module(gates)
    gates, c = xp.ascontiguousarray(gates), xp.ascontiguousarray(c)
    h_new, c_new, tanh_c = xp.empty_like(c), xp.empty_like(c), xp.empty_like(c)
    acts = xp.empty_like(gates)
    blocks, threads = grid_stride_launch(c.size)
    _kernels()[0][blocks, threads](gates, c, h_new, c_new, acts, tanh_c)
    return h_new, c_new, acts, tanh_c


def lstm_cell_backward(acts, tanh_c, c, gh, gc):
    """(d gates, dL/dc_{t-1}); see lstm_cell_numpy.py."""
    xp = array_module(acts)
    acts, tanh_c, c, gh, gc = (xp.ascontiguousarray(a) for a in (acts, tanh_c, c, gh, gc))
    d_gates, d_c = xp.empty_like(acts), xp.empty_like(c)
    blocks, threads = grid_stride_launch(c.size)
    _kernels()[1][blocks, threads](acts, tanh_c, c, gh, gc, d_gates, d_c)
    return d_gates, d_c


def lstm_sequence(x_proj, h0, c0, w_hh):
    """A layer over a sequence: the reference time loop (lstm_cell_numpy.py) around the CUDA
    cell kernel, the products on cuBLAS (or NumPy in the simulator)."""
    return lstm_cell_numpy.lstm_sequence(x_proj, h0, c0, w_hh, cell=lstm_cell)


def lstm_sequence_backward(acts, tanh_cs, cs, c0, w_hh, g_hs, g_hn, g_cn):
    """Backpropagation through time, as ``lstm_sequence``."""
    return lstm_cell_numpy.lstm_sequence_backward(acts, tanh_cs, cs, c0, w_hh, g_hs, g_hn, g_cn,
                                                  cell_backward=lstm_cell_backward)
