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

Measured on the 2-core machine this was written on (benchmarks/kernels.py): 66-101% of
OpenBLAS at 1024^3 float32 across runs (9.8 ms against 9.7 ms in the committed full run),
61-71% at 2048^3. What OpenBLAS adds: packing A and B into contiguous panels, and a
micro-kernel written in assembly that keeps all of C's tile in registers.

The micro-kernel reads A and B as *row views*: a flat buffer plus the position where each row
starts. For an ordinary matrix the rows start every K (or N) elements; convolution
(conv2d_numba.py) passes rows that start one pixel apart in the same image, so the matrix
that im2col would copy is read in place, with no copy at all.

A pitfall worth knowing: the inner loops run over ``range(width)`` of row *slices*. Written as
``for j in range(j0, j1): c[i, j] += ...`` the same loop was not vectorised at all (scalar
``vfmadd213ss`` instructions, ~9 GFLOP/s), most likely because Numba must allow for negative
indices there and that check blocks LLVM's vectoriser. ``c[i, j0:j1]`` views indexed from 0
vectorise.
"""

from __future__ import annotations

import numpy as np

from . import _threads as threads
from ._gemm_tiles import tile_4x32, tile_4x64
from ._numba_cpu import njit, parallel_njit, prange, slp_vectorizer

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


# ---------------------------------------------------------------------------------------------
# The "NT" form, C = A @ B^T: every entry is a dot product of two rows read along K
# ---------------------------------------------------------------------------------------------
#
# When both operands are stored with K contiguous (A: M x K, B: N x K, rows along K), each
# C[i, j] is a dot product of row i of A with row j of B. A convolution's weight gradient is
# such a product: dW[f, (c, p, q)] = sum over every pixel l of gy[f, l] * x_shifted[(c, p, q), l],
# with the pixel axis, tens of thousands long, contiguous in both.
#
# The kernel below computes a 4x4 block of C as sixteen running sums in local variables and
# lets LLVM reassociate them (``fastmath={"reassoc"}``): it then vectorises the K loop, giving
# each sum a vector register of partial sums (16 float32 lanes with AVX-512) that stays in a
# register for the whole loop. Each pass loads 8 vectors (4 rows of A, 4 of B) and does 16
# FMAs, and nothing of C is loaded or stored inside the loop: the broadcast form above loads
# and stores 4 rows of C for every 16 FMAs. Measured on the 2-core machine: 176 GFLOP/s on
# (32 x 16384) @ (16384 x 144), the product of a 16->32 channel 14x14 conv's weight gradient,
# as fast as OpenBLAS on the same product; the broadcast form ran the same product at 55.
#
# The price of ``reassoc``: each sum is added up in 16 interleaved partial sums, so the
# rounding differs from a left-to-right sum (it is usually *more* accurate). That is why only
# this kernel has it.

NT_K_CHUNK = 512       # K values per pass: the 4 rows of A a block reads stay in L1 (8 KiB)
NT_GROUPS = 8          # partial products summed at the end (split-K), so every thread has work


@njit(fastmath={"contract", "reassoc"}, cache=True, error_model="numpy")
def _dot_4x4(a, a_rows, b, b_rows, k0, k1, c, i, j):
    """C[i:i+4, j:j+4] += A[i:i+4, k0:k1] @ B[j:j+4, k0:k1]^T, sixteen dot products at once."""
    a0 = a[a_rows[i] + k0:a_rows[i] + k1]
    a1 = a[a_rows[i + 1] + k0:a_rows[i + 1] + k1]
    a2 = a[a_rows[i + 2] + k0:a_rows[i + 2] + k1]
    a3 = a[a_rows[i + 3] + k0:a_rows[i + 3] + k1]
    b0 = b[b_rows[j] + k0:b_rows[j] + k1]
    b1 = b[b_rows[j + 1] + k0:b_rows[j + 1] + k1]
    b2 = b[b_rows[j + 2] + k0:b_rows[j + 2] + k1]
    b3 = b[b_rows[j + 3] + k0:b_rows[j + 3] + k1]
    zero = c.dtype.type(0)      # a literal 0.0 would be float64 and turn every sum to float64
    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = zero
    s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = zero
    for k in range(k1 - k0):
        x0, x1, x2, x3 = a0[k], a1[k], a2[k], a3[k]
        y0, y1, y2, y3 = b0[k], b1[k], b2[k], b3[k]
        s00 += x0 * y0
        s01 += x0 * y1
        s02 += x0 * y2
        s03 += x0 * y3
        s10 += x1 * y0
        s11 += x1 * y1
        s12 += x1 * y2
        s13 += x1 * y3
        s20 += x2 * y0
        s21 += x2 * y1
        s22 += x2 * y2
        s23 += x2 * y3
        s30 += x3 * y0
        s31 += x3 * y1
        s32 += x3 * y2
        s33 += x3 * y3
    c[i, j] += s00
    c[i, j + 1] += s01
    c[i, j + 2] += s02
    c[i, j + 3] += s03
    c[i + 1, j] += s10
    c[i + 1, j + 1] += s11
    c[i + 1, j + 2] += s12
    c[i + 1, j + 3] += s13
    c[i + 2, j] += s20
    c[i + 2, j + 1] += s21
    c[i + 2, j + 2] += s22
    c[i + 2, j + 3] += s23
    c[i + 3, j] += s30
    c[i + 3, j + 1] += s31
    c[i + 3, j + 2] += s32
    c[i + 3, j + 3] += s33


@njit(fastmath={"contract", "reassoc"}, cache=True, error_model="numpy")
def _dot_4x1(a, a_rows, b, b_rows, k0, k1, c, i, j):
    """C[i:i+4, j] += A[i:i+4, k0:k1] @ B[j, k0:k1]: the columns left over after 4x4 blocks
    (a 3x3 kernel on 1 or 3 channels gives C*KH*KW = 9 or 27 columns), one load of B per
    four products."""
    a0 = a[a_rows[i] + k0:a_rows[i] + k1]
    a1 = a[a_rows[i + 1] + k0:a_rows[i + 1] + k1]
    a2 = a[a_rows[i + 2] + k0:a_rows[i + 2] + k1]
    a3 = a[a_rows[i + 3] + k0:a_rows[i + 3] + k1]
    y = b[b_rows[j] + k0:b_rows[j] + k1]
    zero = c.dtype.type(0)
    s0 = s1 = s2 = s3 = zero
    for k in range(k1 - k0):
        yk = y[k]
        s0 += a0[k] * yk
        s1 += a1[k] * yk
        s2 += a2[k] * yk
        s3 += a3[k] * yk
    c[i, j] += s0
    c[i + 1, j] += s1
    c[i + 2, j] += s2
    c[i + 3, j] += s3


@njit(fastmath={"contract", "reassoc"}, cache=True, error_model="numpy")
def _dot_1x1(a, a_rows, b, b_rows, k0, k1, c, i, j):
    """C[i, j] += A[i, k0:k1] . B[j, k0:k1]: the last M % 4 rows."""
    x = a[a_rows[i] + k0:a_rows[i] + k1]
    y = b[b_rows[j] + k0:b_rows[j] + k1]
    total = c.dtype.type(0)
    for k in range(k1 - k0):
        total += x[k] * y[k]
    c[i, j] += total


@njit(cache=True, error_model="numpy")
def _gemm_nt_chunk(a, a_rows, b, b_rows, k0, k1, c):
    """C += A[:, k0:k1] @ B[:, k0:k1]^T, block row by block row (A's 4 rows stay in L1
    while every block of B passes them)."""
    M, N = c.shape
    i = 0
    while i + 4 <= M:
        j = 0
        while j + 4 <= N:
            _dot_4x4(a, a_rows, b, b_rows, k0, k1, c, i, j)
            j += 4
        for jj in range(j, N):
            _dot_4x1(a, a_rows, b, b_rows, k0, k1, c, i, jj)
        i += 4
    for ii in range(i, M):
        for jj in range(N):
            _dot_1x1(a, a_rows, b, b_rows, k0, k1, c, ii, jj)


@parallel_njit(cache=True, error_model="numpy")
def gemm_nt_into(a, a_rows, b, b_rows, k_len, partial):
    """partial[t] = the t-th of len(partial) split-K shares of A @ B^T, for row views A
    (len(a_rows) x k_len) and B (len(b_rows) x k_len); their sum is A @ B^T."""
    groups = partial.shape[0]
    chunks = (k_len + NT_K_CHUNK - 1) // NT_K_CHUNK
    for t in prange(groups):
        partial[t] = 0
        for chunk in range(t * chunks // groups, (t + 1) * chunks // groups):
            k0 = chunk * NT_K_CHUNK
            _gemm_nt_chunk(a, a_rows, b, b_rows, k0, min(k0 + NT_K_CHUNK, k_len), partial[t])


def gemm_nt(a, a_rows, b, b_rows, k_len):
    """C = A @ B^T, (len(a_rows), len(b_rows)), for row views along K: C[i, j] is the dot
    product of a[a_rows[i]:a_rows[i] + k_len] with b[b_rows[j]:b_rows[j] + k_len]."""
    chunks = (k_len + NT_K_CHUNK - 1) // NT_K_CHUNK
    groups = max(1, min(NT_GROUPS, chunks))
    partial = np.empty((groups, a_rows.shape[0], b_rows.shape[0]), dtype=a.dtype)
    gemm_nt_into(a, a_rows, b, b_rows, k_len, partial)
    return partial.sum(axis=0) if groups > 1 else partial[0]


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


# ---------------------------------------------------------------------------------------------
# The packed GEMM: a tile of C held in registers, fed from packed panels
# ---------------------------------------------------------------------------------------------
#
# The broadcast kernel above loads and stores rows of C for every 4 values of k. The fastest
# GEMMs (GotoBLAS, BLIS, OpenBLAS) keep a tile of C in registers for the *whole* sum over k,
# and copy ("pack") A and B first so that the tile's inputs lie contiguously in the order the
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
# W_hh at every time step) packs B once: ``pack_rhs`` + ``gemm_packed``. Measured on the
# 2-core Zen 5 machine, one thread: 21 us for (32 x 128) @ (128 x 512) with B packed in
# advance, against 42 us for OpenBLAS on one thread (25 us on two); ~200 GFLOP/s, where the
# broadcast kernel reaches ~110.

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


def matmul(a, b):
    """A @ B for 2-D float arrays of one dtype (checked by the caller): the packed GEMM."""
    return gemm_packed(a, pack_rhs(b), b.shape[1])


def matmul_by(b):
    """``product(a) = A @ B`` with B packed once (see ``kernels.matmul_by``). Each call picks
    the serial or parallel build by its size, as ``threads_for`` would."""
    panels, n = pack_rhs(b), b.shape[1]

    def product(a):
        return gemm_packed(a, panels, n, threads.build_for(a.size + b.size))
    return product
