"""2-D max pooling, reference implementation (NumPy or CuPy): whole-array steps, no loop over
pixels.

    y[n, c, i, j]   = max over (p, q) of xpad[n, c, i*sh + p*dh, j*sw + q*dw]
    idx[n, c, i, j] = h * W + w of that maximum in the (unpadded) H x W plane

xpad is x padded with -inf (padding never wins; the lowest integer for integer inputs). A new value wins if it is strictly greater
than the best so far or if it is NaN: ties go to the first maximum in the window (row by
row), and a NaN beats every number. That is PyTorch's rule, so the indices agree with its.

The forward pass loops over the KH * KW offsets inside a window (4 for the usual 2x2 pool),
not over pixels: offset (p, q) of *every* window is one strided slice of the padded input,
compared with the best so far in one vectorised step.

Backward: each output is a copy of one input element, so

    gx[n, c, h, w] = sum of gy[n, c, i, j] over the outputs whose idx[n, c, i, j] = h * W + w

(a sum, because overlapping windows can share a winner).

An edge case: with dilation, a window can step over the whole plane and cover padding only
(say kernel 2, dilation 2, padding 1 on a 1-pixel-high input). Its output is -inf, a constant,
and its index is -1: it points at nothing and receives no gradient. (PyTorch returns an index
outside the plane there.) ``bincount`` of the flat positions,
weighted by gy, is exactly that sum for all planes at once.
"""

from __future__ import annotations

import numpy as np

from ._device import array_module


def lowest_value(dtype):
    """What padding holds: -inf for floats, the smallest integer for integers."""
    dtype = np.dtype(dtype)
    return dtype.type(-np.inf if dtype.kind == "f" else np.iinfo(dtype).min)


def _windows(x, g):
    """View (N, C, OH, OW, KH, KW) of x padded with -inf: [.., i, j, p, q] is what offset
    (p, q) of window (i, j) sees. Pads enough on the right for ceil_mode's last window."""
    xp = array_module(x)
    lowest = lowest_value(x.dtype)
    bottom = max(0, (g.OH - 1) * g.stride_h + g.dil_h * (g.KH - 1) + 1 - g.H - g.pad_h)
    right = max(0, (g.OW - 1) * g.stride_w + g.dil_w * (g.KW - 1) + 1 - g.W - g.pad_w)
    xpad = xp.pad(x, ((0, 0), (0, 0), (g.pad_h, bottom), (g.pad_w, right)),
                  constant_values=lowest)
    sn, sc, sh, sw = xpad.strides
    return xp.lib.stride_tricks.as_strided(
        xpad, (g.N, g.C, g.OH, g.OW, g.KH, g.KW),
        (sn, sc, sh * g.stride_h, sw * g.stride_w, sh * g.dil_h, sw * g.dil_w))


def _first_inside(count, stride, pad, dilation):
    """For each window along one axis: its start (i * stride - pad) and the first position
    inside the plane that it covers (start + p * dilation for the smallest such p)."""
    start = np.arange(count) * stride - pad
    first = np.where(start >= 0, start, start + (-start + dilation - 1) // dilation * dilation)
    return start, first


def max_pool2d(x, g):
    """(y, idx) as in the module docstring; idx is int64."""
    xp = array_module(x)
    windows = _windows(x, g)
    best = windows[..., 0, 0].copy()          # padding (-inf or the lowest integer) or a value
    best_k = xp.full(best.shape, -1, dtype=np.int64)       # p * KW + q of the best so far
    for p in range(g.KH):
        for q in range(g.KW):
            value = windows[..., p, q]
            better = value > best
            if x.dtype.kind == "f":
                better |= xp.isnan(value)
            xp.copyto(best, value, where=better)
            xp.copyto(best_k, p * g.KW + q, where=better)
    top, first_row = (xp.asarray(a).reshape(-1, 1)
                      for a in _first_inside(g.OH, g.stride_h, g.pad_h, g.dil_h))
    left, first_col = (xp.asarray(a) for a in _first_inside(g.OW, g.stride_w, g.pad_w, g.dil_w))
    # Padding is the lowest value and never wins (strictly greater), so nothing won only where
    # every element is that lowest value: there, like PyTorch, point at the first element
    # inside the plane.
    rows = xp.where(best_k >= 0, top + (best_k // g.KW) * g.dil_h, first_row)
    cols = xp.where(best_k >= 0, left + (best_k % g.KW) * g.dil_w, first_col)
    empty = (rows >= g.H) | (cols >= g.W)          # dilation stepped over the whole plane
    return best, xp.where(empty, -1, rows * g.W + cols)


def max_pool2d_backward(gy, idx, g):
    """gx (N, C, H, W): every gy added at the input position its output was copied from."""
    xp = array_module(gy)
    n, c, h, w = g.x_shape
    plane_start = (xp.arange(n * c, dtype=np.int64) * (h * w)).reshape(n, c, 1, 1)
    chosen = idx >= 0                                     # -1: an empty window, no gradient
    flat = (xp.where(chosen, idx, 0) + plane_start).ravel()
    weights = xp.where(chosen, gy, 0).ravel()
    total = xp.bincount(flat, weights=weights, minlength=n * c * h * w)
    return total.astype(gy.dtype, copy=False).reshape(g.x_shape)
