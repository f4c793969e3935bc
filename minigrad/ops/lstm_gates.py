"""The LSTM cell's gate arithmetic as one op (the fused kernel every framework has).

Given the pre-activations ``gates = x W_ih^T + b_ih + h W_hh^T + b_hh`` split as (i, f, g, o)
and the old cell state c:

    c' = sigmoid(f) * c + sigmoid(i) * tanh(g)          h' = sigmoid(o) * tanh(c')

Written as separate ops that is 13 graph nodes per time step; fused it is one, so a 32-step
LSTM records about a quarter of the nodes. Forward and backward run on arrays in the kernel
``lstm_cell`` / ``lstm_cell_backward`` (kernels/lstm_cell_*.py: the formulas, the NumPy
reference, a one-pass Numba loop and a CUDA kernel), through ops/kernel_calls.py.

Under ``create_graph=True`` the backward instead runs the kernels' own formula
(``lstm_cell_numpy.gate_grads``, plain arithmetic) on Tensors recomputed from the saved
(gates, c), so the gradient is itself a graph and second derivatives work as for the unfused
cell (``lstm_gates_reference``, which the tests compare against).
"""

from __future__ import annotations

from ..autograd.function import ArrayFunction
from ..autograd.grad_mode import is_grad_enabled
from ..kernels.lstm_cell_numpy import gate_grads
from ..tensor import Tensor
from . import kernel_calls
from .elementwise import sigmoid, tanh
from .join import cat, chunk


def lstm_gates_reference(gates: Tensor, c: Tensor):
    """The same cell in separate Tensor ops: the definition the fused op must equal."""
    i, f, g, o = chunk(gates, 4, dim=-1)
    c_new = sigmoid(f) * c + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c_new), c_new


def gate_grads_on_tensors(gates: Tensor, c: Tensor, gh: Tensor, gc: Tensor):
    """(d gates, dc) as a differentiable graph: the cell recomputed from (gates, c) with
    Tensor ops, then the kernels' backward formula on those Tensors."""
    i, f, g, o = chunk(gates, 4, dim=-1)
    i_s, f_s, g_t, o_s = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
    tc = tanh(f_s * c + i_s * g_t)
    return gate_grads(i_s, f_s, g_t, o_s, tc, c, gh, gc, lambda xs: cat(xs, dim=-1))


class LSTMGates(ArrayFunction):
    """(h', c') = LSTM cell update from the gate pre-activations and the old cell state."""

    @staticmethod
    def forward(ctx, gates, c):
        h_new, c_new, acts, tanh_c = kernel_calls.lstm_cell(gates, c)
        ctx.parts = (acts, tanh_c)
        ctx.save_for_backward(gates, c)
        return h_new, c_new

    @staticmethod
    def backward(ctx, gh, gc):
        gates, c = ctx.saved_tensors
        if is_grad_enabled():
            # create_graph=True: the gradient stays connected to gates and c
            return gate_grads_on_tensors(gates, c, gh, gc)
        d_gates, d_c = kernel_calls.lstm_cell_backward(*ctx.parts, c.array, gh.array, gc.array)
        return Tensor._make(d_gates), Tensor._make(d_c)


def lstm_gates(gates: Tensor, c: Tensor):
    """(h', c') of an LSTM cell from its gate pre-activations (i, f, g, o) and cell state c."""
    return LSTMGates.apply(gates, c)
