"""The linear (fully connected) layer's op: y = x W^T + b, with W in PyTorch's (out, in) layout.

    x: (*, in)    W: (out, in)    b: (out,) or None    y: (*, out)

    dL/dx = G W             dL/dW = G^T x           dL/db = sum of G over every row

(G = dL/dy, x and G taken as matrices with one row per sample: leading dims flattened).

It could be written with the ops it is made of, ``x @ W.t() + b``: three graph nodes (a
transpose, a product, a sum), and W's gradient would arrive transposed, to be copied into
a contiguous array. As one op the product W^T is read in place by BLAS, dL/dW is computed
directly in W's layout, and a batch of rows (a sequence through a linear layer) is one 2-D
product. The backward is written with minigrad ops, so it is differentiable again; when it
is not recorded (no ``create_graph``: grad mode off inside it, the usual ``loss.backward()``)
the same three products and sum run on the arrays, without an op node each.
"""

from __future__ import annotations

import math

from ..autograd.function import ArrayFunction
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from .kernel_calls import _KERNEL_DTYPES, matmul_2d
from .matmul import matmul
from .movement import reshape, transpose
from .reduce import sum as sum_op


class Linear(ArrayFunction):
    """y = x W^T + b for x of shape (*, in); the bias is optional (None)."""

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None
        rows = x.reshape(math.prod(x.shape[:-1]), x.shape[-1])   # not -1: in may be 0
        y = matmul_2d(rows, w.T)
        if b is not None:
            y += b                       # y is a fresh array: add in place
        if x.ndim == 2:
            return y                     # not a reshaped view: apply() checks views' bases
        return y.reshape(x.shape[:-1] + (w.shape[0],))

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad
        if not is_grad_enabled() and _array_backward_applies(g, x, w):
            return _backward_on_arrays(g.array, x.array, w.array, nx, nw, nb and ctx.has_bias)
        n_rows = math.prod(x.shape[:-1])
        g_rows = reshape(g, (n_rows, w.shape[0]))
        gx = matmul(g, w) if nx else None
        gw = matmul(transpose(g_rows, 0, 1), reshape(x, (n_rows, w.shape[1]))) if nw else None
        gb = sum_op(g_rows, 0) if nb and ctx.has_bias else None
        return gx, gw, gb


def _array_backward_applies(g: Tensor, x: Tensor, w: Tensor) -> bool:
    """One float32 or float64 dtype for all three: the products' kernels take them as they
    are (other dtypes keep the Tensor path, whose ops promote and narrow as they should)."""
    dtype = w.array.dtype
    return dtype in _KERNEL_DTYPES and x.array.dtype == dtype and g.array.dtype == dtype


def _backward_on_arrays(g, x, w, nx, nw, nb):
    """The backward's products and sum on arrays, wrapped as Tensors outside the graph."""
    n_rows = math.prod(x.shape[:-1])
    g_rows = g.reshape(n_rows, w.shape[0])
    gx = Tensor._make(matmul_2d(g_rows, w).reshape(x.shape)) if nx else None
    gw = Tensor._make(matmul_2d(g_rows.T, x.reshape(n_rows, w.shape[1]))) if nw else None
    gb = Tensor._make(g_rows.sum(0)) if nb else None
    return gx, gw, gb


def linear_op(x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    """The op behind ``F.linear``; the caller has checked shapes and dtypes."""
    return Linear.apply(x, w, b)
