"""``mg.nn.functional`` (``import minigrad.nn.functional as F``): the layers as functions.

A layer object (``nn.Linear``) owns its parameters and calls one of these functions with them
(``F.linear(x, self.weight, self.bias)``). Use the functions directly when you want to manage
the tensors yourself.

The implementations live in ``minigrad/ops/`` next to their backward passes (activation.py,
loss.py, normalization.py, dropout.py, embedding.py, conv.py, pool.py, attention.py); this
module gathers them under PyTorch's names and signatures.
"""

from __future__ import annotations

from ..backend import promote_types as _promote_types
from ..ops.activation import (  # noqa: F401
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    logsigmoid,
    silu,
    softmax,
    softplus,
)
from ..ops.attention import scaled_dot_product_attention  # noqa: F401
from ..ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d  # noqa: F401
from ..ops.dropout import dropout  # noqa: F401
from ..ops.elementwise import _tensor_input, sigmoid, tanh  # noqa: F401
from ..ops.elementwise import relu as _relu
from ..ops.embedding import embedding, one_hot  # noqa: F401
from ..ops.linear import linear_op as _linear_op
from ..ops.loss import (  # noqa: F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from ..ops.matmul import matmul as _matmul
from ..ops.normalization import batch_norm, group_norm, layer_norm, normalize  # noqa: F401
from ..ops.padding import pad  # noqa: F401
from ..ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d  # noqa: F401
from ..tensor import Tensor


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """y = input @ weight.T + bias.

    ``weight`` has shape (out_features, in_features), PyTorch's layout: row j holds the
    weights of output j. ``input`` is (*, in_features); the result is (*, out_features).
    """
    _tensor_input("linear", input)
    if input.shape[-1:] != weight.shape[-1:]:
        raise RuntimeError(
            f"linear: input has last dimension {input.shape[-1] if input.ndim else '(none)'} "
            f"(input shape {tuple(input.shape)}) but weight has shape {tuple(weight.shape)}, "
            f"i.e. in_features={weight.shape[-1]}")
    if weight.ndim == 1 and bias is not None:
        raise RuntimeError(f"linear: a 1-D weight (shape {tuple(weight.shape)}) gives one "
                           f"output per row and takes no bias, got a bias of shape "
                           f"{tuple(bias.shape)}; use a weight of shape (1, in_features)")
    if weight.ndim != 2 or input.ndim == 0:
        out = _matmul(input, weight.t())
        return out if bias is None else out + bias
    dtype = weight.dtype
    if input.dtype == dtype and (bias is None or bias.dtype == dtype):
        return _linear_op(input, weight, bias)         # the usual case: nothing to promote
    tensors = [t for t in (input, weight, bias) if t is not None]
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = _promote_types(dtype, t.dtype)
    input, weight, bias = (t if t is None or t.dtype == dtype else t.to(dtype)
                           for t in (input, weight, bias))
    return _linear_op(input, weight, bias)             # one graph node (ops/linear.py)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(input, 0). (``inplace`` is accepted for compatibility; the result is a new tensor.)"""
    return _relu(input)


__all__ = [
    "linear", "relu", "gelu", "silu", "leaky_relu", "elu", "sigmoid", "tanh", "softplus",
    "logsigmoid", "softmax", "log_softmax", "dropout", "layer_norm", "batch_norm", "group_norm", "normalize",
    "embedding", "one_hot", "pad", "cross_entropy", "nll_loss", "mse_loss", "l1_loss",
    "huber_loss", "smooth_l1_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "scaled_dot_product_attention",
]

# ---------------------------------------------------------------------------------------------
# More functionals, one op file each: resampling (ops/resample.py), sliding blocks
# (ops/fold.py), activations (ops/activation_extra.py, ops/activation_more.py), distances (ops/distance.py), pooling
# (ops/pool_extra.py), normalization (ops/norm_extra.py)
# ---------------------------------------------------------------------------------------------

from ..ops.activation_extra import (  # noqa: E402,F401
    glu,
    hardsigmoid,
    hardswish,
    hardtanh,
    mish,
    relu6,
    softmin,
    softsign,
)
from ..ops.activation_more import (  # noqa: E402,F401
    celu,
    celu_,
    elu_,
    hardshrink,
    hardtanh_,
    leaky_relu_,
    prelu,
    relu_,
    rrelu,
    rrelu_,
    selu,
    selu_,
    softshrink,
    tanhshrink,
    threshold,
    threshold_,
)
from ..ops.bilinear import bilinear  # noqa: E402,F401
from ..ops.distance import cosine_similarity, pairwise_distance  # noqa: E402,F401
from ..ops.dropout import alpha_dropout, dropout1d, dropout2d, dropout3d  # noqa: E402,F401
from ..ops.fold import fold, unfold  # noqa: E402,F401
from ..ops.loss_more import (  # noqa: E402,F401
    cosine_embedding_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from ..ops.norm_extra import instance_norm, rms_norm  # noqa: E402,F401
from ..ops.pool_extra import (  # noqa: E402,F401
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    max_pool1d,
)
from ..ops.resample import interpolate, pixel_shuffle, pixel_unshuffle  # noqa: E402,F401

__all__ += [
    "interpolate", "pixel_shuffle", "pixel_unshuffle", "unfold", "fold",
    "hardtanh", "relu6", "hardsigmoid", "hardswish", "mish", "glu", "softmin", "softsign",
    "cosine_similarity", "pairwise_distance",
    "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "instance_norm", "rms_norm",
    "selu", "celu", "softshrink", "hardshrink", "tanhshrink", "threshold", "prelu", "rrelu",
    "relu_", "elu_", "leaky_relu_", "hardtanh_", "threshold_", "rrelu_", "selu_", "celu_",
    "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
    "triplet_margin_loss", "soft_margin_loss", "multilabel_soft_margin_loss",
    "multi_margin_loss", "poisson_nll_loss", "gaussian_nll_loss", "bilinear",
]
