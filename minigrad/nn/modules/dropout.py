"""``Dropout``: active in training mode only (``model.train()`` / ``model.eval()``)."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from ..module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p) while
    training; the identity in eval mode."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
