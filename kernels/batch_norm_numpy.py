"""Batch normalization of channels and its backward, reference implementation (NumPy or CuPy).

x is (N, C, M): N samples, C channels, M positions per channel (an image's H * W; 1 for a
(N, C) input). Each channel c is standardised over its N * M values, n = N * M:

    mean_c = sum_{i, m} x_icm / n,   var_c = sum_{i, m} (x_icm - mean_c)^2 / n   (biased)
    rstd_c = 1 / sqrt(var_c + eps),  x_hat = (x - mean) * rstd
    y = x_hat * weight + bias                     (weight, bias: (C,), or None for 1 and 0)

batch_norm returns (y, mean, var); the backward takes rstd back (and takes the mean again).
With g = dL/dy and S[.] the sum over a channel's n values:

    gw = S[g * x_hat],   gb = S[g]
    gx = rstd * weight * (g - gb / n - x_hat * gw / n)

the chain rule through mean and var (``Normalize`` in minigrad/ops/normalization.py), with
weight constant over the sum. It is layer norm with the roles of the axes exchanged: the
statistics are per channel, over the batch and the positions. As in layer_norm_numpy.py, the
mean is taken in float64 and x centred in float64 before the variance (two passes, never
M[x^2] - M[x]^2, which cancels when the values sit far from 0). Outputs are in x's dtype.
"""

from __future__ import annotations

import numpy as np

from ._device import array_module


def _centred(x):
    """(mean (1, C, 1), x - mean), both in float64."""
    mean = x.mean(axis=(0, 2), keepdims=True, dtype=np.float64)
    return mean, x - mean


def _per_channel(a):
    return a.reshape(1, -1, 1)


def batch_norm(x, weight, bias, eps):
    """(y (N, C, M), mean (C,), var (C,)) of x (N, C, M)."""
    xp = array_module(x)
    mean, centred = _centred(x)
    var = (centred * centred).mean(axis=(0, 2), keepdims=True)
    y = (centred / xp.sqrt(var + eps)).astype(x.dtype)
    if weight is not None:
        y = y * _per_channel(weight)
    if bias is not None:
        y = y + _per_channel(bias)
    return (xp.ascontiguousarray(y), mean.ravel().astype(x.dtype),
            var.ravel().astype(x.dtype))


def batch_norm_backward(g, x, rstd, weight):
    """(gx (N, C, M), gw (C,), gb (C,)) from g = dL/dy, x and the forward's rstd (C,)."""
    xp = array_module(x)
    n = x.shape[0] * x.shape[2]
    rstd = _per_channel(rstd)
    x_hat = (_centred(x)[1] * rstd).astype(x.dtype)
    gw = (g * x_hat).sum(axis=(0, 2), keepdims=True)
    gb = g.sum(axis=(0, 2), keepdims=True)
    scale = rstd if weight is None else rstd * _per_channel(weight)
    gx = scale * (g - gb / n - x_hat * (gw / n))
    return (xp.ascontiguousarray(gx.astype(x.dtype, copy=False)), gw.ravel().astype(x.dtype),
            gb.ravel().astype(x.dtype))
