"""``InstanceNorm1d``, ``InstanceNorm2d``, ``InstanceNorm3d``: normalise every channel of every
sample over its positions (``F.instance_norm``).

They keep the same parameters and buffers as BatchNorm (``weight``, ``bias``,
``running_mean``, ``running_var``, ``num_batches_tracked``: PyTorch builds both on one base
class, and so does minigrad), with other defaults: ``affine=False`` and
``track_running_stats=False``, i.e. no parameters and no buffers unless asked for. With
tracked statistics, eval mode uses them instead of each instance's own.
"""

from __future__ import annotations

import warnings

from ...ops.movement import squeeze, unsqueeze
from ...tensor import Tensor
from .. import functional as F
from .normalization import _BatchNorm

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _InstanceNorm(_BatchNorm):
    """Shared by the three; they differ in the input ranks they accept. An input with one
    dimension fewer is one unbatched sample (C, *)."""

    _unbatched_ndim = 0

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def _check_input(self, input: Tensor) -> None:  # noqa: A002
        ranks = (self._unbatched_ndim, self._unbatched_ndim + 1)
        if input.ndim not in ranks:
            raise ValueError(f"{self._get_name()}({self.num_features}): expected {ranks[0]}D "
                             f"or {ranks[1]}D input (got {input.ndim}D input of shape "
                             f"{tuple(input.shape)})")
        channel_dim = input.ndim - self._unbatched_ndim
        if input.shape[channel_dim] != self.num_features:
            message = (f"{self._get_name()}({self.num_features}): expected input's size at "
                       f"dim={channel_dim} to match num_features ({self.num_features}), but "
                       f"got input of shape {tuple(input.shape)}")
            if self.affine:
                raise ValueError(message)
            # without affine parameters num_features is not used, so PyTorch only warns
            warnings.warn(message + " (num_features is not used because affine=False)",
                          stacklevel=3)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input(input)
        unbatched = input.ndim == self._unbatched_ndim
        x = unsqueeze(input, 0) if unbatched else input
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            self.momentum if self.momentum is not None else 0.0, self.eps)
        return squeeze(y, 0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance norm of (N, C, L) or unbatched (C, L): statistics per sample and channel."""

    _unbatched_ndim = 2


class InstanceNorm2d(_InstanceNorm):
    """Instance norm of (N, C, H, W) or unbatched (C, H, W)."""

    _unbatched_ndim = 3


class InstanceNorm3d(_InstanceNorm):
    """Instance norm of (N, C, D, H, W) or unbatched (C, D, H, W)."""

    _unbatched_ndim = 4
