"""The fused LSTM layer (one op over the whole sequence, BPTT by hand) equals the same layer
written as per-step ops: outputs, every gradient, both directions, and second derivatives."""

from __future__ import annotations

import numpy as np
import pytest
from layer_helpers import assert_first_gradient_is_the_fused_backward, derivatives_up_to_third

import minigrad as mg
from minigrad.ops.lstm_gates import lstm_gates_reference
from minigrad.ops.lstm_sequence import (
    lstm_sequence,
    lstm_sequence_projected,
    lstm_sequence_reference,
)

L, N, H = 5, 3, 4     # odd sizes: 5 steps, batch 3, hidden 4 (gates 16 wide)


def inputs(seed, requires_grad=True):
    rng = np.random.default_rng(seed)
    arrays = (rng.normal(size=(L, N, 4 * H)) * 2, rng.normal(size=(N, H)),
              rng.normal(size=(N, H)), rng.normal(size=(4 * H, H)) * 0.5)
    return [mg.tensor(a, requires_grad=requires_grad) for a in arrays]


@pytest.mark.parametrize("reverse", [False, True])
def test_values_and_gradients_match_the_per_step_layer(reverse):
    rng = np.random.default_rng(7)
    g_hs, g_h, g_c = (mg.tensor(rng.normal(size=s)) for s in ((L, N, H), (N, H), (N, H)))
    results = []
    for fn in (lstm_sequence, lstm_sequence_reference):
        xs = inputs(1)
        outs = fn(*xs, reverse=reverse)
        mg.autograd.backward(list(outs), [g_hs, g_h, g_c])
        results.append([o.detach().numpy() for o in outs] + [x.grad.numpy() for x in xs])
    for fused, reference in zip(*results):
        np.testing.assert_allclose(fused, reference, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck_and_gradgradcheck(reverse):
    def layer(*xs):
        hs, h, c = lstm_sequence(*xs, reverse=reverse)
        return hs.sum() * 0.3 + (h * c).sum()          # every output used, nonlinearly

    xs = inputs(2)
    assert mg.autograd.gradcheck(layer, xs)
    assert mg.autograd.gradgradcheck(layer, xs)


def _loss(fn, reverse):
    """A scalar that uses every output nonlinearly, so its gradient with respect to the
    outputs depends on the inputs too (as in a Hessian-vector product)."""
    def loss(x_proj, h0_t, c0, w_hh):
        # h0 arrives transposed: a non-contiguous input, which the op copies for its kernel
        hs, h, c = fn(x_proj, h0_t.transpose(0, 1), c0, w_hh, reverse=reverse)
        return (hs * hs).sum() * 0.3 + (h * c).sum()
    return loss


def _inputs_with_h0_transposed(seed):
    x_proj, h0, c0, w_hh = inputs(seed)
    return [x_proj, h0.detach().T.contiguous().requires_grad_(), c0, w_hh]


def test_first_gradients_take_the_fused_backward_with_or_without_create_graph():
    assert_first_gradient_is_the_fused_backward(
        _loss(lstm_sequence, False), _inputs_with_h0_transposed(8), "LSTMSequenceBackward")


@pytest.mark.parametrize("reverse", [False, True])
def test_second_and_third_derivatives_match_the_per_step_layer(reverse):
    xs = _inputs_with_h0_transposed(9)
    fused = derivatives_up_to_third(_loss(lstm_sequence, reverse), xs)
    reference = derivatives_up_to_third(_loss(lstm_sequence_reference, reverse), xs)
    for order_fused, order_reference in zip(fused, reference):
        for a, b in zip(order_fused, order_reference):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_only_the_inputs_that_need_gradients_get_them():
    x_proj, h0, c0, w_hh = inputs(3, requires_grad=False)
    w_hh.requires_grad_(True)
    hs, _, _ = lstm_sequence(x_proj, h0, c0, w_hh)
    hs.sum().backward()
    assert w_hh.grad is not None and x_proj.grad is None and h0.grad is None


def test_lstm_module_uses_the_fused_op_and_agrees_with_its_cell():
    """nn.LSTM (fused) against the same weights run step by step through nn.LSTMCell."""
    mg.manual_seed(0)
    lstm, cell = mg.nn.LSTM(3, H), mg.nn.LSTMCell(3, H)
    cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})
    x = mg.tensor(np.random.default_rng(4).normal(size=(L, N, 3)), dtype=mg.float32)
    out, (h_n, c_n) = lstm(x)
    assert out.grad_fn is not None and "LSTMSequence" in repr(out.grad_fn)
    h = c = mg.zeros(N, H, dtype=x.dtype)
    for t in range(L):
        h, c = cell(x[t], (h, c))
        np.testing.assert_allclose(out[t].detach().numpy(), h.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c_n[0].detach().numpy(), c.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_changing_an_output_in_place_does_not_change_the_gradients():
    """Backward reads the h_t it kept; the hs handed out must be a different array."""
    xs = inputs(5)
    hs, h, c = lstm_sequence(*xs)
    (expected,) = mg.autograd.grad(c.sum(), [xs[3]], retain_graph=True)
    with mg.no_grad():
        hs += 100.0                              # the user edits the output afterwards
    (after,) = mg.autograd.grad(c.sum(), [xs[3]])
    np.testing.assert_array_equal(after.numpy(), expected.numpy())


def test_an_input_changed_in_place_after_forward_is_an_error():
    x_proj, h0, c0, w_hh = inputs(6)
    w = w_hh * 1.0                                   # a non-leaf input, so it may be edited
    hs, _, _ = lstm_sequence(x_proj, h0, c0, w)
    with mg.no_grad():
        w += 1.0
    with pytest.raises(RuntimeError, match="modified in place"):
        hs.sum().backward()


# ---------------------------------------------------------------------------------------------
# With a projection (PyTorch's proj_size): r_t = h_t W_hr^T is fed back and output
# ---------------------------------------------------------------------------------------------

P = 3      # proj_size < H


def projected_inputs(seed):
    rng = np.random.default_rng(seed)
    arrays = (rng.normal(size=(L, N, 4 * H)) * 2, rng.normal(size=(N, P)),
              rng.normal(size=(N, H)), rng.normal(size=(4 * H, P)) * 0.5,
              rng.normal(size=(P, H)) * 0.7)
    return [mg.tensor(a, requires_grad=True) for a in arrays]


def projected_per_step(x_proj, r0, c0, w_hh, w_hr, reverse=False):
    """The projected layer written as its definition, step by step."""
    steps = x_proj.shape[0]
    r, c, rs = r0, c0, [None] * steps
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        h, c = lstm_gates_reference(x_proj[t] + r @ w_hh.T, c)
        r = rs[t] = h @ w_hr.T
    return mg.stack(rs, dim=0), r, c


@pytest.mark.parametrize("steps", [L, 1], ids=["5-steps", "1-step"])
@pytest.mark.parametrize("reverse", [False, True])
def test_projected_layer_matches_its_per_step_definition(reverse, steps):
    rng = np.random.default_rng(10)
    g_rs, g_r, g_c = (mg.tensor(rng.normal(size=s)) for s in ((steps, N, P), (N, P), (N, H)))
    results = []
    for fn in (lstm_sequence_projected, projected_per_step):
        xs = projected_inputs(11)
        xs[0] = xs[0].detach()[:steps].requires_grad_()
        outs = fn(*xs, reverse=reverse)
        mg.autograd.backward(list(outs), [g_rs, g_r, g_c])
        results.append([o.detach().numpy() for o in outs] + [x.grad.numpy() for x in xs])
    for fused, reference in zip(*results):
        np.testing.assert_allclose(fused, reference, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("batch", [3, 13])
def test_lstm_with_the_batch_split_into_row_blocks_matches_torch(batch, batch_first,
                                                                 monkeypatch):
    """The Numba time loops run the batch as blocks of rows, one per thread: forced to three
    blocks here (13 rows: 4 + 4 + 5; 3 rows: a single block) whatever threads this machine
    has, a 2-layer bidirectional LSTM with a given state matches torch.nn.LSTM, outputs and
    every gradient."""
    torch = pytest.importorskip("torch")
    from layer_helpers import compare_with_torch

    from minigrad import kernels
    if "numba" not in kernels.available("lstm_sequence"):
        pytest.skip("Numba not installed")
    from minigrad.kernels import lstm_cell_numba
    monkeypatch.setattr(lstm_cell_numba, "_blocks_for", lambda *shape: 3)
    rng = np.random.default_rng(11)
    kw = dict(num_layers=2, bidirectional=True, batch_first=batch_first)
    mm, tm = mg.nn.LSTM(7, 6, **kw), torch.nn.LSTM(7, 6, **kw)
    steps = 5
    shape = (batch, steps, 7) if batch_first else (steps, batch, 7)
    state = (rng.standard_normal((4, batch, 6)), rng.standard_normal((4, batch, 6)))
    with kernels.use("numba"):
        compare_with_torch(mm, tm, [rng.standard_normal(shape), state], rng=rng)


@pytest.mark.parametrize("steps", [1, 2, 7])
@pytest.mark.parametrize("as_list", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_recurrent_weight_grad_is_the_sum_over_steps(steps, as_list, dtype):
    """dW_hh = sum_t d_t^T h_{t-1} with h_{-1} = h0, for hs an array (one product over the
    view hs[:-1] plus h0's step) or a list (stacked)."""
    from minigrad.ops.recompute import recurrent_weight_grad
    rng = np.random.default_rng(steps)
    n, hidden, gates = 5, 7, 13
    d = rng.normal(size=(steps, n, gates)).astype(dtype)
    h0 = rng.normal(size=(n, hidden)).astype(dtype)
    hs = rng.normal(size=(steps, n, hidden)).astype(dtype)
    h_prev = np.concatenate([h0[None], hs[:-1]]).astype(np.float64)
    expected = np.einsum("tng,tnh->gh", d.astype(np.float64), h_prev)
    got = recurrent_weight_grad(d, h0, list(hs) if as_list else hs)
    assert got.shape == (gates, hidden) and got.dtype == dtype and got.flags.c_contiguous
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
