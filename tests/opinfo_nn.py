"""Registry entries for ``mg.nn.functional`` (activations, losses, norms, embedding, dropout).

Targets, indices and flags are plain arguments (no gradient); every float64 leaf made with
``t(...)`` is gradchecked. Shapes are small and odd so that finite differences stay fast.
"""

from __future__ import annotations

import numpy as np
from opinfo import Sample, register, t

import minigrad as mg
import minigrad.nn.functional as F


def _classes(rng, *shape, c, ignore=None):
    """Random class indices in 0..c-1 (int64), optionally with some set to ``ignore``."""
    idx = rng.integers(0, c, size=shape)
    if ignore is not None:
        idx.reshape(-1)[::3] = ignore
    return mg.tensor(idx)


def _probs(rng, *shape, dim=1):
    """A float64 probability tensor (no grad) that sums to 1 along ``dim``."""
    p = rng.uniform(0.1, 1.0, size=shape)
    return mg.tensor(p / p.sum(axis=dim, keepdims=True))


def _const(rng, *shape, low=0.0, high=1.0):
    return mg.tensor(rng.uniform(low, high, size=shape))


# ---------------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------------

register("nn.functional.softmax", F.softmax, lambda r: [
    Sample(t(r, 3, 5), dim=1), Sample(t(r, 3, 5), dim=0), Sample(t(r, 2, 3, 4), dim=-1),
    Sample(t(r, 4, low=-30, high=30), dim=0, desc="large logits"),
], covers=("softmax",))
register("nn.functional.log_softmax", F.log_softmax, lambda r: [
    Sample(t(r, 3, 5), dim=1), Sample(t(r, 2, 3, 4), dim=1), Sample(t(r, 5), dim=0),
], covers=("log_softmax",))
register("nn.functional.relu", F.relu, lambda r: [Sample(t(r, 3, 5, away_from=0.0))])
register("nn.functional.sigmoid", F.sigmoid, lambda r: [Sample(t(r, 3, 5))])
register("nn.functional.tanh", F.tanh, lambda r: [Sample(t(r, 3, 5))])
register("nn.functional.gelu", F.gelu, lambda r: [
    Sample(t(r, 3, 5)), Sample(t(r, 3, 5), approximate="tanh"),
])
register("nn.functional.silu", F.silu, lambda r: [Sample(t(r, 3, 5, low=-6, high=6))])
register("nn.functional.leaky_relu", F.leaky_relu, lambda r: [
    Sample(t(r, 3, 5, away_from=0.0)), Sample(t(r, 7, away_from=0.0), negative_slope=0.2),
])
register("nn.functional.elu", F.elu, lambda r: [
    Sample(t(r, 3, 5, away_from=0.0)), Sample(t(r, 7, away_from=0.0), alpha=0.5),
])
register("nn.functional.softplus", F.softplus, lambda r: [
    Sample(t(r, 3, 5)), Sample(t(r, 7, low=-4, high=4), beta=2.0, threshold=5.0),
])
register("nn.functional.logsigmoid", F.logsigmoid, lambda r: [
    Sample(t(r, 3, 5, low=-40, high=40)),
])

# ---------------------------------------------------------------------------------------------
# Layers as functions
# ---------------------------------------------------------------------------------------------

register("nn.functional.linear", F.linear, lambda r: [
    Sample(t(r, 3, 4), t(r, 5, 4), t(r, 5)), Sample(t(r, 2, 3, 4), t(r, 2, 4)),
    Sample(t(r, 4), t(r, 3, 4), t(r, 3), desc="1-D input"),
])
register("nn.functional.layer_norm", F.layer_norm, lambda r: [
    Sample(t(r, 3, 5), (5,), t(r, 5), t(r, 5)),
    Sample(t(r, 2, 3, 4), (3, 4), t(r, 3, 4), None, eps=1e-3, desc="2-D shape, no bias"),
    Sample(t(r, 3, 5), 5, desc="no affine"),
])


register("nn.functional.group_norm", F.group_norm, lambda r: [
    Sample(t(r, 2, 6, 3), 3, t(r, 6), t(r, 6)),
    Sample(t(r, 3, 4, 2, 3), 2, t(r, 4), None, eps=1e-3, desc="4-D, no bias"),
    Sample(t(r, 2, 5), 5, desc="one channel per group, no affine"),
    Sample(t(r, 2, 4, 3), 1, t(r, 4), t(r, 4), desc="one group: layer norm over (C, L)"),
])


def _batch_norm_train(x, w, b):
    return F.batch_norm(x, None, None, w, b, training=True)


def _batch_norm_eval(x, w, b):
    rm = mg.tensor(np.linspace(-0.5, 0.5, x.shape[1]))
    rv = mg.tensor(np.linspace(0.5, 2.0, x.shape[1]))
    return F.batch_norm(x, rm, rv, w, b, training=False)


register("nn.functional.batch_norm", _batch_norm_train, lambda r: [
    Sample(t(r, 4, 3), t(r, 3), t(r, 3)), Sample(t(r, 3, 2, 2, 3), t(r, 2), t(r, 2)),
    Sample(t(r, 5, 3, 2), None, None, desc="no affine"),
])
register("nn.functional.batch_norm_eval", _batch_norm_eval, lambda r: [
    Sample(t(r, 4, 3), t(r, 3), t(r, 3)), Sample(t(r, 2, 2, 3, 3), t(r, 2), t(r, 2)),
])


def _embedding_samples(r):
    # (padding_idx and scale_grad_by_freq are deliberately *not* the true gradient; they are
    # tested against PyTorch in tests/nn/test_nn_*_vs_torch.py instead.)
    idx = mg.tensor(np.array([[0, 2, 4], [4, 1, 0]]))
    return [Sample(idx, t(r, 5, 3)), Sample(mg.tensor(3), t(r, 5, 2), desc="0-d index")]


register("nn.functional.embedding", F.embedding, _embedding_samples)


def _dropout_seeded(x, p):
    mg.manual_seed(7)  # the same mask on every call, so finite differences see one function
    return F.dropout(x, p, training=True)


register("nn.functional.dropout", _dropout_seeded, lambda r: [
    Sample(t(r, 3, 5), 0.3), Sample(t(r, 4), 0.0),
])
register("nn.functional.normalize", F.normalize, lambda r: [
    Sample(t(r, 3, 5)), Sample(t(r, 3, 5), dim=0), Sample(t(r, 4, 3, away_from=0.0), p=1.0),
])

# ---------------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------------


def _ce_samples(r):
    return [
        Sample(t(r, 4, 5), _classes(r, 4, c=5)),
        Sample(t(r, 4, 5), _classes(r, 4, c=5), reduction="sum"),
        Sample(t(r, 4, 5), _classes(r, 4, c=5), reduction="none"),
        Sample(t(r, 5, 3), _classes(r, 5, c=3, ignore=-100), desc="ignore_index"),
        Sample(t(r, 5, 3), _classes(r, 5, c=3, ignore=1), ignore_index=1,
               weight=_const(r, 3, low=0.5, high=2.0), desc="weight + ignore_index"),
        Sample(t(r, 4, 5), _classes(r, 4, c=5), label_smoothing=0.2),
        Sample(t(r, 5, 3), _classes(r, 5, c=3, ignore=-100), label_smoothing=0.1,
               weight=_const(r, 3, low=0.5, high=2.0), desc="smoothing + weight + ignore"),
        Sample(t(r, 2, 3, 4), _classes(r, 2, 4, c=3), desc="(N, C, d1) targets"),
        Sample(t(r, 2, 3, 2, 2), _classes(r, 2, 2, 2, c=3), reduction="none"),
        Sample(t(r, 4, 5), _probs(r, 4, 5), desc="probability targets"),
        Sample(t(r, 4, 5), _probs(r, 4, 5), label_smoothing=0.3,
               weight=_const(r, 5, low=0.5, high=2.0)),
        Sample(t(r, 5), mg.tensor(2), desc="unbatched"),
    ]


register("nn.functional.cross_entropy", F.cross_entropy, _ce_samples)


def _nll_samples(r):
    return [
        Sample(t(r, 4, 5), _classes(r, 4, c=5)),
        Sample(t(r, 5, 3), _classes(r, 5, c=3, ignore=-100), weight=_const(r, 3, low=0.5),
               reduction="sum"),
        Sample(t(r, 2, 3, 4), _classes(r, 2, 4, c=3), reduction="none"),
    ]


register("nn.functional.nll_loss", F.nll_loss, _nll_samples)


def _regression_samples(r):
    return [Sample(t(r, 3, 5), _const(r, 3, 5)),
            Sample(t(r, 3, 5), _const(r, 3, 5), reduction="sum"),
            Sample(t(r, 4), t(r, 4), reduction="none", desc="target requires grad too")]


register("nn.functional.mse_loss", F.mse_loss, _regression_samples)
register("nn.functional.l1_loss", F.l1_loss, _regression_samples)


def _robust_samples(option):
    """huber_loss(delta=0.7) / smooth_l1_loss(beta=0.7) on differences input - target drawn on
    both sides of the kink at |d| = 0.7 but at least 0.05 away from it (and from 0), so the
    finite differences never straddle two formulas."""
    def leaf_around(r, target, shape):
        magnitude = r.choice([0.2, 0.4, 1.1, 2.3], size=shape) + r.uniform(0, 0.2, size=shape)
        d = magnitude * r.choice([-1.0, 1.0], size=shape)
        return mg.tensor(target.numpy() + d, requires_grad=True)

    def samples(r):
        target = _const(r, 3, 5)
        target2 = _const(r, 4)
        return [Sample(leaf_around(r, target, (3, 5)), target, **{option: 0.7}),
                Sample(leaf_around(r, target, (3, 5)), target, reduction="sum", **{option: 0.7}),
                Sample(leaf_around(r, target2, (4,)), target2.requires_grad_(), reduction="none",
                       desc="target requires grad too", **{option: 0.7})]
    return samples


register("nn.functional.huber_loss", F.huber_loss, _robust_samples("delta"))
register("nn.functional.smooth_l1_loss", F.smooth_l1_loss, _robust_samples("beta"))


def _probability_leaf(r, *shape):
    return mg.tensor(r.uniform(0.1, 0.9, size=shape), requires_grad=True)


register("nn.functional.binary_cross_entropy", F.binary_cross_entropy, lambda r: [
    Sample(_probability_leaf(r, 3, 4), _const(r, 3, 4)),
    Sample(_probability_leaf(r, 5), _const(r, 5), weight=_const(r, 5), reduction="sum"),
    Sample(_probability_leaf(r, 4), _probability_leaf(r, 4), reduction="none",
           desc="target requires grad"),
])
register("nn.functional.binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits,
         lambda r: [
             Sample(t(r, 3, 4), _const(r, 3, 4)),
             Sample(t(r, 3, 4), _const(r, 3, 4), pos_weight=_const(r, 4, low=0.5, high=3.0),
                    weight=_const(r, 3, 4), reduction="sum"),
             Sample(t(r, 5, low=-30, high=30), t(r, 5, low=0, high=1), reduction="none",
                    desc="large logits, target requires grad"),
         ])


def _kl_samples(r):
    logq = mg.log(_probs(r, 3, 4)).requires_grad_()
    return [
        Sample(logq, _probs(r, 3, 4), reduction="batchmean"),
        Sample(mg.log(_probs(r, 3, 4)).requires_grad_(), _probs(r, 3, 4), reduction="sum"),
        Sample(mg.log(_probs(r, 3, 4)).requires_grad_(), mg.log(_probs(r, 3, 4)),
               reduction="batchmean", log_target=True),
        Sample(mg.log(_probs(r, 2, 5)).requires_grad_(), _probs(r, 2, 5).requires_grad_(),
               reduction="none", desc="target requires grad"),
    ]


register("nn.functional.kl_div", F.kl_div, _kl_samples)
