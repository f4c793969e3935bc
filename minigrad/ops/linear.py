"""The linear (fully connected) layer's op: y = x W^T + b, with W in PyTorch's (out, in) layout.

    x: (*, in)    W: (out, in)    b: (out,) or None    y: (*, out)

    dL/dx = G W             dL/dW = G^T x           dL/db = sum of G over every row

(G = dL/dy, x and G taken as matrices with one row per sample: leading dims flattened).

It could be written with the ops it is made of, ``x @ W.t() + b``: three graph nodes (a
transpose, a product, a sum), and W's gradient would arrive transposed, to be copied into
a contiguous array. As one op the product W^T is read in place by BLAS, dL/dW is computed
directly in W's layout, and a batch of rows (a sequence through a linear layer) is one 2-D
product. The backward is written with minigrad ops, so it is differentiable again; its
``backward_arrays`` (what the engine runs when the backward is not recorded: no
``create_graph``, the usual ``loss.backward()``) does the same three products and sum on the
arrays, without an op node each.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import ArrayFunction
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
        # A view that cannot be flattened (a batch_first sequence transposed) was copied: keep
        # the copy for dL/dW rather than copy again in backward (40-70 us for an LSTM's input).
        ctx.rows = rows if isinstance(rows, np.ndarray) and not np.may_share_memory(rows, x) \
            else None
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
        n_rows = math.prod(x.shape[:-1])
        g_rows = reshape(g, (n_rows, w.shape[0]))
        gx = matmul(g, w) if nx else None
        gw = matmul(transpose(g_rows, 0, 1), reshape(x, (n_rows, w.shape[1]))) if nw else None
        gb = sum_op(g_rows, 0) if nb and ctx.has_bias else None
        return gx, gw, gb

    @staticmethod
    def backward_arrays(ctx, g):
        """The same products and sum on arrays. Only for one float32 or float64 dtype for all
        three: the products' kernels take them as they are (other dtypes keep the Tensor
        path, whose ops promote and narrow as they should)."""
        x, w = ctx.saved_arrays
        dtype = w.dtype
        if dtype not in _KERNEL_DTYPES or x.dtype != dtype or g.dtype != dtype:
            return NotImplemented
        nx, nw, nb = ctx.needs_input_grad
        n_rows = math.prod(x.shape[:-1])
        g_rows = g.reshape(n_rows, w.shape[0])
        gx = matmul_2d(g_rows, w).reshape(x.shape) if nx else None
        if nw:
            rows = ctx.rows if ctx.rows is not None else x.reshape(n_rows, w.shape[1])
            gw = matmul_2d(g_rows.T, rows)
        else:
            gw = None
        gb = g_rows.sum(0) if nb and ctx.has_bias else None
        return gx, gw, gb


def linear_op(x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    """The op behind ``F.linear``; the caller has checked shapes and dtypes."""
    return Linear.apply(x, w, b)
