"""The fused tanh/ReLU RNN layer equals the same layer written as per-step ops: outputs,
every gradient, both directions, both nonlinearities, and second derivatives."""

from __future__ import annotations

import numpy as np
import pytest
from layer_helpers import assert_first_gradient_is_the_fused_backward, derivatives_up_to_third

import minigrad as mg
from minigrad.ops.rnn_sequence import rnn_sequence, rnn_sequence_reference

L, N, H = 5, 3, 4


def inputs(seed):
    rng = np.random.default_rng(seed)
    arrays = (rng.normal(size=(L, N, H)) * 2, rng.normal(size=(N, H)),
              rng.normal(size=(H, H)) * 0.5)
    return [mg.tensor(a, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("reverse", [False, True])
def test_values_and_gradients_match_the_per_step_layer(nonlinearity, reverse):
    rng = np.random.default_rng(7)
    g_hs, g_h = mg.tensor(rng.normal(size=(L, N, H))), mg.tensor(rng.normal(size=(N, H)))
    results = []
    for fn in (rnn_sequence, rnn_sequence_reference):
        xs = inputs(1)
        outs = fn(*xs, nonlinearity=nonlinearity, reverse=reverse)
        mg.autograd.backward(list(outs), [g_hs, g_h])
        results.append([o.detach().numpy() for o in outs] + [x.grad.numpy() for x in xs])
    for fused, reference in zip(*results):
        np.testing.assert_allclose(fused, reference, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_gradcheck_and_gradgradcheck(nonlinearity):
    def layer(*xs):
        hs, h = rnn_sequence(*xs, nonlinearity=nonlinearity, reverse=True)
        return hs.sum() * 0.3 + (h * h).sum()

    xs = inputs(2)
    assert mg.autograd.gradcheck(layer, xs)
    assert mg.autograd.gradgradcheck(layer, xs)


def _loss(fn, nonlinearity, reverse):
    """A scalar that uses every output nonlinearly, so its gradient with respect to the
    outputs depends on the inputs too (as in a Hessian-vector product)."""
    def loss(*xs):
        hs, h = fn(*xs, nonlinearity=nonlinearity, reverse=reverse)
        return (hs * hs).sum() * 0.3 + (h * h * h).sum()
    return loss


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_first_gradients_take_the_fused_backward_with_or_without_create_graph(nonlinearity):
    assert_first_gradient_is_the_fused_backward(_loss(rnn_sequence, nonlinearity, False),
                                                inputs(8), "RNNSequenceBackward")


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("reverse", [False, True])
def test_second_and_third_derivatives_match_the_per_step_layer(nonlinearity, reverse):
    xs = inputs(9)
    fused = derivatives_up_to_third(_loss(rnn_sequence, nonlinearity, reverse), xs)
    reference = derivatives_up_to_third(_loss(rnn_sequence_reference, nonlinearity, reverse),
                                        xs)
    for order_fused, order_reference in zip(fused, reference):
        for a, b in zip(order_fused, order_reference):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_unknown_nonlinearity():
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu', got 'gelu'"):
        rnn_sequence(*inputs(3), nonlinearity="gelu")
