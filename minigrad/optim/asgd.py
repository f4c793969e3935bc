"""``ASGD``: averaged stochastic gradient descent — SGD with a decaying step size that also
keeps a running average of the iterates (the average is what converges; read it from
``optimizer.state[p]["ax"]``).

For each parameter p with gradient g, at step t = 1, 2, ... (PyTorch's algorithm exactly)::

    g   <- -g                                   if maximize
    g   <- g + wd * p                           if weight_decay
    p   <- p * (1 - lambd * eta)                decay
    p   <- p - eta * g                          the SGD step
    ax  <- ax + mu * (p - ax)                   the running average (ax <- p while mu == 1)
    eta <- lr / (1 + lambd * lr * t)^alpha      the next step size
    mu  <- 1 / max(1, t - t0)                   averaging starts after t0 steps

State per parameter: ``step``, ``eta`` and ``mu`` (numbers; eta starts at lr, mu at 1) and
``ax``. PyTorch keeps ``eta`` and ``mu`` as 0-d tensors of the default dtype (float32 unless
``torch.set_default_dtype(torch.float64)``); minigrad keeps Python floats.
"""

from __future__ import annotations

from ._checks import check_lr, check_weight_decay
from .optimizer import Optimizer


class ASGD(Optimizer):
    """Implements averaged stochastic gradient descent (Polyak and Juditsky, 1992).

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 1e-2).
        lambd: decay term (default 1e-4).
        alpha: power of the step-size decay (default 0.75).
        t0: the step after which averaging starts (default 1e6).
        weight_decay: L2 penalty added to the gradient (default 0).
        maximize: maximize the objective instead of minimizing it.
    """

    _buffers = ("ax",)
    _scalars = ("eta", "mu")

    def __init__(self, params, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, *, maximize: bool = False):
        check_lr(lr)
        check_weight_decay(weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, group):
        lr, lambd = group["lr"], group["lambd"]
        state = self.state[p]
        state.setdefault("step", 0)
        state.setdefault("eta", float(lr))
        state.setdefault("mu", 1.0)
        if state.get("ax") is None:
            state["ax"] = self._zeros_like(p)
        state["step"] += 1
        t, eta, mu = state["step"], state["eta"], state["mu"]

        g = self._gradient(p, group)
        p.array *= 1 - lambd * eta
        p.array -= eta * g
        ax = state["ax"]
        if mu != 1:
            ax += (p.array - ax) * mu
        else:
            ax[...] = p.array
        state["eta"] = lr / ((1 + lambd * lr * t) ** group["alpha"])
        state["mu"] = 1 / max(1, t - group["t0"])
