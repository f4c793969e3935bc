"""2-D convolution on the CPU with Numba: parallel im2col / col2im around our own GEMM.

Same algorithm as conv2d_numpy.py (read that first: the math, im2col and col2im are explained
there); what changes is who does the work:

* ``im2col_into`` fills the (C*KH*KW, N*OH*OW) matrix directly from the unpadded input, with
  one thread per group of rows of cols. Out-of-range positions (the padding) are written as 0
  instead of building a padded copy of the input first.
* the products run on ``matmul_numba.gemm``, our cache-blocked parallel GEMM (not BLAS).
* ``col2im_into`` scatters gradients back with one thread per (sample, channel) image plane.
  Two kernel windows can add to the same pixel, but only within one plane, and one plane
  belongs to one thread: no two threads ever write the same pixel, so no atomics or locks.

The GEMM wants C-contiguous operands, so the backward passes first copy gy into the
layout the product needs (GY = gy as (F, N*OH*OW), or gy as (N*OH*OW, F)); those copies are
O(size of gy), small next to the O(size of gy * C*KH*KW) products.
"""

from __future__ import annotations

import numpy as np

from ._numba_cpu import njit, parallel_njit, prange
from .conv2d_numpy import gy_matrix
from .matmul_numba import gemm


@njit(inline="always", cache=True, error_model="numpy")
def _valid_outputs(size, offset, stride, count):
    """The range [lo, hi) of output indices j in [0, count) whose input index
    j*stride + offset lies inside [0, size). Looping over it needs no bounds test per element,
    which keeps the inner loops simple enough to vectorise."""
    lo = max(0, (-offset + stride - 1) // stride)            # ceil(-offset / stride)
    hi = min(count, (size - offset + stride - 1) // stride)  # ceil((size - offset) / stride)
    return lo, max(lo, hi)


@parallel_njit(cache=True, error_model="numpy")
def im2col_into(x, g, cols):
    """cols[(c, p, q), (n, i, j)] = x[n, c, i*sh - ph + p*dh, j*sw - pw + q*dw] (0 outside)."""
    for row in prange(g.C * g.KH * g.KW):
        c = row // (g.KH * g.KW)
        p = (row // g.KW) % g.KH
        q = row % g.KW
        offset_w = q * g.dil_w - g.pad_w
        lo, hi = _valid_outputs(g.W, offset_w, g.stride_w, g.OW)
        for n in range(g.N):
            for i in range(g.OH):
                h = i * g.stride_h - g.pad_h + p * g.dil_h
                start = (n * g.OH + i) * g.OW
                out = cols[row, start:start + g.OW]
                if h < 0 or h >= g.H:               # the whole output row reads padding
                    out[:] = 0
                    continue
                out[:lo] = 0                        # left padding
                out[hi:] = 0                        # right padding
                first = lo * g.stride_w + offset_w
                if g.stride_w == 1:                 # contiguous: a plain (vectorised) copy
                    out[lo:hi] = x[n, c, h, first:first + hi - lo]
                else:
                    src = x[n, c, h]
                    for j in range(hi - lo):
                        out[lo + j] = src[first + j * g.stride_w]


@parallel_njit(cache=True, error_model="numpy")
def col2im_into(cols, g, gx):
    """gx[n, c, h, v] += every cols entry that im2col took from x[n, c, h, v]; gx zeroed."""
    for plane in prange(g.N * g.C):
        n = plane // g.C
        c = plane % g.C
        for p in range(g.KH):
            for q in range(g.KW):
                row = (c * g.KH + p) * g.KW + q
                offset_w = q * g.dil_w - g.pad_w
                lo, hi = _valid_outputs(g.W, offset_w, g.stride_w, g.OW)
                first = lo * g.stride_w + offset_w
                for i in range(g.OH):
                    h = i * g.stride_h - g.pad_h + p * g.dil_h
                    if h < 0 or h >= g.H:
                        continue
                    start = (n * g.OH + i) * g.OW + lo
                    src = cols[row, start:start + hi - lo]
                    if g.stride_w == 1:              # contiguous: a loop LLVM vectorises
                        dst = gx[n, c, h, first:first + hi - lo]
                        for j in range(hi - lo):
                            dst[j] += src[j]
                    else:
                        dst = gx[n, c, h]
                        for j in range(hi - lo):
                            dst[first + j * g.stride_w] += src[j]


def im2col(x, g):
    cols = np.empty((g.C * g.KH * g.KW, g.N * g.OH * g.OW), dtype=x.dtype)
    im2col_into(np.ascontiguousarray(x), g, cols)
    return cols


def conv2d(x, w, g):
    """y = W @ im2col(x) with W = w as (F, C*KH*KW), reshaped to (N, F, OH, OW)."""
    y = gemm(w.reshape(g.F, -1), im2col(x, g))                       # (F, N*OH*OW)
    return np.ascontiguousarray(y.reshape(g.F, g.N, g.OH, g.OW).transpose(1, 0, 2, 3))


def conv2d_backward_input(gy, w, g):
    """dL/dx = col2im(W.T @ GY)."""
    grad_cols = gemm(w.reshape(g.F, -1).T, gy_matrix(gy, g))        # (C*KH*KW, N*OH*OW)
    gx = np.zeros(g.x_shape, dtype=gy.dtype)
    col2im_into(grad_cols, g, gx)
    return gx


def conv2d_backward_weight(x, gy, g):
    """dL/dw = (im2col(x) @ GY.T).T: the long N*OH*OW axis is the GEMM's inner (K) axis.

    Computing the transpose, cols (C*KH*KW, N*OH*OW) @ gy as (N*OH*OW, F), gives the GEMM
    C*KH*KW rows to spread over threads; GY @ cols.T would have only F rows.
    """
    gy_rows = gy.transpose(0, 2, 3, 1).reshape(g.N * g.OH * g.OW, g.F)  # copy: (n,i,j) x f
    grad_w_t = gemm(im2col(x, g), gy_rows)                               # (C*KH*KW, F)
    return np.ascontiguousarray(grad_w_t.T).reshape(g.w_shape)
