"""ReLU and its backward on the GPU with Numba CUDA: one thread per element.

The math is in relu_numpy.py. Every element is independent, so this is the simplest GPU
kernel there is: thread k reads element k of the raveled (C-contiguous) input and writes
element k of the output; neighbouring threads touch neighbouring addresses (coalesced).
A grid-stride loop makes any grid size correct (the simulator runs tiny grids).

Kernels are built per dtype, so that zero is a constant of the array's own dtype (a bare
``0.0`` is a float64 literal to Numba; see softmax_cuda.py), and compiled on first use.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import cuda

from ._cuda_launch import grid_stride_launch
from ._device import array_module


@functools.lru_cache(maxsize=None)
def _kernels(dtype_str: str):
    """(relu, relu_backward) kernels for one dtype, compiled on first use."""
    ZERO = np.dtype(dtype_str).type(0)

    @cuda.jit
    def relu_kernel(x, out):
        for k in range(cuda.grid(1), x.size, cuda.gridsize(1)):
            v = x[k]
            out[k] = ZERO if v <= ZERO else v          # NaN <= 0 is False: NaN stays NaN

    @cuda.jit
    def relu_backward_kernel(gy, y, out):
        for k in range(cuda.grid(1), gy.size, cuda.gridsize(1)):
            out[k] = gy[k] if y[k] > ZERO else ZERO

    return relu_kernel, relu_backward_kernel


def relu(x):
    """max(x, 0); see relu_numpy.py."""
    xp = array_module(x)
    flat = xp.ascontiguousarray(x).reshape(-1)
    out = xp.empty_like(flat)
    blocks, threads = grid_stride_launch(flat.size)
    _kernels(flat.dtype.str)[0][blocks, threads](flat, out)
    return out.reshape(x.shape)


def relu_backward(gy, y):
    """gy where y > 0, else 0; see relu_numpy.py."""
    xp = array_module(gy)
    gy_flat = xp.ascontiguousarray(gy).reshape(-1)
    y_flat = xp.ascontiguousarray(y).reshape(-1)
    out = xp.empty_like(gy_flat)
    blocks, threads = grid_stride_launch(gy_flat.size)
    _kernels(gy_flat.dtype.str)[1][blocks, threads](gy_flat, y_flat, out)
    return out.reshape(gy.shape)
