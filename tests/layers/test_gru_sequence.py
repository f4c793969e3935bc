"""The fused GRU layer (one op over the whole sequence, BPTT by hand) equals the same layer
written as per-step ops: outputs, every gradient, both directions, and second derivatives."""

from __future__ import annotations

import numpy as np
import pytest
from layer_helpers import assert_first_gradient_is_the_fused_backward, derivatives_up_to_third

import minigrad as mg
from minigrad.ops.gru_sequence import gru_sequence, gru_sequence_reference

L, N, H = 5, 3, 4     # odd sizes: 5 steps, batch 3, hidden 4 (gates 12 wide)


def inputs(seed, bias=True, requires_grad=True):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=(L, N, 3 * H)) * 2, rng.normal(size=(N, H)),
              rng.normal(size=(3 * H, H)) * 0.5]
    arrays.append(rng.normal(size=3 * H) if bias else None)
    return [None if a is None else mg.tensor(a, requires_grad=requires_grad) for a in arrays]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_values_and_gradients_match_the_per_step_layer(reverse, bias):
    rng = np.random.default_rng(7)
    g_hs, g_h = mg.tensor(rng.normal(size=(L, N, H))), mg.tensor(rng.normal(size=(N, H)))
    results = []
    for fn in (gru_sequence, gru_sequence_reference):
        xs = inputs(1, bias)
        outs = fn(*xs, reverse=reverse)
        mg.autograd.backward(list(outs), [g_hs, g_h])
        results.append([o.detach().numpy() for o in outs]
                       + [x.grad.numpy() for x in xs if x is not None])
    for fused, reference in zip(*results):
        np.testing.assert_allclose(fused, reference, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck_and_gradgradcheck(reverse):
    def layer(*xs):
        hs, h = gru_sequence(*xs, reverse=reverse)
        return hs.sum() * 0.3 + (h * h).sum()

    xs = inputs(2)
    assert mg.autograd.gradcheck(layer, xs)
    assert mg.autograd.gradgradcheck(layer, xs)


def _loss(fn, reverse):
    """A scalar that uses every output nonlinearly, so its gradient with respect to the
    outputs depends on the inputs too (as in a Hessian-vector product)."""
    def loss(*xs):
        hs, h = fn(*xs, reverse=reverse)
        return (hs * hs).sum() * 0.3 + (h * h * h).sum()
    return loss


def test_first_gradients_take_the_fused_backward_with_or_without_create_graph():
    assert_first_gradient_is_the_fused_backward(_loss(gru_sequence, True), inputs(8),
                                                "GRUSequenceBackward")


@pytest.mark.parametrize("reverse", [False, True])
def test_second_and_third_derivatives_match_the_per_step_layer(reverse):
    xs = inputs(9)
    fused = derivatives_up_to_third(_loss(gru_sequence, reverse), xs)
    reference = derivatives_up_to_third(_loss(gru_sequence_reference, reverse), xs)
    for order_fused, order_reference in zip(fused, reference):
        for a, b in zip(order_fused, order_reference):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_changing_an_output_in_place_does_not_change_the_gradients():
    xs = inputs(5)
    hs, h = gru_sequence(*xs)
    (expected,) = mg.autograd.grad(h.sum(), [xs[2]], retain_graph=True)
    with mg.no_grad():
        hs += 100.0
    (after,) = mg.autograd.grad(h.sum(), [xs[2]])
    np.testing.assert_array_equal(after.numpy(), expected.numpy())


def test_gru_module_uses_the_fused_op_and_agrees_with_its_cell():
    mg.manual_seed(0)
    gru, cell = mg.nn.GRU(3, H), mg.nn.GRUCell(3, H)
    cell.load_state_dict({k[:-3]: v for k, v in gru.state_dict().items()})
    x = mg.tensor(np.random.default_rng(4).normal(size=(L, N, 3)), dtype=mg.float32)
    out, h_n = gru(x)
    assert "GRUSequence" in repr(out.grad_fn)
    h = mg.zeros(N, H, dtype=x.dtype)
    for t in range(L):
        h = cell(x[t], h)
        np.testing.assert_allclose(out[t].detach().numpy(), h.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h_n[0].detach().numpy(), h.detach().numpy(), rtol=1e-5, atol=1e-6)
