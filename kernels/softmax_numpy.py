"""Softmax and log-softmax over the last axis, reference implementation (NumPy or CuPy).

Forward, for one row x (the entry point in ops.py moves the softmax axis last):

    softmax(x)_i     = exp(x_i) / sum_j exp(x_j)
    log_softmax(x)_i = x_i - log(sum_j exp(x_j))

Both are unchanged when a constant is subtracted from every x_j. We subtract the row maximum m:
then every exponent is <= 0, exp never overflows (exp(1000) is inf in float32 and float64), and
the largest term is exp(0) = 1, so the sum is >= 1 and its log is finite.

Backward, given y (the forward output) and gy = dL/dy:

    softmax:      dy_i/dx_k = y_i (delta_ik - y_k)
                  gx_k = sum_i gy_i y_i (delta_ik - y_k) = y_k (gy_k - sum_i gy_i y_i)
    log_softmax:  dy_i/dx_k = delta_ik - softmax(x)_k = delta_ik - exp(y_k)
                  gx_k = gy_k - exp(y_k) * sum_i gy_i

Each backward needs only y, not x: the framework saves the output.
This file is written with ``xp`` (NumPy or CuPy, whichever holds the array) so that the same
lines run on the GPU: there, it is the CuPy path.
"""

from __future__ import annotations

from ._device import array_module


def softmax(x):
    """softmax over the last axis of a float array."""
    xp = array_module(x)
    shifted = x - x.max(axis=-1, keepdims=True)    # <= 0: exp cannot overflow
    e = xp.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(x):
    """log(softmax(x)) over the last axis, without ever taking the log of a tiny number."""
    xp = array_module(x)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_backward(y, gy):
    """gx = y * (gy - sum(gy * y)) over the last axis; y = softmax(x)."""
    return y * (gy - (gy * y).sum(axis=-1, keepdims=True))


def log_softmax_backward(y, gy):
    """gx = gy - exp(y) * sum(gy) over the last axis; y = log_softmax(x)."""
    xp = array_module(y)
    return gy - xp.exp(y) * gy.sum(axis=-1, keepdims=True)
