"""Layer normalization of rows and its backward, reference implementation (NumPy or CuPy).

For each row r of x (R, N), over its N columns:

    mean_r = sum_j x_rj / N,   var_r = sum_j (x_rj - mean_r)^2 / N   (the biased variance)
    rstd_r = 1 / sqrt(var_r + eps),   x_hat = (x - mean) * rstd
    y = x_hat * weight + bias                     (weight, bias: (N,), or None for 1 and 0)

layer_norm returns (y, mean, var); the backward takes rstd back (and takes the mean again).
With g = dL/dy, g' = g * weight and M[.] the mean over a row:

    gx = rstd * (g' - M[g'] - x_hat * M[g' * x_hat])
    gw = sum over rows of g * x_hat,     gb = sum over rows of g

(the chain rule through mean and var: see ``Normalize`` in minigrad/ops/normalization.py).
The mean is taken in float64 and x is centred in float64: in float32, the mean of values
near 1000 is off in its last bits (~1e-4), which is a tenth of a spread of 1e-3, and x_hat
would not be centred (nor the gradient of layer_norm(x).sum(), exactly 0, near 0). The
variance is taken around the mean, in two passes, not as M[x^2] - M[x]^2, which cancels to
nothing when the values sit far from 0. Outputs are in x's dtype; gw and gb are (N,).
"""

from __future__ import annotations

import numpy as np

from ._device import array_module


def _centred(x):
    """(mean (R, 1), x - mean), both in float64."""
    mean = x.mean(axis=1, keepdims=True, dtype=np.float64)
    return mean, x - mean


def layer_norm(x, weight, bias, eps):
    """(y (R, N), mean (R,), var (R,)) of rows x (R, N)."""
    xp = array_module(x)
    mean, centred = _centred(x)
    var = (centred * centred).mean(axis=1, keepdims=True)
    y = (centred / xp.sqrt(var + eps)).astype(x.dtype)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return (xp.ascontiguousarray(y), mean[:, 0].astype(x.dtype), var[:, 0].astype(x.dtype))


def layer_norm_backward(g, x, rstd, weight):
    """(gx (R, N), gw (N,), gb (N,)) from g = dL/dy, the rows x and the forward's
    rstd (R,)."""
    xp = array_module(x)
    x_hat = (_centred(x)[1] * rstd[:, None]).astype(x.dtype)
    gp = g if weight is None else g * weight
    n = x.shape[1]
    gx = rstd[:, None] * (gp - gp.sum(axis=1, keepdims=True) / n
                          - x_hat * ((gp * x_hat).sum(axis=1, keepdims=True) / n))
    gw = (g * x_hat).sum(axis=0)
    gb = g.sum(axis=0)
    return (xp.ascontiguousarray(gx.astype(x.dtype, copy=False)), gw.astype(x.dtype),
            gb.astype(x.dtype))
