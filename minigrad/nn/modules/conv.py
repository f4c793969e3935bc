"""Convolution layers: Conv1d, Conv2d, ConvTranspose2d.

Each layer owns a ``weight`` and an optional ``bias`` with PyTorch's names and shapes:

    Conv1d / Conv2d      weight (out_channels, in_channels / groups, *kernel_size)
    ConvTranspose2d      weight (in_channels, out_channels / groups, *kernel_size)
    all                  bias   (out_channels,)

and calls the functional of the same name (``minigrad/ops/conv.py``, where the math is).
The transposed layer's weight is laid out like the weight of the convolution it is the
adjoint of (that convolution maps out_channels to in_channels), which is why its first two
dims look swapped.

Initialisation, as in PyTorch: weight ~ U(-b, b) with b = 1 / sqrt(fan_in) and
fan_in = weight.shape[1] * prod(kernel_size). (PyTorch writes this as
``kaiming_uniform_(w, a=sqrt(5))``: gain sqrt(2 / (1 + a^2)) = sqrt(1/3) times sqrt(3 / fan_in)
is 1 / sqrt(fan_in).) The bias uses the same bound.
"""

from __future__ import annotations

from ...ops import conv as C
from ...ops.arguments import as_int, int_tuple
from ...ops.padding import pad
from ...tensor import Tensor, empty
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What the three layers share: arguments, parameters, initialisation, repr, checks."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, output_padding=0, device=None, dtype=None):
        super().__init__()
        n = self._dims
        name = type(self).__name__
        in_channels = as_int(name, "in_channels", in_channels)
        out_channels = as_int(name, "out_channels", out_channels)
        groups = as_int(name, "groups", groups)
        if in_channels < 0 or out_channels < 0:
            raise RuntimeError(f"{name}: in_channels and out_channels must be >= 0, got "
                               f"{in_channels} and {out_channels}")
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups "
                             f"({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by "
                             f"groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, but got "
                             f"padding_mode={padding_mode!r}")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding mode is supported, as in PyTorch '
                             f'(got {padding_mode!r})')
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = int_tuple(name, "kernel_size", kernel_size, n)
        self.stride = int_tuple(name, "stride", stride, n)
        self.dilation = int_tuple(name, "dilation", dilation, n)
        self.output_padding = int_tuple(name, "output_padding", output_padding, n)
        self.padding_mode = padding_mode
        self.transposed = self._transposed
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions (stride={self.stride})")
            self.padding = padding
        else:
            self.padding = int_tuple(name, "padding", padding, n)

        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: both U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (see the module doc)."""
        init.layer_default_(self.weight, self.bias)

    def _check_input(self, input):
        """Catch the usual mistakes here, where the layer's own numbers can be named."""
        n = self._dims
        if not isinstance(input, Tensor):
            raise TypeError(f"{self._label()} expects a Tensor input, got "
                            f"{type(input).__name__}; wrap data with mg.tensor(...)")
        if input.ndim not in (n + 1, n + 2):
            raise RuntimeError(f"{self._label()} expects a {n + 2}-D (batched) or {n + 1}-D "
                               f"(unbatched) input, got shape {tuple(input.shape)}")
        channels = input.shape[-(n + 1)]
        if channels != self.in_channels:
            raise RuntimeError(f"{self._label()} got input of shape {tuple(input.shape)} with "
                               f"{channels} channels, expected in_channels={self.in_channels}")

    def _label(self) -> str:
        return (f"{type(self).__name__}(in_channels={self.in_channels}, "
                f"out_channels={self.out_channels}, kernel_size={self.kernel_size})")

    def extra_repr(self) -> str:
        n = self._dims
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        if self.bias is None:
            s += ", bias=False"
        return s


class _Conv(_ConvNd):
    """What Conv1d and Conv2d share: PyTorch's constructor defaults and the forward pass."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device=device, dtype=dtype)

    def forward(self, input):  # noqa: A002
        self._check_input(input)
        if self.padding_mode == "zeros":
            return C.conv_nd(self._label(), self._dims, input, self.weight, self.bias,
                             self.stride, self.padding, self.dilation, self.groups)
        # reflect / replicate / circular: pad first (F.pad), then convolve without padding
        padded = pad(input, self._pad_widths(), mode=self.padding_mode)
        return C.conv_nd(self._label(), self._dims, padded, self.weight, self.bias,
                         self.stride, (0,) * self._dims, self.dilation, self.groups)

    def _pad_widths(self) -> tuple:
        """F.pad's widths, last dim first: (left, right) per spatial dim. For 'same' the total
        dilation * (k - 1) is split with the extra element on the right, as in PyTorch."""
        widths = []
        for d in reversed(range(self._dims)):
            if self.padding == "valid":
                left = right = 0
            elif self.padding == "same":
                total = self.dilation[d] * (self.kernel_size[d] - 1)
                left, right = total // 2, total - total // 2
            else:
                left = right = self.padding[d]
            widths += [left, right]
        return tuple(widths)


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L) -> (N, C_out, L_out), or unbatched (C_in, L)."""

    _dims = 1


class Conv2d(_Conv):
    """2-D convolution over (N, C_in, H, W) -> (N, C_out, H_out, W_out), or unbatched."""

    _dims = 2


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (N, C_in, H, W) -> (N, C_out, H_out, W_out), with

        H_out = (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1.

    ``forward(input, output_size)`` may instead name the wanted (H_out, W_out); the
    output_padding that gives it is worked out (a strided convolution maps several input
    sizes to one output size, so the transposed one needs to be told which).
    """

    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple, not a "
                             "string")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device=device, dtype=dtype)

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        n = self._dims
        wanted = tuple(output_size)[-n:]
        smallest = tuple(C.conv_transpose_output_size(s, k, st, p, 0, d) for s, k, st, p, d in
                         zip(input.shape[-n:], self.kernel_size, self.stride, self.padding,
                             self.dilation))
        extra = tuple(w - s for w, s in zip(wanted, smallest))
        for e, s, d in zip(extra, self.stride, self.dilation):
            if not 0 <= e < max(s, d):
                raise ValueError(f"{self._label()}: requested output size {wanted} is not "
                                 f"reachable from input {tuple(input.shape)}: the output can be "
                                 f"from {smallest} up to {max(s, d) - 1} larger per dimension")
        return extra

    def forward(self, input, output_size=None):  # noqa: A002
        self._check_input(input)
        convolve = C.conv_transpose1d if self._dims == 1 else C.conv_transpose2d
        return convolve(input, self.weight, self.bias, self.stride, self.padding,
                        self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose1d(ConvTranspose2d):
    """Transposed 1-D convolution (N, C_in, L) -> (N, C_out, L_out), or unbatched, with

        L_out = (L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1.
    """

    _dims = 1
