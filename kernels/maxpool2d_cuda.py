"""2-D max pooling on the GPU with Numba CUDA: one thread per output, one thread per input.

The math is in maxpool2d_numpy.py, the loop over a window in maxpool2d_numba.py.

* ``max_pool2d_kernel``: one thread per output element walks its window (only the positions
  inside the plane) and writes the maximum and its position. Neighbouring threads handle
  neighbouring outputs of a row, which read neighbouring input pixels: coalesced loads.
* ``max_pool2d_backward_kernel``: one thread per *input* pixel gathers the gy of every
  output whose window covers it and chose it. The CPU version scatters instead (each output
  adds itself to its winner); thousands of GPU threads scattering at once would collide where
  windows overlap and need atomic adds. Gathering writes each gx element once, without
  atomics, and the sum does not depend on thread timing (as col2im in conv2d_cuda.py).

Both use grid-stride loops, so any grid size is correct (the simulator runs tiny grids).
"""

from __future__ import annotations

import functools

from numba import cuda

from ._cuda_launch import covering_output, grid_stride_launch
from ._device import array_module
from .maxpool2d_numpy import lowest_value


@functools.lru_cache(maxsize=None)
def _kernels():
    """Compiled on first use (importing this module compiles nothing)."""

    @cuda.jit
    def max_pool2d_kernel(x, geometry, lowest, y, idx):
        N, C, H, W, KH, KW, sh, sw, ph, pw, dh, dw, OH, OW = geometry   # a plain int tuple
        first = cuda.grid(1)
        stride = cuda.gridsize(1)
        for out in range(first, N * C * OH * OW, stride):
            n = out // (C * OH * OW)
            c = (out // (OH * OW)) % C
            i = (out // OW) % OH
            j = out % OW
            top = i * sh - ph
            left = j * sw - pw
            p0 = 0 if top >= 0 else (-top + dh - 1) // dh       # first offset inside
            q0 = 0 if left >= 0 else (-left + dw - 1) // dw
            if top + p0 * dh >= H or left + q0 * dw >= W:      # an empty window
                y[n, c, i, j] = lowest
                idx[n, c, i, j] = -1
                continue
            best_at = (top + p0 * dh) * W + left + q0 * dw       # the first element inside
            best = x[n, c, best_at // W, best_at % W]
            for p in range(p0, KH):
                h = top + p * dh
                if h >= H:
                    break
                for q in range(q0, KW):
                    v = left + q * dw
                    if v >= W:
                        break
                    value = x[n, c, h, v]
                    if value > best or value != value:
                        best = value
                        best_at = h * W + v
            y[n, c, i, j] = best
            idx[n, c, i, j] = best_at

    @cuda.jit
    def max_pool2d_backward_kernel(gy, idx, geometry, gx):
        N, C, H, W, KH, KW, sh, sw, ph, pw, dh, dw, OH, OW = geometry
        first = cuda.grid(1)
        stride = cuda.gridsize(1)
        for pixel in range(first, N * C * H * W, stride):
            n = pixel // (C * H * W)
            c = (pixel // (H * W)) % C
            h = (pixel // W) % H
            v = pixel % W
            acc = gy[0, 0, 0, 0] * 0                # a zero of the array's dtype
            for p in range(KH):                     # outputs (i, j) whose window covers (h, v)
                i = covering_output(h, ph, p, dh, sh, OH)
                if i < 0:
                    continue
                for q in range(KW):
                    j = covering_output(v, pw, q, dw, sw, OW)
                    if j < 0:
                        continue
                    if idx[n, c, i, j] == h * W + v:    # ... and chose it
                        acc += gy[n, c, i, j]
            gx[n, c, h, v] = acc

    return max_pool2d_kernel, max_pool2d_backward_kernel


def max_pool2d(x, g):
    xp = array_module(x)
    y = xp.empty(g.y_shape, dtype=x.dtype)
    idx = xp.empty(g.y_shape, dtype=xp.int64)
    blocks, threads = grid_stride_launch(y.size)
    _kernels()[0][blocks, threads](xp.ascontiguousarray(x), tuple(g), lowest_value(x.dtype), y,
                                   idx)
    return y, idx


def max_pool2d_backward(gy, idx, g):
    xp = array_module(gy)
    gx = xp.empty(g.x_shape, dtype=gy.dtype)
    blocks, threads = grid_stride_launch(gx.size)
    _kernels()[1][blocks, threads](xp.ascontiguousarray(gy), xp.ascontiguousarray(idx),
                                   tuple(g), gx)
    return gx
