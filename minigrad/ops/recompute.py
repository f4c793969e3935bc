"""Second derivatives for ops whose backward is written by hand on arrays.

Some ops (``lstm_sequence``, ``gru_sequence``) compute their gradient with NumPy loops, which
is fast but leaves no graph behind. When a graph is wanted (``create_graph=True``: Hessian-
vector products, gradient penalties), their backward instead recomputes the forward from the
saved inputs with ordinary differentiable ops and differentiates *that*: the gradient is then
a graph like any other, at the price of running the forward again.
"""

from __future__ import annotations


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
