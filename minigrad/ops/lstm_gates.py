"""The LSTM cell's gate arithmetic as one op (the fused kernel every framework has).

Given the pre-activations ``gates = x W_ih^T + b_ih + h W_hh^T + b_hh`` split as (i, f, g, o)
and the old cell state c:

    c' = sigmoid(f) * c + sigmoid(i) * tanh(g)          h' = sigmoid(o) * tanh(c')

Written as separate ops that is 13 graph nodes per time step; fused it is one, so a 32-step
LSTM records about a quarter of the nodes. Forward and backward run on arrays in the kernel
``lstm_cell`` / ``lstm_cell_backward`` (kernels/lstm_cell_*.py: the formulas, the NumPy
reference, a one-pass Numba loop and a CUDA kernel), through ops/kernel_calls.py. The
backward is an op of its own, ``LSTMGatesBackward`` (as ``Relu``'s is ``ReluBackward``), so
first gradients take the kernel whether or not a graph is recorded.

Its own backward (second derivatives) runs the kernels' formula
(``lstm_cell_numpy.gate_grads``, plain arithmetic) on Tensors recomputed from the saved
(gates, c) and differentiates that, so the formula is written once and second derivatives
agree with the unfused cell (``lstm_gates_reference``, which the tests compare against).
"""

from __future__ import annotations

from ..autograd.function import ArrayFunction
from ..kernels.lstm_cell_numpy import gate_grads
from ..tensor import Tensor
from . import kernel_calls
from .elementwise import sigmoid, tanh
from .join import cat, chunk
from .recompute import backward_by_recomputing, spread, wanted_inputs


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
    """(h', c') = LSTM cell update from the gate pre-activations and the old cell state; its
    gradient is the op ``LSTMGatesBackward``."""

    @staticmethod
    def forward(ctx, gates, c):
        h_new, c_new, acts, tanh_c = kernel_calls.lstm_cell(gates, c)
        ctx.parts = (acts, tanh_c)
        ctx.save_for_backward(gates, c)
        return h_new, c_new

    @staticmethod
    def backward(ctx, gh, gc):
        gates, c = ctx.saved_tensors
        wanted = wanted_inputs(ctx.needs_input_grad, 2)
        grads = LSTMGatesBackward.apply(gates, c, gh, gc, parts=ctx.parts, wanted=wanted)
        return spread(grads, wanted, 2)


class LSTMGatesBackward(ArrayFunction):
    """(d gates, dc) of LSTMGates at positions ``wanted``, from its inputs (gates, c) and the
    gradients (gh, gc) of its outputs h', c'.

    forward:   the kernel ``lstm_cell_backward`` on arrays (the formula in
               kernels/lstm_cell_numpy.py), reading the activations LSTMGates kept
               (``parts``: i, f, g, o and tanh(c'), computed from these very inputs).
    backward:  the same formula on Tensors recomputed from (gates, c)
               (``gate_grads_on_tensors``), differentiated (``ops/recompute.py``).
    """

    @staticmethod
    def forward(ctx, gates, c, gh, gc, *, parts, wanted):
        ctx.wanted = wanted
        ctx.save_for_backward(gates, c, gh, gc)
        d_gates, d_c = kernel_calls.lstm_cell_backward(*parts, c, gh, gc)
        return tuple((d_gates, d_c)[i] for i in wanted)

    @staticmethod
    def backward(ctx, *grad_grads):
        wanted = ctx.wanted

        def first_order(gates, c, gh, gc):
            grads = gate_grads_on_tensors(gates, c, gh, gc)
            return [grads[i] for i in wanted]

        return backward_by_recomputing(ctx, first_order, grad_grads)


def lstm_gates(gates: Tensor, c: Tensor):
    """(h', c') of an LSTM cell from its gate pre-activations (i, f, g, o) and cell state c."""
    return LSTMGates.apply(gates, c)
