"""Registry entries for the activations of ``ops/activation_more.py`` (selu, celu, the shrink
functions, threshold, prelu, rrelu, and the in-place forms ``relu_`` ..., checked on a
non-leaf copy of the input: an in-place op on a leaf that requires grad is refused) and for
the dropout variants of ``ops/dropout.py`` (under a fixed seed, so every call draws the same
mask).

Inputs of the piecewise functions stay 0.15 away from their kinks (``_away``).
"""

from __future__ import annotations

from opinfo import Sample, register, t
from opinfo_nn_more import _away

import minigrad as mg
import minigrad.nn.functional as F


def _slopes(rng, n):
    return mg.tensor(rng.uniform(-0.5, 1.5, size=n), dtype=mg.float64, requires_grad=True)


def _seeded_rrelu(x, lower, upper):
    """rrelu in training mode under a fixed seed: the same slopes at every call."""
    mg.manual_seed(3)
    return F.rrelu(x, lower, upper, training=True)


def _on_a_copy(inplace):
    """``inplace`` applied to ``x * 1`` (a non-leaf), so gradients flow back to ``x``."""
    return lambda x, *args: inplace(x * 1, *args)


register("nn.functional.selu", F.selu, lambda r: [Sample(t(r, 3, 5, low=-3, high=3,
                                                             away_from=0.0))])
register("nn.functional.celu", F.celu, lambda r: [
    Sample(t(r, 3, 5, away_from=0.0)), Sample(t(r, 7, away_from=0.0), 0.4, desc="alpha=0.4"),
])
register("nn.functional.softshrink", F.softshrink, lambda r: [
    Sample(_away(r, 3, 5, low=-2, high=2, kinks=(-0.5, 0.5))),
    Sample(_away(r, 6, low=-2, high=2, kinks=(-1.2, 1.2)), 1.2, desc="lambd=1.2"),
])
register("nn.functional.hardshrink", F.hardshrink, lambda r: [
    Sample(_away(r, 3, 5, low=-2, high=2, kinks=(-0.5, 0.5))),
])
register("nn.functional.tanhshrink", F.tanhshrink, lambda r: [Sample(t(r, 3, 5))])
register("nn.functional.threshold", F.threshold, lambda r: [
    Sample(_away(r, 3, 5, low=-2, high=2, kinks=(0.3,)), 0.3, -4.0),
])
register("nn.functional.prelu", F.prelu, lambda r: [
    Sample(t(r, 2, 3, 4, away_from=0.0), _slopes(r, 3), desc="one slope per channel"),
    Sample(t(r, 5, away_from=0.0), _slopes(r, 1), desc="one slope"),
])
register("nn.functional.rrelu", F.rrelu, lambda r: [
    Sample(t(r, 3, 5, away_from=0.0), 0.1, 0.3, desc="eval: the mean slope"),
])
register("nn.functional.rrelu.training", _seeded_rrelu, lambda r: [
    Sample(t(r, 3, 5, away_from=0.0), 0.1, 0.3),
])
for name, args, kinks in (("relu_", (), (0,)), ("elu_", (0.7,), (0,)),
                          ("leaky_relu_", (0.2,), (0,)), ("hardtanh_", (-0.5, 0.8), (-0.5, 0.8)),
                          ("threshold_", (0.1, 2.0), (0.1,)), ("selu_", (), (0,)),
                          ("celu_", (1.3,), (0,))):
    register(f"nn.functional.{name}", _on_a_copy(getattr(F, name)),
             lambda r, args=args, kinks=kinks: [Sample(_away(r, 3, 4, low=-2, high=2,
                                                             kinks=kinks), *args)])
register("nn.functional.rrelu_", _on_a_copy(F.rrelu_), lambda r: [
    Sample(t(r, 3, 5, away_from=0.0), 0.1, 0.3, desc="eval: the mean slope"),
])


def _seeded(dropout):
    """A dropout function under a fixed seed: the same mask at every call."""
    def fn(x, p):
        mg.manual_seed(5)
        return dropout(x, p, True)
    return fn


register("nn.functional.dropout1d", _seeded(F.dropout1d), lambda r: [
    Sample(t(r, 2, 3, 4), 0.4), Sample(t(r, 3, 5), 0.4, desc="unbatched"),
])
register("nn.functional.dropout2d", _seeded(F.dropout2d), lambda r: [
    Sample(t(r, 2, 3, 2, 2), 0.4),
])
register("nn.functional.dropout3d", _seeded(F.dropout3d), lambda r: [
    Sample(t(r, 3, 2, 2, 2), 0.4, desc="unbatched"),
])
register("nn.functional.alpha_dropout", _seeded(F.alpha_dropout), lambda r: [
    Sample(t(r, 3, 5), 0.3),
])


# ---------------------------------------------------------------------------------------------
# Losses (ops/loss_more.py): targets are fixed (not differentiated)
# ---------------------------------------------------------------------------------------------

def _signs(rng, *shape):
    return mg.tensor(rng.choice([-1.0, 1.0], size=shape), dtype=mg.float64)


register("nn.functional.margin_ranking_loss", F.margin_ranking_loss, lambda r: [
    Sample(t(r, 7), t(r, 7), _signs(r, 7), margin=0.3),
])
register("nn.functional.hinge_embedding_loss", F.hinge_embedding_loss, lambda r: [
    Sample(_away(r, 3, 5, low=-2, high=2, kinks=(1.0,)), _signs(r, 3, 5)),
])
register("nn.functional.cosine_embedding_loss", F.cosine_embedding_loss, lambda r: [
    Sample(t(r, 4, 5), t(r, 4, 5), _signs(r, 4), margin=-0.9, reduction="sum"),
])
register("nn.functional.triplet_margin_loss", F.triplet_margin_loss, lambda r: [
    Sample(t(r, 4, 5), t(r, 4, 5), t(r, 4, 5), margin=5.0),
    Sample(t(r, 4, 5), t(r, 4, 5), t(r, 4, 5), margin=5.0, p=1, swap=True, desc="p=1, swap"),
])
register("nn.functional.soft_margin_loss", F.soft_margin_loss, lambda r: [
    Sample(t(r, 3, 5), _signs(r, 3, 5)),
])
register("nn.functional.multilabel_soft_margin_loss", F.multilabel_soft_margin_loss,
         lambda r: [Sample(t(r, 3, 5), mg.tensor(r.integers(0, 2, (3, 5)), dtype=mg.float64),
                           weight=t(r, 5, positive=True))])
register("nn.functional.multi_margin_loss", F.multi_margin_loss, lambda r: [
    Sample(t(r, 4, 5, low=-0.3, high=0.3), mg.tensor(r.integers(0, 5, 4)), margin=2.0),
    Sample(t(r, 4, 5, low=-0.3, high=0.3), mg.tensor(r.integers(0, 5, 4)), p=2,
           weight=t(r, 5, positive=True), desc="p=2, weight"),
])
register("nn.functional.poisson_nll_loss", F.poisson_nll_loss, lambda r: [
    Sample(t(r, 3, 5), mg.tensor(r.integers(0, 5, (3, 5)), dtype=mg.float64), full=True),
    Sample(t(r, 3, 5, positive=True), mg.tensor(r.integers(0, 5, (3, 5)), dtype=mg.float64),
           log_input=False, desc="rates"),
])
register("nn.functional.gaussian_nll_loss", F.gaussian_nll_loss, lambda r: [
    Sample(t(r, 3, 5), t(r, 3, 5), t(r, 3, 5, positive=True), full=True),
    Sample(t(r, 3, 5), t(r, 3, 5), t(r, 3, positive=True), desc="one variance per row"),
])

register("nn.functional.bilinear", F.bilinear, lambda r: [
    Sample(t(r, 4, 3), t(r, 4, 5), t(r, 2, 3, 5), t(r, 2), desc="bias"),
    Sample(t(r, 2, 3, 3), t(r, 2, 3, 2), t(r, 4, 3, 2), desc="two leading dims, no bias"),
])
