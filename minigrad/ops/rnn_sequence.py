"""A whole Elman RNN layer (tanh or ReLU) over a sequence as one op, BPTT by hand.

The simplest of the three recurrent sequence ops (read ``lstm_sequence.py`` for the idea).
``RNNSequence``, forward, one step, with ``x_proj`` holding x_t W_ih^T + b_ih + b_hh for
every t:

    h_t = act(x_proj[t] + h_{t-1} W_hh^T)          act = tanh or relu

``RNNSequenceBackward``, forward = backpropagation through time, one step back, with
dh = dL/dh_t (from the output and from step t+1):

    dpre = dh * act'(pre)          (tanh: 1 - h_t^2;  relu: 1 where h_t > 0, else 0)
    dx_proj[t] = dpre              dh_{t-1} = dpre W_hh          dW_hh = sum_t dpre_t^T h_{t-1}

``RNNSequenceBackward``, backward (second derivatives): differentiates the per-step
recomputation (``ops/recompute.py``).
"""

from __future__ import annotations

import functools

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from . import kernel_calls
from .elementwise import relu, tanh
from .join import stack
from .matmul import addmm
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

_ACTIVATIONS = {"tanh": tanh, "relu": relu}


class RNNSequence(ArrayFunction):
    """(hs, h_n) of one tanh/ReLU RNN layer and direction; hs (L, N, H) holds every h_t."""

    @staticmethod
    def forward(ctx, x_proj, h0, w_hh, nonlinearity, reverse):
        xp = backend.array_module(x_proj)
        x_seq = x_proj[::-1] if reverse else x_proj          # processing order
        hs = xp.empty(x_proj.shape, dtype=x_proj.dtype)
        w_t = w_hh.T
        h = h0
        product = kernel_calls.matmul_by(w_t)     # one weight every step: packed once
        for t in range(x_proj.shape[0]):
            pre = x_seq[t] + product(h)
            h = hs[t] = xp.tanh(pre) if nonlinearity == "tanh" else xp.maximum(pre, 0)
        ctx.cache = (hs, h0, w_hh)
        ctx.nonlinearity, ctx.reverse = nonlinearity, reverse
        ctx.save_for_backward(x_proj, h0, w_hh)
        # outputs are copies: backward reads hs from ctx (see lstm_sequence.py)
        return (hs[::-1].copy() if reverse else hs.copy()), h.copy()

    @staticmethod
    def backward(ctx, g_hs, g_hn):
        inputs = ctx.saved_tensors    # raises if an input was modified in place since forward
        wanted = wanted_inputs(ctx.needs_input_grad, 3)
        grads = RNNSequenceBackward.apply(*inputs, g_hs, g_hn, cache=ctx.cache,
                                          nonlinearity=ctx.nonlinearity, reverse=ctx.reverse,
                                          wanted=wanted)
        return spread(grads, wanted, 5)


class RNNSequenceBackward(ArrayFunction):
    """The gradients of RNNSequence's inputs (x_proj, h0, w_hh) at positions ``wanted``, from
    its inputs and the gradients (g_hs, g_hn) of its outputs.

    forward:   backpropagation through time on arrays (the module docstring), reading what
               RNNSequence's forward kept (``cache``: every h_t, computed from these inputs).
    backward:  the same gradients recomputed with differentiable ops (the per-step layer,
               ``rnn_sequence_reference``, differentiated with create_graph=True) and
               differentiated (``ops/recompute.py``).
    """

    @staticmethod
    def forward(ctx, x_proj, h0, w_hh, g_hs, g_hn, *, cache, nonlinearity, reverse, wanted):
        ctx.nonlinearity, ctx.reverse, ctx.wanted = nonlinearity, reverse, wanted
        ctx.save_for_backward(x_proj, h0, w_hh, g_hs, g_hn)
        return _backward_through_time(cache, g_hs, g_hn, nonlinearity, reverse, wanted)

    @staticmethod
    def backward(ctx, *grad_grads):
        reference = functools.partial(rnn_sequence_reference, nonlinearity=ctx.nonlinearity,
                                      reverse=ctx.reverse)
        return backward_by_recomputing(
            ctx, functools.partial(vjp_of, reference, 3, ctx.wanted), grad_grads)


def _backward_through_time(cache, g_hs, g_hn, nonlinearity, reverse, wanted):
    """The BPTT loop of the module docstring, on arrays; the gradients at ``wanted`` among
    (x_proj, h0, w_hh)."""
    hs, h0, w_hh = cache
    xp = backend.array_module(g_hs)
    if reverse:
        g_hs = g_hs[::-1]
    d_pre = xp.empty(hs.shape, dtype=hs.dtype)
    dh = g_hn
    product = kernel_calls.matmul_by(w_hh)
    for t in range(hs.shape[0] - 1, -1, -1):
        dh = dh + g_hs[t]
        h = hs[t]
        d_pre[t] = dh * (1 - h * h) if nonlinearity == "tanh" else dh * (h > 0)
        dh = product(d_pre[t])
    grads = []
    if 0 in wanted:
        grads.append(input_grad(d_pre, reverse))
    if 1 in wanted:
        grads.append(dh)
    if 2 in wanted:
        grads.append(recurrent_weight_grad(d_pre, h0, hs))
    return tuple(grads)


def rnn_sequence_reference(x_proj, h0, w_hh, nonlinearity="tanh", reverse=False):
    """The same layer as differentiable per-step ops."""
    act = _ACTIVATIONS[nonlinearity]
    x_seq = flip(x_proj, (0,)) if reverse else x_proj
    w_t = transpose(w_hh, 0, 1)
    h, hs = h0, []
    for t in range(x_proj.shape[0]):
        h = act(addmm(x_seq[t], h, w_t))
        hs.append(h)
    out = stack(hs, dim=0)
    return (flip(out, (0,)) if reverse else out), h


def rnn_sequence(x_proj: Tensor, h0: Tensor, w_hh: Tensor, nonlinearity="tanh", reverse=False):
    """One tanh/ReLU RNN layer (one direction) over x_proj (L, N, H): (hs (L, N, H), h_n)."""
    if nonlinearity not in _ACTIVATIONS:
        raise ValueError(f"rnn_sequence: nonlinearity must be 'tanh' or 'relu', got "
                         f"{nonlinearity!r}")
    return RNNSequence.apply(x_proj, h0, w_hh, nonlinearity, reverse)
