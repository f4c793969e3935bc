"""Sampling category indices from weights: ``multinomial``.

``multinomial(probs, num_samples)`` draws indices of ``probs``'s last dim, each with chance
proportional to its weight (the weights need not sum to 1). It is how a language model picks
its next token. The result is a tensor of int64 indices, so there is no gradient.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor, default_generator


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator=None) -> Tensor:
    """Indices drawn from each row of ``input`` (1-D: one distribution; 2-D: one per row).

    Without replacement an index is drawn at most once per row, so ``num_samples`` can be at
    most the number of categories; once the nonzero weights are used up, zero-weight
    categories fill the rest (as in PyTorch).
    """
    weights = _checked_weights(input, num_samples, replacement)
    rng = generator or default_generator()
    rows = weights.reshape(-1, weights.shape[-1])
    drawn = np.stack([_draw_row(rng, row, num_samples, replacement) for row in rows])
    drawn = drawn.reshape(weights.shape[:-1] + (num_samples,)).astype(np.int64)
    return Tensor._make(backend.to_device(drawn, input.device))


def _draw_row(rng, row, num_samples, replacement):
    if replacement:
        return rng.choice(row.shape[0], size=num_samples, replace=True, p=row / row.sum())
    # without replacement: the nonzero-weight categories first, in weighted order; when they
    # run out, PyTorch fills the rest with zero-weight categories, in random order
    nonzero = np.flatnonzero(row)
    first = rng.choice(nonzero, size=min(num_samples, nonzero.size), replace=False,
                       p=row[nonzero] / row[nonzero].sum())
    rest = rng.permutation(np.flatnonzero(row == 0))[:num_samples - first.size]
    return np.concatenate([first, rest])


def _checked_weights(input, num_samples, replacement):
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial: input must be a Tensor, got {type(input).__name__}")
    if input.dim() not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape "
                           f"{tuple(input.shape)}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"multinomial: only supports floating-point dtypes for input, got "
                           f"{input.dtype}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) \
            or num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples: num_samples "
                           f"must be a positive int, got {num_samples!r}")
    if not replacement and num_samples > input.shape[-1]:
        raise RuntimeError(
            f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without "
            f"replacement: asked for {num_samples} of {input.shape[-1]} categories")
    weights = backend.to_device(input.array, backend.CPU).astype(np.float64)
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise RuntimeError("multinomial: probability tensor contains either inf, nan or "
                           "element < 0")
    if (weights.reshape(-1, weights.shape[-1]).sum(axis=1) <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of "
                           "probabilities <= 0)")
    return weights
