"""Reverse-mode automatic differentiation: graph nodes, the backward engine, gradient checks.

Public API, as in PyTorch: ``mg.autograd.grad``, ``Function``, ``no_grad``/``enable_grad``,
``gradcheck``/``gradgradcheck``, ``detect_anomaly``; and ``ArrayFunction``, the base class of
minigrad's own ops (forward on arrays).
"""

from __future__ import annotations

from .engine import run_backward
from .function import ArrayFunction, Context, Function
from .grad_mode import (
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["Function", "ArrayFunction", "Context", "grad", "backward", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "detect_anomaly", "is_anomaly_enabled",
           "gradcheck", "gradgradcheck", "GradcheckError"]


def _as_list(x):
    if x is None:
        return None
    return list(x) if isinstance(x, (tuple, list)) else [x]


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         allow_unused: bool = False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned (not stored in .grad).

    With ``create_graph=True`` the returned gradients are part of a graph themselves, so they
    can be differentiated again (second derivatives, Hessian-vector products, gradient
    penalties).
    """
    from ..tensor import _default_grad

    outputs, inputs = _as_list(outputs), _as_list(inputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} (shape {tuple(t.shape)}) does not "
                               "require grad, so no gradient can flow to it")
    grad_outputs = _as_list(grad_outputs) or [None] * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"autograd.grad: got {len(grad_outputs)} grad_outputs for "
                           f"{len(outputs)} outputs")
    roots, root_grads = [], []
    for o, g in zip(outputs, grad_outputs):
        if not o.requires_grad:
            raise RuntimeError(f"autograd.grad: an output of shape {tuple(o.shape)} does not "
                               "require grad (it doesn't depend on any input requiring grad)")
        roots.append(o)
        root_grads.append(_default_grad(o, g, "autograd.grad"))
    if retain_graph is None:
        retain_graph = create_graph
    return run_backward(roots, root_grads, retain_graph, create_graph, inputs=inputs,
                        allow_unused=allow_unused)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False):
    """``mg.autograd.backward([y1, y2], [g1, g2])``: backward from several outputs at once."""
    from ..tensor import _default_grad

    tensors = _as_list(tensors)
    grad_tensors = _as_list(grad_tensors) or [None] * len(tensors)
    grads = [_default_grad(t, g, "autograd.backward") for t, g in zip(tensors, grad_tensors)]
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(tensors, grads, retain_graph, create_graph)
