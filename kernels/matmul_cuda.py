"""Matrix product on the GPU with Numba CUDA: shared-memory tiling plus register blocking.

    C = A @ B,    C[i, j] = sum_k A[i, k] * B[k, j]        A: (M, K), B: (K, N), C: (M, N)

The naive kernel (one thread per C[i, j], reading a row of A and a column of B from global
memory) is limited by memory bandwidth: two global loads per multiply-add. Two levels of reuse
fix that:

1. Shared-memory tiling. Each block of threads computes a BLOCK_M x BLOCK_N tile of C. It walks
   K in steps of BLOCK_K: all threads together copy a BLOCK_M x BLOCK_K slab of A and a
   BLOCK_K x BLOCK_N slab of B into shared memory (fast, on-chip), wait (``syncthreads``), and
   then compute from shared memory. Every value loaded from global memory is reused BLOCK_N
   (for A) or BLOCK_M (for B) times.
2. Register blocking. Each thread computes not one but THREAD_M x THREAD_N outputs (a 4x4
   micro-tile on a GPU), kept in registers (``cuda.local.array`` of compile-time size). Per
   step of k it loads THREAD_M values of A and THREAD_N of B from shared memory into
   registers and does THREAD_M * THREAD_N multiply-adds: 16 FMAs per 8 shared loads instead of
   1 per 2.

Sizes that are not multiples of the tile: threads load zeros for out-of-range elements of A and
B (zeros add nothing to the sums) and skip out-of-range writes of C.

Split-K. When C is small but K is long (the weight gradient of a convolution: C is
F x C*KH*KW, K is N*OH*OW), there are too few tiles of C to keep a GPU's ~100 multiprocessors
busy. Then the grid gets a third dimension: block z sums only its own range of k into its own
copy of C, and the ``split_k`` partial results are added afterwards.

The A slab is stored transposed in shared memory (a_tile[k, row]) so that in the inner loop a
thread reads its THREAD_M values of A from one row of the shared array, like its values of B.

Tile sizes are compile-time constants: ``gemm_kernel`` builds (and caches) one kernel per
(dtype, tiles) by closing over them, so Numba can unroll the micro-tile loops and size the
shared and local arrays. On a real GPU a block is 16 x 16 = 256 threads each computing 4x4
outputs of a 64x64 tile; in the simulator (one Python thread per CUDA thread) it is 4 x 4
threads of 2x2 outputs of an 8x8 tile.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from numba import cuda

from ._cuda_launch import numba_type
from ._device import array_module, cuda_simulator_enabled


class GemmTiles(NamedTuple):
    block_m: int     # rows of C per block
    block_n: int     # columns of C per block
    block_k: int     # depth of the A and B slabs staged in shared memory
    thread_m: int    # rows of C per thread (register micro-tile)
    thread_n: int    # columns of C per thread

    @property
    def threads(self) -> int:
        return (self.block_m // self.thread_m) * (self.block_n // self.thread_n)


GPU_TILES = GemmTiles(block_m=64, block_n=64, block_k=16, thread_m=4, thread_n=4)
SIMULATOR_TILES = GemmTiles(block_m=8, block_n=8, block_k=4, thread_m=2, thread_n=2)


def default_tiles() -> GemmTiles:
    return SIMULATOR_TILES if cuda_simulator_enabled() else GPU_TILES


@functools.lru_cache(maxsize=None)
def gemm_kernel(dtype_str: str, tiles: GemmTiles):
    """Compile-on-first-launch kernel ``kernel[grid, threads](a, b, c)`` for these tiles."""
    BM, BN, BK, TM, TN = tiles
    if BM % TM or BN % TN:
        raise ValueError(f"tile {BM}x{BN} is not a multiple of the micro-tile {TM}x{TN}")
    THREADS_N = BN // TN                  # threads along a row of the tile
    THREADS = tiles.threads
    DT = numba_type(dtype_str)

    @cuda.jit
    def gemm(a, b, c_parts):
        """c_parts[z] = A[:, ks] @ B[ks, :] for block z's range ks of k (all of k if one part)."""
        M, K = a.shape
        N = b.shape[1]
        k_per_part = (K + c_parts.shape[0] - 1) // c_parts.shape[0]
        k_begin = cuda.blockIdx.z * k_per_part
        k_end = min(K, k_begin + k_per_part)
        c = c_parts[cuda.blockIdx.z]
        tid = cuda.threadIdx.x
        thread_row = tid // THREADS_N      # this thread's micro-tile inside the block tile
        thread_col = tid % THREADS_N
        tile_row = cuda.blockIdx.y * BM     # this block's tile of C
        tile_col = cuda.blockIdx.x * BN

        a_tile = cuda.shared.array((BK, BM), DT)     # transposed: a_tile[k, row]
        b_tile = cuda.shared.array((BK, BN), DT)
        acc = cuda.local.array((TM, TN), DT)          # the micro-tile of C, in registers
        a_regs = cuda.local.array(TM, DT)
        b_regs = cuda.local.array(TN, DT)
        for i in range(TM):
            for j in range(TN):
                acc[i, j] = 0

        for k0 in range(k_begin, k_end, BK):
            # 1. all threads copy the A and B slabs into shared memory (zeros outside)
            for idx in range(tid, BM * BK, THREADS):
                r = idx // BK                # consecutive threads read consecutive k:
                kk = idx % BK                # contiguous addresses in a row of A
                if tile_row + r < M and k0 + kk < k_end:
                    a_tile[kk, r] = a[tile_row + r, k0 + kk]
                else:
                    a_tile[kk, r] = 0
            for idx in range(tid, BK * BN, THREADS):
                kk = idx // BN
                col = idx % BN               # consecutive threads read a row of B
                if k0 + kk < k_end and tile_col + col < N:
                    b_tile[kk, col] = b[k0 + kk, tile_col + col]
                else:
                    b_tile[kk, col] = 0
            cuda.syncthreads()               # the slabs are complete

            # 2. each thread multiplies its strips of the slabs into its micro-tile
            for kk in range(BK):
                for i in range(TM):
                    a_regs[i] = a_tile[kk, thread_row * TM + i]
                for j in range(TN):
                    b_regs[j] = b_tile[kk, thread_col * TN + j]
                for i in range(TM):
                    for j in range(TN):
                        acc[i, j] += a_regs[i] * b_regs[j]
            cuda.syncthreads()               # everyone is done reading before the next copy

        # 3. write the micro-tile, skipping positions outside C
        for i in range(TM):
            row = tile_row + thread_row * TM + i
            for j in range(TN):
                col = tile_col + thread_col * TN + j
                if row < M and col < N:
                    c[row, col] = acc[i, j]

    return gemm


def split_k_for(M: int, N: int, K: int, tiles: GemmTiles, target_blocks: int = 256) -> int:
    """How many ranges of k to split into so the grid has about ``target_blocks`` blocks.

    Only worth it when C has few tiles and each range still spans several slabs of k.
    """
    blocks = -(-M // tiles.block_m) * -(-N // tiles.block_n)
    most_useful = K // (4 * tiles.block_k)
    return max(1, min(-(-target_blocks // blocks), most_useful))


def gemm(a, b, tiles: GemmTiles | None = None, split_k: int = 1):
    """A @ B with our tiled kernel (CuPy arrays on a GPU, NumPy arrays in the simulator).

    Shared with conv2d_cuda. ``tiles`` overrides the tile sizes (the tests use several);
    ``split_k`` > 1 sums that many partial products over ranges of k (see the module doc).
    """
    tiles = tiles or default_tiles()
    xp = array_module(a, b)
    a = xp.ascontiguousarray(a)
    b = xp.ascontiguousarray(b)
    M, K = a.shape
    N = b.shape[1]
    split_k = max(1, min(split_k, K))
    parts = xp.empty((split_k, M, N), dtype=a.dtype)
    grid = (-(-N // tiles.block_n), -(-M // tiles.block_m), split_k)   # -(-x // y): ceil
    gemm_kernel(a.dtype.str, tiles)[grid, tiles.threads](a, b, parts)
    return parts[0] if split_k == 1 else parts.sum(axis=0)


def matmul(a, b):
    """A @ B for 2-D float arrays of one dtype (checked by the caller)."""
    return gemm(a, b)
