"""What the ops with a fused backward share: the recurrent sequence ops (``lstm_sequence``,
``gru_sequence``, ``rnn_sequence``) and the LSTM cell's gates (``lstm_gates``).

Each of these ops hands its gradient to a Function of its own, as ``Relu`` hands it to
``ReluBackward``: ``LSTMSequenceBackward``, ``GRUSequenceBackward``, ``RNNSequenceBackward``,
``LSTMGatesBackward``. Such a *backward Function* maps the op's inputs x and the gradients g of
its outputs to the gradients of its inputs,

    B(x, g) = J(x)^T g          (J: the op's Jacobian; one entry per input that needs one)

and it is one path for every use:

* its **forward** computes B on arrays, fast (backpropagation through time in a kernel or a
  NumPy loop), and serves every first gradient, ``create_graph`` or not;
* its **backward** gets u, one gradient per entry of B, and returns the gradients of
  <B(x, g), u>: with respect to g that is J(x) u, with respect to x a second derivative of the
  op. Written out by hand for a whole LSTM that is pages of algebra, so it is *recomputed*:
  B is written once more with differentiable Tensor ops (``first_order``: the op's per-step
  reference differentiated by ``autograd.grad(create_graph=True)``, or a gradient formula on
  Tensors) and that is differentiated. Slow, but right, and only second derivatives pay.

``RecomputedVJP`` does that differentiation, and its own backward is again a
``RecomputedVJP``, so the gradients are differentiable to any order.

The recurrent weight's gradient: every step t adds d_t^T h_{t-1}, so the sum over t is one
product of the stacked arrays, taken after the time loop instead of once per step.
"""

from __future__ import annotations

import functools

from .. import backend
from ..autograd.function import ArrayFunction
from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor
from .kernel_calls import matmul_2d

# ---------------------------------------------------------------------------------------------
# The arrays of a first gradient
# ---------------------------------------------------------------------------------------------


def recurrent_weight_grad(d_pre, h0, hs):
    """dW_hh = sum_t d_pre[t]^T h_{t-1} = (L*N, G)^T @ (L*N, H) for d_pre (L, N, G), the
    gradient of each step's pre-activation h_{t-1} W_hh^T, and hs every h_t (an (L, N, H)
    array or a list of L arrays); h_{-1} = h0.

    Computed as (h_prev^T @ d_pre)^T: the packed GEMM copies its left operand into panels,
    and gathering a transposed view's columns costs several times a contiguous copy, so the
    narrower h_prev (H columns against d_pre's 3H or 4H) is the one to pass transposed.

    For an array hs, h_1 .. h_{L-1} are ``hs[:-1]``, a view: the steps t >= 1 are one product
    of that view, and h0's step is a second, small one (N rows) added to it. Stacking
    [h0, h_1, ...] into one array first copied all of hs, one more pass over L*N*H values
    (136 us of the 2.0 ms this took for char_lstm's L 48, N 32, H 128 on the 2-core EPYC VM,
    one thread, against ~30 us for the small product and the sum)."""
    xp = backend.array_module(h0)
    hidden, gates = h0.shape[-1], d_pre.shape[-1]
    if isinstance(hs, (list, tuple)) or len(hs) < 2 or hs.dtype != h0.dtype:
        h_prev = xp.stack([h0, *hs[:-1]]).reshape(-1, hidden)
        return xp.ascontiguousarray(matmul_2d(h_prev.T, d_pre.reshape(-1, gates)).T)
    later = matmul_2d(hs[:-1].reshape(-1, hidden).T, d_pre[1:].reshape(-1, gates))
    later += matmul_2d(h0.T, d_pre[0])
    return xp.ascontiguousarray(later.T)


def input_grad(d_x, reverse):
    """The gradient of x_proj from d_x (L, N, G), each step's projected-input gradient in
    processing order: turned back to the input's order for a reverse direction."""
    return d_x[::-1].copy() if reverse else d_x


def wanted_inputs(needs_input_grad, n_inputs):
    """The positions among the first ``n_inputs`` arguments whose gradient is needed: what a
    backward Function computes, in this order."""
    return tuple(i for i in range(n_inputs) if needs_input_grad[i])


def spread(grads, wanted, n_args):
    """The gradients of the ``wanted`` positions placed in a tuple of ``n_args`` (None
    elsewhere): what a backward returns, one entry per argument of forward."""
    result = [None] * n_args
    for i, g in zip(wanted, grads):
        result[i] = g
    return tuple(result)


# ---------------------------------------------------------------------------------------------
# Gradients of gradients, by recomputing them with Tensor ops
# ---------------------------------------------------------------------------------------------


def vjp(outputs, inputs, cotangents, create_graph):
    """J^T cotangents: the gradients of sum_k <outputs[k], cotangents[k]> with respect to each
    of ``inputs`` (a list of Tensors; zeros for an input no output depends on). Outputs that
    are None or need no gradient are skipped."""
    pairs = [(o, c) for o, c in zip(outputs, cotangents)
             if o is not None and c is not None and o.requires_grad]
    grads = [None] * len(inputs)
    if pairs and inputs:
        from ..autograd import grad
        grads = grad([o for o, _ in pairs], inputs, [c for _, c in pairs],
                     create_graph=create_graph, allow_unused=True)
    return [_zeros_like(x) if g is None else g for g, x in zip(grads, inputs)]


def vjp_of(fn, n_args, wanted, *values):
    """``vjp`` of ``fn`` as a function of its arguments and the cotangents: values holds the
    ``n_args`` arguments of ``fn`` and then one cotangent per output; the result is the
    gradients of the arguments at positions ``wanted``, as a graph (differentiable again)."""
    args, cotangents = values[:n_args], values[n_args:]
    return vjp(fn(*args), [args[i] for i in wanted], cotangents, create_graph=True)


def backward_by_recomputing(ctx, first_order, grad_grads):
    """The backward of a backward Function B (see the module docstring).

    ``ctx`` saved B's Tensor arguments (the op's inputs, then its output gradients) with
    ``save_for_backward``; ``first_order(*saved)`` computes B from them with differentiable
    Tensor ops, one entry per gradient B's forward returned; ``grad_grads`` are the gradients
    arriving for those entries. Returns one gradient per saved argument (None where none is
    needed)."""
    saved = ctx.saved_tensors
    wanted = wanted_inputs(ctx.needs_input_grad, len(saved))
    grads = RecomputedVJP.apply(*saved, *grad_grads, fn=first_order, n_args=len(saved))
    return spread(grads, wanted, len(saved))


class RecomputedVJP(ArrayFunction):
    """The gradients of <fn(*args), cotangents> with respect to the args that require grad,
    for ``fn`` written with differentiable Tensor ops (``apply(*args, *cotangents, fn=fn,
    n_args=len(args))``; one gradient per arg that requires grad, in order).

    forward:    fn runs again on *fresh leaves* holding the args' values and is
                differentiated: J_fn(args)^T cotangents.
    backward:   that is itself a function of (args, cotangents) written with Tensor ops
                (``vjp_of``), so the backward is another ``RecomputedVJP`` of it.

    Fresh leaves keep the recomputation apart from the graph the args came from. A backward
    must return *partial* derivatives: when one argument was computed from another (an output
    gradient g that depends on an input x, as in a Hessian-vector product), the engine adds
    the path between them itself, and differentiating through it here as well would count it
    twice.
    """

    @staticmethod
    def forward(ctx, *values, fn, n_args):
        ctx.function, ctx.n_args = fn, n_args
        ctx.save_for_backward(*values)
        wanted = wanted_inputs(ctx.needs_input_grad, n_args)
        # every arg a leaf that requires grad: fn may differentiate with respect to any of them
        leaves = [None if v is None else Tensor._make(v, requires_grad=True)
                  for v in values[:n_args]]
        cotangents = [None if c is None else Tensor._make(c) for c in values[n_args:]]
        with enable_grad():
            grads = vjp(fn(*leaves), [leaves[i] for i in wanted], cotangents,
                        create_graph=False)
        return tuple(g.array for g in grads)

    @staticmethod
    def backward(ctx, *grad_grads):
        return backward_by_recomputing(
            ctx, functools.partial(vjp_of, ctx.function, ctx.n_args,
                                   wanted_inputs(ctx.needs_input_grad, ctx.n_args)),
            grad_grads)


def _zeros_like(x):
    return Tensor._make(backend.array_module(x.array).zeros(x.shape, dtype=x.dtype))
