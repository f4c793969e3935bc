"""Matrix multiplication with PyTorch's ``matmul`` rules (1-D, 2-D and batched).

For C = A @ B (A: n x k, B: k x m):   dL/dA = dL/dC @ B^T,   dL/dB = A^T @ dL/dC.
Batched inputs broadcast over the leading dims, so their gradients are summed back with
``sum_to`` exactly as for elementwise ops.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor
from .movement import reshape, sum_to, transpose


def matmul_arrays(a, b):
    """The forward product of two arrays (2-D goes through minigrad.kernels' dispatcher)."""
    if a.ndim == 2 and b.ndim == 2:
        from .kernel_calls import matmul_2d
        return matmul_2d(a, b)
    return backend.array_module(a, b).matmul(a, b)


class MatMul(Function):
    """C = A @ B for A, B with >= 2 dims (batch dims broadcast)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return matmul_arrays(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = sum_to(matmul(g, transpose(b, -1, -2)), a.shape) if na else None
        gb = sum_to(matmul(transpose(a, -1, -2), g), b.shape) if nb else None
        return ga, gb


def _check(a: Tensor, b: Tensor):
    a_ndim, b_ndim = a.data.ndim, b.data.ndim
    if a_ndim == 0 or b_ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)} (use * for scalars)")
    k_a = a.data.shape[-1]
    k_b = b.data.shape[0] if b_ndim == 1 else b.data.shape[-2]
    if k_a != k_b:
        raise RuntimeError(
            f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} can't be multiplied: the last "
            f"dimension of the first ({k_a}) must equal the "
            f"{'only' if b_ndim == 1 else 'second-to-last'} dimension of the second ({k_b})")
    if a_ndim > 2 and b_ndim > 2:
        try:
            np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
        except ValueError:
            raise RuntimeError(f"matmul: batch dimensions of {tuple(a.shape)} and "
                               f"{tuple(b.shape)} can't be broadcast together") from None


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b``. A 1-D argument is treated as a row (left) or column (right) vector and that
    dimension is removed from the result, as in PyTorch."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"matmul: expected Tensors, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    _check(a, b)
    if a.dtype != b.dtype:
        dt = backend.promote_types(a.dtype, b.dtype)
        a, b = a.to(dt), b.to(dt)
    if a.data.ndim >= 2 and b.data.ndim >= 2:
        return MatMul.apply(a, b)
    a2 = reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
    b2 = reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
    out = MatMul.apply(a2, b2)
    shape = tuple(out.shape)
    if b.ndim == 1:
        shape = shape[:-1]
    if a.ndim == 1:
        shape = shape[:-2] + shape[-1:] if b.ndim > 1 else shape[:-1]
    return reshape(out, shape)


def mm(a: Tensor, b: Tensor) -> Tensor:
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expects 2-D tensors, got {tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: expects 3-D tensors with the same batch size, got "
                           f"{tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


def dot(a: Tensor, b: Tensor) -> Tensor:
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot: expects 1-D tensors, got {tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))
