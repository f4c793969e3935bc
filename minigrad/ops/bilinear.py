"""``bilinear`` (``F.bilinear``): y_o = x1^T A_o x2 + b_o, one matrix A_o per output feature.

For inputs (*, in1) and (*, in2) and weight (out, in1, in2): the leading dims are flattened
to one batch dim, the products are one ``einsum`` (whose gradients are einsums too), and the
result is reshaped back to (*, out).
"""

from __future__ import annotations

from ..tensor import Tensor
from .linalg import einsum


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    op = "bilinear"
    if weight.ndim != 3:
        raise RuntimeError(f"{op}: weight must be 3-D (out_features, in1_features, "
                           f"in2_features), got shape {tuple(weight.shape)}")
    out_features, in1, in2 = weight.shape
    if input1.ndim == 0 or input2.ndim == 0 or input1.shape[-1] != in1 or \
            input2.shape[-1] != in2 or tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(f"{op}: expected input1 (*, {in1}) and input2 (*, {in2}) with the "
                           f"same leading dimensions for a weight of shape "
                           f"{tuple(weight.shape)}, got input1 {tuple(input1.shape)} and input2 "
                           f"{tuple(input2.shape)}")
    if bias is not None and tuple(bias.shape) != (out_features,):
        raise RuntimeError(f"{op}: bias must have shape ({out_features},), got "
                           f"{tuple(bias.shape)}")
    lead = tuple(input1.shape[:-1])
    y = einsum("bi,oij,bj->bo", input1.reshape(-1, in1), weight, input2.reshape(-1, in2))
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (out_features,))
