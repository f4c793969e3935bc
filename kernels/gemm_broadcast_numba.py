"""The broadcast GEMM on row views: C = A @ B with a 4x4 register block, C's rows kept in L1.

``gemm_views_into`` reads A and B as *row views*, a flat buffer plus where each row starts
(``row_starts``), so a convolution can pass rows that start one pixel apart in its padded
input and the matrix im2col would copy is read in place (conv2d_numba.py: the forward and
input-gradient passes). ``gemm`` is the same kernel on two ordinary matrices. Of the three
Numba GEMMs (matmul_numba.py lists them) this is the one to read first.
"""

# How it is fast, in the order the ideas matter:
#
# 1. Loop order i, k, j ("broadcast A[i, k] along a row of B"). The innermost loop then walks
#    B's row k and C's row i contiguously, with no reduction in it, so LLVM turns it into SIMD
#    instructions (AVX2/AVX-512: 8/16 float32 lanes) *without* reordering any sum: each C[i, j]
#    still adds its K terms in order k = 0, 1, 2, ... We only allow LLVM to fuse a*b+c into one
#    FMA instruction (``fastmath={"contract"}``), which changes the last bit of rounding but
#    never reorders sums or assumes there are no NaNs/infinities.
# 2. Register blocking: a 4x4 "micro-kernel" updates 4 rows of C with 4 rows of B at once. Each
#    value of B loaded from memory feeds 4 FMAs and each load/store of C carries 4 products,
#    instead of one load of B and one load+store of C per FMA (memory traffic, not arithmetic,
#    limits the naive loop).
# 3. Cache blocking: C is cut into tiles of ROWS_PER_TILE x COLS_PER_TILE and K into chunks of
#    K_PER_BLOCK, so the slab of B a tile reads (K_PER_BLOCK x COLS_PER_TILE, 512 KiB in
#    float32) stays in the core's L2 cache while all the tile's rows stream past it.
#
# Tiles of C are independent, so they are spread over threads with ``prange``: no two threads
# ever write the same element of C, so no locks are needed.
#
# A pitfall worth knowing: the inner loops run over ``range(width)`` of row *slices*. Written
# as ``for j in range(j0, j1): c[i, j] += ...`` the same loop was not vectorised at all (scalar
# ``vfmadd213ss`` instructions, ~9 GFLOP/s), most likely because Numba must allow for negative
# indices there and that check blocks LLVM's vectoriser. ``c[i, j0:j1]`` views indexed from 0
# vectorise.
#
# Measured with benchmarks/kernels.py on a 2-core AMD EPYC (Zen 5, AVX-512) VM: 0.71-1.33x
# OpenBLAS from 128^3 to 2048^3 float32 (9.77 vs 9.67 ms at 1024^3, 101 vs 72 ms at 2048^3;
# benchmarks/results/cpu-amd-epyc-avx512-2core/kernels.md, whose matmul rows time this GEMM).

from __future__ import annotations

import numpy as np

from ._numba_cpu import njit, parallel_njit, prange

# Tile sizes, compile-time constants (Numba freezes module globals when it compiles).
ROWS_PER_TILE = 64     # rows of C per parallel task
COLS_PER_TILE = 512    # columns of C per task: 2 KiB of float32 per row of C, in L1
K_PER_BLOCK = 256      # K_PER_BLOCK x COLS_PER_TILE of B (512 KiB float32) stays in L2
MICRO_ROWS = 4         # rows of C updated together by the micro-kernel (unrolled by hand below)


@njit(fastmath={"contract"}, cache=True, error_model="numpy")
def _update_four_rows(a, a_rows, b, b_rows, c, i, k0, k1, j0, j1):
    """C[i:i+4, j0:j1] += A[i:i+4, k0:k1] @ B[k0:k1, j0:j1], four values of k at a time.

    A and B are *row views*: A[r, k] = a[a_rows[r] + k] and B[k, j] = b[b_rows[k] + j], with
    ``a``, ``b`` flat arrays and ``a_rows``, ``b_rows`` where each row starts (see
    ``row_starts``). The sixteen scalars a00..a33 are A's 4x4 block; each pass of the inner
    j-loop loads one value from each of 4 rows of B and one from each of 4 rows of C, and does
    16 FMAs. Inner loops run over ``range(width)`` of row slices: that form is what LLVM
    vectorises.
    """
    width = j1 - j0
    c0 = c[i, j0:j1]
    c1 = c[i + 1, j0:j1]
    c2 = c[i + 2, j0:j1]
    c3 = c[i + 3, j0:j1]
    r0, r1, r2, r3 = a_rows[i], a_rows[i + 1], a_rows[i + 2], a_rows[i + 3]
    k = k0
    while k + 4 <= k1:
        b0 = b[b_rows[k] + j0:b_rows[k] + j1]
        b1 = b[b_rows[k + 1] + j0:b_rows[k + 1] + j1]
        b2 = b[b_rows[k + 2] + j0:b_rows[k + 2] + j1]
        b3 = b[b_rows[k + 3] + j0:b_rows[k + 3] + j1]
        a00, a01, a02, a03 = a[r0 + k], a[r0 + k + 1], a[r0 + k + 2], a[r0 + k + 3]
        a10, a11, a12, a13 = a[r1 + k], a[r1 + k + 1], a[r1 + k + 2], a[r1 + k + 3]
        a20, a21, a22, a23 = a[r2 + k], a[r2 + k + 1], a[r2 + k + 2], a[r2 + k + 3]
        a30, a31, a32, a33 = a[r3 + k], a[r3 + k + 1], a[r3 + k + 2], a[r3 + k + 3]
        for j in range(width):
            v0, v1, v2, v3 = b0[j], b1[j], b2[j], b3[j]
            c0[j] += a00 * v0 + a01 * v1 + a02 * v2 + a03 * v3
            c1[j] += a10 * v0 + a11 * v1 + a12 * v2 + a13 * v3
            c2[j] += a20 * v0 + a21 * v1 + a22 * v2 + a23 * v3
            c3[j] += a30 * v0 + a31 * v1 + a32 * v2 + a33 * v3
        k += 4
    while k < k1:  # the last K % 4 values of k
        bk = b[b_rows[k] + j0:b_rows[k] + j1]
        a0, a1, a2, a3 = a[r0 + k], a[r1 + k], a[r2 + k], a[r3 + k]
        for j in range(width):
            c0[j] += a0 * bk[j]
            c1[j] += a1 * bk[j]
            c2[j] += a2 * bk[j]
            c3[j] += a3 * bk[j]
        k += 1


@njit(fastmath={"contract"}, cache=True, error_model="numpy")
def _update_one_row(a, a_rows, b, b_rows, c, i, k0, k1, j0, j1):
    """C[i, j0:j1] += A[i, k0:k1] @ B[k0:k1, j0:j1]: the rows left over after groups of 4."""
    width = j1 - j0
    ci = c[i, j0:j1]
    for k in range(k0, k1):
        aik = a[a_rows[i] + k]
        bk = b[b_rows[k] + j0:b_rows[k] + j1]
        for j in range(width):
            ci[j] += aik * bk[j]


@njit(cache=True, error_model="numpy")
def gemm_tile(a, a_rows, b, b_rows, c, i0, i1, j0, j1):
    """C[i0:i1, j0:j1] += A[i0:i1, :] @ B[:, j0:j1] for row views A and B (K = len(b_rows)),
    K cut into blocks of K_PER_BLOCK so that the slab of B the tile reads stays in L2."""
    K = b_rows.shape[0]
    for k0 in range(0, K, K_PER_BLOCK):
        k1 = min(k0 + K_PER_BLOCK, K)
        i = i0
        while i + MICRO_ROWS <= i1:
            _update_four_rows(a, a_rows, b, b_rows, c, i, k0, k1, j0, j1)
            i += MICRO_ROWS
        while i < i1:
            _update_one_row(a, a_rows, b, b_rows, c, i, k0, k1, j0, j1)
            i += 1


@parallel_njit(cache=True, error_model="numpy")
def gemm_views_into(a, a_rows, b, b_rows, c):
    """C = A @ B for row views A (len(a_rows) x K) and B (K = len(b_rows) rows, C's width);
    parallel over tiles of C.

    Each task zeroes its own tile of C just before accumulating into it: the tile is then
    already in that core's cache, and a freshly allocated C is first touched by the thread
    that uses it (zeroing all of C up front would stream it through memory one extra time).
    """
    M, N = c.shape
    tile_rows = (M + ROWS_PER_TILE - 1) // ROWS_PER_TILE
    tile_cols = (N + COLS_PER_TILE - 1) // COLS_PER_TILE
    for tile in prange(tile_rows * tile_cols):
        i0 = (tile // tile_cols) * ROWS_PER_TILE
        j0 = (tile % tile_cols) * COLS_PER_TILE
        i1 = min(i0 + ROWS_PER_TILE, M)
        j1 = min(j0 + COLS_PER_TILE, N)
        c[i0:i1, j0:j1] = 0
        gemm_tile(a, a_rows, b, b_rows, c, i0, i1, j0, j1)


@njit(cache=True)
def row_starts(rows, row_length):
    """Where each row of a C-contiguous (rows, row_length) matrix starts in its flat buffer."""
    return np.arange(rows) * row_length


def gemm(a, b):
    """A @ B with the Numba kernel: a fresh C-contiguous result."""
    a = np.ascontiguousarray(a)
    b = np.ascontiguousarray(b)
    (M, K), N = a.shape, b.shape[1]
    c = np.empty((M, N), dtype=a.dtype)
    gemm_views_into(a.ravel(), row_starts(M, K), b.ravel(), row_starts(K, N), c)
    return c
