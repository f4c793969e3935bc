"""``Adam``: adaptive moment estimation — a per-coordinate step size from running moments.

For each parameter p with gradient g, at step t = 1, 2, ... (PyTorch's algorithm exactly)::

    g  <- -g                              if maximize
    p  <- p - lr * wd * p                 if decoupled weight decay (AdamW)
    g  <- g + wd * p                      if weight_decay, otherwise (Adam: an L2 penalty)
    m  <- beta1 * m + (1 - beta1) * g     first moment: a running mean of gradients
    v  <- beta2 * v + (1 - beta2) * g^2   second moment: a running mean of squared gradients
    v_max <- max(v_max, v)                if amsgrad (the denominator never shrinks)
    m_hat = m / (1 - beta1^t)             bias correction: m and v start at 0, so early
    v_hat = v / (1 - beta2^t)             averages are too small by exactly these factors
    p  <- p - lr * m_hat / (sqrt(v_hat) + eps)      (v_max instead of v with amsgrad)

Dividing by sqrt(v_hat) makes the step roughly ``lr`` in size whatever the gradient's scale:
coordinates with small, consistent gradients move as fast as those with large ones.

The state of each parameter: ``step`` (t), ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with
amsgrad, ``max_exp_avg_sq`` (v_max). AdamW (``adamw.py``) is this same class with decoupled
weight decay switched on.

The moment and parameter updates are one kernel op, ``minigrad.kernels.adam_step``
(kernels/adam_*.py): chosen like every kernel (``mg.kernels.use``, ``MINIGRAD_KERNELS``, the
default rule), it runs the NumPy/CuPy reference formulas or one compiled pass over the
elements (Numba on the CPU, the default there), which gives the same numbers. This file
prepares what the kernel takes (through ``ops/kernel_calls.py``, the framework's one door to the
kernels): the gradient after weight decay and ``maximize``, and the step
count.
"""

from __future__ import annotations

from ..ops import kernel_calls
from ._adam_family import gradient_after_weight_decay
from .optimizer import Optimizer


class Adam(Optimizer):
    """Implements the Adam algorithm (and AMSGrad, and AdamW's decoupled weight decay).

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate (default 1e-3).
        betas: decay rates of the first and second moment averages (default (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: weight decay (default 0): an L2 penalty added to the gradient, or, with
            ``decoupled_weight_decay=True``, a direct shrink ``p -= lr * wd * p`` (AdamW).
        amsgrad: use the maximum of all second moments so far (AMSGrad, default False).
        maximize: maximize the objective instead of minimizing it.
        decoupled_weight_decay: apply weight decay AdamW's way (default False).
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    # state entries that are arrays shaped like the parameter (see Optimizer.load_state_dict)
    _buffers = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def _update(self, p, group):
        state = self._state_with_buffers(
            p, self._buffers if group["amsgrad"] else self._buffers[:2])
        # AdamW's decoupled decay shrinks p directly, outside the adaptive scaling
        g = gradient_after_weight_decay(p, group)
        state["step"] += 1
        beta1, beta2 = group["betas"]
        kernel_calls.adam_step(p.array, g, state["exp_avg"], state["exp_avg_sq"],
                               state["max_exp_avg_sq"] if group["amsgrad"] else None,
                               lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                               step=state["step"])
