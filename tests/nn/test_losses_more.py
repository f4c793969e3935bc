"""MarginRanking, HingeEmbedding, CosineEmbedding, TripletMargin, SoftMargin,
MultiLabelSoftMargin, MultiMargin, PoissonNLL and GaussianNLL losses: values and input
gradients against torch for every reduction, reprs, and bad input. (Gradcheck and
gradgradcheck: tests/opinfo_nn_idioms.py through tests/test_registry.py.)"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def _cases(rng):
    """name -> (constructor kwargs, forward args as NumPy arrays; float ones get gradients)."""
    signs = lambda *s: rng.choice([-1.0, 1.0], size=s)  # noqa: E731
    x = lambda *s: rng.standard_normal(s)  # noqa: E731
    return {
        "MarginRankingLoss": (dict(margin=0.2), (x(7), x(7), signs(7))),
        "HingeEmbeddingLoss": (dict(margin=0.5), (x(3, 5), signs(3, 5))),
        "CosineEmbeddingLoss": (dict(margin=0.1), (x(4, 6), x(4, 6), signs(4))),
        "TripletMarginLoss": (dict(margin=1.5, p=1.0, swap=True), (x(5, 4), x(5, 4), x(5, 4))),
        "SoftMarginLoss": ({}, (x(3, 5) * 10, signs(3, 5))),
        "MultiLabelSoftMarginLoss": ({}, (x(4, 5), rng.integers(0, 2, (4, 5)).astype(float))),
        "MultiMarginLoss": (dict(p=2, margin=0.7), (x(5, 4), rng.integers(0, 4, 5))),
        "PoissonNLLLoss": (dict(full=True), (x(3, 5), rng.integers(0, 6, (3, 5)).astype(float))),
        "GaussianNLLLoss": (dict(full=True, eps=0.05), (x(3, 5), x(3, 5),
                                                        np.abs(x(3, 5)) * 0.2)),
    }


# which forward arguments are differentiated (the others are targets)
DIFFERENTIABLE = {"MarginRankingLoss": (0, 1), "HingeEmbeddingLoss": (0,),
                  "CosineEmbeddingLoss": (0, 1), "TripletMarginLoss": (0, 1, 2),
                  "SoftMarginLoss": (0,), "MultiLabelSoftMarginLoss": (0,),
                  "MultiMarginLoss": (0,), "PoissonNLLLoss": (0,), "GaussianNLLLoss": (0, 2)}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(_cases(np.random.default_rng(0))))
def test_matches_torch(rng, name, reduction):
    torch = pytest.importorskip("torch")
    kwargs, args = _cases(rng)[name]
    kwargs = dict(kwargs, reduction=reduction)
    mine, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(mine) == repr(theirs)
    differentiable = DIFFERENTIABLE[name]
    ours_in = [mg.tensor(a, requires_grad=i in differentiable) for i, a in enumerate(args)]
    their_in = [torch.tensor(a, requires_grad=t.requires_grad) for a, t in zip(args, ours_in)]
    out, tout = mine(*ours_in), theirs(*their_in)
    np.testing.assert_allclose(out.array, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    weights = rng.standard_normal(tout.shape)
    (out * mg.tensor(weights)).sum().backward()
    (tout * torch.tensor(weights)).sum().backward()
    for ours, theirs_t in zip(ours_in, their_in):
        if ours.requires_grad:
            assert ours.grad is not None
            np.testing.assert_allclose(ours.grad.array, theirs_t.grad.numpy(), rtol=1e-9,
                                       atol=1e-12)


def test_gaussian_variance_gradient_passes_the_clamp_like_torch(rng):
    torch = pytest.importorskip("torch")
    mu, y = rng.standard_normal(6), rng.standard_normal(6)
    var = np.array([1e-9, 0.5, 2.0, 1e-8, 0.3, 1.0])         # two entries below eps
    v, tv = mg.tensor(var, requires_grad=True), torch.tensor(var, requires_grad=True)
    nn.functional.gaussian_nll_loss(mg.tensor(mu), mg.tensor(y), v).backward()
    torch.nn.functional.gaussian_nll_loss(torch.tensor(mu), torch.tensor(y), tv).backward()
    np.testing.assert_allclose(v.grad.array, tv.grad.numpy(), rtol=1e-10)


def test_bad_input():
    F = nn.functional
    with pytest.raises(ValueError, match="var has negative"):
        F.gaussian_nll_loss(mg.zeros(3), mg.zeros(3), mg.tensor([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match=r"var is of incorrect size: var \(2,\) for input "
                                         r"\(3, 4\)"):
        F.gaussian_nll_loss(mg.zeros(3, 4), mg.zeros(3, 4), mg.ones(2))
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(IndexError, match=r"target values must be in \[0, 3\]"):
        F.multi_margin_loss(mg.zeros(2, 4), mg.tensor([1, 4]))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        F.triplet_margin_loss(mg.zeros(2, 3), mg.zeros(3), mg.zeros(2, 3))
    with pytest.raises(RuntimeError, match="cosine_embedding_loss: expected inputs of shape"):
        F.cosine_embedding_loss(mg.zeros(2, 3), mg.zeros(2, 3), mg.ones(2, 1))
    with pytest.raises(ValueError, match="margin to be greater than 0"):
        nn.TripletMarginLoss(margin=0)
