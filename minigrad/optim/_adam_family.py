"""Steps shared by the Adam family (Adam/AdamW, NAdam, RAdam): weight decay of either kind,
and the two moment averages.

    g <- g + wd * p             L2 weight decay (the default): the penalty's gradient
    p <- p * (1 - lr * wd)      decoupled weight decay (AdamW's way): p shrinks directly
    m <- beta1 * m + (1 - beta1) * g          exp_avg, the gradient's running mean
    v <- beta2 * v + (1 - beta2) * g^2        exp_avg_sq, its running mean square
"""

from __future__ import annotations

from .optimizer import Optimizer


def gradient_after_weight_decay(p, group):
    """The gradient the Adam rule uses (see ``Optimizer._gradient``), as a raw array.

    With ``group["decoupled_weight_decay"]`` the decay is applied to ``p.array`` here, in place,
    and the gradient is left without the L2 term.
    """
    decoupled = group["decoupled_weight_decay"]
    g = Optimizer._gradient(p, group, l2_weight_decay=not decoupled)
    if decoupled and group["weight_decay"] != 0:
        p.array *= 1 - group["lr"] * group["weight_decay"]
    return g


def update_moments(state, g, betas):
    """Fold g into ``state["exp_avg"]`` (m) and ``state["exp_avg_sq"]`` (v) in place; returns
    (m, v)."""
    beta1, beta2 = betas
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m += (1 - beta1) * (g - m)
    v *= beta2
    v += (1 - beta2) * (g * g)
    return m, v
