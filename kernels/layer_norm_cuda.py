"""Layer normalization of rows and its backward on the GPU with Numba CUDA: one thread per row.

The math is in layer_norm_numpy.py. Thread r does everything for row r (two passes for mean
and variance, one for y), in a grid-stride loop over rows. That is the simplest correct
layout, not the fastest: a transformer has thousands of rows of a few hundred values, enough
rows to fill a GPU, but neighbouring threads read addresses a whole row apart (not
coalesced). softmax_cuda.py shows the faster layout (a block per row with a shared-memory
reduction). The backward's gw and gb are sums over rows: each thread adds its rows into
them with atomic adds (float32 and float64 both have them). Sums are in the arrays' dtype:
this layout is a correct reference on the GPU, not the precision of the CPU kernel (which
centres in float64).

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
    """(layer_norm, layer_norm_backward) kernels for one dtype."""
    real = np.dtype(dtype_str).type
    ZERO, ONE = real(0.0), real(1.0)

    @cuda.jit
    def forward_kernel(x, weight, bias, eps, y, mean, var):
        n_rows, n = x.shape
        for r in range(cuda.grid(1), n_rows, cuda.gridsize(1)):
            total = ZERO
            for j in range(n):
                total += x[r, j]
            m = total / n
            squares = ZERO
            for j in range(n):
                d = x[r, j] - m
                squares += d * d
            v = squares / n
            rstd = ONE / math.sqrt(v + eps)
            for j in range(n):
                y[r, j] = (x[r, j] - m) * rstd * weight[j] + bias[j]
            mean[r] = m
            var[r] = v

    @cuda.jit
    def backward_kernel(g, x, rstd, weight, gx, gw, gb):
        n_rows, n = x.shape
        for r in range(cuda.grid(1), n_rows, cuda.gridsize(1)):
            total = ZERO
            for j in range(n):
                total += x[r, j]
            m, rs = total / n, rstd[r]
            sum_gp = ZERO
            sum_gp_xhat = ZERO
            for j in range(n):
                x_hat = (x[r, j] - m) * rs
                gp = g[r, j] * weight[j]
                sum_gp += gp
                sum_gp_xhat += gp * x_hat
                cuda.atomic.add(gw, j, g[r, j] * x_hat)
                cuda.atomic.add(gb, j, g[r, j])
            a, c = sum_gp / n, sum_gp_xhat / n
            for j in range(n):
                x_hat = (x[r, j] - m) * rs
                gx[r, j] = rs * (g[r, j] * weight[j] - a - x_hat * c)

    return forward_kernel, backward_kernel


def _affine(xp, a, n, dtype, fill):
    return xp.full(n, fill, dtype) if a is None else xp.ascontiguousarray(a)


def layer_norm(x, weight, bias, eps):
    """(y, mean, var); see layer_norm_numpy.py."""
    xp = array_module(x)
    x = xp.ascontiguousarray(x)
    n_rows, n = x.shape
    y, mean, var = xp.empty_like(x), xp.empty(n_rows, x.dtype), xp.empty(n_rows, x.dtype)
    blocks, threads = grid_stride_launch(n_rows)
    _kernels(x.dtype.str)[0][blocks, threads](
        x, _affine(xp, weight, n, x.dtype, 1), _affine(xp, bias, n, x.dtype, 0),
        x.dtype.type(eps), y, mean, var)
    return y, mean, var


def layer_norm_backward(g, x, rstd, weight):
    """(gx, gw, gb); see layer_norm_numpy.py."""
    xp = array_module(x)
    g, x = xp.ascontiguousarray(g), xp.ascontiguousarray(x)
    n_rows, n = x.shape
    gx, gw, gb = xp.empty_like(x), xp.zeros(n, x.dtype), xp.zeros(n, x.dtype)
    blocks, threads = grid_stride_launch(n_rows)
    _kernels(x.dtype.str)[1][blocks, threads](
        g, x, xp.ascontiguousarray(rstd),
        _affine(xp, weight, n, x.dtype, 1), gx, gw, gb)
    return gx, gw, gb
