"""``Adagrad``: a per-coordinate step size that shrinks with the sum of all past squared
gradients.

For each parameter p with gradient g, at step t = 1, 2, ... (PyTorch's algorithm exactly)::

    g   <- -g                              if maximize
    g   <- g + wd * p                      if weight_decay != 0
    clr = lr / (1 + (t - 1) * lr_decay)    the learning rate, optionally decaying with t
    s   <- s + g^2                         the sum of squared gradients ("sum")
    p   <- p - clr * g / (sqrt(s) + eps)

Coordinates that have seen large gradients take small steps from then on, rare ones keep
large steps: good for sparse features, but the sum only grows, so the steps eventually stall
(RMSprop and Adam replace the sum by a running average for that reason).

As in PyTorch, the state (``step`` = 0 and ``sum`` = ``initial_accumulator_value``) is
created for every parameter when the optimizer is built, not at its first step.
"""

from __future__ import annotations

from .. import backend
from .optimizer import Optimizer


class Adagrad(Optimizer):
    """Implements the Adagrad algorithm (Duchi et al., 2011).

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 1e-2).
        lr_decay: learning rate decay: step t uses lr / (1 + (t - 1) * lr_decay) (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        initial_accumulator_value: the starting value of the sum of squares (default 0).
        eps: added to the denominator for numerical stability (default 1e-10).
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *,
                 maximize: bool = False):
        for name, value in (("learning rate", lr), ("lr_decay value", lr_decay),
                            ("weight_decay value", weight_decay),
                            ("initial_accumulator_value value", initial_accumulator_value),
                            ("epsilon value", eps)):
            if not 0.0 <= value:
                raise ValueError(f"Invalid {name}: {value}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["sum"] = backend.array_module(p.array).full_like(
                p.array, group["initial_accumulator_value"])
        return state

    def _update(self, p, group):
        xp = backend.array_module(p.array)
        state = self._init_state(p, group)
        state["step"] += 1
        g = self._gradient(p, group)  # -grad if maximize, + weight_decay * p
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"]
        s += g * g
        std = xp.sqrt(s)
        std += group["eps"]
        p.array -= clr * (g / std)
