"""More normalization: ``instance_norm`` and ``rms_norm``.

* Instance norm standardises each sample's channels *separately*, over their positions only:
  mean and variance over (L) or (H, W) for every (n, c). It is ``Normalize`` (the op shared by
  layer and batch norm, ``ops/normalization.py``) over the spatial axes, then a per-channel
  affine. Used in style transfer, where the statistics of one image's feature maps are its
  "style". With running statistics (``track_running_stats``), each batch moves them towards
  the mean over the batch of the per-instance statistics (variances unbiased), as PyTorch's
  instance norm does (it runs batch norm on the input viewed as (1, N * C, *)).
* RMS norm (Zhang & Sennrich, 2019; LLaMA's norm) only rescales: y = x / rms(x) * weight with
  rms(x) = sqrt(mean(x^2) + eps) over the last dims. No centring, no bias. A composition of
  existing ops, so its gradients come for free.
"""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .elementwise import rsqrt
from .movement import reshape
from .normalization import Normalize, batch_norm, check_layer_norm_input


def _per_channel(t: Tensor | None, ndim: int):
    """(C,) -> (1, C, 1, ...), broadcasting over (N, C, *)."""
    return None if t is None else reshape(t, (1, -1) + (1,) * (ndim - 2))


def _check_channels(name, input, tensors) -> None:  # noqa: A002
    c = input.shape[1]
    for what, t in tensors:
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(f"{name}: {what} has shape {tuple(t.shape)}, but the input "
                               f"{tuple(input.shape)} has {c} channels (dim 1)")


def instance_norm(input: Tensor, running_mean: Tensor | None = None,  # noqa: A002
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Standardise every channel of every sample over its positions ((N, C, *) input), then
    scale and shift per channel.

    ``use_input_stats=False`` uses ``running_mean`` / ``running_var`` instead (an
    InstanceNorm with tracked statistics in eval mode). Otherwise, if running statistics are
    given, they are updated in place: running = (1 - momentum) * running + momentum * (the
    batch mean of the per-instance mean, or of the per-instance unbiased variance).
    """
    name = "instance_norm"
    if input.ndim < 2:
        raise ValueError(f"{name}: expected an input of shape (N, C, *), got shape "
                         f"{tuple(input.shape)}")
    _check_channels(name, input, (("running_mean", running_mean), ("running_var", running_var),
                                  ("weight", weight), ("bias", bias)))
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError(f"{name}: running_mean and running_var must be given when "
                               "use_input_stats=False")
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    positions = int(np.prod(input.shape[2:]))
    if positions <= 1:
        raise ValueError(f"{name}: expected more than 1 spatial element when using the input's "
                         f"statistics, got input of shape {tuple(input.shape)}")
    axes = tuple(range(2, input.ndim))
    y, mean, var = Normalize.apply(input, _per_channel(weight, input.ndim),
                                   _per_channel(bias, input.ndim), axes, float(eps))
    n, c = input.shape[:2]
    with no_grad():
        if running_mean is not None:
            batch_mean = reshape(mean, (n, c)).mean(0)
            running_mean.copy_(running_mean * (1 - momentum) + batch_mean * momentum)
        if running_var is not None:
            unbiased = reshape(var, (n, c)).mean(0) * (positions / (positions - 1))
            running_var.copy_(running_var * (1 - momentum) + unbiased * momentum)
    return y


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,  # noqa: A002
             eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x^2) + eps) * weight, the mean over the last ``len(normalized_shape)``
    dims. ``eps=None`` means the machine epsilon of the input's dtype (float32's for float16,
    which is computed in float32, as in PyTorch)."""
    shape = ((int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer))
             else tuple(int(s) for s in normalized_shape))
    check_layer_norm_input("rms_norm", input, shape)
    if input.dtype.kind != "f":
        raise RuntimeError(f"rms_norm: expected a floating point input, got {input.dtype}")
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(f"rms_norm: weight has shape {tuple(weight.shape)} but "
                           f"normalized_shape is {shape}")
    x = input.to(np.float32) if input.dtype == np.float16 else input
    if eps is None:
        eps = float(np.finfo(x.dtype).eps)
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    y = x * rsqrt((x * x).mean(axes, keepdim=True) + eps)
    y = y.to(input.dtype)
    return y * weight if weight is not None else y


__all__ = ["instance_norm", "rms_norm"]
