"""``Linear`` (y = x W^T + b), ``Bilinear`` (y = x1^T A x2 + b) and ``Identity``."""

from __future__ import annotations

import math

from ...ops.arguments import as_int
from ...tensor import Tensor, empty
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to remove a layer from a model).
    Any constructor arguments are ignored, as in PyTorch."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input


class Linear(Module):
    """A fully connected layer: y = x @ weight.T + bias.

    weight: (out_features, in_features), bias: (out_features,). Both start as
    U(-1/sqrt(in_features), 1/sqrt(in_features)), PyTorch's default (kaiming_uniform_ with
    a = sqrt(5) for the weight), so a freshly built model matches PyTorch's statistics.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        in_features, out_features = (as_int("Linear", "in_features", in_features),
                                     as_int("Linear", "out_features", out_features))
        if in_features < 0 or out_features < 0:
            raise RuntimeError(f"Linear: in_features and out_features must be >= 0, got "
                               f"{in_features} and {out_features}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.layer_default_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            last = input.shape[-1] if input.ndim else "(none: a 0-d tensor)"
            raise RuntimeError(
                f"Linear(in_features={self.in_features}, out_features={self.out_features}) got "
                f"input with last dimension {last} (input shape {tuple(input.shape)}); expected "
                f"(*, {self.in_features})")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """y = x1^T A x2 + b: for inputs (*, in1_features) and (*, in2_features), output
    (*, out_features); weight (out_features, in1_features, in2_features) and bias
    (out_features,), both initialised U(-1/sqrt(in1_features), 1/sqrt(in1_features)) as in
    PyTorch."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in1_features = as_int("Bilinear", "in1_features", in1_features)
        self.in2_features = as_int("Bilinear", "in2_features", in2_features)
        self.out_features = as_int("Bilinear", "out_features", out_features)
        self.weight = Parameter(empty(out_features, in1_features, in2_features, dtype=dtype,
                                      device=device))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
