"""``RAdam``: Adam whose adaptive step is switched on only once its variance estimate is
trustworthy, and then scaled by a rectification factor.

For each parameter p with gradient g, at step t = 1, 2, ... (PyTorch's algorithm exactly)::

    g     <- -g                                  if maximize
    p     <- p * (1 - lr * wd)                   if decoupled_weight_decay
    g     <- g + wd * p                          otherwise, if weight_decay
    m     <- beta1 * m + (1 - beta1) * g
    v     <- beta2 * v + (1 - beta2) * g^2
    m_hat  = m / (1 - beta1^t)
    rho_inf = 2 / (1 - beta2) - 1                the length of the average, in steps
    rho_t   = rho_inf - 2 t beta2^t / (1 - beta2^t)
    if rho_t > 5:                                enough steps for a stable variance
        r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        p <- p - lr * m_hat * r * sqrt(1 - beta2^t) / (sqrt(v) + eps)
    else:                                        early steps: SGD with momentum
        p <- p - lr * m_hat

State per parameter: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v).
"""

from __future__ import annotations

from .. import backend
from ._adam_family import gradient_after_weight_decay, update_moments
from ._checks import check_betas, check_eps, check_lr, check_weight_decay
from .optimizer import Optimizer


class RAdam(Optimizer):
    """Implements RAdam (Liu et al., 2019).

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 1e-3).
        betas: decay rates of the moment averages (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty added to the gradient, or with
            ``decoupled_weight_decay=True`` a direct shrink of p (default 0).
        decoupled_weight_decay: apply weight decay AdamW's way (default False).
        maximize: maximize the objective instead of minimizing it.
    """

    _buffers = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False):
        check_lr(lr)
        check_eps(eps)
        betas = check_betas(betas)
        check_weight_decay(weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, group):
        lr, eps = group["lr"], group["eps"]
        beta1, beta2 = group["betas"]
        state = self._state_with_buffers(p)
        state["step"] += 1
        t = state["step"]

        g = gradient_after_weight_decay(p, group)
        m, v = update_moments(state, g, group["betas"])

        bias_correction2 = 1 - beta2 ** t
        m_hat = m / (1 - beta1 ** t)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive = bias_correction2 ** 0.5 / (backend.array_module(v).sqrt(v) + eps)
            p.array -= m_hat * lr * adaptive * rect
        else:
            p.array -= m_hat * lr
