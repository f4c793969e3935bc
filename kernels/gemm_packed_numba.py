"""The packed GEMM: A and B copied into panels, a 4 x 64 (float32; 4 x 32 float64) tile of C
held in registers for the whole sum over k.

``gemm_packed`` multiplies A by a B packed in advance (``pack_rhs``), so a product repeated
with one B packs it once: ``matmul_numba.matmul`` and ``matmul_by`` run on it, and so do the
compiled LSTM time loops in lstm_cell_numba.py (``pack_rhs``, ``gemm_packed_into``). The
micro-kernels are generated into _gemm_tiles.py.
"""

# The broadcast GEMM (gemm_broadcast_numba.py) loads and stores rows of C for every 4 values
# of k. The fastest GEMMs (GotoBLAS, BLIS, OpenBLAS) keep a tile of C in registers for the
# *whole* sum over k, and copy ("pack") A and B first so that the tile's inputs lie contiguously in the order the
# inner loop reads them:
#
#     A panel ib (4 rows):      a_panels[ib, k * 4 + r]  = A[4 ib + r, k]
#     B panel jb (V columns):   b_panels[jb, k * V + v]  = B[k, V jb + v]     (V = 64 float32)
#
# Each tile C[4 ib : 4 ib + 4, V jb : V jb + V] is then one call of the micro-kernel
# ``tile_4xV`` (_gemm_tiles.py, generated): k_len steps of 4 vector loads of B, 4 broadcasts
# of A and 16 vector FMAs, with all 4 x V sums in registers. Panels are zero-padded to whole
# tiles, so every tile is full; C is computed padded and cropped if M or N is not a multiple.
#
# Packing costs one pass over A and one over B. A product repeated with the same B (an RNN's
# W_hh at every time step) packs B once: ``pack_rhs`` + ``gemm_packed``. Timed by hand on the
# 2-core Zen 5 VM, one thread: 21 us for (32 x 128) @ (128 x 512) with B packed in
# advance, against 42 us for OpenBLAS on one thread (25 us on two); ~200 GFLOP/s, where the
# broadcast kernel reaches ~110. With benchmarks/kernels.py on the same VM, two threads:
# 1.17-1.77x OpenBLAS from 128^3 to 2048^3 float32 (5.43 vs 9.05 ms at 1024^3;
# benchmarks/results/cpu-amd-epyc-avx512-2core/kernels-matmul.md).

from __future__ import annotations

import numpy as np

from . import _threads as threads
from ._gemm_tiles import tile_4x32, tile_4x64
from ._numba_cpu import njit, parallel_njit, prange, slp_vectorizer

TILE_ROWS = 4


def tile_width(dtype, n: int) -> int:
    """Columns of C in one tile: 4 AVX-512 registers of the dtype (64 float32, 32 float64);
    32 float32 columns for a result at most 32 wide (a linear layer's weight gradient for 32
    input features), where a 64-wide tile would be half padding (512x1024 @ 1024x32: 207 us
    with 64-wide tiles, 147 us with 32-wide ones; OpenBLAS 174 us)."""
    return 64 if np.dtype(dtype).itemsize == 4 and n > 32 else 32


@njit(cache=True, error_model="numpy")
def pack_lhs_into(a, panels):
    """panels[ib, k * 4 + r] = A[4 ib + r, k] (0 past the last row). a: any 2-D layout."""
    M, K = a.shape
    full = M // TILE_ROWS
    for ib in range(full):                       # four whole rows: no test per element
        dst = panels[ib]
        row0, row1 = a[ib * TILE_ROWS], a[ib * TILE_ROWS + 1]
        row2, row3 = a[ib * TILE_ROWS + 2], a[ib * TILE_ROWS + 3]
        for k in range(K):
            dst[k * TILE_ROWS] = row0[k]
            dst[k * TILE_ROWS + 1] = row1[k]
            dst[k * TILE_ROWS + 2] = row2[k]
            dst[k * TILE_ROWS + 3] = row3[k]
    for ib in range(full, panels.shape[0]):      # the last rows, padded with zeros
        for k in range(K):
            for r in range(TILE_ROWS):
                i = ib * TILE_ROWS + r
                panels[ib, k * TILE_ROWS + r] = a[i, k] if i < M else 0


@njit(cache=True, error_model="numpy")
def pack_rhs_into(b, panels):
    """panels[jb, k * V + v] = B[k, V jb + v] (0 past the last column), V = the panel width."""
    K, N = b.shape
    width = panels.shape[1] // K
    if b.strides[0] < b.strides[1]:       # B's columns are contiguous (a transposed view):
        panels[:] = 0                      # read it down the columns
        for j in range(N):
            jb, v = j // width, j % width
            for k in range(K):
                panels[jb, k * width + v] = b[k, j]
        return
    for jb in range(panels.shape[0]):
        for k in range(K):
            row = panels[jb, k * width:(k + 1) * width]
            for v in range(width):
                j = jb * width + v
                row[v] = b[k, j] if j < N else 0


@parallel_njit(cache=True, error_model="numpy")
def gemm_packed_into(a, b_panels, c):
    """c (M rounded up to 4, V * panels of B) = A @ B: packs A, then one task per tile, spread
    over threads (tiles are independent: no two tasks write the same element)."""
    M, k_len = a.shape
    tiles_down = (M + TILE_ROWS - 1) // TILE_ROWS
    a_panels = np.empty((tiles_down, k_len * TILE_ROWS), dtype=a.dtype)
    pack_lhs_into(a, a_panels)                # before the parallel loop: the calling thread
    width = b_panels.shape[1] // k_len
    for task in prange(tiles_down * b_panels.shape[0]):
        ib = task % tiles_down                 # neighbouring tasks share a B panel (cache)
        jb = task // tiles_down
        if width == 64:
            tile_4x64(a_panels[ib], b_panels[jb], k_len, c, ib * TILE_ROWS, jb * 64)
        else:
            tile_4x32(a_panels[ib], b_panels[jb], k_len, c, ib * TILE_ROWS, jb * 32)


def pack_rhs(b):
    """B (K, N) packed into panels of ``tile_width`` columns, for ``gemm_packed``."""
    K, N = b.shape
    width = tile_width(b.dtype, N)
    panels = np.empty(((N + width - 1) // width, K * width), dtype=b.dtype)
    pack_rhs_into(b, panels)
    return panels


def padded_product(rows, b_panels, k_len, dtype):
    """An uninitialised C for ``gemm_packed_into``: ``rows`` rounded up to whole tiles, by
    every column of the packed B (k_len rows of B)."""
    width = b_panels.shape[1] // k_len
    return np.empty((-(-rows // TILE_ROWS) * TILE_ROWS, b_panels.shape[0] * width), dtype=dtype)


def gemm_packed(a, b_panels, n, build=None):
    """A @ B for A (M, K) and B given packed (``pack_rhs(B)``, B with ``n`` columns).

    ``build``: "serial" or "parallel" to choose the driver's build (kernels/_threads.py);
    None lets the caller's ``threads_for`` block decide."""
    M, K = a.shape
    c = padded_product(M, b_panels, K, a.dtype)
    with slp_vectorizer():
        if build is None:
            gemm_packed_into(a, b_panels, c)
        elif build == "serial":
            gemm_packed_into.serial(a, b_panels, c)
        else:
            threads.launch(lambda: gemm_packed_into.parallel(a, b_panels, c),
                           lambda: gemm_packed_into.serial(a, b_panels, c))
    if c.shape != (M, n):
        return np.ascontiguousarray(c[:M, :n])
    return c
