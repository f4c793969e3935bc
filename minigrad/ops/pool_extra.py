"""More pooling: the 1-D poolings and adaptive *max* pooling.

* ``max_pool1d`` / ``avg_pool1d`` / ``adaptive_avg_pool1d`` / ``adaptive_max_pool1d``: a
  signal (N, C, L) is an image (N, C, 1, L) of height 1, so each is its 2-D version on that
  image (``ops/pool.py``), with the window only along the width. The arguments are checked
  here first, so that mistakes are reported in 1-D terms.
* ``adaptive_max_pool2d``: output cell (i, j) is the maximum of input rows
  floor(i H / H_out) .. ceil((i + 1) H / H_out) and the same columns (windows of unequal
  sizes, so no strided view). The winners are found on raw arrays: every window is read
  through index arrays padded to the largest window (padding reads count as -inf), and
  ``argmax`` picks the first maximum (or the last NaN), as PyTorch does. The values are then a ``gather`` of
  the winners, whose gradient (a scatter-add back to them) and second derivative (a gather
  again) already exist.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..kernels._validate import pool_output_size
from ..tensor import Tensor
from .indexing import gather
from .movement import reshape, squeeze, unsqueeze
from .pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d

# ---------------------------------------------------------------------------------------------
# 1-D pooling = 2-D pooling of an image of height 1
# ---------------------------------------------------------------------------------------------


def _single(name, what, value) -> int:
    """``3`` or ``(3,)`` -> 3 (PyTorch's ``_single``)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{name}: {what} must be an int or a tuple of one int, got "
                             f"{value!r}")
        value = value[0]
    return int(value)


def _signal(name, input) -> None:  # noqa: A002
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{name}: expected a 2-D (unbatched) or 3-D (batched) input "
                           f"(N, C, L), got shape {tuple(input.shape)}")


def _window_1d(name, input, kernel_size, stride, padding, dilation, ceil_mode):  # noqa: A002
    """Check a 1-D pooling's settings (PyTorch's rules) and return them as ints."""
    _signal(name, input)
    k = _single(name, "kernel_size", kernel_size)
    s = k if stride is None or stride == [] or stride == () else _single(name, "stride", stride)
    p, d = _single(name, "padding", padding), _single(name, "dilation", dilation)
    if k <= 0 or s <= 0 or d <= 0:
        raise RuntimeError(f"{name}: kernel_size ({k}), stride ({s}) and dilation ({d}) must "
                           f"be greater than zero")
    if not 0 <= p <= k // 2:
        raise RuntimeError(f"{name}: padding should be at most half of kernel size, but got "
                           f"padding={p} and kernel_size={k}")
    length = input.shape[-1]
    out = pool_output_size(length, k, s, p, d, ceil_mode)
    if out < 1:
        raise RuntimeError(f"{name}: input of shape {tuple(input.shape)} (length {length}) with "
                           f"kernel_size={k}, stride={s}, padding={p}, dilation={d} gives an "
                           f"output of length {out}: the output is too small")
    return k, s, p, d


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """y[n, c, i] = max of the window at i * stride of the (-inf) padded signal. With
    ``return_indices`` also the position of each maximum along L (first maximum wins)."""
    k, s, p, d = _window_1d("max_pool1d", input, kernel_size, stride, padding, dilation,
                            ceil_mode)
    y, idx = max_pool2d(unsqueeze(input, -2), (1, k), (1, s), (0, p), (1, d), ceil_mode,
                        return_indices=True)
    y, idx = squeeze(y, -2), squeeze(idx, -2)     # height 1: the flat index h * L + w is w
    return (y, idx) if return_indices else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,  # noqa: A002
               count_include_pad=True):
    """y[n, c, i] = mean of the window at i * stride of the zero-padded signal
    (``count_include_pad=False``: of its real elements only)."""
    k, s, p, _ = _window_1d("avg_pool1d", input, kernel_size, stride, padding, 1, ceil_mode)
    y = avg_pool2d(unsqueeze(input, -2), (1, k), (1, s), (0, p), ceil_mode, count_include_pad)
    return squeeze(y, -2)


def _adaptive_size(name, output_size, size):
    """An output size: an int, or None (keep ``size``); it must be positive."""
    out = size if output_size is None else int(output_size)
    if out <= 0:
        raise ValueError(f"{name}: output_size must be positive, got {output_size!r}")
    return out


def adaptive_avg_pool1d(input, output_size):  # noqa: A002
    """Average pooling of (N, C, L) to length ``output_size``: output i averages
    floor(i L / out) .. ceil((i + 1) L / out)."""
    _signal("adaptive_avg_pool1d", input)
    out = _adaptive_size("adaptive_avg_pool1d",
                         _single("adaptive_avg_pool1d", "output_size", output_size),
                         input.shape[-1])
    return squeeze(adaptive_avg_pool2d(unsqueeze(input, -2), (1, out)), -2)


# ---------------------------------------------------------------------------------------------
# Adaptive max pooling
# ---------------------------------------------------------------------------------------------


def _adaptive_windows(size: int, out: int):
    """Input positions of each output's window, padded to the largest window.

    Returns ``index`` (out, K) (padding repeats the last position) and ``valid`` (out, K)."""
    j = np.arange(out)
    start = (j * size) // out
    end = -((-(j + 1) * size) // out)           # ceil((j + 1) * size / out)
    k = np.arange((end - start).max())
    return np.minimum(start[:, None] + k, size - 1), k < (end - start)[:, None]


def _first_max_or_last_nan(windows, xp):
    """Position of each window's winner along the last axis, by PyTorch's scan rule
    (``val > max or isnan(val)`` replaces the winner): the first maximum, or the last NaN if
    the window holds any."""
    nan = xp.isnan(windows)
    first_max = xp.where(nan, -xp.inf, windows).argmax(axis=-1)
    last_nan = windows.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
    return xp.where(nan.any(axis=-1), last_nan, first_max)


def _adaptive_max_indices(x, out):
    """The flat index h * W + w of each window's (first) maximum: (N, C, H_out, W_out)."""
    xp = backend.array_module(x)
    h, w = x.shape[-2:]
    (rows, rows_ok), (cols, cols_ok) = _adaptive_windows(h, out[0]), _adaptive_windows(w, out[1])
    r = xp.asarray(rows[:, :, None, None])               # (H_out, Kh, 1, 1)
    c = xp.asarray(cols[None, None, :, :])               # (1, 1, W_out, Kw)
    candidates = x[..., r, c]                            # (N, C, H_out, Kh, W_out, Kw)
    valid = xp.asarray(rows_ok[:, :, None, None] & cols_ok[None, None, :, :])
    candidates = xp.where(valid, candidates, -xp.inf)
    n, ch = x.shape[:2]
    kh, kw = rows.shape[1], cols.shape[1]
    flat = candidates.transpose(0, 1, 2, 4, 3, 5).reshape(n, ch, out[0], out[1], kh * kw)
    winner = _first_max_or_last_nan(flat, xp)
    a, b = winner // kw, winner % kw                     # offsets inside the window
    i, j = xp.arange(out[0])[:, None], xp.arange(out[1])[None, :]
    return xp.asarray(rows)[i, a] * w + xp.asarray(cols)[j, b]


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    """Max pooling of (N, C, H, W) (or (C, H, W)) to ``output_size`` (H_out, W_out), whatever
    the input's size; ``None`` keeps that input size. With ``return_indices`` also the flat
    index h * W + w of each maximum (PyTorch's convention)."""
    name = "adaptive_max_pool2d"
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{name}: expected a 3-D (unbatched) or 4-D (batched) input, got "
                           f"shape {tuple(input.shape)}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating point input, got {input.dtype}")
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(sizes) != 2:
        raise ValueError(f"{name}: output_size must be an int or a pair, got {output_size!r}")
    x = unsqueeze(input, 0) if input.ndim == 3 else input
    h, w = x.shape[-2:]
    out = (_adaptive_size(name, sizes[0], h), _adaptive_size(name, sizes[1], w))
    if h == 0 or w == 0:
        raise RuntimeError(f"{name}: input of shape {tuple(input.shape)} has an empty plane")
    n, c = x.shape[:2]
    idx = _adaptive_max_indices(x.array, out)
    y = gather(reshape(x, (n, c, h * w)), 2, Tensor._make(idx.reshape(n, c, -1)))
    y, indices = reshape(y, (n, c) + out), Tensor._make(idx)
    if input.ndim == 3:
        y, indices = squeeze(y, 0), squeeze(indices, 0)
    return (y, indices) if return_indices else y


def adaptive_max_pool1d(input, output_size, return_indices=False):  # noqa: A002
    """Max pooling of (N, C, L) to length ``output_size`` (see ``adaptive_max_pool2d``);
    indices are positions along L."""
    _signal("adaptive_max_pool1d", input)
    out = _single("adaptive_max_pool1d", "output_size", output_size)
    y, idx = adaptive_max_pool2d(unsqueeze(input, -2), (1, out), return_indices=True)
    y, idx = squeeze(y, -2), squeeze(idx, -2)
    return (y, idx) if return_indices else y


__all__ = ["max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool1d"]
