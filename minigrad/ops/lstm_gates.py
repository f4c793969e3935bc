"""The LSTM cell's gate arithmetic as one op (the fused kernel every framework has).

Given the pre-activations ``gates = x W_ih^T + b_ih + h W_hh^T + b_hh`` split as (i, f, g, o)
and the old cell state c:

    c' = sigmoid(f) * c + sigmoid(i) * tanh(g)          h' = sigmoid(o) * tanh(c')

Written as separate ops that is 13 graph nodes per time step; fused it is one, so a 32-step
LSTM records about a quarter of the nodes. The backward is the chain rule done by hand
(s' = s (1 - s) for a sigmoid, t' = 1 - t^2 for a tanh):

    dc'_total = dc' + dh' * o_s * (1 - tanh(c')^2)
    di = dc'_total * g_t * i_s (1 - i_s)        df = dc'_total * c * f_s (1 - f_s)
    dg = dc'_total * i_s * (1 - g_t^2)          do = dh' * tanh(c') * o_s (1 - o_s)
    dc = dc'_total * f_s

``_gate_grads`` writes that formula once; it works on arrays and on Tensors alike. A plain
backward runs it on the arrays forward kept. Under ``create_graph=True`` it runs on Tensors
recomputed from the saved (gates, c), so the gradient is itself a graph and second derivatives
work as for the unfused cell (``lstm_gates_reference``, which the tests compare against).
"""

from __future__ import annotations

from .. import backend
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from .elementwise import sigmoid, sigmoid_array, tanh
from .movement import cat, chunk


def lstm_gates_reference(gates: Tensor, c: Tensor):
    """The same cell in separate Tensor ops: the definition the fused op must equal."""
    i, f, g, o = chunk(gates, 4, dim=-1)
    c_new = sigmoid(f) * c + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c_new), c_new


class LSTMGates(Function):
    """(h', c') = LSTM cell update from the gate pre-activations and the old cell state."""

    @staticmethod
    def forward(ctx, gates, c):
        xp = backend.array_module(gates)
        hidden = c.shape[-1]
        i_s = sigmoid_array(gates[..., :hidden])
        f_s = sigmoid_array(gates[..., hidden:2 * hidden])
        g_t = xp.tanh(gates[..., 2 * hidden:3 * hidden])
        o_s = sigmoid_array(gates[..., 3 * hidden:])
        c_new = (f_s * c + i_s * g_t).astype(c.dtype, copy=False)
        tc = xp.tanh(c_new)
        h_new = (o_s * tc).astype(c.dtype, copy=False)
        ctx.parts = (i_s, f_s, g_t, o_s, tc)
        ctx.save_for_backward(gates, c)
        return h_new, c_new

    @staticmethod
    def backward(ctx, gh, gc):
        gates, c = ctx.saved_tensors
        if is_grad_enabled():
            # create_graph=True: the same formula on Tensors recomputed from the saved inputs,
            # so the gradient stays connected to gates and c and can be differentiated again
            i, f, g, o = chunk(gates, 4, dim=-1)
            i_s, f_s, g_t, o_s = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)
            tc = tanh(f_s * c + i_s * g_t)
            return _gate_grads(i_s, f_s, g_t, o_s, tc, c, gh, gc, lambda xs: cat(xs, dim=-1))
        xp = backend.array_module(gh.data)
        d_gates, d_c = _gate_grads(*ctx.parts, c.data, gh.data, gc.data,
                                   lambda xs: xp.concatenate(xs, axis=-1))
        return Tensor._make(d_gates), Tensor._make(d_c)


def _gate_grads(i_s, f_s, g_t, o_s, tc, c, gh, gc, concat):
    """The backward formula of the module docstring; works on arrays and on Tensors alike."""
    gc_total = gc + gh * o_s * (1 - tc * tc)
    d_gates = concat([
        gc_total * g_t * i_s * (1 - i_s),
        gc_total * c * f_s * (1 - f_s),
        gc_total * i_s * (1 - g_t * g_t),
        gh * tc * o_s * (1 - o_s),
    ])
    return d_gates, gc_total * f_s


def lstm_gates(gates: Tensor, c: Tensor):
    """(h', c') of an LSTM cell from its gate pre-activations (i, f, g, o) and cell state c."""
    return LSTMGates.apply(gates, c)
