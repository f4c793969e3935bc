"""Matrix multiplication with PyTorch's ``matmul`` rules (1-D, 2-D and batched).

For C = A @ B (A: n x k, B: k x m):   dL/dA = dL/dC @ B^T,   dL/dB = A^T @ dL/dC.
Batched inputs broadcast over the leading dims, so their gradients are summed back with
``sum_to`` exactly as for elementwise ops.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from .kernel_calls import matmul_2d
from .movement import _sum_to_array, reshape, sum_to, transpose


def matmul_arrays(a, b):
    """The forward product of two arrays (2-D goes through minigrad.kernels' dispatcher).

    A batch of rows times one matrix, (..., M, K) @ (K, N) (every linear layer on a sequence),
    is one (... * M, K) @ (K, N) product: NumPy's matmul would run one small GEMM per batch
    entry instead (0.74 ms against 0.42 ms for (32, 32, 128) @ (128, 384) float32)."""
    if b.ndim == 2:
        if a.ndim == 2:
            return matmul_2d(a, b)
        if a.ndim > 2:
            rows = a.reshape(math.prod(a.shape[:-1]), a.shape[-1])    # not -1: K may be 0
            return matmul_2d(rows, b).reshape(a.shape[:-1] + (b.shape[1],))
    return backend.array_module(a, b).matmul(a, b)


class MatMul(ArrayFunction):
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
        if nb and b.ndim == 2 and a.ndim > 2:
            # one matrix shared by a batch of rows: dL/dB = sum over the batch of A_i^T G_i,
            # which is one product with the batch folded into the inner axis
            k, n = b.shape
            rows = math.prod(a.shape[:-1])          # not -1 in the reshapes: k or n may be 0
            gb = matmul(transpose(reshape(a, (rows, k)), 0, 1), reshape(g, (rows, n)))
        else:
            gb = sum_to(matmul(transpose(a, -1, -2), g), b.shape) if nb else None
        return ga, gb

    @staticmethod
    def backward_arrays(ctx, g):
        """The same products on arrays (one dtype for all three; others take the Tensor
        path, which promotes as the ops do)."""
        a, b = ctx.saved_arrays
        if not a.dtype == b.dtype == g.dtype:
            return NotImplemented
        na, nb = ctx.needs_input_grad
        ga = _sum_to_array(matmul_arrays(g, b.swapaxes(-1, -2)), a.shape) if na else None
        if nb and b.ndim == 2 and a.ndim > 2:
            k, n = b.shape
            rows = math.prod(a.shape[:-1])
            gb = matmul_2d(a.reshape(rows, k).T, g.reshape(rows, n))
        else:
            gb = _sum_to_array(matmul_arrays(a.swapaxes(-1, -2), g), b.shape) if nb else None
        return ga, gb


class Addmm(ArrayFunction):
    """Y = beta * C + alpha * (A @ B) for 2-D A, B and C broadcastable to Y's shape.

    dL/dA = alpha * G @ B^T,   dL/dB = alpha * A^T @ G,   dL/dC = beta * G summed to C's shape.

    The layers' workhorse: a linear layer is addmm(bias, x, W^T), an RNN step adds the
    projected input to h @ W_hh^T. One node instead of a product and a sum halves the graph
    nodes those layers record (a 32-step LSTM: 32 fewer nodes forward, 32 fewer backward).
    """

    @staticmethod
    def forward(ctx, c, a, b, beta, alpha):
        ctx.save_for_backward(a, b)
        ctx.c_shape, ctx.beta, ctx.alpha = c.shape, beta, alpha
        y = matmul_arrays(a, b)
        if alpha != 1:
            y = y * alpha
        y = y + (c if beta == 1 else beta * c)      # a new array: c broadcasts, y may not
        return y.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        nc, na, nb = ctx.needs_input_grad[:3]
        beta, alpha = ctx.beta, ctx.alpha
        if alpha != 1 and (na or nb):
            g_ab = g * alpha
        else:
            g_ab = g
        gc = sum_to(g if beta == 1 else g * beta, ctx.c_shape) if nc else None
        ga = matmul(g_ab, transpose(b, 0, 1)) if na else None
        gb = matmul(transpose(a, 0, 1), g_ab) if nb else None
        return gc, ga, gb, None, None

    @staticmethod
    def backward_arrays(ctx, g):
        """The same on arrays, for one dtype throughout (else the Tensor path)."""
        a, b = ctx.saved_arrays
        if not a.dtype == b.dtype == g.dtype:
            return NotImplemented
        nc, na, nb = ctx.needs_input_grad[:3]
        beta, alpha = ctx.beta, ctx.alpha
        g_ab = g * alpha if alpha != 1 and (na or nb) else g
        gc = _sum_to_array(g if beta == 1 else g * beta, ctx.c_shape) if nc else None
        ga = matmul_2d(g_ab, b.T) if na else None
        gb = matmul_2d(a.T, g_ab) if nb else None
        return gc, ga, gb, None, None


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """``beta * input + alpha * (mat1 @ mat2)``, PyTorch's ``torch.addmm``: mat1 (n, k),
    mat2 (k, m), input broadcastable to (n, m)."""
    for name, t in (("input", input), ("mat1", mat1), ("mat2", mat2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"addmm: {name} must be a Tensor, got {type(t).__name__}")
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"addmm: mat1 and mat2 must be 2-D, got shapes {tuple(mat1.shape)} "
                           f"and {tuple(mat2.shape)}")
    _check(mat1, mat2)
    out_shape = (mat1.shape[0], mat2.shape[1])
    try:
        if np.broadcast_shapes(tuple(input.shape), out_shape) != out_shape:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"addmm: input of shape {tuple(input.shape)} can't be broadcast to "
                           f"the product's shape {out_shape} (mat1 {tuple(mat1.shape)} @ mat2 "
                           f"{tuple(mat2.shape)})") from None
    _check_same_dtype("addmm", mat1, mat2)
    _check_same_dtype("addmm", input, mat1)
    return Addmm.apply(input, mat1, mat2, beta, alpha)


def _check_same_dtype(op: str, a: Tensor, b: Tensor):
    """PyTorch multiplies matrices of one dtype only: promoting silently would hide a float64
    tensor that slipped into a float32 model (and run it at float64 speed)."""
    if a.dtype != b.dtype:
        raise RuntimeError(f"{op}: expected both operands to have the same dtype, got "
                           f"{a.dtype} {tuple(a.shape)} and {b.dtype} {tuple(b.shape)}; "
                           f"convert one first, e.g. b.to(a.dtype)")


def _check(a: Tensor, b: Tensor):
    a_ndim, b_ndim = a.array.ndim, b.array.ndim
    if a_ndim == 0 or b_ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)} (use * for scalars)")
    k_a = a.array.shape[-1]
    k_b = b.array.shape[0] if b_ndim == 1 else b.array.shape[-2]
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
    _check_same_dtype("matmul", a, b)
    if a.array.ndim >= 2 and b.array.ndim >= 2:
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
