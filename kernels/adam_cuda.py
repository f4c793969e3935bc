"""Adam's update on the GPU with Numba CUDA: one thread per element.

The math is in adam_numpy.py and the loop body is adam_numba.py's: every element is
independent, so thread k updates element k of the raveled (C-contiguous) arrays, and a
grid-stride loop makes any grid size correct (the simulator runs tiny grids). An array that
is not C-contiguous is updated through a contiguous copy that is written back. Without
AMSGrad an empty array stands in for v_max: passing v twice would not do, because Numba
copies NumPy arguments to the device and back one by one, and the second copy of v would
overwrite the updated first.

The scalars are passed as scalars of the arrays' dtype: a Python float is a float64 to Numba,
and float32 arithmetic would silently run in float64 (``math.sqrt`` of a float32 stays float32;
``x ** 0.5`` would not). The GPU compiler may fuse a multiply and
an add into one FMA, so results can differ from the NumPy reference in the last bit.
Kernels are compiled on first use.
"""

from __future__ import annotations

import functools
import math

from numba import cuda

from ._cuda_launch import grid_stride_launch
from ._device import array_module


@functools.lru_cache(maxsize=None)
def _kernel():
    @cuda.jit
    def adam_kernel(p, g, m, v, v_max, amsgrad, one_minus_beta1, beta2, one_minus_beta2, eps,
                    step_size, sqrt_bias_correction2):
        for k in range(cuda.grid(1), p.size, cuda.gridsize(1)):
            gk = g[k]
            mk = m[k] + one_minus_beta1 * (gk - m[k])
            vk = v[k] * beta2
            vk = vk + one_minus_beta2 * (gk * gk)
            m[k] = mk
            v[k] = vk
            if amsgrad:
                vm = v_max[k]
                vk = vm if (vm >= vk or vm != vm) else vk       # NaN wins, as in maximum
                v_max[k] = vk
            denom = math.sqrt(vk) / sqrt_bias_correction2 + eps
            p[k] = p[k] - step_size * (mk / denom)

    return adam_kernel


def adam_step(p, g, m, v, v_max, beta1, beta2, eps, step_size, sqrt_bias_correction2):
    """In place: m, v (and v_max unless it is None) <- Adam's moments, p <- the update."""
    xp = array_module(p)
    written = [p, m, v] if v_max is None else [p, m, v, v_max]
    flat = [xp.ascontiguousarray(a).reshape(-1) for a in written]
    flat_p, flat_m, flat_v = flat[:3]
    amsgrad = v_max is not None
    dtype = p.dtype.type
    blocks, threads = grid_stride_launch(flat_p.size)
    _kernel()[blocks, threads](
        flat_p, xp.ascontiguousarray(g).reshape(-1), flat_m, flat_v,
        flat[3] if amsgrad else flat_v[:0], amsgrad, dtype(1 - beta1), dtype(beta2),
        dtype(1 - beta2), dtype(eps), dtype(step_size), dtype(sqrt_bias_correction2))
    for array, updated in zip(written, flat):
        if not array.flags.c_contiguous:                 # updated a copy: write it back
            array[...] = updated.reshape(array.shape)
