"""``AdamW``: Adam with *decoupled* weight decay (Loshchilov & Hutter, 2019).

Adam's ``weight_decay`` adds ``wd * p`` to the gradient, so the decay then passes through the
adaptive scaling: coordinates with large gradient variance are barely decayed at all. AdamW
instead shrinks the weights directly, before the Adam step::

    p <- p - lr * wd * p                    (decoupled decay, the only difference)
    p <- Adam step with the raw gradient    (see adam.py)

That makes weight decay act as intended regularization again, independent of the gradient
statistics. The update code is Adam's own (``Adam._update`` with
``decoupled_weight_decay=True``), exactly as in PyTorch, where AdamW is a subclass of Adam.
"""

from __future__ import annotations

from .adam import Adam


class AdamW(Adam):
    """Implements AdamW. Same arguments as ``Adam``, but ``weight_decay`` defaults to 1e-2."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # an AdamW stays AdamW, whatever the file says
            group["decoupled_weight_decay"] = True
