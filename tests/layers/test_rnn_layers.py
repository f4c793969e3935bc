"""RNN, LSTM, GRU and their cells: gradients, agreement with PyTorch, shapes, errors."""

from __future__ import annotations

import numpy as np
import pytest
from layer_helpers import compare_with_torch, leaf, module_gradcheck, module_gradgradcheck

import minigrad as mg
from minigrad import nn

KINDS = ["RNN", "LSTM", "GRU"]


def _h0(rng, kind, shape):
    """h_0 for RNN/GRU, (h_0, c_0) for LSTM (float64 leaves)."""
    if kind == "LSTM":
        return (leaf(rng, *shape), leaf(rng, *shape))
    return leaf(rng, *shape)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch_first,with_h0", [(False, False), (True, True)],
                         ids=["seq-first-zero-state", "batch-first-h0"])
def test_two_layer_bidirectional_gradcheck(kind, batch_first, with_h0):
    rng = np.random.default_rng(0)
    layer = getattr(nn, kind)(2, 2, num_layers=2, bidirectional=True, batch_first=batch_first)
    x = leaf(rng, 2, 3, 2)  # (N, L, H_in) or (L, N, H_in): both tiny
    args = (x, _h0(rng, kind, (4, 2 if batch_first else 3, 2))) if with_h0 else (x,)
    module_gradcheck(layer, *args)


@pytest.mark.parametrize("kind", KINDS)
def test_single_layer_unbatched_gradcheck(kind):
    rng = np.random.default_rng(1)
    kwargs = dict(nonlinearity="relu") if kind == "RNN" else {}
    module_gradcheck(getattr(nn, kind)(3, 2, bias=False, **kwargs), leaf(rng, 4, 3),
                     _h0(rng, kind, (1, 2)))


@pytest.mark.parametrize("kind", KINDS)
def test_two_layer_bidirectional_gradgradcheck(kind):
    """Second derivatives through every layer and direction (each a fused sequence op whose
    backward is an op of its own): tiny, since gradgradcheck differentiates once per
    gradient element."""
    rng = np.random.default_rng(6)
    layer = getattr(nn, kind)(1, 1, num_layers=2, bidirectional=True, batch_first=True)
    module_gradgradcheck(layer, leaf(rng, 1, 3, 1), _h0(rng, kind, (4, 1, 1)))


@pytest.mark.parametrize("kind", KINDS)
def test_cell_gradcheck(kind):
    rng = np.random.default_rng(2)
    cell = getattr(nn, kind + "Cell")(3, 2)
    module_gradcheck(cell, leaf(rng, 2, 3), _h0(rng, kind, (2, 2)))


# ---------------------------------------------------------------------------------------------
# PyTorch comparison: same state_dict, same outputs and gradients
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("kwargs", [
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(num_layers=2),
    dict(bidirectional=True, bias=False),
], ids=["2-layer-bidir-batch-first", "2-layer", "bidir-nobias"])
def test_matches_torch(kind, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    mm, tm = getattr(nn, kind)(3, 4, **kwargs), getattr(torch.nn, kind)(3, 4, **kwargs)
    assert repr(mm) == repr(tm)
    shape = (2, 5, 3) if kwargs.get("batch_first") else (5, 2, 3)
    compare_with_torch(mm, tm, [rng.standard_normal(shape)], rng=rng)          # zero state
    states = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    h = rng.standard_normal((states, 2, 4))
    h0 = (h, rng.standard_normal((states, 2, 4))) if kind == "LSTM" else h
    compare_with_torch(mm, tm, [rng.standard_normal(shape), h0], rng=rng)      # given state
    compare_with_torch(mm, tm, [rng.standard_normal((5, 3))], rng=rng)         # unbatched


def test_relu_rnn_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    kw = dict(num_layers=2, nonlinearity="relu", bidirectional=True)
    compare_with_torch(nn.RNN(3, 4, **kw), torch.nn.RNN(3, 4, **kw),
                       [rng.standard_normal((5, 2, 3))], rng=rng)


@pytest.mark.parametrize("kind", KINDS)
def test_cells_match_torch(kind):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    mm, tm = getattr(nn, kind + "Cell")(3, 4), getattr(torch.nn, kind + "Cell")(3, 4)
    assert repr(mm) == repr(tm)
    h = rng.standard_normal((2, 4))
    h0 = (h, rng.standard_normal((2, 4))) if kind == "LSTM" else h
    compare_with_torch(mm, tm, [rng.standard_normal((2, 3)), h0], rng=rng)
    compare_with_torch(mm, tm, [rng.standard_normal((3,))], rng=rng)


# ---------------------------------------------------------------------------------------------
# Shapes, names, dropout, errors
# ---------------------------------------------------------------------------------------------

def test_output_shapes_and_parameter_names():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True)
    out, (h, c) = lstm(mg.zeros(4, 7, 3))
    assert tuple(out.shape) == (4, 7, 10)
    assert tuple(h.shape) == tuple(c.shape) == (4, 4, 5)
    names = [n for n, _ in lstm.named_parameters()]
    assert names[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert names[4] == "weight_ih_l0_reverse" and len(names) == 16
    assert tuple(lstm.weight_ih_l1.shape) == (20, 10)  # layer 1 reads both directions
    bound = 1 / np.sqrt(5)
    assert all(np.abs(p.detach().numpy()).max() <= bound for p in lstm.parameters())


def test_final_state_is_last_output():
    """h_n of the last layer equals output at t = L-1 (forward) and t = 0 (reverse)."""
    gru = nn.GRU(2, 3, bidirectional=True)
    out, h = gru(mg.randn(4, 1, 2))
    np.testing.assert_allclose(h.detach().numpy()[0], out.detach().numpy()[-1, :, :3])
    np.testing.assert_allclose(h.detach().numpy()[1], out.detach().numpy()[0, :, 3:])


def test_dropout_between_layers_only_in_training():
    mg.manual_seed(0)
    rnn = nn.RNN(3, 8, num_layers=2, dropout=0.5)
    x = mg.randn(5, 2, 3)
    a, _ = rnn(x)
    b, _ = rnn(x)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    rnn.eval()
    c, _ = rnn(x)
    d, _ = rnn(x)
    np.testing.assert_array_equal(c.detach().numpy(), d.detach().numpy())
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)


def test_input_size_mismatch_names_the_layer():
    with pytest.raises(RuntimeError, match=r"LSTM\(input_size=10, hidden_size=20, "
                                           r"num_layers=1\).* 7 features.*input_size=10"):
        nn.LSTM(10, 20)(mg.zeros(5, 3, 7))
    with pytest.raises(RuntimeError, match=r"GRUCell\(input_size=4, hidden_size=2\).* 3 "
                                           "features"):
        nn.GRUCell(4, 2)(mg.zeros(2, 3))


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_empty_sequence_is_refused_like_pytorch(mode):
    layer = getattr(nn, mode)(3, 4, batch_first=True)
    with pytest.raises(RuntimeError, match=rf"{mode}\(input_size=3.*sequence length larger "
                                           r"than 0, got input of shape \(2, 0, 3\) \(batch_first\)"):
        layer(mg.zeros(2, 0, 3))


def test_hidden_state_shape_mismatch():
    with pytest.raises(RuntimeError, match=r"expected h_0 of shape \(2, 3, 4\).*got \(1, 3, 4\)"):
        nn.GRU(2, 4, num_layers=2)(mg.zeros(5, 3, 2), mg.zeros(1, 3, 4))
    with pytest.raises(RuntimeError, match="c_0"):
        nn.LSTM(2, 4)(mg.zeros(5, 3, 2), (mg.zeros(1, 3, 4), mg.zeros(1, 2, 4)))


# ---------------------------------------------------------------------------------------------
# LSTM with projections (proj_size)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(num_layers=2),
    dict(bidirectional=True, bias=False),
], ids=["2-layer-bidir-batch-first", "2-layer", "bidir-nobias"])
def test_projected_lstm_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    mm, tm = nn.LSTM(3, 5, proj_size=2, **kwargs), torch.nn.LSTM(3, 5, proj_size=2, **kwargs)
    assert repr(mm) == repr(tm)
    shape = (2, 4, 3) if kwargs.get("batch_first") else (4, 2, 3)
    compare_with_torch(mm, tm, [rng.standard_normal(shape)], rng=rng)          # zero state
    states = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    h0 = (rng.standard_normal((states, 2, 2)), rng.standard_normal((states, 2, 5)))
    compare_with_torch(mm, tm, [rng.standard_normal(shape), h0], rng=rng)      # given state
    h0 = (rng.standard_normal((states, 2)), rng.standard_normal((states, 5)))
    compare_with_torch(mm, tm, [rng.standard_normal((4, 3)), h0], rng=rng)     # unbatched


def test_projected_lstm_parameters_and_shapes_are_pytorchs():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2, batch_first=True)
    names = [n for n, _ in lstm.named_parameters()]
    assert names[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                         "weight_hr_l0"]
    assert names[5] == "weight_ih_l0_reverse" and names[-1] == "weight_hr_l1_reverse"
    shapes = {n: tuple(p.shape) for n, p in lstm.named_parameters()}
    assert shapes["weight_hh_l0"] == (20, 2) and shapes["weight_hr_l0_reverse"] == (2, 5)
    assert shapes["weight_ih_l1"] == (20, 4)      # layer 1 reads 2 directions x proj_size
    out, (h, c) = lstm(mg.zeros(7, 6, 3))
    assert tuple(out.shape) == (7, 6, 4)
    assert tuple(h.shape) == (4, 7, 2) and tuple(c.shape) == (4, 7, 5)
    bound = 1 / np.sqrt(5)
    assert all(np.abs(p.detach().numpy()).max() <= bound for p in lstm.parameters())
    assert "proj_size=2" in repr(lstm)


def test_projected_lstm_gradcheck():
    rng = np.random.default_rng(12)
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=2)
    module_gradcheck(lstm, leaf(rng, 3, 2, 2), (leaf(rng, 4, 2, 2), leaf(rng, 4, 2, 3)))


def test_projected_lstm_gradgradcheck():
    rng = np.random.default_rng(13)
    lstm = nn.LSTM(1, 2, bidirectional=True, proj_size=1, batch_first=True)
    module_gradgradcheck(lstm, leaf(rng, 1, 3, 1), (leaf(rng, 2, 1, 1), leaf(rng, 2, 1, 2)))


@pytest.mark.parametrize("proj_size,error,message", [
    (-1, ValueError, "LSTM: proj_size should be a positive integer or zero to disable "
                     "projections, got -1"),
    (4, ValueError, "LSTM: proj_size has to be smaller than hidden_size, got proj_size=4 "
                    "and hidden_size=4"),
    (6, ValueError, "proj_size has to be smaller than hidden_size"),
    (2.0, TypeError, "LSTM: proj_size should be of type int, got: float"),
])
def test_projected_lstm_refuses_a_bad_proj_size(proj_size, error, message):
    with pytest.raises(error, match=message):
        nn.LSTM(2, 4, proj_size=proj_size)


def test_projected_lstm_checks_the_state_shapes():
    lstm = nn.LSTM(2, 4, num_layers=2, proj_size=3)
    x = mg.zeros(5, 6, 2)
    with pytest.raises(RuntimeError, match=r"proj_size=3.*expected h_0 of shape \(2, 6, 3\) "
                                           r"\(num_layers \* num_directions, \[batch,\] "
                                           r"proj_size\), got \(2, 6, 4\)"):
        lstm(x, (mg.zeros(2, 6, 4), mg.zeros(2, 6, 4)))
    with pytest.raises(RuntimeError, match=r"expected c_0 of shape \(2, 6, 4\) .*"
                                           r"hidden_size\), got \(2, 6, 3\)"):
        lstm(x, (mg.zeros(2, 6, 3), mg.zeros(2, 6, 3)))
    with pytest.raises(RuntimeError, match=r"expected h_0 of shape \(2, 3\)"):
        lstm(mg.zeros(5, 2), (mg.zeros(2, 4), mg.zeros(2, 4)))        # unbatched
