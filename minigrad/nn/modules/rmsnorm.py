"""``RMSNorm``: x / sqrt(mean(x^2) + eps) * weight over the last dims (``F.rms_norm``)."""

from __future__ import annotations

import numpy as np

from ...tensor import Tensor, ones
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["RMSNorm"]


class RMSNorm(Module):
    """Root-mean-square normalisation over ``normalized_shape`` (the last dims), then an
    elementwise scale ``weight`` (ones). ``eps=None``: the machine epsilon of the input's
    dtype. No bias and no centring (the norm of LLaMA and T5)."""

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
