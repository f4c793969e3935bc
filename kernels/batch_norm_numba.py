"""Batch normalization of channels and its backward on the CPU with Numba: one thread per
channel, the channel in cache for every pass.

The math is in batch_norm_numpy.py. x is (N, C, M); channel c is the N rows x[i, c] of M
contiguous values. NumPy takes about eight passes over memory for the forward (mean, centre,
square, mean, sqrt, scale, weight, bias: a temporary the size of x for most) and the backward
as many. Here each thread takes whole channels (``prange`` over C) and runs every step over
one channel before the next: a CNN channel is N * H * W values (32 * 32 * 32 float32 =
128 KiB for a batch of 32 at 32x32), which stays in L2 between the passes, so main memory
sees x read once and y written once:

* forward: the mean (a sum), the variance around it (a second sum over the cached channel:
  two passes, numerically sound where M[x^2] - M[x]^2 cancels), then y = x_hat * w + b;
* backward: the mean again, the two sums S[g] and S[g * x_hat] (= gb and gw), then gx.

The channels are independent, so no two threads write one number, and gw and gb need no
partial sums (layer norm's, whose sums run across rows, do: layer_norm_numba.py).

Sums are accumulated in float64 and may be reassociated (``fastmath={"reassoc"}``, on the
kernel itself, for the reason layer_norm_numba.py gives) so that LLVM vectorises them; x is
centred in float64 as in the reference. No flag that assumes "no NaN or inf" is used: a NaN
in a channel makes that channel NaN, as in NumPy. With few channels (C below the thread
count) some threads have nothing to do; CNN layers have dozens.
"""

from __future__ import annotations

import numpy as np

from ._numba_cpu import njit, parallel_njit, prange


@njit(inline="always", cache=True, error_model="numpy")
def _channel_sum(x, c):
    total = 0.0
    for i in range(x.shape[0]):
        row = x[i, c]
        for j in range(row.shape[0]):
            total += row[j]
    return total


@njit(inline="always", cache=True, error_model="numpy")
def _channel_sum_of_squares_around(x, c, centre):
    total = 0.0
    for i in range(x.shape[0]):
        row = x[i, c]
        for j in range(row.shape[0]):
            d = np.float64(row[j]) - centre
            total += d * d
    return total


@parallel_njit(fastmath={"reassoc", "contract"}, cache=True, error_model="numpy")
def batch_norm_channels(x, weight, bias, eps, y, mean, var):
    """y[:, c] = (x[:, c] - mean_c) * rstd_c * weight[c] + bias[c]; mean and var per channel."""
    n_samples, n_channels, m = x.shape
    n = n_samples * m
    for c in prange(n_channels):
        mu = _channel_sum(x, c) / n
        v = _channel_sum_of_squares_around(x, c, mu) / n
        mean[c] = mu
        var[c] = v
        rstd = 1.0 / np.sqrt(v + eps)
        w, b = weight[c], bias[c]
        for i in range(n_samples):
            xr, yr = x[i, c], y[i, c]
            for j in range(m):
                yr[j] = x.dtype.type((np.float64(xr[j]) - mu) * rstd) * w + b


@parallel_njit(fastmath={"reassoc", "contract"}, cache=True, error_model="numpy")
def batch_norm_backward_channels(g, x, rstd, weight, gx, gw, gb):
    """gx, and gw[c] = S[g * x_hat], gb[c] = S[g] over each channel."""
    n_samples, n_channels, m = x.shape
    n = n_samples * m
    for c in prange(n_channels):
        mu = _channel_sum(x, c) / n
        rs = rstd[c]
        sum_g = 0.0
        sum_g_xhat = 0.0
        for i in range(n_samples):
            xr, gr = x[i, c], g[i, c]
            for j in range(m):
                x_hat = x.dtype.type((np.float64(xr[j]) - mu) * rs)
                sum_g += gr[j]
                sum_g_xhat += gr[j] * x_hat
        gw[c] = sum_g_xhat
        gb[c] = sum_g
        scale = rs * weight[c]
        a = x.dtype.type(sum_g / n)
        b = x.dtype.type(sum_g_xhat / n)
        for i in range(n_samples):
            xr, gr, gxr = x[i, c], g[i, c], gx[i, c]
            for j in range(m):
                x_hat = x.dtype.type((np.float64(xr[j]) - mu) * rs)
                gxr[j] = scale * (gr[j] - a - x_hat * b)


# ---------------------------------------------------------------------------------------------
# Entry points used by ops.py: (N, C, M) with at least one value per channel, weight and
# bias (C,) or None
# ---------------------------------------------------------------------------------------------

def _affine(a, n, dtype, fill):
    return np.full(n, fill, dtype) if a is None else np.ascontiguousarray(a)


def batch_norm(x, weight, bias, eps):
    """(y, mean, var); see batch_norm_numpy.py."""
    x = np.ascontiguousarray(x)
    c = x.shape[1]
    y = np.empty_like(x)
    mean = np.empty(c, x.dtype)
    var = np.empty(c, x.dtype)
    batch_norm_channels(x, _affine(weight, c, x.dtype, 1), _affine(bias, c, x.dtype, 0),
                        float(eps), y, mean, var)
    return y, mean, var


def batch_norm_backward(g, x, rstd, weight):
    """(gx, gw, gb); see batch_norm_numpy.py."""
    g, x = np.ascontiguousarray(g), np.ascontiguousarray(x)
    c = x.shape[1]
    gx = np.empty_like(x)
    gw = np.empty(c, x.dtype)
    gb = np.empty(c, x.dtype)
    batch_norm_backward_channels(g, x, np.ascontiguousarray(rstd),
                                 _affine(weight, c, x.dtype, 1), gx, gw, gb)
    return gx, gw, gb
