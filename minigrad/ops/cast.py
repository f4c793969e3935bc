"""Casts and device moves (``to(dtype)``, ``to(device)``): the gradient goes back through
the inverse move."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor


class ToDtype(ArrayFunction):
    """y = x converted to another dtype.   dx = g converted back (floats only)."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.x_dtype = x.dtype
        y = x.astype(dtype)
        if np.dtype(dtype).kind not in "fc":
            ctx.mark_non_differentiable(y)
        return y

    @staticmethod
    def backward(ctx, g):
        return to_dtype(g, ctx.x_dtype), None


def to_dtype(x: Tensor, dtype) -> Tensor:
    dtype = np.dtype(dtype)
    return x if x.dtype == dtype else ToDtype.apply(x, dtype)


class ToDevice(ArrayFunction):
    """y = x copied to another device.   dx = g copied back."""

    @staticmethod
    def forward(ctx, x, device):
        ctx.x_device = backend.device_of(x)
        return backend.to_device(x, device)

    @staticmethod
    def backward(ctx, g):
        return to_device(g, ctx.x_device), None


def to_device(x: Tensor, device) -> Tensor:
    device = backend.Device(device)
    return x if x.device == device else ToDevice.apply(x, device)
