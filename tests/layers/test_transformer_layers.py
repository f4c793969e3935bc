"""TransformerEncoderLayer and TransformerEncoder: gradients, PyTorch agreement, structure."""

from __future__ import annotations

import numpy as np
import pytest
from layer_helpers import compare_with_torch, leaf, module_gradcheck

import minigrad as mg
from minigrad import nn

SMALL = dict(d_model=4, nhead=2, dim_feedforward=6, dropout=0.0)


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_encoder_layer_gradcheck(norm_first):
    rng = np.random.default_rng(0)
    layer = nn.TransformerEncoderLayer(**SMALL, norm_first=norm_first, activation="gelu")
    kpm = mg.tensor(np.array([[False, False, True], [False, False, False]]))
    module_gradcheck(layer, leaf(rng, 3, 2, 4), src_key_padding_mask=kpm)


@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
def test_encoder_layer_matches_torch(activation, norm_first, batch_first):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    kw = dict(d_model=6, nhead=2, dim_feedforward=10, dropout=0.0, activation=activation,
              norm_first=norm_first, batch_first=batch_first)
    mm, tm = nn.TransformerEncoderLayer(**kw), torch.nn.TransformerEncoderLayer(**kw)
    assert [n for n, _ in mm.named_children()] == [n for n, _ in tm.named_children()]
    shape = (2, 5, 6) if batch_first else (5, 2, 6)
    compare_with_torch(mm, tm, [rng.standard_normal(shape)], rng=rng)
    kpm = np.zeros((2, 5), dtype=bool)
    kpm[1, 3:] = True
    causal = np.triu(np.ones((5, 5), dtype=bool), 1)
    compare_with_torch(mm, tm, [rng.standard_normal(shape)],
                       dict(src_key_padding_mask=kpm, src_mask=causal), rng=rng)


def test_encoder_layer_callable_activation_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    mm = nn.TransformerEncoderLayer(**SMALL, activation=mg.nn.functional.silu)
    tm = torch.nn.TransformerEncoderLayer(**SMALL, activation=torch.nn.functional.silu)
    compare_with_torch(mm, tm, [rng.standard_normal((3, 2, 4))], rng=rng)


def test_encoder_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    kw = dict(d_model=6, nhead=3, dim_feedforward=8, dropout=0.0, batch_first=True)
    mm = nn.TransformerEncoder(nn.TransformerEncoderLayer(**kw), 2, norm=nn.LayerNorm(6))
    tm = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(**kw), 2,
                                     norm=torch.nn.LayerNorm(6), enable_nested_tensor=False)
    kpm = np.zeros((2, 5), dtype=bool)
    kpm[0, 4:] = True
    compare_with_torch(mm, tm, [rng.standard_normal((2, 5, 6))],
                       dict(src_key_padding_mask=kpm), rng=rng)
    assert "layers.1.self_attn.in_proj_weight" in mm.state_dict()


def test_encoder_layers_are_independent_copies():
    layer = nn.TransformerEncoderLayer(**SMALL)
    enc = nn.TransformerEncoder(layer, num_layers=3)
    ws = [m.linear1.weight for m in enc.layers]
    assert len({id(w) for w in ws}) == 3 and all(w is not layer.linear1.weight for w in ws)
    assert all(np.array_equal(w.detach().numpy(), layer.linear1.weight.detach().numpy())
               for w in ws)
    assert len(list(enc.parameters())) == 3 * len(list(layer.parameters()))


def test_dropout_only_in_training():
    mg.manual_seed(0)
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.5)
    x = mg.randn(3, 2, 4)
    assert not np.allclose(layer(x).detach().numpy(), layer(x).detach().numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())


def test_bad_arguments():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")
    with pytest.raises(ValueError, match=r"embed_dim \(6\) must be divisible by num_heads \(4\)"):
        nn.TransformerEncoderLayer(6, 4)
