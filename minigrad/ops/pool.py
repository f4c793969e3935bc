"""Pooling: max_pool2d, avg_pool2d, adaptive_avg_pool2d.

A pooling layer slides a kH x kW window over every channel of (N, C, H, W) and summarises it
by its maximum or its mean. No Python loop visits a pixel: ``_Windows.view`` looks at the
padded input through ``as_strided`` as an array of shape (N, C, H_out, W_out, kH, kW) whose
last two axes are the windows (no copy), and one NumPy/CuPy reduction does the rest.

Gradients:

* max: each output is one input element (the winner of its window). Finding the winners is a
  kernel (``minigrad.kernels.max_pool2d``: one pass per window in Numba, where the NumPy
  version needs kH * kW passes over the whole input); the gradient scatters gy back to them
  (adding where overlapping windows share a winner), and the gradient of that is a gather at
  the same positions, so max pooling is differentiable twice.
* average: y is linear in x, so dL/dx is the *adjoint* map: every gy[i, j] / divisor is spread
  back over its window. ``AvgPool2d`` and ``AvgPool2dAdjoint`` are each other's backward.
* adaptive average: windows of unequal sizes, but separable, so y = A_h @ x @ A_w^T with two
  small averaging matrices; matmul does the gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..kernels._validate import pool_output_size
from ..tensor import Tensor
from . import kernel_calls
from .arguments import as_int, int_tuple
from .indexing import gather
from .movement import reshape, squeeze, unsqueeze


@dataclass(frozen=True)
class _Windows:
    """Where the pooling windows of one call sit: sizes in, sizes out, and the padding."""

    size: tuple        # (H, W) of the input
    out: tuple         # (H_out, W_out)
    kernel: tuple
    stride: tuple
    padding: tuple     # on the left/top (and at least this much on the right/bottom)
    dilation: tuple

    def right_padding(self, i: int) -> int:
        """ceil_mode can need more room on the right than ``padding``: pad enough for all."""
        last = (self.out[i] - 1) * self.stride[i] + self.dilation[i] * (self.kernel[i] - 1) + 1
        return max(self.padding[i], last - self.size[i] - self.padding[i])

    def pad(self, x, value):
        widths = ((0, 0), (0, 0)) + tuple((self.padding[i], self.right_padding(i))
                                          for i in range(2))
        if all(w == (0, 0) for w in widths):
            return x
        return backend.array_module(x).pad(x, widths, mode="constant", constant_values=value)

    def view(self, x_pad):
        """(N, C, Hp, Wp) -> a read-only view (N, C, H_out, W_out, kH, kW) of the windows."""
        n, c = x_pad.shape[:2]
        sn, sc, sh, sw = x_pad.strides
        shape = (n, c) + self.out + self.kernel
        strides = (sn, sc, sh * self.stride[0], sw * self.stride[1],
                   sh * self.dilation[0], sw * self.dilation[1])
        return backend.array_module(x_pad).lib.stride_tricks.as_strided(x_pad, shape, strides)


def _pair(name, what, value) -> tuple:
    """An int, a 1-tuple or a 2-tuple as (height, width): PyTorch's 2-D pools repeat a single
    entry, so ``padding=(1,)`` means (1, 1)."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    return int_tuple(name, what, value, 2)


def _windows(name, x: Tensor, kernel_size, stride, padding, dilation, ceil_mode) -> _Windows:
    kernel = _pair(name, "kernel_size", kernel_size)
    no_stride = stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)
    stride = kernel if no_stride else _pair(name, "stride", stride)
    padding = _pair(name, "padding", padding)
    dilation = _pair(name, "dilation", dilation)
    if any(k <= 0 for k in kernel) or any(s <= 0 for s in stride) or any(d <= 0 for d in dilation):
        raise ValueError(f"{name}: kernel_size {kernel}, stride {stride} and dilation "
                         f"{dilation} must be positive")
    for p, k, d in zip(padding, kernel, dilation):
        if not 0 <= p <= (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"{name}: pad should be at most half of effective kernel size, "
                               f"but got pad={p}, kernel_size={k} and dilation={d}")
    size = tuple(x.shape[-2:])
    out = tuple(pool_output_size(s, k, st, p, d, ceil_mode)
                for s, k, st, p, d in zip(size, kernel, stride, padding, dilation))
    if any(o < 1 for o in out):
        raise RuntimeError(f"{name}: input of shape {tuple(x.shape)} with kernel_size {kernel}, "
                           f"stride {stride}, padding {padding}, dilation {dilation} gives an "
                           f"output of size {out}: the output is too small")
    return _Windows(size, out, kernel, stride, padding, dilation)


def _batched(name, input) -> tuple:
    """Pools take (N, C, H, W) or unbatched (C, H, W)."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{name}: expected a 3-D (unbatched) or 4-D (batched) input, got "
                           f"shape {tuple(input.shape)}")
    return (unsqueeze(input, 0), True) if input.ndim == 3 else (input, False)


def _windowed(name, input) -> tuple:
    """``_batched`` for max and avg pooling, which (as in PyTorch) take an empty batch but no
    empty channel, row or column dim."""
    x, unbatched = _batched(name, input)
    if 0 in tuple(input.shape[input.ndim - 3:]):
        raise RuntimeError(f"{name}: expected a 3-D or 4-D (batched) input whose only empty "
                           f"dim may be the batch, got shape {tuple(input.shape)}")
    return x, unbatched


# ---------------------------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------------------------


class MaxPool2d(ArrayFunction):
    """y[n, c, i, j] = max of the window at (i, j) of x padded with -inf; also returns where
    each maximum is (flat index h * W + w in its plane), as PyTorch's indices.

    The kernel (``minigrad.kernels.max_pool2d``: NumPy reference, Numba, CUDA) finds value and
    position in one pass. Each output is a copy of one input element, so dL/dx sends each
    gy back to its winner: ``MaxPool2dBackward``, a scatter-add (overlapping windows can
    share a winner).
    """

    @staticmethod
    def forward(ctx, x, hyper):
        y, idx = kernel_calls.max_pool2d(x, *hyper)
        ctx.idx, ctx.hyper, ctx.x_shape = idx, hyper, x.shape
        indices = idx.copy()          # handed out: a user's in-place edit must not reach ctx.idx
        ctx.mark_non_differentiable(indices)
        return y, indices

    @staticmethod
    def backward(ctx, gy, _g_idx):
        return MaxPool2dBackward.apply(gy, ctx.idx, ctx.x_shape, ctx.hyper), None


class MaxPool2dBackward(ArrayFunction):
    """gx[n, c, idx[n, c, i, j]] += gy[n, c, i, j]: the gradient of max pooling.

    Linear in gy. Its adjoint reads ggx back at the same positions, a gather, so the
    gradient of the gradient is ``gather(ggx, idx)``, itself differentiable.
    """

    @staticmethod
    def forward(ctx, gy, idx, x_shape, hyper):
        ctx.idx = idx
        return kernel_calls.max_pool2d_backward(gy, idx, x_shape, *hyper)

    @staticmethod
    def backward(ctx, ggx):
        n, c, h, w = ggx.shape
        idx = ctx.idx
        xp = backend.array_module(idx)
        empty = idx < 0                 # a window with no input element (see the kernel): 0
        at = Tensor._make(xp.where(empty, 0, idx).reshape(n, c, -1))
        ggy = reshape(gather(reshape(ggx, (n, c, h * w)), 2, at), idx.shape)
        if empty.any():
            ggy = ggy * Tensor._make((~empty).astype(ggy.dtype))
        return ggy, None, None, None


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """y[n, c, i, j] = max over the window at (i * stride, j * stride) of the padded input.

    Padding counts as -inf (it never wins). With ``return_indices`` also returns, for every
    output, the flat index h * W + w of the winning input element (PyTorch's convention).
    """
    x, unbatched = _windowed("max_pool2d", input)
    win = _windows("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    hyper = (win.kernel, win.stride, win.padding, win.dilation, ceil_mode)
    y, indices = MaxPool2d.apply(x, hyper)
    if unbatched:
        y, indices = squeeze(y, 0), squeeze(indices, 0)
    return (y, indices) if return_indices else y


# ---------------------------------------------------------------------------------------------
# Average pooling
# ---------------------------------------------------------------------------------------------


def _avg_divisor(win: _Windows, count_include_pad, divisor_override, xp, dtype):
    """What each window's sum is divided by, shape (H_out, W_out).

    PyTorch's rule: a window clipped at the far edge of the padding counts only what it
    covers; ``count_include_pad=False`` further drops the padded elements.
    """
    if divisor_override:
        return xp.full(win.out, float(divisor_override), dtype=dtype)
    counts = []
    for i in range(2):
        start = np.arange(win.out[i]) * win.stride[i] - win.padding[i]
        end = np.minimum(start + win.kernel[i], win.size[i] + win.padding[i])
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, win.size[i])
        counts.append(end - start)
    return xp.asarray(np.outer(counts[0], counts[1]), dtype=dtype)


class AvgPool2d(ArrayFunction):
    """y[n, c, i, j] = (sum of the window at (i, j) of the zero-padded x) / divisor[i, j].

    Linear in x, so dL/dx = AvgPool2dAdjoint(gy): spread gy / divisor over each window.
    """

    @staticmethod
    def forward(ctx, x, win, divisor):
        ctx.win, ctx.divisor, ctx.x_shape = win, divisor, x.shape
        return win.view(win.pad(x, 0)).sum(axis=(-2, -1)) / divisor

    @staticmethod
    def backward(ctx, gy):
        return AvgPool2dAdjoint.apply(gy, ctx.win, ctx.divisor, ctx.x_shape), None, None


class AvgPool2dAdjoint(ArrayFunction):
    """gx = the adjoint of average pooling: gx[window (i, j)] += gy[i, j] / divisor[i, j].

    A loop over the kH * kW offsets inside a window (not over pixels): offset (a, b) of every
    window lands on a strided slice of the padded input. Linear in gy; its adjoint is AvgPool2d.
    """

    @staticmethod
    def forward(ctx, gy, win, divisor, x_shape):
        ctx.win, ctx.divisor = win, divisor
        xp = backend.array_module(gy)
        g = gy / divisor
        n, c = x_shape[:2]
        hp = win.size[0] + win.padding[0] + win.right_padding(0)
        wp = win.size[1] + win.padding[1] + win.right_padding(1)
        gx = xp.zeros((n, c, hp, wp), dtype=gy.dtype)
        (ho, wo), (s0, s1), (d0, d1) = win.out, win.stride, win.dilation
        for a in range(win.kernel[0]):
            for b in range(win.kernel[1]):
                gx[:, :, a * d0: a * d0 + s0 * (ho - 1) + 1: s0,
                   b * d1: b * d1 + s1 * (wo - 1) + 1: s1] += g
        p0, p1 = win.padding
        return gx[:, :, p0:p0 + win.size[0], p1:p1 + win.size[1]].copy()

    @staticmethod
    def backward(ctx, ggx):
        return AvgPool2d.apply(ggx, ctx.win, ctx.divisor), None, None, None


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """y[n, c, i, j] = mean of the window at (i * stride, j * stride) of the zero-padded input.

    ``count_include_pad=False`` averages only over real (unpadded) elements;
    ``divisor_override`` divides every window sum by that number instead.
    """
    x, unbatched = _windowed("avg_pool2d", input)
    if x.dtype.kind != "f":
        raise RuntimeError(f"avg_pool2d: expected a floating point input, got {x.dtype}")
    win = _windows("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    xp = backend.array_module(x.array)
    divisor = _avg_divisor(win, count_include_pad, divisor_override, xp, x.dtype)
    y = AvgPool2d.apply(x, win, divisor)
    return squeeze(y, 0) if unbatched else y


# ---------------------------------------------------------------------------------------------
# Adaptive average pooling
# ---------------------------------------------------------------------------------------------


def _averaging_matrix(size: int, out: int, xp, dtype):
    """A (out, size) matrix whose row i averages x[floor(i*size/out) : ceil((i+1)*size/out)]."""
    a = np.zeros((out, size))
    for i in range(out):
        start, end = (i * size) // out, -(-((i + 1) * size) // out)
        a[i, start:end] = 1.0 / (end - start)
    return Tensor._make(xp.asarray(a, dtype=dtype))


def _window_means(x, axis: int, out: int, xp):
    """Mean of each adaptive window of ``x`` along ``axis`` (the rows of _averaging_matrix),
    one window at a time, so a NaN or inf stays in the windows that contain it."""
    size = x.shape[axis]
    means = []
    with np.errstate(invalid="ignore"):          # inf - inf in a window is NaN, silently
        for i in range(out):
            start, end = (i * size) // out, -(-((i + 1) * size) // out)
            means.append(xp.take(x, xp.arange(start, end), axis=axis).mean(axis=axis))
    return xp.stack(means, axis=axis).astype(x.dtype, copy=False)


class AdaptiveAvgPool2d(ArrayFunction):
    """y = A_h x A_w^T with the averaging matrices A_h, A_w.   dx = A_h^T g A_w.

    A finite x takes the two matmuls; an x with NaN or inf takes the windows one at a time,
    since in a matmul the zeros of A multiply the NaN (0 * NaN = NaN) and spread it to
    windows that do not contain it."""

    @staticmethod
    def forward(ctx, x, a_h, a_w):
        ctx.save_for_backward(a_h, a_w)
        xp = backend.array_module(x)
        if bool(xp.isfinite(x).all()):
            return a_h @ x @ a_w.T
        rows = _window_means(x, x.ndim - 2, a_h.shape[0], xp)
        return _window_means(rows, x.ndim - 1, a_w.shape[0], xp)

    @staticmethod
    def backward(ctx, g):
        a_h, a_w = ctx.saved_tensors
        return a_h.t() @ g @ a_w, None, None


def _adaptive_output_size(name, output_size, size) -> tuple:
    """(H_out, W_out) from an int, or a pair whose None entries keep the input's size."""
    pair = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(pair) != 2:
        raise ValueError(f"{name}: output_size must be an int or a pair, got {output_size!r}")
    out = tuple(s if o is None else as_int(name, "output_size", o) for o, s in zip(pair, size))
    if out[0] < 0 or out[1] < 0:
        raise ValueError(f"{name}: output_size must be >= 0, got {out}")
    return out


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (H_out, W_out), whatever the input's size.

    Output row i averages input rows floor(i * H / H_out) to ceil((i + 1) * H / H_out) (the
    windows may overlap and differ in size); columns likewise. ``None`` in ``output_size``
    keeps that input size. Written as y = A_h @ x @ A_w^T (AdaptiveAvgPool2d).
    """
    name = "adaptive_avg_pool2d"
    x, unbatched = _batched(name, input)
    h, w = x.shape[-2:]
    out = _adaptive_output_size(name, output_size, (h, w))
    if 0 in tuple(x.shape[1:]):
        raise RuntimeError(f"{name}: expected input to have non-zero size for non-batch "
                           f"dimensions, but got input of shape {tuple(input.shape)}")
    xp = backend.array_module(x.array)
    dtype = x.dtype if x.dtype.kind == "f" else backend.DEFAULT_FLOAT
    a_h = _averaging_matrix(h, out[0], xp, dtype)
    a_w = _averaging_matrix(w, out[1], xp, dtype)
    y = AdaptiveAvgPool2d.apply(x.to(dtype), a_h, a_w)
    return squeeze(y, 0) if unbatched else y


__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "pool_output_size"]
