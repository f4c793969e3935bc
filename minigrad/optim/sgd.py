"""``SGD``: stochastic gradient descent, with momentum, dampening, Nesterov and weight decay.

The update for each parameter p with gradient g, at step t (PyTorch's algorithm exactly)::

    g   <- -g                    if maximize
    g   <- g + wd * p            if weight_decay != 0          (the gradient of wd/2 * |p|^2)
    if momentum != 0:
        b <- g                                  at the first step
        b <- momentum * b + (1 - dampening) * g  afterwards
        g <- g + momentum * b    if nesterov    (look ahead along the velocity)
        g <- b                   otherwise
    p   <- p - lr * g

Momentum keeps a running velocity ``b`` (``state[p]["momentum_buffer"]``), so steps along a
consistent direction grow while oscillating components cancel. Note PyTorch's convention: the
learning rate multiplies the whole velocity, not each gradient as it enters it.
"""

from __future__ import annotations

from .optimizer import Optimizer


class SGD(Optimizer):
    """Implements stochastic gradient descent (optionally with momentum).

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 1e-3, as in PyTorch).
        momentum: momentum factor (default 0).
        dampening: dampening for momentum: the new gradient enters the velocity scaled by
            ``1 - dampening`` (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        nesterov: Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
        maximize: maximize the objective instead of minimizing it.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    # state entries that are arrays shaped like the parameter (see Optimizer.load_state_dict);
    # a momentum buffer that is None or missing is created from the gradient at the next step
    _buffers = ("momentum_buffer",)

    def _update(self, p, group):
        g = self._gradient(p, group)  # -grad if maximize, + weight_decay * p
        momentum = group["momentum"]
        if momentum != 0:
            state = self.state[p]
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * g
            g = g + momentum * buf if group["nesterov"] else buf
        p.array -= group["lr"] * g
