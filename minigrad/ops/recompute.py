"""What the ops with a hand-written backward on arrays share (``lstm_sequence``,
``gru_sequence``, ``rnn_sequence``).

Second derivatives: these ops compute their gradient with NumPy loops, which is fast but leaves
no graph behind. When a graph is wanted (``create_graph=True``: Hessian-vector products,
gradient penalties), their backward instead recomputes the forward from the saved inputs with
ordinary differentiable ops and differentiates *that*: the gradient is then a graph like any
other, at the price of running the forward again.

The recurrent weight's gradient: every step t adds d_t^T h_{t-1}, so the sum over t is one
product of the stacked arrays, taken after the time loop instead of once per step.
"""

from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from .kernel_calls import matmul_2d


def recurrent_weight_grad(d_pre, h0, hs):
    """dW_hh = sum_t d_pre[t]^T h_{t-1} = (L*N, G)^T @ (L*N, H) for d_pre (L, N, G), the
    gradient of each step's pre-activation h_{t-1} W_hh^T, and hs every h_t (an (L, N, H)
    array or a list of L arrays); h_{-1} = h0."""
    h_prev = backend.array_module(h0).stack([h0, *hs[:-1]])
    return matmul_2d(d_pre.reshape(-1, d_pre.shape[-1]).T, h_prev.reshape(-1, h0.shape[-1]))


def input_and_recurrent_weight_grads(d_x, d_pre, h0, hs, reverse, need_x, need_w):
    """(g_x_proj, g_w_hh) as Tensors (None where not needed) from the BPTT loop's arrays:
    d_x (L, N, G) the gradient of each step's projected input, in processing order (turned
    back to the input's order for a reverse direction), and d_pre for ``recurrent_weight_grad``
    (the same array except in the GRU, whose n gate scales h W_hn by r)."""
    g_x = g_w = None
    if need_x:
        g_x = Tensor._make(d_x[::-1].copy() if reverse else d_x)
    if need_w:
        g_w = Tensor._make(recurrent_weight_grad(d_pre, h0, hs))
    return g_x, g_w


def gradients_by_recomputing(reference, inputs, needs_input_grad, grad_outputs, n_args):
    """The gradients of ``reference(*inputs)`` (weighted by ``grad_outputs``) with respect to
    the inputs that need one, as a graph; a tuple of ``n_args`` entries (None elsewhere)."""
    from ..autograd import grad

    wanted = [i for i, need in enumerate(needs_input_grad[:len(inputs)]) if need]
    outputs = reference(*inputs)
    grads = grad(outputs, [inputs[i] for i in wanted], grad_outputs, create_graph=True,
                 allow_unused=True)
    result = [None] * n_args
    for i, g in zip(wanted, grads):
        result[i] = g
    return tuple(result)
