"""``mg.nn.utils``: gradient clipping.

Exploding gradients (deep or recurrent nets, a bad batch) make one optimizer step throw the
weights far away. Clipping bounds the step: call it between ``loss.backward()`` and
``optimizer.step()``.
"""

from __future__ import annotations

import math

from .. import backend
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The norm is taken over all gradients as if concatenated into one vector:
    ``total = (sum_p ||g_p||^norm_type)^(1 / norm_type)`` (``norm_type=inf``: the largest
    |g|). If ``total > max_norm`` every gradient is multiplied by
    ``max_norm / (total + 1e-6)``; the direction of the step is kept, only its length shrinks.
    Returns ``total`` (the norm *before* clipping, handy for logging).
    """
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return Tensor._make(backend.array_module().zeros((), dtype="float32"))
    xp = backend.array_module(grads[0].array)
    if math.isinf(norm_type):
        per_grad = [float(xp.abs(g.array).max()) if g.array.size else 0.0 for g in grads]
        total = max(per_grad)
    else:
        total = sum(float((xp.abs(g.array.astype("float64")) ** norm_type).sum())
                    for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        with no_grad():
            for g in grads:
                g.array *= g.array.dtype.type(coef)
    return Tensor._make(xp.asarray(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        xp = backend.array_module(g.array)
        xp.clip(g.array, -clip_value, clip_value, out=g.array)
