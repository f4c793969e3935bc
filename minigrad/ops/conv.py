"""Convolution: conv1d, conv2d and conv_transpose2d, and why three ops are enough.

A 2-D convolution (really a cross-correlation, as in every DL framework) of an input
x (N, C_in, H, W) with a weight w (C_out, C_in / groups, kH, kW) is

    y[n, o, i, j] = sum_{c, a, b} x_pad[n, c, i*s0 + a*d0, j*s1 + b*d1] * w[o, c, a, b]

(s = stride, d = dilation, x_pad = x with ``padding`` zeros around it). It is *bilinear*:
linear in x for fixed w and linear in w for fixed x. Everything follows from one identity,
for any gy of y's shape:

    <conv(x, w), gy>  =  <x, conv_transpose(gy, w)>  =  <w, weight_grad(x, gy)>

where <., .> sums the elementwise product. Read left to right it says what backward is:

    dL/dx = conv_transpose(gy, w)      (the adjoint of "convolve with w")
    dL/dw = weight_grad(x, gy)         (correlate the input with the output gradient)

The hand-written kernels in ``minigrad.kernels`` compute exactly these three maps (forward,
``conv2d_backward_input``, ``conv2d_backward_weight``), reached through
``ops/kernel_calls.py``. Here each map is an ``ArrayFunction``, and because the three are the same
bilinear form read three ways, the backward of each one is again two of the three:

    op                         inputs     d/d(first input)          d/d(second input)
    Conv2d(x, w)             -> y          ConvTranspose2d(gy, w)    Conv2dWeightGrad(x, gy)
    ConvTranspose2d(gy, w)   -> gx         Conv2d(gz, w)             Conv2dWeightGrad(gz, gy)
    Conv2dWeightGrad(x, gy)  -> gw         ConvTranspose2d(gy, gu)   Conv2d(x, gu)

So gradients of gradients (and of those) are convolutions too: gradgrad comes for free.
``conv_transpose2d`` *is* the ConvTranspose2d op (the adjoint of a convolution), and
``conv1d`` is conv2d on inputs of height 1.

Groups split the channels into ``groups`` independent convolutions: input channels
[g*C_in/G, (g+1)*C_in/G) only meet output channels [g*C_out/G, (g+1)*C_out/G). The kernels know
no groups, so each op calls its kernel once per group and joins the results.

conv2d's bias is part of the Conv2d op: it is added in place to the freshly computed output
(no second pass writing a new array, no extra node in the graph), and its gradient is gy
summed over N, H and W. conv_transpose2d adds its bias with ordinary ops.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from . import kernel_calls
from .arguments import as_int, int_tuple
from .elementwise import _tensor_input
from .movement import reshape, squeeze, unsqueeze
from .padding import pad as pad_op

# ---------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConvParams:
    """The settings of a 2-D convolution, as pairs of ints (what the kernels take)."""

    stride: tuple = (1, 1)
    padding: tuple = (0, 0)
    dilation: tuple = (1, 1)
    groups: int = 1


# ---------------------------------------------------------------------------------------------
# The three maps on raw arrays, one kernel call per group
# ---------------------------------------------------------------------------------------------


def _split(a, axis: int, groups: int):
    """``groups`` contiguous pieces of ``a`` along ``axis`` (the kernels want contiguous input)."""
    if groups == 1:
        return [a]
    xp = backend.array_module(a)
    return [xp.ascontiguousarray(piece) for piece in xp.split(a, groups, axis=axis)]


def _join(pieces, axis: int):
    if len(pieces) == 1:
        return pieces[0]
    return backend.array_module(*pieces).concatenate(pieces, axis=axis)


def conv_arrays(x, w, p: ConvParams):
    """y = x conv w   (x: N, C_in, H, W;  w: C_out, C_in/G, kH, kW)."""
    ys = [kernel_calls.conv2d(xg, wg, p.stride, p.padding, p.dilation)
          for xg, wg in zip(_split(x, 1, p.groups), _split(w, 0, p.groups))]
    return _join(ys, axis=1)


def conv_transpose_arrays(gy, w, x_shape, p: ConvParams):
    """gx = the adjoint of "conv with w" applied to gy, shaped like the conv's input x_shape."""
    n, c, h, wd = x_shape
    shape = (n, c // p.groups, h, wd)
    gxs = [kernel_calls.conv2d_backward_input(gyg, wg, shape, p.stride, p.padding, p.dilation)
           for gyg, wg in zip(_split(gy, 1, p.groups), _split(w, 0, p.groups))]
    return _join(gxs, axis=1)


def conv_weight_grad_arrays(x, gy, w_shape, p: ConvParams):
    """gw[o, c, a, b] = sum over n, i, j of gy[n, o, i, j] * x_pad[n, c, i*s0 + a*d0, j*s1 + b*d1]."""
    shape = (w_shape[0] // p.groups,) + tuple(w_shape[1:])
    gws = [kernel_calls.conv2d_backward_weight(xg, gyg, shape, p.stride, p.padding, p.dilation)
           for xg, gyg in zip(_split(x, 1, p.groups), _split(gy, 1, p.groups))]
    return _join(gws, axis=0)


# ---------------------------------------------------------------------------------------------
# The three maps as differentiable ops (see the table in the module docstring)
# ---------------------------------------------------------------------------------------------


class Conv2d(ArrayFunction):
    """y = conv(x, w) + bias (bias (C_out,) per output channel, or None).

    dL/dx = ConvTranspose2d(gy, w)   (spread each output gradient back over its window)
    dL/dw = Conv2dWeightGrad(x, gy)  (correlate the input with the output gradient)
    dL/dbias = gy summed over N, H, W (every output of a channel got the same bias)
    """

    @staticmethod
    def forward(ctx, x, w, bias, params):
        ctx.params, ctx.x_shape, ctx.w_shape = params, x.shape, w.shape
        ctx.save_for_backward(x, w)
        y = conv_arrays(x, w, params)
        if bias is not None:         # y is a new array of the kernels': add into it
            y += bias.reshape(1, -1, 1, 1)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad[:3]
        gx = ConvTranspose2d.apply(gy, w, ctx.x_shape, ctx.params) if nx else None
        gw = Conv2dWeightGrad.apply(x, gy, ctx.w_shape, ctx.params) if nw else None
        gb = gy.sum((0, 2, 3)) if nb else None
        return gx, gw, gb, None


class ConvTranspose2d(ArrayFunction):
    """z = conv_transpose(gy, w): the adjoint of y = conv(x, w) in x, shaped like x (x_shape).

    It is linear in gy and in w. From <conv(x, w), gy> = <x, z>, with gz = dL/dz:
    dL/dgy = Conv2d(gz, w)           dL/dw = Conv2dWeightGrad(gz, gy)
    """

    @staticmethod
    def forward(ctx, gy, w, x_shape, params):
        ctx.params, ctx.gy_shape, ctx.w_shape = params, gy.shape, w.shape
        ctx.save_for_backward(gy, w)
        return conv_transpose_arrays(gy, w, x_shape, params)

    @staticmethod
    def backward(ctx, gz):
        gy, w = ctx.saved_tensors
        ngy, nw = ctx.needs_input_grad[:2]
        d_gy = Conv2d.apply(gz, w, None, ctx.params) if ngy else None
        d_w = Conv2dWeightGrad.apply(gz, gy, ctx.w_shape, ctx.params) if nw else None
        return d_gy, d_w, None, None


class Conv2dWeightGrad(ArrayFunction):
    """u = weight_grad(x, gy): the gradient of <conv(x, w), gy> with respect to w.

    Linear in x and in gy. From <conv(x, w), gy> = <w, u>, with gu = dL/du:
    dL/dx = ConvTranspose2d(gy, gu)  dL/dgy = Conv2d(x, gu)
    """

    @staticmethod
    def forward(ctx, x, gy, w_shape, params):
        ctx.params, ctx.x_shape = params, x.shape
        ctx.save_for_backward(x, gy)
        return conv_weight_grad_arrays(x, gy, w_shape, params)

    @staticmethod
    def backward(ctx, gu):
        x, gy = ctx.saved_tensors
        nx, ngy = ctx.needs_input_grad[:2]
        d_x = ConvTranspose2d.apply(gy, gu, ctx.x_shape, ctx.params) if nx else None
        d_gy = Conv2d.apply(x, gu, None, ctx.params) if ngy else None
        return d_x, d_gy, None, None


# ---------------------------------------------------------------------------------------------
# Checking shapes, so a mistake is reported in the user's terms
# ---------------------------------------------------------------------------------------------


def _shape(t) -> str:
    return "(" + ", ".join(str(s) for s in t.shape) + ")"


def _check_settings(name, stride, dilation, padding, groups):
    if any(s <= 0 for s in stride):
        raise ValueError(f"{name}: stride must be positive, got {stride}")
    if any(d <= 0 for d in dilation):
        raise ValueError(f"{name}: dilation must be positive, got {dilation}")
    if any(p < 0 for p in padding):
        raise ValueError(f"{name}: padding must be non-negative, got {padding}")
    if groups <= 0:
        raise ValueError(f"{name}: groups must be a positive integer, got {groups}")


def _check_batched(name, input, weight, dims: int):
    """Accept (N, C, *spatial) or unbatched (C, *spatial); return the batched input."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{name}: input and weight must be Tensors")
    if weight.ndim != dims + 2:
        raise RuntimeError(f"{name}: expected a {dims + 2}-D weight, got shape {_shape(weight)}")
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{name}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D "
                           f"(batched) input, got shape {_shape(input)}")
    unbatched = input.ndim == dims + 1
    return (unsqueeze(input, 0) if unbatched else input), unbatched


def _check_conv(name, x, weight, bias, groups, stride, padding, dilation):
    """x is batched here: (N, C_in, *spatial). Raise errors that name the numbers."""
    c_in, c_out = x.shape[1], weight.shape[0]
    if c_out % groups:
        raise RuntimeError(f"{name}: out_channels ({c_out}, weight {_shape(weight)}) must be "
                           f"divisible by groups ({groups})")
    if c_in != weight.shape[1] * groups:
        raise RuntimeError(
            f"{name}: weight of shape {_shape(weight)} with groups={groups} expects an input "
            f"with {weight.shape[1] * groups} channels, but got input of shape {_shape(x)} "
            f"with {c_in} channels")
    spatial = tuple(x.shape[2:])
    padded = tuple(s + 2 * p for s, p in zip(spatial, padding))
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, weight.shape[2:]))
    if any(k > s for k, s in zip(span, padded)):
        raise RuntimeError(
            f"{name}: the padded input is {' x '.join(map(str, padded))} (input "
            f"{' x '.join(map(str, spatial))} plus padding {padding} on each side) but the "
            f"(dilated) kernel is {' x '.join(map(str, span))}: the kernel can't be larger than "
            "the padded input")
    _check_bias(name, bias, c_out)


def _check_bias(name, bias, channels):
    if bias is not None and tuple(bias.shape) != (channels,):
        raise RuntimeError(f"{name}: bias must have shape ({channels},) (one per output "
                           f"channel), got {_shape(bias)}")


def _same_dtype(*tensors):
    """Promote input, weight and bias to one floating dtype (the kernels want one dtype)."""
    ts = [t for t in tensors if t is not None]
    dtype = ts[0].dtype
    for t in ts[1:]:
        dtype = backend.promote_types(dtype, t.dtype)
    if dtype.kind != "f":
        dtype = backend.DEFAULT_FLOAT
    return [None if t is None else t.to(dtype) for t in tensors]


def _add_bias(y: Tensor, bias) -> Tensor:
    if bias is None:
        return y
    return y + reshape(bias, (1, -1) + (1,) * (y.ndim - 2))


# ---------------------------------------------------------------------------------------------
# Padding given as a string
# ---------------------------------------------------------------------------------------------


def _resolve_padding(name, padding, kernel, stride, dilation, dims):
    """Return (symmetric padding per dim, extra (left, right) per dim or None).

    'valid' means no padding. 'same' keeps the spatial size (stride 1 only): the total
    padding d*(k-1) is split as PyTorch does, the odd one out on the right. Unequal sides
    can't go to the kernels (they pad symmetrically), so they are padded explicitly first.
    """
    if not isinstance(padding, str):
        return int_tuple(name, "padding", padding, dims), None
    if padding == "valid":
        return (0,) * dims, None
    if padding != "same":
        raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same', "
                         f"got {padding!r}")
    if any(s != 1 for s in stride):
        raise ValueError(f"{name}: padding='same' is not supported for strided convolutions "
                         f"(stride={stride})")
    totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
    sides = [(t // 2, t - t // 2) for t in totals]
    if all(lo == hi for lo, hi in sides):
        return tuple(lo for lo, _ in sides), None
    return (0,) * dims, sides


def _explicit_pad(x: Tensor, sides) -> Tensor:
    flat = []
    for lo, hi in reversed(sides):  # F.pad lists the last dimension first
        flat += [lo, hi]
    return pad_op(x, flat)


# ---------------------------------------------------------------------------------------------
# The functionals (torch.nn.functional names and arguments)
# ---------------------------------------------------------------------------------------------


def conv_nd(name, dims, input, weight, bias, stride, padding, dilation, groups):
    """conv1d (dims=1) and conv2d (dims=2): check, pad, run the Conv2d op on (N, C, H, W).

    ``name`` goes into error messages: the functional's name, or a layer's description.
    """
    _tensor_input(name, input)
    x, unbatched = _check_batched(name, input, weight, dims)
    stride, dilation = int_tuple(name, "stride", stride, dims), \
        int_tuple(name, "dilation", dilation, dims)
    groups = as_int(name, "groups", groups)
    kernel = tuple(weight.shape[2:])
    padding, sides = _resolve_padding(name, padding, kernel, stride, dilation, dims)
    _check_settings(name, stride, dilation, padding, groups)
    if sides is not None:
        x = _explicit_pad(x, sides)
    _check_conv(name, x, weight, bias, groups, stride, padding, dilation)
    x, weight, bias = _same_dtype(x, weight, bias)
    if dims == 1:  # a 1-D signal is an image of height 1
        x, weight = unsqueeze(x, 2), unsqueeze(weight, 2)
        stride, padding, dilation = (1,) + stride, (0,) + padding, (1,) + dilation
    y = Conv2d.apply(x, weight, bias, ConvParams(stride, padding, dilation, groups))
    if dims == 1:
        y = squeeze(y, 2)
    return squeeze(y, 0) if unbatched else y


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D convolution of input (N, C_in, H, W) or (C_in, H, W) with weight
    (C_out, C_in / groups, kH, kW); output (N, C_out, H_out, W_out) with

        H_out = floor((H + 2 * padding[0] - dilation[0] * (kH - 1) - 1) / stride[0]) + 1

    ``padding`` may be an int, a pair, 'valid' (none) or 'same' (output size = input size,
    stride 1 only).
    """
    return conv_nd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-D convolution of input (N, C_in, L) or (C_in, L) with weight (C_out, C_in / groups, k):
    conv2d on an image of height 1."""
    return conv_nd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose_output_size(size, kernel, stride, padding, output_padding, dilation) -> int:
    """The size a transposed convolution produces along one dimension:
    (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1.

    It is the input size of the convolution it is the adjoint of. A strided convolution maps
    several input sizes to the same output size; ``output_padding`` picks which one.
    """
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """Transposed 2-D convolution (the adjoint, in x, of conv2d with the same weight).

    input (N, C_in, H, W) or unbatched, weight (C_in, C_out / groups, kH, kW), output
    (N, C_out, H_out, W_out) with H_out from ``conv_transpose_output_size``. ``padding`` is the
    padding of the convolution this one undoes, so it *removes* rows and columns.
    """
    name = "conv_transpose2d"
    x, unbatched = _check_batched(name, input, weight, 2)
    stride, padding = int_tuple(name, "stride", stride, 2), int_tuple(name, "padding", padding, 2)
    dilation = int_tuple(name, "dilation", dilation, 2)
    output_padding = int_tuple(name, "output_padding", output_padding, 2)
    groups = as_int(name, "groups", groups)
    _check_settings(name, stride, dilation, padding, groups)
    c_in = x.shape[1]
    if c_in != weight.shape[0] or c_in % groups:
        raise RuntimeError(
            f"{name}: weight of shape {_shape(weight)} expects an input with {weight.shape[0]} "
            f"channels (divisible by groups={groups}), but got input of shape {_shape(x)} with "
            f"{c_in} channels")
    for op, s, d in zip(output_padding, stride, dilation):
        if not 0 <= op < max(s, d):
            raise ValueError(f"{name}: output_padding {output_padding} must be smaller than "
                             f"either stride {stride} or dilation {dilation}")
    c_out = weight.shape[1] * groups
    _check_bias(name, bias, c_out)
    out = tuple(conv_transpose_output_size(s, k, st, p, op, d) for s, k, st, p, op, d in
                zip(x.shape[2:], weight.shape[2:], stride, padding, output_padding, dilation))
    if any(o <= 0 for o in out):
        raise RuntimeError(f"{name}: input of shape {_shape(x)} with kernel "
                           f"{tuple(weight.shape[2:])}, stride {stride} and padding {padding} "
                           f"gives an output of size {out}, which is too small")
    x, weight, bias = _same_dtype(x, weight, bias)
    params = ConvParams(stride, padding, dilation, groups)
    if all(op < s for op, s in zip(output_padding, stride)):
        y = ConvTranspose2d.apply(x, weight, (x.shape[0], c_out) + out, params)
    else:
        y = _conv_transpose_cropped(x, weight, out, params)
    y = _add_bias(y, bias)
    return squeeze(y, 0) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,  # noqa: A002
                     groups=1, dilation=1) -> Tensor:
    """Transposed 1-D convolution of input (N, C_in, L) or (C_in, L) with weight
    (C_in, C_out / groups, k): conv_transpose2d on an image of height 1, as conv1d is conv2d's.
    L_out = (L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1."""
    name = "conv_transpose1d"
    _tensor_input(name, input)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{name}: expected a 3-D (batched) or 2-D (unbatched) input, got "
                           f"shape {_shape(input)}")
    if not isinstance(weight, Tensor) or weight.ndim != 3:
        raise RuntimeError(f"{name}: weight must be 3-D (C_in, C_out / groups, k), got "
                           f"{_shape(weight) if isinstance(weight, Tensor) else weight!r}")
    one = {k: (1,) + int_tuple(name, k, v, 1) for k, v in (("stride", stride),
                                                         ("dilation", dilation))}
    zero = {k: (0,) + int_tuple(name, k, v, 1) for k, v in (("padding", padding),
                                                          ("output_padding", output_padding))}
    y = conv_transpose2d(unsqueeze(input, -2), unsqueeze(weight, 2), bias, one["stride"],
                         zero["padding"], zero["output_padding"], groups, one["dilation"])
    return squeeze(y, -2)


def _conv_transpose_cropped(x, weight, out, p: ConvParams) -> Tensor:
    """conv_transpose2d when output_padding >= stride (allowed if dilation > stride).

    Then the output is larger than any convolution with symmetric padding could read, so
    the adjoint can't be taken directly. Instead: the transposed convolution without padding
    (every row any window touches), cropped by ``padding`` on the left/top, and zeros where
    the output reaches past it on the right/bottom.
    """
    full = tuple((s - 1) * st + d * (k - 1) + 1 for s, k, st, d in
                 zip(x.shape[2:], weight.shape[2:], p.stride, p.dilation))
    y = ConvTranspose2d.apply(x, weight, tuple(x.shape[:1]) + (weight.shape[1] * p.groups,) + full,
                              ConvParams(p.stride, (0, 0), p.dilation, p.groups))
    ends = [min(f, lo + o) for f, lo, o in zip(full, p.padding, out)]
    y = y[:, :, p.padding[0]:ends[0], p.padding[1]:ends[1]]
    missing = [lo + o - e for lo, o, e in zip(p.padding, out, ends)]
    return pad_op(y, [0, missing[1], 0, missing[0]]) if any(missing) else y

