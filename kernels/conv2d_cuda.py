"""2-D convolution on the GPU with Numba CUDA: im2col + our tiled GEMM + col2im.

Same algorithm as conv2d_numpy.py (read that first for the math, im2col and col2im); here every
step is our own CUDA kernel, not cuBLAS:

* ``im2col_kernel``: one thread per entry of cols (C*KH*KW, N*OH*OW); each computes which input
  pixel its entry copies (or 0 in the padding). Consecutive threads fill consecutive columns,
  i.e. neighbouring output positions, which read neighbouring input pixels: coalesced loads.
* the products run on ``matmul_cuda.gemm``, the shared-memory + register-blocked kernel.
* ``col2im_kernel``: one thread per *input* pixel, which *gathers* every cols entry that was
  copied from it. The CPU version scatters (each cols entry adds itself to its pixel); on a GPU
  thousands of threads scattering at once would collide on shared pixels and need atomic adds.
  Gathering writes each output exactly once, with no atomics, and the result does not depend
  on thread timing. Output row i with kernel row p reads pixel h = i*sh - ph + p*dh, so the
  pixel h is read by i = (h + ph - p*dh) / sh when that is a whole number in [0, OH).

Both elementwise kernels use grid-stride loops, so any grid size is correct (the simulator runs
them with tiny grids). The layout shuffles around the GEMMs (transposes of gy and of the result)
are array-library copies on the same device (CuPy on a GPU, NumPy in the simulator).
"""

from __future__ import annotations

import functools

from numba import cuda

from ._cuda_launch import covering_output, grid_stride_launch
from ._device import array_module
from .conv2d_numpy import gy_matrix
from .matmul_cuda import default_tiles, gemm, split_k_for


@functools.lru_cache(maxsize=None)
def _kernels():
    """Compiled on first use (importing this module compiles nothing)."""

    @cuda.jit
    def im2col_kernel(x, geometry, cols):
        N, C, H, W, F, KH, KW, sh, sw, ph, pw, dh, dw, OH, OW = geometry   # a plain int tuple
        n_cols = cols.shape[1]
        total = cols.shape[0] * n_cols
        first = cuda.grid(1)
        stride = cuda.gridsize(1)
        for idx in range(first, total, stride):
            row = idx // n_cols                 # (c, p, q): channel and kernel offset
            col = idx % n_cols                  # (n, i, j): sample and output position
            c = row // (KH * KW)
            p = (row // KW) % KH
            q = row % KW
            n = col // (OH * OW)
            i = (col // OW) % OH
            j = col % OW
            h = i * sh - ph + p * dh
            v = j * sw - pw + q * dw
            if 0 <= h < H and 0 <= v < W:
                cols[row, col] = x[n, c, h, v]
            else:
                cols[row, col] = 0

    @cuda.jit
    def col2im_kernel(grad_cols, geometry, gx):
        N, C, H, W, F, KH, KW, sh, sw, ph, pw, dh, dw, OH, OW = geometry
        total = N * C * H * W
        first = cuda.grid(1)
        stride = cuda.gridsize(1)
        for idx in range(first, total, stride):
            n = idx // (C * H * W)              # this thread's input pixel (n, c, h, v)
            c = (idx // (H * W)) % C
            h = (idx // W) % H
            v = idx % W
            acc = grad_cols[0, 0] * 0           # a zero of the array's dtype
            for p in range(KH):
                i = covering_output(h, ph, p, dh, sh, OH)   # the output row that reads h at p
                if i < 0:                                   # ... if there is one
                    continue
                for q in range(KW):
                    j = covering_output(v, pw, q, dw, sw, OW)
                    if j < 0:
                        continue
                    row = (c * KH + p) * KW + q
                    acc += grad_cols[row, (n * OH + i) * OW + j]
            gx[n, c, h, v] = acc

    return im2col_kernel, col2im_kernel


def im2col(x, g):
    xp = array_module(x)
    cols = xp.empty((g.C * g.KH * g.KW, g.N * g.OH * g.OW), dtype=x.dtype)
    blocks, threads = grid_stride_launch(cols.size)
    _kernels()[0][blocks, threads](xp.ascontiguousarray(x), tuple(g), cols)
    return cols


def col2im(grad_cols, g):
    xp = array_module(grad_cols)
    gx = xp.empty(g.x_shape, dtype=grad_cols.dtype)
    blocks, threads = grid_stride_launch(gx.size)
    _kernels()[1][blocks, threads](xp.ascontiguousarray(grad_cols), tuple(g), gx)
    return gx


def conv2d(x, w, g):
    """y = W @ im2col(x), reshaped to (N, F, OH, OW)."""
    xp = array_module(x)
    y = gemm(w.reshape(g.F, -1), im2col(x, g))                       # (F, N*OH*OW)
    return xp.ascontiguousarray(y.reshape(g.F, g.N, g.OH, g.OW).transpose(1, 0, 2, 3))


def conv2d_backward_input(gy, w, g):
    """dL/dx = col2im(W.T @ GY)."""
    return col2im(gemm(w.reshape(g.F, -1).T, gy_matrix(gy, g)), g)


def conv2d_backward_weight(x, gy, g):
    """dL/dw = GY @ im2col(x).T, reshaped to (F, C, KH, KW).

    The product is small (F x C*KH*KW) with a long inner axis (N*OH*OW): split-K.
    """
    xp = array_module(x)
    cols_t = xp.ascontiguousarray(im2col(x, g).T)                     # (N*OH*OW, C*KH*KW)
    tiles = default_tiles()
    split = split_k_for(g.F, cols_t.shape[1], cols_t.shape[0], tiles)
    return gemm(gy_matrix(gy, g), cols_t, tiles, split).reshape(g.w_shape)
