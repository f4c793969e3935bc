"""``RMSprop``: divide each gradient by a running root-mean-square of recent gradients.

For each parameter p with gradient g (PyTorch's algorithm exactly)::

    g   <- -g                              if maximize
    g   <- g + wd * p                      if weight_decay != 0
    s   <- alpha * s + (1 - alpha) * g^2   running mean of squared gradients ("square_avg")
    if centered:                           estimate the variance instead of the raw 2nd moment
        a   <- alpha * a + (1 - alpha) * g     running mean of gradients ("grad_avg")
        avg = sqrt(s - a^2) + eps
    else:
        avg = sqrt(s) + eps
    if momentum > 0:
        b <- momentum * b + g / avg        ("momentum_buffer")
        p <- p - lr * b
    else:
        p <- p - lr * g / avg

Unlike Adam there is no bias correction: ``s`` starts at zero, so the very first steps are
larger than ``lr`` (by up to 1/sqrt(1 - alpha) = 10x for alpha=0.99).
"""

from __future__ import annotations

from .. import backend
from .optimizer import Optimizer


class RMSprop(Optimizer):
    """Implements RMSprop (Hinton's lecture 6e), optionally centered and with momentum.

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant of the running averages (default 0.99).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0).
        momentum: momentum factor (default 0).
        centered: normalize by an estimate of the gradient's variance (default False).
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *,
                 maximize: bool = False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    # state entries that are arrays shaped like the parameter (see Optimizer.load_state_dict)
    _buffers = ("square_avg", "momentum_buffer", "grad_avg")

    def _update(self, p, group):
        alpha, lr, momentum = group["alpha"], group["lr"], group["momentum"]
        xp = backend.array_module(p.array)
        state = self._init_state(p, group)
        state["step"] += 1

        g = self._gradient(p, group)  # -grad if maximize, + weight_decay * p
        s = state["square_avg"]
        s *= alpha
        s += (1 - alpha) * (g * g)
        if group["centered"]:
            a = state["grad_avg"]
            a += (1 - alpha) * (g - a)  # alpha * a + (1 - alpha) * g, as a lerp
            avg = xp.sqrt(s - a * a)
        else:
            avg = xp.sqrt(s)
        avg += group["eps"]

        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += g / avg
            p.array -= lr * buf
        else:
            p.array -= lr * (g / avg)

    def _init_state(self, p, group) -> dict:
        """The state of ``p``; its buffers start at zero when they do not exist yet (a first
        step, or a loaded state without them, such as momentum switched on after resuming)."""
        needed = {"square_avg": True, "momentum_buffer": group["momentum"] > 0,
                  "grad_avg": group["centered"]}
        return self._state_with_buffers(p, [name for name in self._buffers if needed[name]])
