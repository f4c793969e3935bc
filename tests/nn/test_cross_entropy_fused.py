"""cross_entropy with class-index targets as one op (CrossEntropyLoss in ops/loss.py): the same
values and gradients as log_softmax followed by nll_loss, and as PyTorch; differentiable twice
(its backward falls back to the two ops' backwards when it is itself recorded)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.ops.loss import CrossEntropyLoss

REDUCTIONS = ("mean", "sum", "none")
# (input shape, class dim): a batch, one sample (0-d target), extra dims after the classes
SHAPES = [((7, 5), 1), ((5,), 0), ((3, 4, 2, 3), 1), ((1, 3), 1)]
OPTIONS = list(itertools.product(REDUCTIONS, [False, True], [-100, 2]))


def _case(rng, shape, cdim, ignore_index, weighted, dtype=np.float64):
    c = shape[cdim]
    tshape = tuple(s for i, s in enumerate(shape) if i != cdim)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    t = rng.integers(0, c, tshape)
    if t.ndim:
        t.reshape(-1)[::3] = ignore_index if ignore_index >= 0 else -100
    w = rng.uniform(0.5, 2.0, c).astype(dtype) if weighted else None
    return x, t, w


def _losses(x, t, w, **kw):
    """(fused cross_entropy, composite log_softmax + nll_loss), each with its input Tensor."""
    weight = None if w is None else mg.tensor(w)
    cdim = 0 if x.ndim == 1 else 1
    xf = mg.tensor(x, requires_grad=True)
    xc = mg.tensor(x, requires_grad=True)
    fused = F.cross_entropy(xf, mg.tensor(t), weight=weight, **kw)
    composite = F.nll_loss(F.log_softmax(xc, cdim), mg.tensor(t), weight=weight, **kw)
    return (fused, xf), (composite, xc)


@pytest.mark.parametrize("reduction,weighted,ignore_index", OPTIONS)
@pytest.mark.parametrize("shape,cdim", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_equals_log_softmax_then_nll_loss(shape, cdim, reduction, weighted,
                                                ignore_index, dtype):
    rng = np.random.default_rng(11)
    x, t, w = _case(rng, shape, cdim, ignore_index, weighted, dtype)
    kw = dict(reduction=reduction, ignore_index=ignore_index)
    (fused, xf), (composite, xc) = _losses(x, t, w, **kw)
    assert type(fused.grad_fn).__name__ == "Context" and fused.grad_fn.fn is CrossEntropyLoss
    assert fused.dtype == composite.dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(fused.detach().numpy(), composite.detach().numpy(), rtol=tol, atol=tol)
    up = rng.standard_normal(fused.shape).astype(dtype)
    fused.backward(mg.tensor(up))
    composite.backward(mg.tensor(up))
    assert xf.grad.dtype == dtype
    np.testing.assert_allclose(xf.grad.numpy(), xc.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("reduction,weighted,ignore_index", OPTIONS)
@pytest.mark.parametrize("shape,cdim", SHAPES)
def test_fused_matches_pytorch_values_gradients_and_second_derivatives(
        shape, cdim, reduction, weighted, ignore_index):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x, t, w = _case(rng, shape, cdim, ignore_index, weighted)
    kw = dict(reduction=reduction, ignore_index=ignore_index)
    xm = mg.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    lm = F.cross_entropy(xm, mg.tensor(t), weight=None if w is None else mg.tensor(w), **kw)
    lt = torch.nn.functional.cross_entropy(
        xt, torch.from_numpy(t), weight=None if w is None else torch.from_numpy(w), **kw)
    np.testing.assert_allclose(lm.detach().numpy(), lt.detach().numpy(), rtol=1e-12, atol=1e-12)
    up = rng.standard_normal(tuple(lt.shape))
    (gm,) = mg.autograd.grad(lm, xm, mg.tensor(up), create_graph=True)
    (gt,) = torch.autograd.grad(lt, xt, torch.from_numpy(up), create_graph=True)
    np.testing.assert_allclose(gm.detach().numpy(), gt.detach().numpy(), rtol=1e-12, atol=1e-12)
    v = rng.standard_normal(x.shape)                     # a Hessian-vector product
    (hm,) = mg.autograd.grad((gm * mg.tensor(v)).sum(), xm)
    (ht,) = torch.autograd.grad((gt * torch.from_numpy(v)).sum(), xt)
    np.testing.assert_allclose(hm.numpy(), ht.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_fused_gradcheck_and_gradgradcheck(reduction, weighted):
    rng = np.random.default_rng(2)
    x, t, w = _case(rng, (5, 3, 2), 1, -100, weighted)
    target = mg.tensor(t)
    weight = None if w is None else mg.tensor(w)

    def loss(a):
        return F.cross_entropy(a, target, weight=weight, reduction=reduction)

    xm = mg.tensor(x, requires_grad=True)
    assert mg.autograd.gradcheck(loss, (xm,))
    assert mg.autograd.gradgradcheck(loss, (xm,))


def test_fused_all_targets_ignored_mean_is_nan_with_zero_gradient():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((3, 4))
    t = np.full(3, -100)
    xm = mg.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    with np.errstate(invalid="ignore"):
        lm = F.cross_entropy(xm, mg.tensor(t))
        lm.backward()
    lt = torch.nn.functional.cross_entropy(xt, torch.from_numpy(t))
    lt.backward()
    assert np.isnan(lm.item()) and np.isnan(lt.item())
    np.testing.assert_array_equal(xm.grad.numpy(), xt.grad.numpy())
    assert not np.signbit(xm.grad.numpy()).any()                 # exactly 0, not -0


def test_label_smoothing_and_probability_targets_keep_the_composite_path():
    rng = np.random.default_rng(8)
    x = mg.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    smoothed = F.cross_entropy(x, mg.tensor([0, 1, 2, 1]), label_smoothing=0.1)
    probabilities = F.cross_entropy(x, F.softmax(mg.tensor(rng.standard_normal((4, 3))), 1))
    assert smoothed.grad_fn.fn is not CrossEntropyLoss
    assert probabilities.grad_fn.fn is not CrossEntropyLoss


def test_fused_bad_targets_keep_their_errors():
    x = mg.tensor(np.zeros((3, 4), np.float32), requires_grad=True)
    with pytest.raises(IndexError, match="cross_entropy: target contains class 4"):
        F.cross_entropy(x, mg.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match=r"cross_entropy: Expected input batch_size \(3\)"):
        F.cross_entropy(x, mg.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"cross_entropy: weight must have shape \(4,\)"):
        F.cross_entropy(x, mg.tensor([0, 1, 2]), weight=mg.ones(3))


def test_out_of_range_targets_are_found_beside_ignored_ones():
    """The range check looks at min and max first; an ignored index outside 0..C-1 must not
    hide a bad target, nor be reported itself."""
    x = mg.tensor(np.zeros((4, 3)), requires_grad=True)
    with pytest.raises(IndexError, match="target contains class 7"):
        F.cross_entropy(x, mg.tensor([0, -100, 7, 1]))
    with pytest.raises(IndexError, match="target contains class -2"):
        F.cross_entropy(x, mg.tensor([0, -2, 9, 1]), ignore_index=9)
    loss = F.cross_entropy(x, mg.tensor([0, 9, 2, 9]), ignore_index=9)
    np.testing.assert_allclose(loss.item(), np.log(3))
