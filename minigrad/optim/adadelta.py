"""``Adadelta``: RMSprop whose step size is itself a running RMS of past updates.

For each parameter p with gradient g (PyTorch's algorithm exactly)::

    g   <- -g                                     if maximize
    g   <- g + wd * p                             if weight_decay != 0
    v   <- rho * v + (1 - rho) * g^2              running mean of squared gradients
    dx  =  sqrt(u + eps) / sqrt(v + eps) * g      the update, in the units of p
    u   <- rho * u + (1 - rho) * dx^2             running mean of squared updates
    p   <- p - lr * dx

The ratio sqrt(u) / sqrt(v) has the units of p / g, so the update has the units of p (Zeiler's
"unit correction"): the method needs no learning rate, and PyTorch's default ``lr=1.0`` just
applies the update as it is. State per parameter: ``step``, ``square_avg`` (v) and
``acc_delta`` (u).
"""

from __future__ import annotations

from .. import backend
from .optimizer import Optimizer


class Adadelta(Optimizer):
    """Implements the Adadelta algorithm (Zeiler, 2012).

    Args:
        params: parameters or parameter groups to optimize.
        lr: a factor applied to the update (default 1.0).
        rho: decay rate of both running averages (default 0.9).
        eps: added inside both square roots (default 1e-6).
        weight_decay: L2 penalty added to the gradient (default 0).
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, group):
        rho, eps = group["rho"], group["eps"]
        xp = backend.array_module(p.array)
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["square_avg"] = self._zeros_like(p)
            state["acc_delta"] = self._zeros_like(p)
        state["step"] += 1
        g = self._gradient(p, group)  # -grad if maximize, + weight_decay * p
        v, u = state["square_avg"], state["acc_delta"]
        v *= rho
        v += (1 - rho) * (g * g)
        delta = xp.sqrt(u + eps) / xp.sqrt(v + eps) * g
        u *= rho
        u += (1 - rho) * (delta * delta)
        p.array -= group["lr"] * delta
