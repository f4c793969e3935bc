"""A whole LSTM layer over a sequence as one op, with backpropagation through time by hand.

Recorded step by step, an LSTM over L time steps is about 2 graph nodes per step forward
(the recurrent product ``addmm`` and the fused gates ``LSTMGates``) and their backward calls:
on small hidden sizes the Python around each node costs as much as its arithmetic. cuDNN and
PyTorch run the whole sequence in one call; so does this op, on arrays. Its gradient is a
second op, ``LSTMSequenceBackward`` (as ``Relu``'s is ``ReluBackward``), so that one path
serves first and second derivatives:

``LSTMSequence``, forward, for t = 0 .. L-1 (``x_proj`` holds x_t W_ih^T + b_ih + b_hh for
every t, computed for the whole sequence in one product before the loop):

    gates_t = x_proj[t] + h_{t-1} W_hh^T            (i, f, g, o blocks of H columns)
    c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)      h_t = sigmoid(o) * tanh(c_t)

``LSTMSequenceBackward``, forward = backpropagation through time, for t = L-1 .. 0, with dh
and dc the gradients arriving from step t+1 (zero past the end, plus what the final state's
users send):

    dh_t += dL/dh_t from the output          d gates_t = the LSTM cell's gate gradients
    dx_proj[t] = d gates_t                   dh_{t-1} = d gates_t W_hh
    dc_{t-1} = dc_t * sigmoid(f)             dW_hh = sum_t d gates_t^T h_{t-1}

``dW_hh`` is one product after the loop, (L*N, 4H)^T @ (L*N, H), not L small ones. Both time
loops are one kernel call each (``kernels.lstm_sequence`` and ``lstm_sequence_backward``; in
Numba on the CPU), whose steps run the cell kernel ``lstm_cell`` (kernels/lstm_cell_*.py), the
same one the one-step op ``LSTMGates`` uses.

Where the backward's time goes (char_lstm's layer, L 48, N 32, H 128, float32, on one
thread of the 2-core EPYC VM, medians of 50 training steps; ``benchmarks/linear_in_step.py``):
the BPTT kernel 1.7 ms and dW_hh 2.0 ms, each 201 MFLOP (the kernel's per-step products,
d gates_t W_hh, and the one product after the loop), both near the packed GEMM's speed; the
gate gradients it hands to the input projection's linear layer are that layer's dx, dW and
bias sum, three more passes over their 3 MB (``docs/design.md``, recurrent layers).

``LSTMSequenceBackward``, backward (second derivatives): recomputed. The layer runs again
step by step with differentiable ops (``lstm_sequence_reference``), is differentiated with
``create_graph=True``, and that gradient is differentiated (``ops/recompute.py``). Tests
compare the op with the per-step layer and run gradgradcheck.
"""

from __future__ import annotations

import functools

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor, zeros
from . import kernel_calls
from .join import cat, stack
from .linear import linear_op
from .lstm_gates import lstm_gates_reference
from .matmul import addmm, matmul
from .movement import transpose, unsqueeze
from .recompute import (
    backward_by_recomputing,
    input_grad,
    recurrent_weight_grad,
    spread,
    vjp_of,
    wanted_inputs,
)
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
        ctx.save_for_backward(x_proj, h0, c0, w_hh)      # the inputs as given
        x_seq = x_proj[::-1] if reverse else x_proj                         # processing order
        x_seq, h_0, c_0, w = (xp.ascontiguousarray(a, dtype=dtype)
                              for a in (x_seq, h0, c0, w_hh))
        # the whole time loop is one kernel (kernels/lstm_cell_*.py: in Numba on the CPU)
        hs, cs, acts, tanh_cs = kernel_calls.lstm_sequence(x_seq, h_0, c_0, w)
        ctx.cache = (acts, hs, cs, tanh_cs, h_0, c_0, w)
        ctx.reverse = reverse
        # outputs are copies: backward reads hs and cs from ctx, and an in-place change to an
        # output (allowed on a non-leaf) must not reach them
        hs_out = hs[::-1].copy() if reverse else hs.copy()
        last = (hs[-1].copy(), cs[-1].copy()) if len(hs) else (h_0.copy(), c_0.copy())
        return (hs_out,) + last

    @staticmethod
    def backward(ctx, g_hs, g_hn, g_cn):
        inputs = ctx.saved_tensors    # raises if an input was modified in place since forward
        wanted = wanted_inputs(ctx.needs_input_grad, 4)
        grads = LSTMSequenceBackward.apply(*inputs, g_hs, g_hn, g_cn, cache=ctx.cache,
                                           reverse=ctx.reverse, wanted=wanted)
        return spread(grads, wanted, 5)


class LSTMSequenceBackward(ArrayFunction):
    """The gradients of LSTMSequence's inputs (x_proj, h0, c0, w_hh) at positions ``wanted``,
    from its inputs and the gradients (g_hs, g_hn, g_cn) of its outputs.

    forward:   backpropagation through time on arrays (the module docstring), reading what
               LSTMSequence's forward kept (``cache``: every step's gate activations, h_t,
               c_t and tanh(c_t), computed from these very inputs).
    backward:  the same gradients recomputed with differentiable ops (the per-step layer,
               ``lstm_sequence_reference``, differentiated with create_graph=True) and
               differentiated (``ops/recompute.py``).
    """

    @staticmethod
    def forward(ctx, x_proj, h0, c0, w_hh, g_hs, g_hn, g_cn, *, cache, reverse, wanted):
        ctx.reverse, ctx.wanted = reverse, wanted
        ctx.save_for_backward(x_proj, h0, c0, w_hh, g_hs, g_hn, g_cn)
        return _backward_through_time(cache, g_hs, g_hn, g_cn, reverse, wanted)

    @staticmethod
    def backward(ctx, *grad_grads):
        reference = functools.partial(lstm_sequence_reference, reverse=ctx.reverse)
        return backward_by_recomputing(
            ctx, functools.partial(vjp_of, reference, 4, ctx.wanted), grad_grads)


def _backward_through_time(cache, g_hs, g_hn, g_cn, reverse, wanted):
    """The BPTT loop of the module docstring (one kernel), then the gradients at ``wanted``
    among (x_proj, h0, c0, w_hh), as arrays."""
    acts, hs, cs, tanh_cs, h0, c0, w_hh = cache
    xp = backend.array_module(g_hs)
    if reverse:
        g_hs = g_hs[::-1]
    dtype = acts.dtype
    g_hs, g_hn, g_cn = (xp.ascontiguousarray(g, dtype=dtype) for g in (g_hs, g_hn, g_cn))
    d_gates, dh, dc = kernel_calls.lstm_sequence_backward(acts, tanh_cs, cs, c0, w_hh, g_hs,
                                                          g_hn, g_cn)
    grads = []
    if 0 in wanted:
        grads.append(input_grad(d_gates, reverse))
    if 1 in wanted:
        grads.append(dh)
    if 2 in wanted:
        grads.append(dc)
    if 3 in wanted:
        grads.append(recurrent_weight_grad(d_gates, h0, hs))
    return tuple(grads)


def lstm_sequence_reference(x_proj, h0, c0, w_hh, reverse=False):
    """The same layer as differentiable per-step ops: addmm and the cell's gates written out
    (``lstm_gates_reference``) at every step."""
    x_seq = flip(x_proj, (0,)) if reverse else x_proj
    w_t = transpose(w_hh, 0, 1)
    h, c, hs = h0, c0, []
    for t in range(x_proj.shape[0]):
        h, c = lstm_gates_reference(addmm(x_seq[t], h, w_t), c)
        hs.append(h)
    out = stack(hs, dim=0)
    return (flip(out, (0,)) if reverse else out), h, c


def lstm_sequence(x_proj: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor, reverse=False):
    """One LSTM layer (one direction) over x_proj (L, N, 4H): (hs (L, N, H), h_n, c_n)."""
    return LSTMSequence.apply(x_proj, h0, c0, w_hh, reverse)


def lstm_sequence_projected(x_proj: Tensor, r0: Tensor, c0: Tensor, w_hh: Tensor,
                            w_hr: Tensor, reverse=False):
    """One LSTM layer with a projection (PyTorch's ``proj_size`` P < H) over x_proj (L, N, 4H):
    (rs (L, N, P), r_n, c_n), with r0 (N, P), c0 (N, H), w_hh (4H, P) and w_hr (P, H).

    The layer feeds back the projection r_t = h_t W_hr^T instead of h_t:

        gates_t = x_proj[t] + r_{t-1} W_hh^T        c_t, h_t as in the unprojected layer

    Since r_{t-1} W_hh^T = h_{t-1} (W_hh W_hr)^T, that is the unprojected layer with the
    recurrent weight W_hh W_hr (4H, H), which the fused op runs (one kernel for the whole
    loop), and the projection of all L outputs in one product afterwards. Only the initial
    state r0 is no h W_hr^T: its term r0 W_hh^T joins the first step's x_proj, and the fused
    layer starts from h = 0. Every gradient, second derivatives included, follows from these
    differentiable ops. The price: each step's recurrent product has 4H * H multiply-adds per
    batch row instead of 4H * P + P * H, against one node per layer instead of three per step.
    """
    first = x_proj.shape[0] - 1 if reverse else 0             # the first step processed
    x_first = unsqueeze(x_proj[first] + matmul(r0, transpose(w_hh, 0, 1)), 0)
    x_proj = cat([x_proj[:-1], x_first] if reverse else [x_first, x_proj[1:]], dim=0)
    h0 = zeros(*c0.shape, dtype=x_proj.dtype, device=x_proj.device)
    hs, h_n, c_n = lstm_sequence(x_proj, h0, c0, matmul(w_hh, w_hr), reverse)
    return linear_op(hs, w_hr, None), linear_op(h_n, w_hr, None), c_n
