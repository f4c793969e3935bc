"""A whole LSTM layer over a sequence as one op, with backpropagation through time by hand.

Recorded step by step, an LSTM over L time steps is about 2 graph nodes per step forward
(the recurrent product ``addmm`` and the fused gates ``LSTMGates``) and their backward calls:
on small hidden sizes the Python around each node costs as much as its arithmetic. cuDNN and
PyTorch run the whole sequence in one call; so does this op, on arrays:

forward, for t = 0 .. L-1 (``x_proj`` holds x_t W_ih^T + b_ih + b_hh for every t, computed
for the whole sequence in one product before the loop):

    gates_t = x_proj[t] + h_{t-1} W_hh^T            (i, f, g, o blocks of H columns)
    c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)      h_t = sigmoid(o) * tanh(c_t)

backward, for t = L-1 .. 0 (backpropagation through time), with dh and dc the gradients
arriving from step t+1 (zero past the end, plus what the final state's users send):

    dh_t += dL/dh_t from the output          d gates_t = the LSTM cell's gate gradients
    dx_proj[t] = d gates_t                   dh_{t-1} = d gates_t W_hh
    dc_{t-1} = dc_t * sigmoid(f)             dW_hh = sum_t d gates_t^T h_{t-1}

``dW_hh`` is one product after the loop, (L*N, 4H)^T @ (L*N, H), not L small ones. Each
step's elementwise part, forward and backward, is the kernel ``lstm_cell`` (one pass in Numba
on the CPU; kernels/lstm_cell_*.py), the same one the one-step op ``LSTMGates`` uses.

Second derivatives: under ``create_graph=True`` the backward recomputes the layer step by
step from the saved inputs with differentiable ops (``lstm_gates`` per step) and
differentiates that, so the gradient is a graph like any other. Tests compare both paths with
the unfused cell and run gradgradcheck.
"""

from __future__ import annotations

import functools

from .. import backend
from ..autograd.function import ArrayFunction
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from . import kernel_calls
from .join import stack
from .lstm_gates import lstm_gates
from .matmul import addmm
from .movement import transpose
from .recompute import gradients_by_recomputing, input_and_recurrent_weight_grads
from .subscript import flip


class LSTMSequence(ArrayFunction):
    """(hs, h_n, c_n) of one LSTM layer and direction; hs (L, N, H) holds every h_t."""

    @staticmethod
    def forward(ctx, x_proj, h0, c0, w_hh, reverse):
        xp = backend.array_module(x_proj)
        # the kernel takes one dtype: that of the result (a float64 input to a float32 layer
        # computes in float64, as the products would)
        dtype = functools.reduce(backend.promote_types, (a.dtype for a in (h0, c0, w_hh)),
                                 x_proj.dtype)
        x_seq = x_proj[::-1] if reverse else x_proj                         # processing order
        x_seq, h0, c0, w_hh = (xp.ascontiguousarray(a, dtype=dtype)
                               for a in (x_seq, h0, c0, w_hh))
        # the whole time loop is one kernel (kernels/lstm_cell_*.py: in Numba on the CPU)
        hs, cs, acts, tanh_cs = kernel_calls.lstm_sequence(x_seq, h0, c0, w_hh)
        ctx.arrays = (acts, hs, cs, tanh_cs, h0, c0, w_hh)
        ctx.reverse = reverse
        ctx.save_for_backward(x_proj, h0, c0, w_hh)
        # outputs are copies: backward reads hs and cs from ctx, and an in-place change to an
        # output (allowed on a non-leaf) must not reach them
        hs_out = hs[::-1].copy() if reverse else hs.copy()
        last = (hs[-1].copy(), cs[-1].copy()) if len(hs) else (h0.copy(), c0.copy())
        return (hs_out,) + last

    @staticmethod
    def backward(ctx, g_hs, g_hn, g_cn):
        inputs = ctx.saved_tensors    # raises if an input was modified in place since forward
        if is_grad_enabled():
            # create_graph=True: differentiate the per-step recomputation (ops/recompute.py)
            return gradients_by_recomputing(
                functools.partial(lstm_sequence_reference, reverse=ctx.reverse), inputs,
                ctx.needs_input_grad, (g_hs, g_hn, g_cn), 5)
        return _backward_through_time(ctx, g_hs.array, g_hn.array, g_cn.array)


def _backward_through_time(ctx, g_hs, g_hn, g_cn):
    """The BPTT loop of the module docstring (one kernel), then the weight's gradient."""
    acts, hs, cs, tanh_cs, h0, c0, w_hh = ctx.arrays
    xp = backend.array_module(g_hs)
    if ctx.reverse:
        g_hs = g_hs[::-1]
    dtype = acts.dtype
    g_hs, g_hn, g_cn = (xp.ascontiguousarray(g, dtype=dtype) for g in (g_hs, g_hn, g_cn))
    d_gates, dh, dc = kernel_calls.lstm_sequence_backward(acts, tanh_cs, cs, c0, w_hh, g_hs,
                                                          g_hn, g_cn)
    need_x, need_h0, need_c0, need_w = ctx.needs_input_grad[:4]
    g_x, g_w = input_and_recurrent_weight_grads(d_gates, d_gates, h0, hs, ctx.reverse,
                                                need_x, need_w)
    return (g_x, Tensor._make(dh) if need_h0 else None,
            Tensor._make(dc) if need_c0 else None, g_w, None)


def lstm_sequence_reference(x_proj, h0, c0, w_hh, reverse=False):
    """The same layer as differentiable per-step ops (addmm + the fused gates per step)."""
    x_seq = flip(x_proj, (0,)) if reverse else x_proj
    w_t = transpose(w_hh, 0, 1)
    h, c, hs = h0, c0, []
    for t in range(x_proj.shape[0]):
        h, c = lstm_gates(addmm(x_seq[t], h, w_t), c)
        hs.append(h)
    out = stack(hs, dim=0)
    return (flip(out, (0,)) if reverse else out), h, c


def lstm_sequence(x_proj: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor, reverse=False):
    """One LSTM layer (one direction) over x_proj (L, N, 4H): (hs (L, N, H), h_n, c_n)."""
    return LSTMSequence.apply(x_proj, h0, c0, w_hh, reverse)
