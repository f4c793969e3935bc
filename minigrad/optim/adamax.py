"""``Adamax``: Adam with the infinity norm in place of the second moment.

For each parameter p with gradient g, at step t = 1, 2, ... (PyTorch's algorithm exactly)::

    g <- -g                                      if maximize
    g <- g + wd * p                              if weight_decay
    m <- beta1 * m + (1 - beta1) * g
    u <- max(beta2 * u, |g| + eps)               a decaying running maximum of |g|
    p <- p - lr / (1 - beta1^t) * m / u

u needs no bias correction: a maximum is not pulled towards its zero start the way an
average is. State per parameter: ``step``, ``exp_avg`` (m), ``exp_inf`` (u).
"""

from __future__ import annotations

from .. import backend
from ._checks import check_betas, check_eps, check_lr, check_weight_decay
from .optimizer import Optimizer


class Adamax(Optimizer):
    """Implements Adamax (Kingma and Ba, 2014, section 7).

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 2e-3).
        betas: decay rates of the average and of the running maximum (default (0.9, 0.999)).
        eps: added to |g| (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0).
        maximize: maximize the objective instead of minimizing it.
    """

    _buffers = ("exp_avg", "exp_inf")

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, *, maximize: bool = False):
        check_lr(lr)
        check_eps(eps)
        betas = check_betas(betas)
        check_weight_decay(weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, group):
        beta1, beta2 = group["betas"]
        state = self._state_with_buffers(p)
        state["step"] += 1

        g = self._gradient(p, group)
        xp = backend.array_module(p.array)
        m, u = state["exp_avg"], state["exp_inf"]
        m += (1 - beta1) * (g - m)
        u *= beta2
        xp.maximum(u, xp.abs(g) + group["eps"], out=u)
        p.array -= group["lr"] / (1 - beta1 ** state["step"]) * (m / u)
