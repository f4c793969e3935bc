"""Matrix product on the CPU with Numba: a cache-blocked, register-blocked, parallel GEMM.

    C = A @ B,    C[i, j] = sum_k A[i, k] * B[k, j]        A: (M, K), B: (K, N), C: (M, N)

The naive triple loop (i, j, k) runs at a few percent of the CPU's speed. Three ideas fix it,
in the order they matter here:

1. Loop order i, k, j ("broadcast A[i, k] along a row of B"). The innermost loop then walks
   B's row k and C's row i contiguously, with no reduction in it, so LLVM turns it into SIMD
   instructions (AVX2/AVX-512: 8/16 float32 lanes) *without* reordering any sum: each C[i, j]
   still adds its K terms in order k = 0, 1, 2, ... We only allow LLVM to fuse a*b+c into one
   FMA instruction (``fastmath={"contract"}``), which changes the last bit of rounding but never
   reorders sums or assumes there are no NaNs/infinities.
2. Register blocking: a 4x4 "micro-kernel" updates 4 rows of C with 4 rows of B at once. Each
   value of B loaded from memory feeds 4 FMAs and each load/store of C carries 4 products,
   instead of one load of B and one load+store of C per FMA (memory traffic, not arithmetic,
   limits the naive loop).
3. Cache blocking: C is cut into tiles of ROWS_PER_TILE x COLS_PER_TILE and K into chunks of
   K_PER_BLOCK, so the slab of B a tile reads (K_PER_BLOCK x COLS_PER_TILE, 512 KiB in float32)
   stays in the core's L2 cache while all the tile's rows stream past it.

Tiles of C are independent, so they are spread over threads with ``prange``: no two threads
ever write the same element of C, so no locks are needed.

Measured on the 2-core machine this was written on (benchmarks/kernels.py): about 70% of
OpenBLAS at 1024^3 float32 (13.3 ms against 9.6 ms). The remaining gap is what OpenBLAS adds:
packing A and B into contiguous panels, and a micro-kernel written in assembly that keeps all
of C's tile in registers.

A pitfall worth knowing: the inner loops run over ``range(width)`` of row *slices*. Written as
``for j in range(j0, j1): c[i, j] += ...`` the same loop was not vectorised at all (scalar
``vfmadd213ss`` instructions, ~9 GFLOP/s), most likely because Numba must allow for negative
indices there and that check blocks LLVM's vectoriser. ``c[i, j0:j1]`` views indexed from 0
vectorise.
"""

from __future__ import annotations

import numpy as np

from ._numba_cpu import njit, parallel_njit, prange

# Tile sizes, compile-time constants (Numba freezes module globals when it compiles).
ROWS_PER_TILE = 64     # rows of C per parallel task
COLS_PER_TILE = 512    # columns of C per task: 2 KiB of float32 per row of C, in L1
K_PER_BLOCK = 256      # K_PER_BLOCK x COLS_PER_TILE of B (512 KiB float32) stays in L2
MICRO_ROWS = 4         # rows of C updated together by the micro-kernel (unrolled by hand below)


@njit(fastmath={"contract"}, cache=True, error_model="numpy")
def _update_four_rows(a, b, c, i, k0, k1, j0, j1):
    """C[i:i+4, j0:j1] += A[i:i+4, k0:k1] @ B[k0:k1, j0:j1], four values of k at a time.

    The sixteen scalars a00..a33 are A's 4x4 block; each pass of the inner j-loop loads one
    value from each of 4 rows of B and one from each of 4 rows of C, and does 16 FMAs.
    Inner loops run over ``range(width)`` of row slices: that form is what LLVM vectorises.
    """
    width = j1 - j0
    c0 = c[i, j0:j1]
    c1 = c[i + 1, j0:j1]
    c2 = c[i + 2, j0:j1]
    c3 = c[i + 3, j0:j1]
    k = k0
    while k + 4 <= k1:
        b0 = b[k, j0:j1]
        b1 = b[k + 1, j0:j1]
        b2 = b[k + 2, j0:j1]
        b3 = b[k + 3, j0:j1]
        a00, a01, a02, a03 = a[i, k], a[i, k + 1], a[i, k + 2], a[i, k + 3]
        a10, a11, a12, a13 = a[i + 1, k], a[i + 1, k + 1], a[i + 1, k + 2], a[i + 1, k + 3]
        a20, a21, a22, a23 = a[i + 2, k], a[i + 2, k + 1], a[i + 2, k + 2], a[i + 2, k + 3]
        a30, a31, a32, a33 = a[i + 3, k], a[i + 3, k + 1], a[i + 3, k + 2], a[i + 3, k + 3]
        for j in range(width):
            v0, v1, v2, v3 = b0[j], b1[j], b2[j], b3[j]
            c0[j] += a00 * v0 + a01 * v1 + a02 * v2 + a03 * v3
            c1[j] += a10 * v0 + a11 * v1 + a12 * v2 + a13 * v3
            c2[j] += a20 * v0 + a21 * v1 + a22 * v2 + a23 * v3
            c3[j] += a30 * v0 + a31 * v1 + a32 * v2 + a33 * v3
        k += 4
    while k < k1:  # the last K % 4 values of k
        bk = b[k, j0:j1]
        a0, a1, a2, a3 = a[i, k], a[i + 1, k], a[i + 2, k], a[i + 3, k]
        for j in range(width):
            c0[j] += a0 * bk[j]
            c1[j] += a1 * bk[j]
            c2[j] += a2 * bk[j]
            c3[j] += a3 * bk[j]
        k += 1


@njit(fastmath={"contract"}, cache=True, error_model="numpy")
def _update_one_row(a, b, c, i, k0, k1, j0, j1):
    """C[i, j0:j1] += A[i, k0:k1] @ B[k0:k1, j0:j1]: the rows left over after groups of 4."""
    width = j1 - j0
    ci = c[i, j0:j1]
    for k in range(k0, k1):
        aik = a[i, k]
        bk = b[k, j0:j1]
        for j in range(width):
            ci[j] += aik * bk[j]


@parallel_njit(cache=True, error_model="numpy")
def gemm_into(a, b, c):
    """C = A @ B for C-contiguous 2-D arrays of one dtype; parallel over tiles of C.

    Each task zeroes its own tile of C just before accumulating into it: the tile is then
    already in that core's cache, and a freshly allocated C is first touched by the thread
    that uses it (zeroing all of C up front would stream it through memory one extra time).
    """
    M, K = a.shape
    N = b.shape[1]
    tile_rows = (M + ROWS_PER_TILE - 1) // ROWS_PER_TILE
    tile_cols = (N + COLS_PER_TILE - 1) // COLS_PER_TILE
    for tile in prange(tile_rows * tile_cols):
        i0 = (tile // tile_cols) * ROWS_PER_TILE
        j0 = (tile % tile_cols) * COLS_PER_TILE
        i1 = min(i0 + ROWS_PER_TILE, M)
        j1 = min(j0 + COLS_PER_TILE, N)
        c[i0:i1, j0:j1] = 0
        for k0 in range(0, K, K_PER_BLOCK):
            k1 = min(k0 + K_PER_BLOCK, K)
            i = i0
            while i + MICRO_ROWS <= i1:
                _update_four_rows(a, b, c, i, k0, k1, j0, j1)
                i += MICRO_ROWS
            while i < i1:
                _update_one_row(a, b, c, i, k0, k1, j0, j1)
                i += 1


def gemm(a, b):
    """A @ B with the Numba kernel: a fresh C-contiguous result. Shared with conv2d_numba."""
    a = np.ascontiguousarray(a)
    b = np.ascontiguousarray(b)
    c = np.empty((a.shape[0], b.shape[1]), dtype=a.dtype)
    gemm_into(a, b, c)
    return c


def matmul(a, b):
    """A @ B for 2-D float arrays of one dtype (checked by the caller)."""
    return gemm(a, b)
