"""Matrix products on the CPU with Numba: ``matmul`` and ``matmul_by``, on the packed GEMM.

    C = A @ B,    C[i, j] = sum_k A[i, k] * B[k, j]        A: (M, K), B: (K, N), C: (M, N)

The naive triple loop (i, j, k) runs at a few percent of the CPU's speed. minigrad has three
Numba GEMMs, each for the operands it is used on, one module each:

* gemm_broadcast_numba.py, **the broadcast GEMM** (read it first): loop order i-k-j with a
  4x4 register block, C's rows kept in L1, A and B read as *row views* so that a convolution
  reads the matrix im2col would copy in place (the convolution's forward and input-gradient
  passes);
* gemm_nt_numba.py, **the NT GEMM**: C = A @ B^T for operands contiguous along K, sixteen dot
  products at a time in vector registers (the convolution's weight gradient);
* gemm_packed_numba.py, **the packed GEMM**: A and B copied into panels, a 4 x 64 tile of C in
  registers for the whole sum over k (``matmul`` and ``matmul_by`` below, and the LSTM time
  loops in lstm_cell_numba.py).

The GEMMs' public names are importable from here too (``from .matmul_numba import gemm_nt``).
"""

from __future__ import annotations

from . import _threads as threads
from .gemm_broadcast_numba import (  # noqa: F401  (importable from here, see the docstring)
    COLS_PER_TILE,
    K_PER_BLOCK,
    MICRO_ROWS,
    ROWS_PER_TILE,
    gemm,
    gemm_tile,
    gemm_views_into,
    row_starts,
)
from .gemm_nt_numba import NT_GROUPS, NT_K_CHUNK, gemm_nt, gemm_nt_into  # noqa: F401
from .gemm_packed_numba import (  # noqa: F401
    TILE_ROWS,
    Tile,
    TileType,
    gemm_packed,
    gemm_packed_into,
    pack_lhs_into,
    pack_rhs,
    pack_rhs_into,
    padded_product,
    panel_tile,
    run_tile,
    tile_width,
)


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
