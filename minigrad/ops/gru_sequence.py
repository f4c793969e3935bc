"""A whole GRU layer over a sequence as one op, with backpropagation through time by hand.

The same idea as ``lstm_sequence.py`` (read that first): ``GRUSequence``'s forward is the
time loop on arrays; its gradient is the op ``GRUSequenceBackward``, whose forward is
backpropagation through time written out (below) and whose backward, for second derivatives,
differentiates the per-step recomputation (``gru_step``, also what ``nn.GRUCell`` runs).

``GRUSequence``, forward, one step, PyTorch's GRU (gates r, z, n; ``x_proj`` holds x_t W_ih^T + b_ih for every t):

    a = h_{t-1} W_hh^T + b_hh                          (a_r, a_z, a_n: blocks of H columns)
    r = sigmoid(x_r + a_r)     z = sigmoid(x_z + a_z)     n = tanh(x_n + r * a_n)
    h_t = (1 - z) * n + z * h_{t-1}

``GRUSequenceBackward``, forward = backpropagation through time, one step back, with
dh = dL/dh_t (from the output and from step t+1):

    dn = dh (1 - z)            dz = dh (h_{t-1} - n)          dh_{t-1} = dh z + da W_hh
    dpre_n = dn (1 - n^2)      dpre_r = dpre_n a_n r (1 - r)  dpre_z = dz z (1 - z)
    dx_proj[t] = (dpre_r, dpre_z, dpre_n)          da = (dpre_r, dpre_z, dpre_n r)

and, summed over all steps after the loop, dW_hh = sum_t da_t^T h_{t-1}, db_hh = sum_t da_t.
"""

from __future__ import annotations

import functools

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from . import kernel_calls
from .elementwise import sigmoid, sigmoid_array, tanh
from .join import chunk, stack
from .matmul import matmul
from .movement import transpose
from .recompute import (
    backward_by_recomputing,
    input_grad,
    recurrent_weight_grad,
    spread,
    vjp_of,
    wanted_inputs,
)
from .subscript import flip


def gru_step(x_proj, h, w_hh_t, b_hh=None) -> Tensor:
    """h' = (1 - z) * n + z * h. The two projections stay apart because the reset gate r
    multiplies only the hidden part of the candidate n: n = tanh(i_n + r * (W_hn h + b_hn))."""
    i_r, i_z, i_n = chunk(x_proj, 3, dim=-1)
    hidden = matmul(h, w_hh_t)
    h_r, h_z, h_n = chunk(hidden if b_hh is None else hidden + b_hh, 3, dim=-1)
    r = sigmoid(i_r + h_r)
    z = sigmoid(i_z + h_z)
    n = tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


class GRUSequence(ArrayFunction):
    """(hs, h_n) of one GRU layer and direction; hs (L, N, H) holds every h_t."""

    @staticmethod
    def forward(ctx, x_proj, h0, w_hh, b_hh, reverse):
        xp = backend.array_module(x_proj)
        steps, hidden = x_proj.shape[0], h0.shape[-1]
        x_seq = x_proj[::-1] if reverse else x_proj          # processing order
        gates = xp.empty(x_proj.shape, dtype=x_proj.dtype)   # r, z, n for every step
        a_n = xp.empty((steps,) + h0.shape, dtype=h0.dtype)  # h W_hn^T + b_hn
        hs = xp.empty_like(a_n)
        w_t = w_hh.T
        h = h0
        product = kernel_calls.matmul_by(w_t)     # one weight every step: packed once
        for t in range(steps):
            a = product(h)
            if b_hh is not None:
                a += b_hh
            x = x_seq[t]
            g = gates[t]
            g[:, :2 * hidden] = sigmoid_array(x[:, :2 * hidden] + a[:, :2 * hidden])  # r, z
            r, z = g[:, :hidden], g[:, hidden:2 * hidden]
            a_n[t] = a[:, 2 * hidden:]
            n = g[:, 2 * hidden:] = xp.tanh(x[:, 2 * hidden:] + r * a_n[t])
            h = hs[t] = (1 - z) * n + z * h
        ctx.cache = (gates, a_n, hs, h0, w_hh)
        ctx.reverse = reverse
        ctx.save_for_backward(x_proj, h0, w_hh, b_hh)
        # outputs are copies: backward reads hs from ctx (see lstm_sequence.py)
        return (hs[::-1].copy() if reverse else hs.copy()), h.copy()

    @staticmethod
    def backward(ctx, g_hs, g_hn):
        inputs = ctx.saved_tensors    # raises if an input was modified in place since forward
        wanted = wanted_inputs(ctx.needs_input_grad, 4)
        grads = GRUSequenceBackward.apply(*inputs, g_hs, g_hn, cache=ctx.cache,
                                          reverse=ctx.reverse, wanted=wanted)
        return spread(grads, wanted, 5)


class GRUSequenceBackward(ArrayFunction):
    """The gradients of GRUSequence's inputs (x_proj, h0, w_hh, b_hh) at positions
    ``wanted``, from its inputs and the gradients (g_hs, g_hn) of its outputs.

    forward:   backpropagation through time on arrays (the module docstring), reading what
               GRUSequence's forward kept (``cache``: every step's gates r, z, n, the hidden
               part a_n of n's pre-activation and h_t, computed from these very inputs).
    backward:  the same gradients recomputed with differentiable ops (the per-step layer,
               ``gru_sequence_reference``, differentiated with create_graph=True) and
               differentiated (``ops/recompute.py``).
    """

    @staticmethod
    def forward(ctx, x_proj, h0, w_hh, b_hh, g_hs, g_hn, *, cache, reverse, wanted):
        ctx.reverse, ctx.wanted = reverse, wanted
        ctx.save_for_backward(x_proj, h0, w_hh, b_hh, g_hs, g_hn)
        return _backward_through_time(cache, g_hs, g_hn, reverse, wanted)

    @staticmethod
    def backward(ctx, *grad_grads):
        reference = functools.partial(gru_sequence_reference, reverse=ctx.reverse)
        return backward_by_recomputing(
            ctx, functools.partial(vjp_of, reference, 4, ctx.wanted), grad_grads)


def _backward_through_time(cache, g_hs, g_hn, reverse, wanted):
    """The BPTT loop of the module docstring, on arrays; the gradients at ``wanted`` among
    (x_proj, h0, w_hh, b_hh)."""
    gates, a_n, hs, h0, w_hh = cache
    xp = backend.array_module(g_hs)
    steps, hidden = hs.shape[0], h0.shape[-1]
    if reverse:
        g_hs = g_hs[::-1]
    d_x = xp.empty(gates.shape, dtype=gates.dtype)
    d_a = xp.empty(gates.shape, dtype=gates.dtype)
    dh = g_hn
    product = kernel_calls.matmul_by(w_hh)
    for t in range(steps - 1, -1, -1):
        dh = dh + g_hs[t]
        r, z, n = (gates[t, :, k * hidden:(k + 1) * hidden] for k in range(3))
        h_prev = hs[t - 1] if t > 0 else h0
        d_pre_n = dh * (1 - z) * (1 - n * n)
        d_pre_r = d_pre_n * a_n[t] * r * (1 - r)
        d_pre_z = dh * (h_prev - n) * z * (1 - z)
        d_x[t] = xp.concatenate([d_pre_r, d_pre_z, d_pre_n], axis=-1)
        d_a[t] = xp.concatenate([d_pre_r, d_pre_z, d_pre_n * r], axis=-1)
        dh = dh * z + product(d_a[t])
    grads = []
    if 0 in wanted:
        grads.append(input_grad(d_x, reverse))
    if 1 in wanted:
        grads.append(dh)
    if 2 in wanted:
        grads.append(recurrent_weight_grad(d_a, h0, hs))
    if 3 in wanted:
        grads.append(d_a.reshape(-1, 3 * hidden).sum(axis=0))      # db_hh = sum_t da_t
    return tuple(grads)


def gru_sequence_reference(x_proj, h0, w_hh, b_hh=None, reverse=False):
    """The same layer as differentiable per-step ops (``gru_step``)."""
    x_seq = flip(x_proj, (0,)) if reverse else x_proj
    w_t = transpose(w_hh, 0, 1)
    h, hs = h0, []
    for t in range(x_proj.shape[0]):
        h = gru_step(x_seq[t], h, w_t, b_hh)
        hs.append(h)
    out = stack(hs, dim=0)
    return (flip(out, (0,)) if reverse else out), h


def gru_sequence(x_proj: Tensor, h0: Tensor, w_hh: Tensor, b_hh=None, reverse=False):
    """One GRU layer (one direction) over x_proj (L, N, 3H): (hs (L, N, H), h_n)."""
    return GRUSequence.apply(x_proj, h0, w_hh, b_hh, reverse)
