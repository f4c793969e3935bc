"""Layer normalization of rows and its backward on the CPU with Numba: one fused loop per row,
parallel over rows.

The math is in layer_norm_numpy.py. NumPy takes about eight passes over memory for the
forward (mean, centre, square, mean, sqrt, scale, weight, bias: each a temporary the size of
x) and a dozen for the backward. Here each thread takes whole rows: a row (a transformer's
d_model = 128 to 4096 values) stays in L1/L2 cache while every step runs over it, so main
memory sees x read once and y written once (twice in the backward: its two row sums need
x_hat before gx can be written).

Sums are accumulated in float64 and may be reassociated (``fastmath={"reassoc"}``) so that
LLVM vectorises them; the mean is taken first and the variance around it (two passes over
the cached row). x is centred in float64 (a float32 mean of values near 1000 is off by
~1e-4, a tenth of a spread of 1e-3: layer_norm_numpy.py). The flag must be on the *kernel*: an ``inline="always"`` helper is inlined
by Numba before LLVM sees it and compiled with its caller's flags, so a ``reassoc`` on the
helper alone is lost, every addition waits for the one before, and a (1024, 128) float32
forward took 190-220 us instead of 27 us (serial, one-off). No flag that assumes "no NaN or
inf" is used: a NaN in a row makes that row NaN, as in NumPy.

The backward's gw and gb are sums over *rows*, which the threads share: each block of rows
adds into its own float64 row of partial sums, and NumPy adds the partial rows at the end,
so no two threads ever write one number. The backward takes the row's mean again (one more
pass over the cached row) rather than reading the forward's, which is rounded to x's dtype.
"""

from __future__ import annotations

import numpy as np

from ._numba_cpu import njit, parallel_njit, prange


@njit(inline="always", cache=True, error_model="numpy")
def _row_sum(row):
    total = 0.0
    for j in range(row.shape[0]):
        total += row[j]
    return total


@njit(inline="always", cache=True, error_model="numpy")
def _row_sum_of_squares_around(row, centre):
    total = 0.0
    for j in range(row.shape[0]):
        d = np.float64(row[j]) - centre
        total += d * d
    return total


@parallel_njit(fastmath={"reassoc", "contract"}, cache=True, error_model="numpy")
def layer_norm_rows(x, weight, bias, eps, y, mean, var):
    """y[r] = (x[r] - mean_r) * rstd_r * weight + bias; mean and var per row."""
    n = x.shape[1]
    for r in prange(x.shape[0]):
        xr, yr = x[r], y[r]
        m = _row_sum(xr) / n
        v = _row_sum_of_squares_around(xr, m) / n
        mean[r] = m
        var[r] = v
        rstd = 1.0 / np.sqrt(v + eps)
        for j in range(n):
            yr[j] = x.dtype.type((np.float64(xr[j]) - m) * rstd) * weight[j] + bias[j]


@parallel_njit(fastmath={"reassoc", "contract"}, cache=True, error_model="numpy")
def layer_norm_backward_rows(g, x, rstd, weight, gx, gw_parts, gb_parts, rows_per_block):
    """gx per row; gw_parts[b], gb_parts[b]: sums of g * x_hat and g over block b's rows."""
    n_rows, n = x.shape
    for block in prange(gw_parts.shape[0]):
        gw_part, gb_part = gw_parts[block], gb_parts[block]
        for r in range(block * rows_per_block, min((block + 1) * rows_per_block, n_rows)):
            xr, gr, gxr = x[r], g[r], gx[r]
            m = _row_sum(xr) / n
            rs = rstd[r]
            sum_gp = 0.0
            sum_gp_xhat = 0.0
            for j in range(n):
                x_hat = x.dtype.type((np.float64(xr[j]) - m) * rs)
                gp = gr[j] * weight[j]
                sum_gp += gp
                sum_gp_xhat += gp * x_hat
                gw_part[j] += gr[j] * x_hat
                gb_part[j] += gr[j]
            a = x.dtype.type(sum_gp / n)
            c = x.dtype.type(sum_gp_xhat / n)
            for j in range(n):
                x_hat = x.dtype.type((np.float64(xr[j]) - m) * rs)
                gxr[j] = rs * (gr[j] * weight[j] - a - x_hat * c)


# ---------------------------------------------------------------------------------------------
# Entry points used by ops.py: 2-D rows with at least one column, weight and bias (N,) or None
# ---------------------------------------------------------------------------------------------

def _affine(a, n, dtype, fill):
    return np.full(n, fill, dtype) if a is None else np.ascontiguousarray(a)


def layer_norm(x, weight, bias, eps):
    """(y, mean, var); see layer_norm_numpy.py."""
    x = np.ascontiguousarray(x)
    n_rows, n = x.shape
    y = np.empty_like(x)
    mean = np.empty(n_rows, x.dtype)
    var = np.empty(n_rows, x.dtype)
    layer_norm_rows(x, _affine(weight, n, x.dtype, 1), _affine(bias, n, x.dtype, 0),
                    float(eps), y, mean, var)
    return y, mean, var


def layer_norm_backward(g, x, rstd, weight):
    """(gx, gw, gb); see layer_norm_numpy.py."""
    g, x = np.ascontiguousarray(g), np.ascontiguousarray(x)
    n_rows, n = x.shape
    rows_per_block = max(8, -(-n_rows // 64))     # at most 64 blocks of partial sums
    n_blocks = -(-n_rows // rows_per_block)
    gw_parts = np.zeros((n_blocks, n))
    gb_parts = np.zeros((n_blocks, n))
    gx = np.empty_like(x)
    layer_norm_backward_rows(g, x, np.ascontiguousarray(rstd), _affine(weight, n, x.dtype, 1),
                             gx, gw_parts, gb_parts, rows_per_block)
    return gx, gw_parts.sum(axis=0).astype(x.dtype), gb_parts.sum(axis=0).astype(x.dtype)
