"""Checking gradients against finite differences: the tool that proves a backward is right.

For every input element x_j we nudge it both ways and measure how each output moves:

    numeric  d out_i / d x_j  ~=  (f(x + eps e_j)_i - f(x - eps e_j)_i) / (2 eps)

(central differences: error O(eps^2) instead of O(eps)). The analytic Jacobian comes from the
backward pass, one output element at a time. Both are compared entry by entry. In float64 and
with eps = 1e-6 the two agree to about 1e-9 when the backward is right, so any real mistake
stands out. float32 is too coarse for this, so we insist on float64.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .grad_mode import enable_grad, no_grad


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with finite differences."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _differentiable_inputs(inputs):
    return [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]


def _outputs(fn, inputs):
    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]


def _numeric_jacobian(fn, inputs, i, t, eps, n_out_total, out_sizes):
    """Column j = d(all outputs flattened)/d(t.flat[j]) by central differences."""
    x = t.array  # perturbed in place, one element at a time, and restored
    jac = np.zeros((x.size, n_out_total))
    with no_grad():
        for j in range(x.size):
            idx = np.unravel_index(j, x.shape)
            orig = x[idx].item()
            x[idx] = orig + eps
            plus = _flat_outputs(fn, inputs)
            x[idx] = orig - eps
            minus = _flat_outputs(fn, inputs)
            x[idx] = orig
            jac[j] = (plus - minus) / (2 * eps)
    return jac


def _flat_outputs(fn, inputs):
    outs = [np.asarray(o.array, dtype=np.float64).reshape(-1) for o in _outputs(fn, inputs)]
    return np.concatenate(outs) if outs else np.zeros(0)


def _analytic_jacobian(fn, inputs, diff_inputs, n_out_total):
    """Row per output element: backward of a one-hot gradient gives d out_k / d inputs."""
    from . import grad as autograd_grad

    outs = _outputs(fn, inputs)
    jacs = [np.zeros((t.array.size, n_out_total)) for _, t in diff_inputs]
    k = 0
    for o in outs:
        for j in range(o.array.size):
            if not o.requires_grad:
                k += 1
                continue
            onehot = np.zeros(o.array.size, dtype=o.dtype)
            onehot[j] = 1
            grads = autograd_grad([o], [t for _, t in diff_inputs],
                                  grad_outputs=[Tensor._make(onehot.reshape(o.shape))],
                                  retain_graph=True, allow_unused=True)
            for col, g in zip(jacs, grads):
                if g is not None:
                    col[:, k] = np.asarray(g.array, dtype=np.float64).reshape(-1)
            k += 1
    return jacs


def _check_inputs(inputs, where):
    diff = _differentiable_inputs(inputs)
    if not diff:
        raise ValueError(f"{where}: no input requires grad, so there is nothing to check. "
                         "Create the inputs with requires_grad=True.")
    for i, t in diff:
        if t.dtype != np.float64:
            raise ValueError(
                f"{where}: input {i} is {t.dtype}. Finite differences need float64: in float32 "
                f"the rounding error of f(x + eps) - f(x - eps) swamps the difference itself. "
                f"Use x.double() (or mg.tensor(..., dtype=mg.float64)).")
        if t.device.type != "cpu":
            raise ValueError(f"{where}: input {i} is on {t.device}; gradcheck runs on the CPU")
    return diff


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """Compare the gradients of ``fn`` at ``inputs`` with central finite differences.

    Passes if |analytic - numeric| <= atol + rtol * |numeric| for every input element and every
    output element (a NaN on either side fails). On failure raises ``GradcheckError`` naming the input, the element index,
    the output element and both values.
    """
    inputs = _as_tuple(inputs)
    diff = _check_inputs(inputs, "gradcheck")
    outs = _outputs(fn, inputs)
    if not outs:
        raise ValueError("gradcheck: fn returned no Tensor")
    out_sizes = [o.array.size for o in outs]
    n_out = int(sum(out_sizes))
    analytic = _analytic_jacobian(fn, inputs, diff, n_out)
    for (i, t), a_jac in zip(diff, analytic):
        n_jac = _numeric_jacobian(fn, inputs, i, t, eps, n_out, out_sizes)
        # written as "not close" so that a NaN on either side counts as a disagreement
        bad = ~(np.abs(a_jac - n_jac) <= atol + rtol * np.abs(n_jac))
        if bad.any():
            j, k = map(int, np.argwhere(bad)[0])
            if not raise_exception:
                return False
            raise GradcheckError(_failure_message(i, t, j, k, outs, out_sizes,
                                                  a_jac[j, k], n_jac[j, k], int(bad.sum()),
                                                  a_jac.shape))
    return True


def _failure_message(i, t, j, k, outs, out_sizes, analytic, numeric, n_bad, jac_shape):
    in_index = np.unravel_index(j, t.shape) if t.ndim else ()
    o_idx, offset = 0, k
    while offset >= out_sizes[o_idx]:
        offset -= out_sizes[o_idx]
        o_idx += 1
    out_index = np.unravel_index(offset, outs[o_idx].shape) if outs[o_idx].ndim else ()
    hint = ""
    if numeric != 0 and abs(analytic / numeric - 2) < 1e-3:
        hint = " The analytic value is twice the numeric one: a gradient added twice?"
    elif numeric != 0 and abs(analytic / numeric - 0.5) < 1e-3:
        hint = (" The analytic value is half the numeric one: a missing factor of 2 "
                "(d(x^2)/dx is 2x, not x)?")
    elif numeric != 0 and abs(analytic / numeric + 1) < 1e-3:
        hint = " The analytic value has the wrong sign."
    elif analytic == 0 and numeric != 0:
        hint = " The analytic gradient is zero here: is the input used in backward at all?"
    return (
        f"gradcheck failed for input {i} (shape {tuple(t.shape)}) at element "
        f"{tuple(int(x) for x in in_index)}, output {o_idx} element "
        f"{tuple(int(x) for x in out_index)}:\n"
        f"    analytic (backward) d out/d in = {analytic:.10g}\n"
        f"    numeric (finite differences)    = {numeric:.10g}\n"
        f"{n_bad} of {jac_shape[0] * jac_shape[1]} Jacobian entries disagree.{hint}"
    )


def gradgradcheck(fn, inputs, grad_outputs=None, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """Check second derivatives: gradcheck of  (inputs, v) -> d(fn(inputs) . v)/d inputs.

    ``v`` (``grad_outputs``) is random unless given, and is itself checked as an input, so
    both the Hessian-vector products and the dependence on ``v`` are verified.
    """
    from . import grad as autograd_grad

    inputs = _as_tuple(inputs)
    _check_inputs(inputs, "gradgradcheck")
    outs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [Tensor._make(rng.standard_normal(o.shape)).requires_grad_()
                        for o in outs if o.requires_grad]
    grad_outputs = list(_as_tuple(grad_outputs))
    n_in = len(inputs)

    def first_derivative(*args):
        xs, vs = args[:n_in], args[n_in:]
        with enable_grad():  # the numeric pass runs under no_grad, but this needs a graph
            ys = [o for o in _outputs(fn, xs) if o.requires_grad]
            grads = autograd_grad(ys, [x for x in xs if isinstance(x, Tensor) and
                                       x.requires_grad],
                                  grad_outputs=list(vs), create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)
