"""``unfold`` (im2col) and ``fold`` (col2im): sliding blocks of an image as columns, and back.

``unfold`` cuts every kernel_size block out of a padded (N, C, H, W) image (the windows a
convolution with the same stride, padding and dilation would see) and lays each out as a
column:

    cols[n, (c, a, b), (i, j)] = x_pad[n, c, i * s0 + a * d0, j * s1 + b * d1]
    shape (N, C * kH * kW, L),   L = H_out * W_out blocks

A convolution is then one matrix product, ``w.view(C_out, -1) @ cols``. ``fold`` goes the
other way: it *adds* every column's values back where they came from (overlapping blocks
sum), giving an image of ``output_size``. Both are linear, and each is the other's adjoint:

    <unfold(x), c> = <x, fold(c)>

so each one's backward is the other (as for AvgPool2d and its adjoint), and they are
differentiable to any order. The arrays work is the reference convolution's own im2col and
col2im (``kernels/conv2d_numpy.py``, reached through ``kernel_calls``); here they only get
PyTorch's (N, C * kH * kW, L) layout and argument checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from . import kernel_calls
from .arguments import int_tuple
from .movement import squeeze, unsqueeze


@dataclass(frozen=True)
class Blocks:
    """The sliding blocks of one call: sizes and settings as pairs of ints."""

    image: tuple        # (H, W) of the image
    kernel: tuple
    dilation: tuple
    padding: tuple
    stride: tuple

    def counts(self) -> tuple:
        """How many block positions fit along each axis: (H_out, W_out)."""
        return tuple((s + 2 * p - d * (k - 1) - 1) // st + 1 for s, k, d, p, st in
                     zip(self.image, self.kernel, self.dilation, self.padding, self.stride))

    def columns(self, x):
        """(N, C, H, W) -> (N, C * kH * kW, L)."""
        cols = kernel_calls.im2col(x, self.kernel, self.stride, self.padding, self.dilation)
        n = x.shape[0]
        cols = cols.reshape(cols.shape[0], n, math.prod(self.counts()))  # (C kH kW, N, L)
        return backend.array_module(cols).ascontiguousarray(cols.transpose(1, 0, 2))

    def image_from(self, cols):
        """(N, C * kH * kW, L) -> (N, C, H, W), overlapping values summed."""
        n, ckk, blocks = cols.shape
        c = ckk // (self.kernel[0] * self.kernel[1])
        flat = cols.transpose(1, 0, 2).reshape(ckk, n * blocks)  # im2col's column order
        return kernel_calls.col2im(flat, (n, c) + self.image, self.kernel, self.stride,
                                   self.padding, self.dilation)


class Unfold(ArrayFunction):
    """cols = unfold(x). Linear; dL/dx = Fold(gcols) (the adjoint)."""

    @staticmethod
    def forward(ctx, x, blocks: Blocks):
        ctx.blocks = blocks
        return blocks.columns(x)

    @staticmethod
    def backward(ctx, g):
        return Fold.apply(g, ctx.blocks), None


class Fold(ArrayFunction):
    """x = fold(cols): each column added back into its block. Linear; dL/dcols = Unfold(gx)."""

    @staticmethod
    def forward(ctx, cols, blocks: Blocks):
        ctx.blocks = blocks
        return blocks.image_from(cols)

    @staticmethod
    def backward(ctx, g):
        return Unfold.apply(g, ctx.blocks), None


def _blocks(name, image, kernel_size, dilation, padding, stride) -> Blocks:
    kernel = int_tuple(name, "kernel_size", kernel_size, 2)
    dilation = int_tuple(name, "dilation", dilation, 2)
    padding, stride = int_tuple(name, "padding", padding, 2), int_tuple(name, "stride", stride, 2)
    for what, value, low in (("kernel_size", kernel, 1), ("dilation", dilation, 1),
                             ("padding", padding, 0), ("stride", stride, 1)):
        if min(value) < low:
            raise RuntimeError(f"{name}: {what} should be at least {low}, got {value}")
    blocks = Blocks(tuple(int(s) for s in image), kernel, dilation, padding, stride)
    if min(blocks.counts()) < 1:
        raise RuntimeError(
            f"{name}: spatial size {blocks.image} with kernel_size={kernel}, "
            f"dilation={dilation}, padding={padding}, stride={stride} gives "
            f"{blocks.counts()} sliding blocks; there must be at least one along each axis")
    return blocks


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:  # noqa: A002
    """Every kernel_size block of (N, C, H, W) (or unbatched (C, H, W)) as a column:
    (N, C * kH * kW, L), L the number of blocks (the positions a convolution visits)."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"unfold: expected a 3-D (unbatched) or 4-D (batched) input "
                           f"(N, C, H, W), got shape {tuple(input.shape)}")
    x = unsqueeze(input, 0) if input.ndim == 3 else input
    blocks = _blocks("unfold", x.shape[2:], kernel_size, dilation, padding, stride)
    cols = Unfold.apply(x, blocks)
    return squeeze(cols, 0) if input.ndim == 3 else cols


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:  # noqa: A002
    """Sum columns (N, C * kH * kW, L) (or unbatched (C * kH * kW, L)) back into an image
    (N, C, *output_size): the adjoint of ``unfold`` (overlapping blocks add up)."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"fold: expected a 2-D (unbatched) or 3-D (batched) input "
                           f"(N, C * kH * kW, L), got shape {tuple(input.shape)}")
    cols = unsqueeze(input, 0) if input.ndim == 2 else input
    blocks = _blocks("fold", int_tuple("fold", "output_size", output_size, 2), kernel_size, dilation, padding,
                     stride)
    per_block = blocks.kernel[0] * blocks.kernel[1]
    if cols.shape[1] % per_block:
        raise RuntimeError(f"fold: the input's dimension 1 ({cols.shape[1]}, shape "
                           f"{tuple(input.shape)}) must be divisible by the product of "
                           f"kernel_size {blocks.kernel} ({per_block})")
    h_out, w_out = blocks.counts()
    if cols.shape[2] != h_out * w_out:
        raise RuntimeError(
            f"fold: output_size={blocks.image}, kernel_size={blocks.kernel}, "
            f"dilation={blocks.dilation}, padding={blocks.padding}, stride={blocks.stride} "
            f"give {h_out} * {w_out} = {h_out * w_out} sliding blocks, but the input of shape "
            f"{tuple(input.shape)} has {cols.shape[2]} (its last dimension)")
    image = Fold.apply(cols, blocks)
    return squeeze(image, 0) if input.ndim == 2 else image


__all__ = ["unfold", "fold"]
