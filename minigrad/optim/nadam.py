"""``NAdam``: Adam with Nesterov momentum — the step looks ahead along the momentum.

For each parameter p with gradient g, at step t = 1, 2, ... (PyTorch's algorithm exactly)::

    g    <- -g                                          if maximize
    p    <- p * (1 - lr * wd)                           if decoupled_weight_decay
    g    <- g + wd * p                                  otherwise, if weight_decay
    mu_t  = beta1 * (1 - 0.5 * 0.96^(t * psi))          momentum schedule (psi: momentum_decay)
    P    <- P * mu_t                                    mu_product: mu_1 * ... * mu_t
    m    <- beta1 * m + (1 - beta1) * g
    v    <- beta2 * v + (1 - beta2) * g^2
    d     = sqrt(v / (1 - beta2^t)) + eps
    p    <- p - lr * (1 - mu_t) / (1 - P) * g / d               the gradient's share
             - lr * mu_{t+1} / (1 - P * mu_{t+1}) * m / d      the look-ahead momentum's

State per parameter: ``step``, ``mu_product`` (P, a number), ``exp_avg`` (m), ``exp_avg_sq`` (v).
PyTorch keeps ``step`` and ``mu_product`` as 0-d tensors of the default dtype (float32 unless
``torch.set_default_dtype(torch.float64)``); minigrad keeps a Python int and float.
"""

from __future__ import annotations

from .. import backend
from ._adam_family import gradient_after_weight_decay, update_moments
from ._checks import check_betas, check_eps, check_lr, check_weight_decay
from .optimizer import Optimizer


class NAdam(Optimizer):
    """Implements NAdam (Dozat, 2016).

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 2e-3).
        betas: decay rates of the moment averages (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty added to the gradient, or with
            ``decoupled_weight_decay=True`` a direct shrink of p (default 0).
        momentum_decay: psi in the momentum schedule (default 4e-3).
        decoupled_weight_decay: apply weight decay AdamW's way (default False).
        maximize: maximize the objective instead of minimizing it.
    """

    _buffers = ("exp_avg", "exp_avg_sq")
    _scalars = ("mu_product",)

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False):
        check_lr(lr)
        check_eps(eps)
        betas = check_betas(betas)
        check_weight_decay(weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, group):
        lr, eps = group["lr"], group["eps"]
        beta1, beta2 = group["betas"]
        state = self._state_with_buffers(p)
        state.setdefault("mu_product", 1.0)
        state["step"] += 1
        t = state["step"]

        g = gradient_after_weight_decay(p, group)
        psi = group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]

        m, v = update_moments(state, g, group["betas"])
        denom = backend.array_module(p.array).sqrt(v / (1 - beta2 ** t)) + eps
        p.array += (-lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
        p.array += (-lr * mu_next / (1.0 - mu_product * mu_next)) * (m / denom)
