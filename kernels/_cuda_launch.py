"""Small helpers shared by the CUDA kernels: launch sizes, Numba types, and the one device
function two gather kernels share (``covering_output``).

Launch sizes differ between a real GPU and Numba's CUDA simulator. On a GPU we want blocks of
a few hundred threads; the simulator runs every CUDA thread as a Python thread, so there we use
tiny blocks and few of them (tests run on tiny shapes anyway). Kernels that walk their data with
a *grid-stride loop* (``for idx in range(first, total, stride)``) are correct for any grid size,
which lets us cap the grid freely.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import cuda

from ._device import cuda_simulator_enabled

if cuda_simulator_enabled():
    from . import _cuda_simulator

    _cuda_simulator.install()     # a thread-safe cuda.shared.array (see _cuda_simulator.py)

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


@cuda.jit(device=True)
def covering_output(position, pad, offset, dilation, stride, count):
    """Along one axis of a windowed op (convolution, pooling), the output index i whose window
    reads input ``position`` at window ``offset``, or -1 if there is none.

    Output i at offset p reads input i*stride - pad + p*dilation, so i = (position + pad -
    p*dilation) / stride when that is a whole number in [0, count). Gather kernels (col2im,
    the max-pool backward) use it to find, for one input pixel, every output that read it:
    each pixel is then written by exactly one thread, with no atomic adds.
    """
    scaled = position + pad - offset * dilation
    if scaled < 0 or scaled % stride != 0 or scaled // stride >= count:
        return -1
    return scaled // stride
