"""Resampling: ``interpolate`` (nearest, nearest-exact, (bi/tri)linear, bicubic, area) and
``pixel_shuffle`` / ``pixel_unshuffle``.

Every interpolation mode is *separable*: resizing an image to (H_out, W_out) is resizing its
rows, then its columns, each along one axis on its own. Along one axis, output position j is
a weighted sum of a few input positions, its *taps*:

    y[..., j, ...] = sum_k weight[j, k] * x[..., index[j, k], ...]

    nearest        1 tap:  index = floor(j * scale), weight 1
    nearest-exact  1 tap:  index = floor((j + 0.5) * scale), weight 1
    linear         2 taps: the two neighbours of the source position, weights 1 - t and t
    bicubic        4 taps: the cubic convolution kernel (A = -0.75) at the 4 neighbours
    area           the whole window floor(j * in / out) .. ceil((j + 1) * in / out), weight
                   1 / its length (adaptive average pooling), padded with weight-0 taps

(``scale`` = in / out, or 1 / scale_factor when a scale factor is given; ``_source_positions``
has PyTorch's exact rules, including ``align_corners``.) So one op, ``Resample``, does all of
them, one axis at a time, given the (index, weight) table of that axis.

Gradient: y is linear in x, so dL/dx is the *adjoint* map: each gy[j] is sent back to the
input positions it read, times their weights, adding where several outputs read the same
input (``ResampleAdjoint``). Written as a scatter-add that is slow; but the table can be
turned around once, when the taps are built (for each input, the outputs that read it and
their weights), and then the adjoint is a gather like the forward. The two ops are each
other's backward, as AvgPool2d and its adjoint are, so interpolation is differentiable to
any order.

``pixel_shuffle`` moves channels into space (C r^2, H, W) -> (C, H r, W r): a reshape, a
permutation and a reshape, so it needs no op of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from .movement import permute, reshape

# ---------------------------------------------------------------------------------------------
# One axis at a time: the linear map and its adjoint
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Taps:
    """How one axis is resampled: output j = sum_k weight[j, k] * input[index[j, k]].

    ``index`` (out, K) int64; ``weight`` (out, K), or None for one tap of weight 1 (nearest).

    The same table read the other way round gives the adjoint as a gather too: input i
    receives sum_k ``back_weight[i, k] * gy[back_index[i, k]]``, one entry per output that
    reads it (``transposed_table``). An input read by fewer outputs than the most-read one
    has its spare entries point at ``out_size``: a zero appended to gy. All four tables live
    on the input's device; build them with ``Taps.build``.
    """

    axis: int
    index: object
    weight: object
    in_size: int
    back_index: object
    back_weight: object
    back_padded: bool          # does some row of back_index point at the appended zero?

    @classmethod
    def build(cls, axis: int, index: np.ndarray, weight, in_size: int, dtype, xp) -> Taps:
        """The taps of one axis from NumPy tables: index (out, K), weight (out, K) or None.
        Weights are stored in ``dtype``; the adjoint's in float32 at least (it sums up to
        out / in + K products per input, and float16 sums of that many lose digits)."""
        back_dtype = np.promote_types(dtype, np.float32)
        back_index, back_weight = transposed_table(index, weight, in_size, back_dtype)
        return cls(axis, xp.asarray(index), None if weight is None else
                   xp.asarray(weight, dtype=dtype), in_size, xp.asarray(back_index),
                   xp.asarray(back_weight), bool((back_index == index.shape[0]).any()))

    @property
    def out_size(self) -> int:
        return self.index.shape[0]


def transposed_table(index: np.ndarray, weight, in_size: int, dtype):
    """Who reads input i, and with which weight: (back_index, back_weight), both (in, K_back).

    Row i lists every (output j, weight w) with index[j, k] == i, in increasing j; K_back is
    the largest number of reads of one input, and shorter rows are filled with index
    out_size (a zero appended to gy) and weight 0. Taps of weight 0 are kept, so that an
    infinite gy[j] gives NaN exactly where the scatter-add sum_j w * gy[j] would."""
    out_size, taps = index.shape
    reader = np.repeat(np.arange(out_size), taps)
    read = index.ravel()
    w = np.ones(read.size, dtype) if weight is None else np.asarray(weight, dtype).ravel()
    order = np.argsort(read, kind="stable")                 # by input, then by output j
    read, reader, w = read[order], reader[order], w[order]
    reads = np.bincount(read, minlength=in_size)
    slot = np.arange(read.size) - np.repeat(np.cumsum(reads) - reads, reads)
    width = max(1, int(reads.max()))
    back_index = np.full((in_size, width), out_size, dtype=np.int64)
    back_weight = np.zeros((in_size, width), dtype=dtype)
    back_index[read, slot] = reader
    back_weight[read, slot] = w
    return back_index, back_weight


def _gather(x, axis: int, index, weight):
    """y[.., j, ..] = sum_k weight[j, k] * x[.., index[j, k], ..] (weight None: one tap of 1).

    One ``take`` per column of the table: each a gather along ``axis``, vectorised."""
    xp = backend.array_module(x)
    y = xp.take(x, index[:, 0], axis=axis)
    if weight is None:
        return y
    shape = [1] * x.ndim
    shape[axis] = index.shape[0]
    y = y * weight[:, 0].reshape(shape)
    for k in range(1, index.shape[1]):
        y += xp.take(x, index[:, k], axis=axis) * weight[:, k].reshape(shape)
    return y.astype(x.dtype, copy=False)


class Resample(ArrayFunction):
    """y = x resampled along ``taps.axis``: y[.., j, ..] = sum_k w[j, k] x[.., index[j, k], ..].

    Linear in x, so dL/dx = ResampleAdjoint(gy): gy[j] * w[j, k] added back at index[j, k].
    """

    @staticmethod
    def forward(ctx, x, taps: Taps):
        ctx.taps = taps
        return _gather(x, taps.axis, taps.index, taps.weight)

    @staticmethod
    def backward(ctx, gy):
        return ResampleAdjoint.apply(gy, ctx.taps), None


class ResampleAdjoint(ArrayFunction):
    """gx = the adjoint of ``Resample``: gx[.., i, ..] = sum of w[j, k] * gy[.., j, ..] over
    the (j, k) with index[j, k] == i.

    Upsampling reads every input several times, so this is a scatter-add; read through the
    transposed table (``Taps.back_index``, ``back_weight``) it becomes a gather again, a few
    vectorised ``take``s. Linear in gy; its adjoint is ``Resample``.
    """

    @staticmethod
    def forward(ctx, gy, taps: Taps):
        ctx.taps = taps
        xp = backend.array_module(gy)
        if taps.back_padded:        # some inputs are read less often: their spare entries
            zero = list(gy.shape)   # point at a zero appended along the axis
            zero[taps.axis] = 1
            gy = xp.concatenate([gy, xp.zeros(zero, dtype=gy.dtype)], axis=taps.axis)
        return _gather(gy, taps.axis, taps.back_index, taps.back_weight)

    @staticmethod
    def backward(ctx, ggx):
        return Resample.apply(ggx, ctx.taps), None


# ---------------------------------------------------------------------------------------------
# Where each output position reads from (PyTorch's rules, ATen's UpSample.h)
# ---------------------------------------------------------------------------------------------


def _nearest_index(in_size, out_size, scale, exact, shortcut):
    """index[j] = min(floor(j * s), in - 1) (exact: floor((j + 0.5) * s)), s = in / out or
    1 / scale_factor, in single precision as ATen computes it.

    ``shortcut``: PyTorch's 2-D nearest kernel copies when out == in and takes j // 2 when
    out == 2 * in, whatever the scale factor (the 1-D and 3-D kernels do not)."""
    j = np.arange(out_size)
    if shortcut and out_size == in_size:
        return j
    if shortcut and out_size == 2 * in_size:
        return j >> 1
    s = np.float32(1.0 / scale) if scale else np.float32(in_size) / np.float32(out_size)
    if exact:   # (j + 0.5) * s in double precision, rounded to float before the floor
        src = ((j + 0.5) * np.float64(s)).astype(np.float32)
    else:
        src = j.astype(np.float32) * s
    return np.minimum(np.floor(src).astype(np.int64), in_size - 1)


def _source_positions(in_size, out_size, scale, align_corners, cubic, dtype):
    """The real-valued input position each output j samples (linear and cubic modes).

    align_corners=True: the corner pixels' centres line up, src = j * (in - 1) / (out - 1).
    align_corners=False: pixel *areas* line up, src = (j + 0.5) * s - 0.5 with s = in / out
    (or 1 / scale_factor), clamped at 0 for linear (cubic reads clamped indices instead)."""
    real = np.dtype(dtype).type
    j = np.arange(out_size).astype(dtype)
    if align_corners:
        s = real(in_size - 1) / real(out_size - 1) if out_size > 1 else real(0)
        return j * s
    s = real(1.0 / scale) if scale else real(in_size) / real(out_size)
    src = s * (j + real(0.5)) - real(0.5)
    return src if cubic else np.maximum(src, real(0))


def _split(src, in_size):
    """src = i0 + t with i0 the input index on its left (at most in - 1) and t in [0, 1]."""
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    t = np.clip(src - i0, 0, 1).astype(src.dtype)
    return i0, t


def _linear_taps(in_size, out_size, scale, align_corners, dtype):
    i0, t = _split(_source_positions(in_size, out_size, scale, align_corners, False, dtype),
                   in_size)
    i1 = i0 + (i0 < in_size - 1)
    return np.stack([i0, i1], axis=1), np.stack([1 - t, t], axis=1)


_CUBIC_A = -0.75   # the cubic convolution kernel's free parameter, as in PyTorch and OpenCV


def _cubic_weights(t):
    """Keys' cubic convolution weights of the 4 neighbours i0 - 1 .. i0 + 2 at offset t."""
    a = _CUBIC_A

    def near(x):    # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):     # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=1)


def _cubic_taps(in_size, out_size, scale, align_corners, dtype):
    i0, t = _split(_source_positions(in_size, out_size, scale, align_corners, True, dtype),
                   in_size)
    index = np.clip(i0[:, None] + np.arange(-1, 3), 0, in_size - 1)   # edges repeat
    return index, _cubic_weights(t).astype(dtype)


def _area_taps(in_size, out_size, dtype):
    """Adaptive average pooling: output j averages input floor(j in/out) .. ceil((j+1) in/out)."""
    j = np.arange(out_size)
    start = (j * in_size) // out_size
    end = -((-(j + 1) * in_size) // out_size)
    length = end - start
    k = np.arange(length.max())
    index = np.minimum(start[:, None] + k, in_size - 1)
    weight = np.where(k < length[:, None], 1.0 / length[:, None], 0.0)
    return index, weight.astype(dtype)


# ---------------------------------------------------------------------------------------------
# interpolate
# ---------------------------------------------------------------------------------------------

_MODE_DIMS = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "area": (1, 2, 3),
              "linear": (1,), "bilinear": (2,), "bicubic": (2,), "trilinear": (3,)}
_INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")


def _spatial_list(name, value, dims, input):  # noqa: A002
    if isinstance(value, (list, tuple)):
        if len(value) != dims:
            raise ValueError(f"interpolate: input of shape {tuple(input.shape)} has {dims} "
                             f"spatial dimension(s) but {name} is {value!r}; give one {name} "
                             f"per spatial dimension (N, C, d1, ..., dK) -> (o1, ..., oK)")
        return list(value)
    return [value] * dims


def _output_size(input, size, scale_factor, recompute_scale_factor):  # noqa: A002
    """(output sizes, scale factors or None): exactly one of size / scale_factor is given."""
    dims = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an "
                             "explicit size")
        sizes = _spatial_list("size", size, dims, input)
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes):
            raise TypeError(f"interpolate: size must be an int or a tuple of ints, got {size!r}")
        return [int(s) for s in sizes], None
    if scale_factor is None:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    scales = [float(s) for s in _spatial_list("scale_factor", scale_factor, dims, input)]
    sizes = [int(math.floor(n * s)) for n, s in zip(input.shape[2:], scales)]
    return sizes, (None if recompute_scale_factor else scales)


def _taps_for_axis(mode, axis, in_size, out_size, scale, align_corners, dims, dtype, xp):
    """The ``Taps`` of one axis, or None when the axis is copied unchanged. Positions and
    weights are computed in ``dtype``'s arithmetic (float32 for float16 inputs, as ATen does)
    and the weights stored in ``dtype``."""
    real = np.dtype(np.float32) if dtype == np.float16 else dtype
    if mode in ("nearest", "nearest-exact"):
        index = _nearest_index(in_size, out_size, scale, exact=mode == "nearest-exact",
                               shortcut=mode == "nearest" and dims == 2)
        index, weight = index[:, None], None
    elif mode == "area":
        index, weight = _area_taps(in_size, out_size, real)
    elif mode == "bicubic":
        index, weight = _cubic_taps(in_size, out_size, scale, align_corners, real)
    elif out_size == in_size:
        return None         # PyTorch's linear kernels copy an axis whose size is unchanged,
        #                     whatever the scale factor (bicubic and nearest do not)
    else:
        index, weight = _linear_taps(in_size, out_size, scale, align_corners, real)
    if weight is None or (index.shape[1] == 1 and np.all(weight == 1)):
        if np.array_equal(index[:, 0], np.arange(in_size)):
            return None        # this axis is copied unchanged: nothing to do
        weight = None
    return Taps.build(axis, index, weight, in_size, dtype, xp)


def _check_mode(input, mode, align_corners, antialias):  # noqa: A002
    if mode not in _MODE_DIMS:
        raise ValueError(f"interpolate: mode must be one of {', '.join(map(repr, _MODE_DIMS))}, "
                         f"got {mode!r}")
    if mode not in _INTERPOLATING and align_corners is not None:
        raise ValueError("interpolate: align_corners option can only be set with the "
                         "interpolating modes: linear | bilinear | bicubic | trilinear "
                         f"(got mode={mode!r})")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not implemented")
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(f"interpolate: expected a 3-D, 4-D or 5-D input (N, C, d1, "
                                  f"...) for mode {mode!r}, got shape {tuple(input.shape)}")
    dims = input.ndim - 2
    if dims not in _MODE_DIMS[mode]:
        need = _MODE_DIMS[mode][0] + 2
        raise NotImplementedError(f"interpolate: got a {input.ndim}-D input of shape "
                                  f"{tuple(input.shape)}, but {mode} mode needs a {need}-D input")
    if mode != "nearest" and mode != "nearest-exact" and input.dtype.kind != "f":
        raise RuntimeError(f"interpolate: mode {mode!r} needs a floating point input, got "
                           f"{input.dtype}")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,  # noqa: A002
                recompute_scale_factor=None, antialias=False) -> Tensor:
    """Resize the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size`` or by
    ``scale_factor`` (output size floor(in * scale_factor)).

    Modes: 'nearest' (PyTorch's legacy rule, floor(j * in / out)), 'nearest-exact' (pixel
    centres, like PIL and OpenCV), 'linear' (3-D), 'bilinear' / 'bicubic' (4-D),
    'trilinear' (5-D), 'area' (adaptive average pooling). ``align_corners`` (interpolating
    modes only, default False) maps corner pixel centres onto each other. A given scale
    factor is used in the sampling formula unless ``recompute_scale_factor=True``, which uses
    in / out instead.
    """
    _check_mode(input, mode, align_corners, antialias)
    if mode in _INTERPOLATING and align_corners is None:
        align_corners = False
    if mode == "area" and size is None:
        recompute_scale_factor = True
    sizes, scales = _output_size(input, size, scale_factor, recompute_scale_factor)
    spatial = tuple(input.shape[2:])
    if min(spatial) <= 0 or min(sizes) <= 0:
        raise ValueError(f"interpolate: input and output sizes should be greater than 0, but "
                         f"got input of shape {tuple(input.shape)} (spatial size {spatial}) "
                         f"and output size {tuple(sizes)}")
    xp = backend.array_module(input.array)
    dims = len(spatial)
    y = input
    for d in range(dims):
        taps = _taps_for_axis(mode, 2 + d, spatial[d], sizes[d], scales[d] if scales else None,
                              align_corners, dims, input.dtype, xp)
        if taps is not None:
            y = Resample.apply(y, taps)
    return y if y is not input else Resample.apply(input, _identity_taps(input, xp))


def _identity_taps(input, xp) -> Taps:  # noqa: A002
    """Resizing to the same size still returns a new tensor (as PyTorch does)."""
    n = input.shape[-1]
    return Taps.build(input.ndim - 1, np.arange(n)[:, None], None, n, input.dtype, xp)


# ---------------------------------------------------------------------------------------------
# Pixel shuffle: channels <-> space
# ---------------------------------------------------------------------------------------------


def _check_factor(name, what, factor):
    if not isinstance(factor, (int, np.integer)) or isinstance(factor, bool) or factor <= 0:
        raise ValueError(f"{name}: {what} must be a positive integer, got {factor!r}")
    return int(factor)


def pixel_shuffle(input, upscale_factor) -> Tensor:  # noqa: A002
    """(*, C r^2, H, W) -> (*, C, H r, W r): each group of r^2 channels becomes an r x r block
    of pixels (channel c * r^2 + i * r + j goes to offset (i, j) of the block). The upsampling
    of sub-pixel convolution (Shi et al., 2016)."""
    r = _check_factor("pixel_shuffle", "upscale_factor", upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle: expected an input of at least 3 dimensions "
                           f"(*, C, H, W), got shape {tuple(input.shape)}")
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle: the number of channels ({c}, input shape "
                           f"{tuple(input.shape)}) must be divisible by upscale_factor squared "
                           f"({r * r})")
    b = len(batch)
    x = reshape(input, (*batch, c // (r * r), r, r, h, w))
    x = permute(x, *range(b), b, b + 3, b + 1, b + 4, b + 2)      # (*, C, H, r, W, r)
    return reshape(x, (*batch, c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor) -> Tensor:  # noqa: A002
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of ``pixel_shuffle``."""
    r = _check_factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle: expected an input of at least 3 dimensions "
                           f"(*, C, H, W), got shape {tuple(input.shape)}")
    *batch, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle: height ({h}) and width ({w}) of the input of "
                           f"shape {tuple(input.shape)} must be divisible by downscale_factor "
                           f"({r})")
    b = len(batch)
    x = reshape(input, (*batch, c, h // r, r, w // r, r))
    x = permute(x, *range(b), b, b + 2, b + 4, b + 1, b + 3)      # (*, C, r, r, H, W)
    return reshape(x, (*batch, c * r * r, h // r, w // r))


__all__ = ["interpolate", "pixel_shuffle", "pixel_unshuffle"]
