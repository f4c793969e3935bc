"""Adam's update as one compiled loop over the elements (CPU, NumPy arrays, Numba).

Written with NumPy, one Adam step is about ten passes over each parameter (``g - m``, a
scale, an add, ``v * beta2``, ``g * g``, ..., ``sqrt``, a divide, the update), each reading
and writing a whole array. The loop below does the same arithmetic element by element in
one pass: the same operations in the same order and in the array's dtype (the scalars are
cast to it first, as NumPy does with Python floats), so the results are the same numbers.
On an MLP's six parameters (85k floats) the step went from 0.25 ms to ~0.05 ms. PyTorch
fuses its optimizers for the same reason (``foreach``/``fused``).

Compiled lazily on first use and cached on disk; CuPy arrays and AMSGrad use the NumPy code
in adam.py.
"""

from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=None)
def _kernel():
    import numba

    @numba.njit(cache=True, error_model="numpy")
    def adam_step(p, g, m, v, one_minus_beta1, beta2, one_minus_beta2, step_size,
                  sqrt_bias_correction2, eps):
        p_flat, g_flat = p.reshape(-1), g.reshape(-1)
        m_flat, v_flat = m.reshape(-1), v.reshape(-1)
        for i in range(p_flat.shape[0]):
            gi = g_flat[i]
            mi = m_flat[i] + one_minus_beta1 * (gi - m_flat[i])     # lerp, as PyTorch
            vi = v_flat[i] * beta2
            vi = vi + one_minus_beta2 * (gi * gi)
            m_flat[i] = mi
            v_flat[i] = vi
            denom = np.sqrt(vi) / sqrt_bias_correction2 + eps
            p_flat[i] = p_flat[i] - step_size * (mi / denom)

    return adam_step


def can_fuse(*arrays) -> bool:
    """C-contiguous NumPy float32/float64 arrays of one dtype (and Numba installed)."""
    first = arrays[0]
    if not isinstance(first, np.ndarray) or first.dtype not in (np.float32, np.float64):
        return False
    if not all(type(a) is np.ndarray and a.dtype == first.dtype and a.flags.c_contiguous
               for a in arrays):
        return False
    return _numba_available()


@functools.lru_cache(maxsize=None)
def _numba_available() -> bool:
    import importlib.util
    return importlib.util.find_spec("numba") is not None


def adam_step(p, g, m, v, beta1, beta2, step_size, sqrt_bias_correction2, eps):
    """In place: m, v <- Adam's moments; p <- p - step_size * m / (sqrt(v) / sqrt_bc2 + eps)."""
    dtype = p.dtype.type
    _kernel()(p, g, m, v, dtype(1 - beta1), dtype(beta2), dtype(1 - beta2), dtype(step_size),
              dtype(sqrt_bias_correction2), dtype(eps))
