"""Batch normalization of channels and its backward on the GPU with Numba CUDA: one thread
per channel.

The math is in batch_norm_numpy.py. Thread c does everything for channel c of x (N, C, M):
two passes for mean and variance and one for y; in the backward, the mean, the two sums
(gb = S[g], gw = S[g * x_hat]) and gx. A grid-stride loop covers any number of channels.
That is the simplest correct layout, not a fast one: a layer has tens to hundreds of
channels, far too few threads for a GPU, and each thread walks N * M values alone. A fast
kernel gives each channel a block and reduces in shared memory (softmax_cuda.py shows that
layout for rows). The channels are independent, so gw and gb need no atomics. Sums are in
the arrays' dtype: a correct reference on the GPU, not the precision of the CPU kernel
(which centres in float64).

Kernels are built per dtype (constants in that dtype) and compiled on first use.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import cuda

from ._cuda_launch import grid_stride_launch
from ._device import array_module


@functools.lru_cache(maxsize=None)
def _kernels(dtype_str: str):
    """(batch_norm, batch_norm_backward) kernels for one dtype."""
    real = np.dtype(dtype_str).type
    ZERO, ONE = real(0.0), real(1.0)

    @cuda.jit(device=True)
    def channel_mean(x, c):
        n_samples, _, m = x.shape
        total = ZERO
        for i in range(n_samples):
            for j in range(m):
                total += x[i, c, j]
        return total / (n_samples * m)

    @cuda.jit
    def forward_kernel(x, weight, bias, eps, y, mean, var):
        n_samples, n_channels, m = x.shape
        for c in range(cuda.grid(1), n_channels, cuda.gridsize(1)):
            mu = channel_mean(x, c)
            squares = ZERO
            for i in range(n_samples):
                for j in range(m):
                    d = x[i, c, j] - mu
                    squares += d * d
            v = squares / (n_samples * m)
            rstd = ONE / math.sqrt(v + eps)
            for i in range(n_samples):
                for j in range(m):
                    y[i, c, j] = (x[i, c, j] - mu) * rstd * weight[c] + bias[c]
            mean[c] = mu
            var[c] = v

    @cuda.jit
    def backward_kernel(g, x, rstd, weight, gx, gw, gb):
        n_samples, n_channels, m = x.shape
        n = n_samples * m
        for c in range(cuda.grid(1), n_channels, cuda.gridsize(1)):
            mu, rs = channel_mean(x, c), rstd[c]
            sum_g = ZERO
            sum_g_xhat = ZERO
            for i in range(n_samples):
                for j in range(m):
                    sum_g += g[i, c, j]
                    sum_g_xhat += g[i, c, j] * (x[i, c, j] - mu) * rs
            gw[c] = sum_g_xhat
            gb[c] = sum_g
            scale, a, b = rs * weight[c], sum_g / n, sum_g_xhat / n
            for i in range(n_samples):
                for j in range(m):
                    x_hat = (x[i, c, j] - mu) * rs
                    gx[i, c, j] = scale * (g[i, c, j] - a - x_hat * b)

    return forward_kernel, backward_kernel


def _affine(xp, a, n, dtype, fill):
    return xp.full(n, fill, dtype) if a is None else xp.ascontiguousarray(a)


def batch_norm(x, weight, bias, eps):
    """(y, mean, var); see batch_norm_numpy.py."""
    xp = array_module(x)
    x = xp.ascontiguousarray(x)
    c = x.shape[1]
    y, mean, var = xp.empty_like(x), xp.empty(c, x.dtype), xp.empty(c, x.dtype)
    blocks, threads = grid_stride_launch(c)
    _kernels(x.dtype.str)[0][blocks, threads](
        x, _affine(xp, weight, c, x.dtype, 1), _affine(xp, bias, c, x.dtype, 0),
        x.dtype.type(eps), y, mean, var)
    return y, mean, var


def batch_norm_backward(g, x, rstd, weight):
    """(gx, gw, gb); see batch_norm_numpy.py."""
    xp = array_module(x)
    g, x = xp.ascontiguousarray(g), xp.ascontiguousarray(x)
    c = x.shape[1]
    gx, gw, gb = xp.empty_like(x), xp.empty(c, x.dtype), xp.empty(c, x.dtype)
    blocks, threads = grid_stride_launch(c)
    _kernels(x.dtype.str)[1][blocks, threads](
        g, x, xp.ascontiguousarray(rstd), _affine(xp, weight, c, x.dtype, 1), gx, gw, gb)
    return gx, gw, gb
