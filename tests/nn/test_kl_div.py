"""F.kl_div and nn.KLDivLoss: every reduction, probability and log-probability targets.

Values and gradients against PyTorch (input and target, broadcasting, type promotion, a zero
or negative target), float64 gradcheck and gradgradcheck, and the errors for bad input.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

REDUCTIONS = ["none", "mean", "sum", "batchmean"]


def _log_probs(rng, *shape):
    """Log-probabilities along the last dim (any leading shape)."""
    z = rng.standard_normal(shape) * 2
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def _kl(input, target, **kw):  # noqa: A002
    """F.kl_div without the warning reduction="mean" gives (tested on its own below)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return F.kl_div(input, target, **kw)


def _torch_kl(torch, input, target, **kw):  # noqa: A002
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.nn.functional.kl_div(input, target, **kw)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("shape", [(5,), (3, 7), (2, 3, 5)])
def test_values_and_gradients_match_torch(shape, reduction, log_target):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(sum(shape))
    logq = _log_probs(rng, *shape)
    target = _log_probs(rng, *shape)
    if not log_target:
        target = np.exp(target)
    kw = dict(reduction=reduction, log_target=log_target)
    a, b = (mg.tensor(v, requires_grad=True) for v in (logq, target))
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (logq, target))
    out, t_out = _kl(a, b, **kw), _torch_kl(torch, ta, tb, **kw)
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-12,
                               atol=1e-14)
    upstream = rng.standard_normal(tuple(t_out.shape))
    out.backward(mg.tensor(upstream))
    t_out.backward(torch.tensor(upstream))
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_zero_and_negative_probability_targets_match_torch():
    """0 log 0 counts as 0 (xlogy); a negative 'probability' has no log: nan, as in PyTorch.
    The gradient for the input is -target either way."""
    torch = pytest.importorskip("torch")
    logq = _log_probs(np.random.default_rng(0), 2, 3)
    target = np.array([[0.0, 0.3, 0.7], [-0.5, 0.5, 1.0]])
    a = mg.tensor(logq, requires_grad=True)
    ta = torch.tensor(logq, requires_grad=True)
    out = F.kl_div(a, mg.tensor(target), reduction="none")
    t_out = torch.nn.functional.kl_div(ta, torch.tensor(target), reduction="none")
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-12)
    assert out[0, 0].item() == 0.0 and np.isnan(out[1, 0].item())
    out.sum().backward()
    t_out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("log_target", [False, True])
def test_broadcasting_target_matches_torch(log_target):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    logq, target = _log_probs(rng, 3, 7), _log_probs(rng, 7)
    if not log_target:
        target = np.exp(target)
    for a, b in ((logq, target), (target if log_target else np.log(target), np.exp(logq))):
        out = F.kl_div(mg.tensor(a), mg.tensor(b), reduction="batchmean", log_target=log_target)
        expected = torch.nn.functional.kl_div(torch.tensor(a), torch.tensor(b),
                                              reduction="batchmean", log_target=log_target)
        np.testing.assert_allclose(out.item(), expected.item(), rtol=1e-12)


@pytest.mark.parametrize("input_dtype, target_dtype, target_0d", [
    (mg.float32, mg.float64, False), (mg.float64, mg.float32, False),
    (mg.float32, mg.float64, True), (mg.float16, mg.float32, False)])
def test_dtype_promotion_matches_torch(input_dtype, target_dtype, target_0d):
    """float32 log-probabilities with float64 targets compute in float64, as in PyTorch; a 0-d
    target ranks like a scalar and cannot widen the result."""
    torch = pytest.importorskip("torch")
    logq = _log_probs(np.random.default_rng(2), 3, 5)
    target = np.array(0.2) if target_0d else np.exp(_log_probs(np.random.default_rng(3), 3, 5))
    out = F.kl_div(mg.tensor(logq, dtype=input_dtype), mg.tensor(target, dtype=target_dtype),
                   reduction="sum")
    to_torch = {mg.float16: torch.float16, mg.float32: torch.float32, mg.float64: torch.float64}
    expected = torch.nn.functional.kl_div(torch.tensor(logq, dtype=to_torch[input_dtype]),
                                          torch.tensor(target, dtype=to_torch[target_dtype]),
                                          reduction="sum")
    assert str(out.dtype) == str(expected.dtype).removeprefix("torch.")
    np.testing.assert_allclose(out.item(), expected.item(), rtol=1e-3)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_target", [False, True])
def test_gradcheck_and_gradgradcheck(reduction, log_target):
    rng = np.random.default_rng(4)
    logq = mg.tensor(_log_probs(rng, 3, 5), requires_grad=True)
    target = _log_probs(rng, 3, 5)
    # probability targets stay well inside (0, 1): t log t has an infinite slope at 0
    target = mg.tensor(target if log_target else np.exp(target) + 0.05, requires_grad=True)

    def fn(a, b):
        return _kl(a, b, reduction=reduction, log_target=log_target)

    assert mg.autograd.gradcheck(fn, (logq, target))
    assert mg.autograd.gradgradcheck(fn, (logq, target))


def test_batchmean_is_the_kl_divergence_per_sample():
    rng = np.random.default_rng(5)
    p, q = np.exp(_log_probs(rng, 4, 6)), np.exp(_log_probs(rng, 4, 6))
    by_definition = (p * np.log(p / q)).sum(axis=1).mean()
    got = F.kl_div(mg.tensor(np.log(q)), mg.tensor(p), reduction="batchmean")
    np.testing.assert_allclose(got.item(), by_definition, rtol=1e-12)
    got_log = F.kl_div(mg.tensor(np.log(q)), mg.tensor(np.log(p)), reduction="batchmean",
                       log_target=True)
    np.testing.assert_allclose(got_log.item(), by_definition, rtol=1e-12)


def test_mean_reduction_warns_and_divides_by_every_element():
    logq = mg.tensor(_log_probs(np.random.default_rng(6), 3, 4))
    p = logq.exp()
    with pytest.warns(UserWarning, match="kl_div: reduction: 'mean' divides the total loss"):
        mean = F.kl_div(logq.flip(0), p, reduction="mean")
    np.testing.assert_allclose(mean.item(), F.kl_div(logq.flip(0), p, reduction="sum").item() / 12,
                               rtol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_target", [False, True])
def test_kldivloss_module_matches_functional_and_torch(reduction, log_target):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    logq, target = _log_probs(rng, 4, 3), _log_probs(rng, 4, 3)
    if not log_target:
        target = np.exp(target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        module = nn.KLDivLoss(reduction=reduction, log_target=log_target)
        got = module(mg.tensor(logq), mg.tensor(target))
        expected = torch.nn.KLDivLoss(reduction=reduction, log_target=log_target)(
            torch.tensor(logq), torch.tensor(target))
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        got.numpy(), _kl(mg.tensor(logq), mg.tensor(target), reduction=reduction,
                         log_target=log_target).numpy(), rtol=0)
    assert module.log_target is log_target and module.reduction == reduction


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.kl_div(mg.ones(3, 4, dtype=mg.int64), mg.ones(3, 4) / 4, reduction="sum"),
     RuntimeError, r"kl_div: integral inputs are not supported: input has dtype int64"),
    (lambda: F.kl_div(mg.zeros(3, 4), mg.ones(3, 4, dtype=mg.int64), reduction="sum"),
     RuntimeError, r"kl_div: integral inputs are not supported: target has dtype int64"),
    (lambda: F.kl_div(mg.zeros(3, 4), mg.ones(3, 4, dtype=mg.bool), reduction="sum",
                      log_target=True),
     RuntimeError, r"target has dtype bool .*target log-probabilities"),
    (lambda: F.kl_div(np.zeros((3, 4)), mg.ones(3, 4) / 4, reduction="sum"),
     TypeError, r"kl_div: input must be a Tensor of log-probabilities, got ndarray"),
    (lambda: F.kl_div(mg.zeros(3, 4), 0.25, reduction="sum"),
     TypeError, r"kl_div: target must be a Tensor, got a Python float"),
    (lambda: F.kl_div(mg.zeros(3, 4), mg.ones(3, 5) / 5, reduction="batchmean"),
     RuntimeError, r"kl_div: input of shape \(3, 4\) and target of shape \(3, 5\) cannot be "
                   r"broadcast together"),
    (lambda: F.kl_div(mg.zeros(3, 4), mg.ones(3, 4), reduction="avg"),
     ValueError, r"kl_div: 'avg' is not a valid value for reduction; use one of 'none', "
                 r"'mean', 'sum', 'batchmean'"),
    (lambda: nn.KLDivLoss(reduction="batchmean")(mg.zeros(2, 3), mg.ones(3, 2)),
     RuntimeError, r"kl_div: input of shape \(2, 3\) and target of shape \(3, 2\)"),
])
def test_bad_input_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
