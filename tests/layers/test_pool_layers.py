"""MaxPool2d, AvgPool2d, AdaptiveAvgPool2d: agreement with PyTorch, gradients, errors."""

from __future__ import annotations

import numpy as np
import pytest
from layer_helpers import compare_with_torch, leaf, module_gradcheck

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F

MAX_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0), dilation=(2, 1)),
    dict(kernel_size=2, stride=1, dilation=2, ceil_mode=True, padding=1),
]


@pytest.mark.parametrize("kwargs", MAX_CASES)
def test_max_pool2d_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for shape in [(2, 3, 7, 6), (3, 8, 9)]:
        compare_with_torch(nn.MaxPool2d(**kwargs), torch.nn.MaxPool2d(**kwargs),
                           [rng.standard_normal(shape)], rng=rng)


def test_max_pool2d_indices_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 7, 6))
    x[0, 0, :2, :2] = 1.5  # a tie: the first maximum wins, in both
    for kwargs in MAX_CASES:
        y, idx = nn.MaxPool2d(return_indices=True, **kwargs)(mg.tensor(x))
        ty, tidx = torch.nn.MaxPool2d(return_indices=True, **kwargs)(torch.tensor(x))
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
        np.testing.assert_array_equal(y.numpy(), ty.numpy())


AVG_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True,
         count_include_pad=False),
    dict(kernel_size=2, divisor_override=3),
]


@pytest.mark.parametrize("kwargs", AVG_CASES)
def test_avg_pool2d_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    for shape in [(2, 3, 7, 6), (3, 8, 9)]:
        compare_with_torch(nn.AvgPool2d(**kwargs), torch.nn.AvgPool2d(**kwargs),
                           [rng.standard_normal(shape)], rng=rng)


@pytest.mark.parametrize("output_size", [1, (1, 1), 3, (2, 4), (None, 3), (7, 6)])
def test_adaptive_avg_pool2d_matches_torch(output_size):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    compare_with_torch(nn.AdaptiveAvgPool2d(output_size), torch.nn.AdaptiveAvgPool2d(output_size),
                       [rng.standard_normal((2, 3, 7, 6))], rng=rng)


def test_reprs_match_torch():
    torch = pytest.importorskip("torch")
    for a, b in [(nn.MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1)),
                 (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
                 (nn.AdaptiveAvgPool2d((1, 1)), torch.nn.AdaptiveAvgPool2d((1, 1)))]:
        assert repr(a) == repr(b)


def test_pool_modules_gradcheck():
    rng = np.random.default_rng(4)
    module_gradcheck(nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), leaf(rng, 1, 2, 6, 5))
    module_gradcheck(nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
                     leaf(rng, 1, 2, 6, 5))
    module_gradcheck(nn.AdaptiveAvgPool2d((2, 3)), leaf(rng, 1, 2, 5, 4))


def test_overlapping_max_windows_add_gradients():
    """One element that wins two overlapping windows gets both windows' gradients."""
    x = mg.tensor([[[[0.0, 0.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 0.0]]]], requires_grad=True)
    nn.MaxPool2d(2, stride=1)(x).sum().backward()
    assert x.grad.numpy()[0, 0, 1, 1] == 4.0 and x.grad.numpy().sum() == 4.0


def test_window_that_dilation_steps_over_gets_no_gradient():
    """Kernel 2, dilation 2, padding 1 on a 1-pixel-high input: every window reads rows -1 and
    1, both padding. Outputs are -inf with index -1, and no gradient reaches x."""
    x = mg.tensor(np.arange(4.0).reshape(1, 1, 1, 4), requires_grad=True)
    y, idx = F.max_pool2d(x, 2, stride=1, padding=1, dilation=2, return_indices=True)
    assert np.all(np.isneginf(y.detach().numpy())) and np.all(idx.numpy() == -1)
    (gx,) = mg.autograd.grad(y.sum(), [x], create_graph=True)
    assert not gx.detach().numpy().any()


def test_integer_input_pools_without_gradient():
    x = mg.tensor(np.arange(20).reshape(1, 1, 4, 5))
    y = F.max_pool2d(x, 2)
    assert y.dtype == mg.int64 and y.numpy().tolist() == [[[[6, 8], [16, 18]]]]


def test_errors_name_the_numbers():
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel "
                                           "size, but got pad=2, kernel_size=3"):
        nn.MaxPool2d(3, padding=2)(mg.zeros(1, 1, 5, 5))
    with pytest.raises(RuntimeError, match=r"max_pool2d: input of shape \(1, 1, 2, 2\).*too "
                                           "small"):
        nn.MaxPool2d(3)(mg.zeros(1, 1, 2, 2))
    with pytest.raises(RuntimeError, match="avg_pool2d: expected a 3-D .* or 4-D"):
        nn.AvgPool2d(2)(mg.zeros(4, 4))


def test_editing_the_returned_indices_does_not_change_the_gradient():
    x = mg.tensor(np.random.default_rng(2).normal(size=(1, 2, 6, 6)), requires_grad=True)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    idx.array[...] = 0                                   # scribble over the returned indices
    y.sum().backward()
    assert x.grad.numpy().sum() == y.numel() and x.grad.numpy()[0, 0, 0, 0] <= 1
