"""The fused LSTM gate op equals the cell written out in separate ops, values and gradients."""

from __future__ import annotations

import numpy as np
import pytest
from layer_helpers import assert_first_gradient_is_the_fused_backward, derivatives_up_to_third

import minigrad as mg
from minigrad.ops.lstm_gates import lstm_gates, lstm_gates_reference


def test_fused_gates_match_the_written_out_cell():
    rng = np.random.default_rng(3)
    gates_np, c_np = rng.normal(size=(5, 12)) * 3, rng.normal(size=(5, 3))
    gh_np, gc_np = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    results = []
    for fn in (lstm_gates, lstm_gates_reference):
        gates = mg.tensor(gates_np, requires_grad=True)
        c = mg.tensor(c_np, requires_grad=True)
        h, c_new = fn(gates, c)
        mg.autograd.backward([h, c_new], [mg.tensor(gh_np), mg.tensor(gc_np)])
        results.append([h.detach().numpy(), c_new.detach().numpy(), gates.grad.numpy(),
                        c.grad.numpy()])
    for fused, reference in zip(*results):
        np.testing.assert_allclose(fused, reference, rtol=1e-12, atol=1e-14)


def _loss(fn):
    def loss(gates, c):
        h, c_new = fn(gates, c)
        return (h * c_new).sum() + (c_new * c_new).sum() * 0.5
    return loss


def _inputs(seed):
    rng = np.random.default_rng(seed)
    return [mg.tensor(rng.normal(size=s), requires_grad=True) for s in ((5, 12), (5, 3))]


def test_first_gradients_take_the_fused_backward_with_or_without_create_graph():
    assert_first_gradient_is_the_fused_backward(_loss(lstm_gates), _inputs(4),
                                                "LSTMGatesBackward")


@pytest.mark.parametrize("seed", [5, 6])
def test_second_and_third_derivatives_match_the_written_out_cell(seed):
    xs = _inputs(seed)
    fused = derivatives_up_to_third(_loss(lstm_gates), xs)
    reference = derivatives_up_to_third(_loss(lstm_gates_reference), xs)
    for order_fused, order_reference in zip(fused, reference):
        for a, b in zip(order_fused, order_reference):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
