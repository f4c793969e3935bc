"""Small helpers shared by the CUDA kernels: launch sizes and Numba types.

Launch sizes differ between a real GPU and Numba's CUDA simulator. On a GPU we want blocks of
a few hundred threads; the simulator runs every CUDA thread as a Python thread, so there we use
tiny blocks and few of them (tests run on tiny shapes anyway). Kernels that walk their data with
a *grid-stride loop* (``for idx in range(first, total, stride)``) are correct for any grid size,
which lets us cap the grid freely.
"""

from __future__ import annotations

import numba
import numpy as np

from ._device import cuda_simulator_enabled

GPU_THREADS_PER_BLOCK = 256
SIMULATOR_THREADS_PER_BLOCK = 8
GPU_MAX_BLOCKS = 65535            # plenty to fill any GPU; grid-stride loops do the rest
SIMULATOR_MAX_BLOCKS = 4


def threads_per_block() -> int:
    return SIMULATOR_THREADS_PER_BLOCK if cuda_simulator_enabled() else GPU_THREADS_PER_BLOCK


def grid_stride_launch(total: int) -> tuple[int, int]:
    """(blocks, threads) for a 1-D grid-stride kernel over ``total`` items."""
    threads = threads_per_block()
    cap = SIMULATOR_MAX_BLOCKS if cuda_simulator_enabled() else GPU_MAX_BLOCKS
    return max(1, min(cap, (total + threads - 1) // threads)), threads


def numba_type(dtype):
    """The Numba scalar type for a NumPy dtype (shared and local arrays need one)."""
    return numba.from_dtype(np.dtype(dtype))
