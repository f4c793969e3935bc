"""``pad`` (``F.pad``): constant, reflect, replicate and circular padding, and negative
widths (cropping). The gradient of a pad is the middle of the gradient, plus, for the copying
modes, what each copied element received, added back to its source."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from .arguments import as_int
from .subscript import GetItem, getitem


class Pad(ArrayFunction):
    """y = x surrounded by ``value``.   dx = the middle of g (where x went)."""

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.key = tuple(slice(lo, lo + s) for (lo, _), s in zip(widths, x.shape))
        return backend.array_module(x).pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return GetItem.apply(g, ctx.key), None, None


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(x: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """PyTorch's F.pad: ``pad`` = (left, right) for the last dim, then (top, bottom) for the
    one before, ... A negative entry crops that side instead.

    ``mode``: 'constant' fills with ``value`` (default 0) and pads any number of dims;
    'reflect' mirrors the tensor without repeating the edge (pad < size), 'replicate' repeats
    the edge, 'circular' wraps around (pad <= size). These three pad the last 1, 2 or 3 dims
    of a batched or unbatched input: (C, W) or (N, C, W) for len(pad) == 2, and so on.
    Negative entries follow PyTorch: 'constant' and 'circular' crop first (so 'circular'
    wraps the cropped tensor); 'reflect' and 'replicate' shift their window over the
    reflected or edge-extended input. Every mode is a selection of input elements, so the
    gradient is g summed back into the places each output element was read from.
    """
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {_PAD_MODES}, got {mode!r}")
    amounts = [as_int("pad", "pad", p) for p in pad]
    if len(amounts) % 2 or len(amounts) // 2 > x.ndim:
        raise RuntimeError(f"pad: padding {tuple(amounts)} must have an even length of at most "
                           f"2 * {x.ndim} for a tensor of shape {tuple(x.shape)}")
    n_dims = len(amounts) // 2
    if mode != "constant":
        _check_mode_dims(mode, n_dims, x.ndim)
        if value not in (None, 0, 0.0):
            raise RuntimeError(f"pad: padding mode {mode!r} doesn't take in value argument "
                               f"(got value={value!r})")
    widths = [(0, 0)] * x.ndim
    for i in range(n_dims):
        widths[x.ndim - 1 - i] = (amounts[2 * i], amounts[2 * i + 1])
    if mode in ("constant", "circular"):
        x = _crop(x, widths)
        widths = tuple((max(lo, 0), max(hi, 0)) for lo, hi in widths)
    if mode == "constant":
        if all(w == (0, 0) for w in widths):
            return x
        return Pad.apply(x, widths, 0.0 if value is None else value)
    for d, (lo, hi) in enumerate(widths):
        if lo or hi:
            x = getitem(x, (slice(None),) * d + (_source_index(mode, x.shape[d], lo, hi, d),))
    return x


def _check_mode_dims(mode: str, n_dims: int, ndim: int) -> None:
    if n_dims not in (1, 2, 3) or ndim not in (n_dims + 1, n_dims + 2):
        raise NotImplementedError(
            f"pad: padding size {2 * n_dims} is not supported for a {ndim}-D input in mode "
            f"{mode!r}; non-constant modes pad the last 1, 2 or 3 dims of a batched or "
            "unbatched input: padding size 2 for 2-D or 3-D input, 4 for 3-D or 4-D, 6 for "
            "4-D or 5-D")


def _crop(x: Tensor, widths) -> Tensor:
    """x with the negative paddings cut off (a differentiable slice)."""
    if all(lo >= 0 and hi >= 0 for lo, hi in widths):
        return x
    key = []
    for d, (lo, hi) in enumerate(widths):
        start, stop = max(-lo, 0), x.shape[d] - max(-hi, 0)
        if stop - start + max(lo, 0) + max(hi, 0) < 0:
            raise RuntimeError(f"pad: padding {widths[d]} of dimension {d} (size {x.shape[d]}) "
                               "gives a negative output size")
        key.append(slice(start, max(stop, start)))
    return getitem(x, tuple(key))


def _source_index(mode: str, size: int, lo: int, hi: int, d: int):
    """For each output position along one dim, the input position it copies (int64).
    ``lo`` and ``hi`` may be negative for 'reflect' and 'replicate'."""
    if size + lo + hi < 0:
        raise RuntimeError(f"pad: padding ({lo}, {hi}) of dimension {d} (size {size}) gives a "
                           "negative output size")
    if mode == "reflect" and max(lo, hi) >= size:
        raise RuntimeError(f"pad: reflect padding ({lo}, {hi}) of dimension {d} must be less "
                           f"than its size {size}")
    if mode == "circular" and max(lo, hi) > size:
        raise RuntimeError(f"pad: circular padding ({lo}, {hi}) of dimension {d} (size {size}) "
                           "wraps around more than once; it must be at most the size")
    if size == 0:
        raise RuntimeError(f"pad: mode {mode!r} can't pad dimension {d} of size 0")
    j = np.arange(-lo, size + hi)
    if mode == "replicate":
        return np.clip(j, 0, size - 1)
    if mode == "circular":
        return j % size
    if size == 1:                                # reflect of one element: lo = hi = 0 here
        return j
    j = np.abs(j) % (2 * (size - 1))             # mirror at 0, then fold at size - 1
    return np.where(j >= size, 2 * (size - 1) - j, j)
