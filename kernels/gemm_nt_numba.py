"""The NT GEMM: C = A @ B^T for operands contiguous along K, each entry a dot product of two
rows, sixteen sums kept in vector registers.

``gemm_nt`` takes row views along K (a flat buffer plus where each row starts, as the
broadcast GEMM's) and splits K over threads. The convolution's weight gradient runs on it
(conv2d_numba.py).
"""

# When both operands are stored with K contiguous (A: M x K, B: N x K, rows along K), each
# C[i, j] is a dot product of row i of A with row j of B. A convolution's weight gradient is
# such a product: dW[f, (c, p, q)] = sum over every pixel l of gy[f, l] * x_shifted[(c, p, q), l],
# with the pixel axis, tens of thousands long, contiguous in both.
#
# The kernel below computes a 4x4 block of C as sixteen running sums in local variables and
# lets LLVM reassociate them (``fastmath={"reassoc"}``): it then vectorises the K loop, giving
# each sum a vector register of partial sums (16 float32 lanes with AVX-512) that stays in a
# register for the whole loop. Each pass loads 8 vectors (4 rows of A, 4 of B) and does 16
# FMAs, and nothing of C is loaded or stored inside the loop: the broadcast GEMM
# (gemm_broadcast_numba.py) loads and stores 4 rows of C for every 16 FMAs. Timed by hand on the 2-core VM: 176 GFLOP/s on
# (32 x 16384) @ (16384 x 144), the product of a 16->32 channel 14x14 conv's weight gradient,
# as fast as OpenBLAS on the same product; the broadcast GEMM ran the same product at 55.
#
# The price of ``reassoc``: each sum is added up in 16 interleaved partial sums, so the
# rounding differs from a left-to-right sum (it is usually *more* accurate). That is why only
# this kernel has it.

from __future__ import annotations

import numpy as np

from ._numba_cpu import njit, parallel_njit, prange

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
