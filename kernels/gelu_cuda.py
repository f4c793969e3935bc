"""GELU and its backward on the GPU with Numba CUDA: one thread per element.

The math is in gelu_numpy.py. As in relu_cuda.py, thread k handles element k of the raveled
(C-contiguous) arrays, in a grid-stride loop. CUDA has ``erfc``, ``exp`` and ``tanh`` for
float32 and float64 (``math.erfc`` etc. compile to them), so the formulas are written
directly: Phi(x) = erfc(-x / sqrt 2) / 2, and the tanh approximation through
s = (1 + tanh(u)) / 2 = 1 / (1 + exp(-2u)), as in gelu_numba.py.

Kernels are built per dtype and approximation, with the constants in that dtype (a bare
``0.5`` is a float64 literal to Numba), and compiled on first use.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import cuda

from ._cuda_launch import grid_stride_launch
from ._device import array_module


@functools.lru_cache(maxsize=None)
def _kernels(dtype_str: str, tanh: bool):
    """(gelu, gelu_backward) kernels for one dtype and approximation."""
    real = np.dtype(dtype_str).type
    HALF, ONE, TWO = real(0.5), real(1.0), real(2.0)
    SQRT_HALF, INV_SQRT_2PI = real(math.sqrt(0.5)), real(1.0 / math.sqrt(2.0 * math.pi))
    SQRT_2_OVER_PI, CUBIC = real(math.sqrt(2.0 / math.pi)), real(0.044715)
    THREE_CUBIC = real(3 * 0.044715)

    @cuda.jit(device=True)
    def slope_parts(v):
        """(factor, slope): y = v * factor and dy/dx = slope."""
        if tanh:
            v2 = v * v
            u = SQRT_2_OVER_PI * (v + CUBIC * (v2 * v))
            e = math.exp(-TWO * abs(u))
            s = (ONE if u >= 0 else e) / (ONE + e)
            du = SQRT_2_OVER_PI * (ONE + THREE_CUBIC * v2)
            return s, s + TWO * v * s * (ONE - s) * du
        cdf = HALF * math.erfc(-v * SQRT_HALF)
        return cdf, cdf + v * INV_SQRT_2PI * math.exp(-HALF * (v * v))

    @cuda.jit
    def gelu_kernel(x, out):
        for k in range(cuda.grid(1), x.size, cuda.gridsize(1)):
            v = x[k]
            out[k] = v * slope_parts(v)[0]

    @cuda.jit
    def gelu_backward_kernel(gy, x, out):
        for k in range(cuda.grid(1), x.size, cuda.gridsize(1)):
            out[k] = gy[k] * slope_parts(x[k])[1]

    return gelu_kernel, gelu_backward_kernel


def _flat(a):
    return array_module(a).ascontiguousarray(a).reshape(-1)


def gelu(x, approximate):
    """GELU of x; see gelu_numpy.py."""
    flat = _flat(x)
    out = array_module(x).empty_like(flat)
    blocks, threads = grid_stride_launch(flat.size)
    _kernels(flat.dtype.str, approximate == "tanh")[0][blocks, threads](flat, out)
    return out.reshape(x.shape)


def gelu_backward(gy, x, approximate):
    """gy * GELU'(x); see gelu_numpy.py."""
    gy_flat, x_flat = _flat(gy), _flat(x)
    out = array_module(gy).empty_like(gy_flat)
    blocks, threads = grid_stride_launch(gy_flat.size)
    _kernels(gy_flat.dtype.str, approximate == "tanh")[1][blocks, threads](gy_flat, x_flat, out)
    return out.reshape(gy.shape)
