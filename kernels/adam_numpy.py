"""Adam's update of one parameter, reference implementation (NumPy or CuPy).

One step t = 1, 2, ... of PyTorch's Adam on a parameter p with gradient g (weight decay and
``maximize`` are the optimizer's business: it hands over the gradient they produce)::

    m  <- m + (1 - beta1) (g - m)           first moment, as a "lerp" (rounds as PyTorch does)
    v  <- beta2 v + (1 - beta2) g^2         second moment
    v_max <- max(v_max, v)                  AMSGrad only: the denominator never shrinks
    p  <- p - step_size * m / (sqrt(v) / sqrt_bias_correction2 + eps)      (v_max with AMSGrad)

    step_size = lr / (1 - beta1^t)          the bias corrections of m and v (both start at 0,
    sqrt_bias_correction2 = sqrt(1 - beta2^t)   so early averages are too small by these)

Every array is updated in place. The scalars are Python floats, which NumPy converts to the
arrays' dtype before each operation (a float32 parameter is updated in float32 throughout):
the Numba and CUDA kernels cast them once and do the same operations in the same order, so
the NumPy and Numba results are the same numbers, bit for bit.

Written with NumPy, one step is about ten passes over each array (``g - m``, a scale, an add,
``v * beta2``, ``g * g``, ..., ``sqrt``, a divide, the update), each reading and writing a
whole array; adam_numba.py does one pass.
"""

from __future__ import annotations

import math

from ._device import array_module


def step_scalars(lr: float, beta1: float, beta2: float, step: int) -> tuple[float, float]:
    """(step_size, sqrt_bias_correction2) of step ``step``: the bias corrections folded into
    two scalars, computed once per step in Python floats for every implementation."""
    return lr / (1 - beta1 ** step), math.sqrt(1 - beta2 ** step)


def adam_step(p, g, m, v, v_max, beta1, beta2, eps, step_size, sqrt_bias_correction2):
    """In place: m, v (and v_max unless it is None) <- Adam's moments, p <- the update."""
    xp = array_module(p)
    m += (1 - beta1) * (g - m)
    v *= beta2
    v += (1 - beta2) * (g * g)
    if v_max is not None:
        v = xp.maximum(v_max, v, out=v_max)
    denom = xp.sqrt(v) / sqrt_bias_correction2
    denom += eps
    p -= step_size * (m / denom)
