"""``Rprop``: resilient backpropagation — each coordinate has its own step size, adapted by
whether the gradient's sign changed; the gradient's magnitude is never used.

For each parameter p with gradient g (PyTorch's algorithm exactly; full-batch training)::

    g  <- -g                                     if maximize
    f   = eta_plus    where g * prev > 0         same sign as last step: speed up
          eta_minus   where g * prev < 0         the sign flipped (overshot): slow down
          1           where g * prev == 0
    s  <- clip(s * f, step_size_min, step_size_max)
    g  <- 0           where f == eta_minus       no move right after overshooting
    p  <- p - sign(g) * s
    prev <- g

State per parameter: ``step``, ``prev`` (the last gradient used) and ``step_size`` (s, which
starts at ``lr`` in every coordinate).
"""

from __future__ import annotations

from .. import backend
from ._checks import check_lr
from .optimizer import Optimizer


class Rprop(Optimizer):
    """Implements the resilient backpropagation algorithm (Riedmiller and Braun, 1993).

    Args:
        params: parameters or parameter groups to optimize.
        lr: the initial step size of every coordinate (default 1e-2).
        etas: (eta_minus, eta_plus), the factors that shrink and grow a step size
            (default (0.5, 1.2)); 0 < eta_minus < 1 < eta_plus.
        step_sizes: (min, max) bounds of the step sizes (default (1e-6, 50)).
        maximize: maximize the objective instead of minimizing it.
    """

    _buffers = ("prev", "step_size")

    def __init__(self, params, lr: float = 1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 maximize: bool = False):
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
                        maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, group):
        eta_minus, eta_plus = group["etas"]
        step_min, step_max = group["step_sizes"]
        xp = backend.array_module(p.array)
        state = self.state[p]
        state.setdefault("step", 0)
        if state.get("prev") is None:
            state["prev"] = self._zeros_like(p)
        if state.get("step_size") is None:
            state["step_size"] = xp.full_like(p.array, group["lr"])
        state["step"] += 1

        g = self._gradient(p, group)
        agreement = xp.sign(g * state["prev"])
        factor = xp.where(agreement > 0, eta_plus,
                          xp.where(agreement < 0, eta_minus, 1.0)).astype(p.dtype)
        step_size = state["step_size"]
        step_size *= factor
        xp.clip(step_size, step_min, step_max, out=step_size)
        g = xp.where(agreement < 0, 0, g).astype(p.dtype)     # where f is eta_minus
        p.array -= xp.sign(g) * step_size
        state["prev"][...] = g
