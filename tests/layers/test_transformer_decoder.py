"""TransformerDecoderLayer, TransformerDecoder and Transformer: gradients, PyTorch agreement
(state_dict keys, weights both ways, outputs and gradients with masks), structure, errors."""

from __future__ import annotations

import numpy as np
import pytest
from layer_helpers import compare_with_torch, leaf, module_gradcheck

import minigrad as mg
from minigrad import nn

SMALL = dict(d_model=4, nhead=2, dim_feedforward=6, dropout=0.0)

# PyTorch's own notes about its fast paths (nested tensors, mask types), not about the results
pytestmark = [
    pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning"),
    pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask:UserWarning"),
]


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_decoder_layer_gradcheck(norm_first):
    rng = np.random.default_rng(0)
    layer = nn.TransformerDecoderLayer(**SMALL, norm_first=norm_first, activation="gelu")
    causal = mg.tensor(np.triu(np.ones((3, 3), dtype=bool), 1))
    kpm = mg.tensor(np.array([[False, False, False, True], [False, False, False, False]]))
    module_gradcheck(layer, leaf(rng, 3, 2, 4), leaf(rng, 4, 2, 4), tgt_mask=causal,
                     memory_key_padding_mask=kpm)


def _masks(rng, T, S, N):
    causal = np.triu(np.ones((T, T), dtype=bool), 1)
    tgt_kpm = np.zeros((N, T), dtype=bool)
    tgt_kpm[1, T - 1:] = True
    mem_kpm = np.zeros((N, S), dtype=bool)
    mem_kpm[0, S - 2:] = True
    memory_mask = rng.standard_normal((T, S)) * 0.5          # a float mask is added
    return dict(tgt_mask=causal, tgt_key_padding_mask=tgt_kpm,
                memory_key_padding_mask=mem_kpm, memory_mask=memory_mask)


@pytest.mark.parametrize("activation,norm_first", [("relu", False), ("gelu", True)],
                         ids=["relu-post-norm", "gelu-pre-norm"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
def test_decoder_layer_matches_torch(activation, norm_first, batch_first):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    kw = dict(d_model=6, nhead=3, dim_feedforward=10, dropout=0.0, activation=activation,
              norm_first=norm_first, batch_first=batch_first)
    mm, tm = nn.TransformerDecoderLayer(**kw), torch.nn.TransformerDecoderLayer(**kw)
    assert [n for n, _ in mm.named_children()] == [n for n, _ in tm.named_children()]
    T, S, N = 4, 5, 2
    shape = (lambda L: (N, L, 6)) if batch_first else (lambda L: (L, N, 6))
    compare_with_torch(mm, tm, [rng.standard_normal(shape(T)), rng.standard_normal(shape(S))],
                       rng=rng)
    compare_with_torch(mm, tm, [rng.standard_normal(shape(T)), rng.standard_normal(shape(S))],
                       _masks(rng, T, S, N), rng=rng)


def test_decoder_layer_unbatched_and_callable_activation_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    mm = nn.TransformerDecoderLayer(**SMALL, activation=mg.nn.functional.silu)
    tm = torch.nn.TransformerDecoderLayer(**SMALL, activation=torch.nn.functional.silu)
    compare_with_torch(mm, tm, [rng.standard_normal((3, 4)), rng.standard_normal((5, 4))],
                       rng=rng)


def test_decoder_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    kw = dict(d_model=6, nhead=2, dim_feedforward=8, dropout=0.0, batch_first=True)
    mm = nn.TransformerDecoder(nn.TransformerDecoderLayer(**kw), 2, norm=nn.LayerNorm(6))
    tm = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(**kw), 2,
                                     norm=torch.nn.LayerNorm(6))
    causal = nn.Transformer.generate_square_subsequent_mask(4).numpy()
    compare_with_torch(mm, tm, [rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 5, 6))],
                       dict(tgt_mask=causal, tgt_is_causal=True), rng=rng)
    assert "layers.1.multihead_attn.in_proj_weight" in mm.state_dict()


@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
def test_transformer_matches_torch(batch_first):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    kw = dict(d_model=6, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
              dim_feedforward=8, dropout=0.0, batch_first=batch_first)
    mm, tm = nn.Transformer(**kw), torch.nn.Transformer(**kw)
    assert list(mm.state_dict()) == list(tm.state_dict())
    S, T, N = 5, 4, 2
    shape = (lambda L: (N, L, 6)) if batch_first else (lambda L: (L, N, 6))
    src_kpm = np.zeros((N, S), dtype=bool)
    src_kpm[1, S - 1] = True
    masks = dict(tgt_mask=nn.Transformer.generate_square_subsequent_mask(T).numpy(),
                 src_key_padding_mask=src_kpm, memory_key_padding_mask=src_kpm)
    compare_with_torch(mm, tm, [rng.standard_normal(shape(S)), rng.standard_normal(shape(T))],
                       masks, rng=rng)


def test_transformer_weights_into_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    kw = dict(d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=2,
              dim_feedforward=6, dropout=0.0, norm_first=True)
    mm, tm = nn.Transformer(**kw), torch.nn.Transformer(**kw)
    tm.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in mm.state_dict().items()})
    src, tgt = rng.standard_normal((5, 3, 4)), rng.standard_normal((2, 3, 4))
    got = mm(mg.tensor(src.astype(np.float32)), mg.tensor(tgt.astype(np.float32)))
    want = tm(torch.tensor(src, dtype=torch.float32), torch.tensor(tgt, dtype=torch.float32))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=1e-5)


def test_transformer_initialisation_is_xavier_uniform():
    mg.manual_seed(0)
    model = nn.Transformer(d_model=32, nhead=4, num_encoder_layers=1, num_decoder_layers=1,
                           dim_feedforward=64)
    w = model.decoder.layers[0].linear1.weight.detach().numpy()      # (64, 32)
    bound = np.sqrt(6 / (32 + 64))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    out_proj = model.encoder.layers[0].self_attn.out_proj.weight.detach().numpy()
    assert np.abs(out_proj).max() > 0.9 * np.sqrt(6 / 64)   # not Linear's 1/sqrt(32) bound
    np.testing.assert_array_equal(model.encoder.layers[0].norm1.weight.detach().numpy(), np.ones(32))


def test_generate_square_subsequent_mask():
    m = nn.Transformer.generate_square_subsequent_mask(3)
    assert m.dtype == np.float32
    np.testing.assert_array_equal(m.numpy(), [[0, -np.inf, -np.inf], [0, 0, -np.inf],
                                              [0, 0, 0]])
    assert nn.Transformer.generate_square_subsequent_mask(2, dtype=mg.float64).dtype == np.float64


def test_decoder_layers_are_independent_copies():
    layer = nn.TransformerDecoderLayer(**SMALL)
    dec = nn.TransformerDecoder(layer, num_layers=3)
    ws = [m.multihead_attn.in_proj_weight for m in dec.layers]
    assert len({id(w) for w in ws}) == 3 and all(w is not layer.multihead_attn.in_proj_weight
                                                  for w in ws)
    assert len(list(dec.parameters())) == 3 * len(list(layer.parameters()))


def test_dropout_only_in_training():
    mg.manual_seed(0)
    model = nn.Transformer(d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                           dim_feedforward=8, dropout=0.5)
    src, tgt = mg.randn(3, 2, 4), mg.randn(2, 2, 4)
    assert not np.allclose(model(src, tgt).detach().numpy(), model(src, tgt).detach().numpy())
    model.eval()
    np.testing.assert_array_equal(model(src, tgt).detach().numpy(),
                                  model(src, tgt).detach().numpy())


def test_bad_arguments():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerDecoderLayer(4, 2, activation="tanh")
    with pytest.raises(TypeError, match="decoder_layer must be a Module"):
        nn.TransformerDecoder("layer", 2)
    model = nn.Transformer(d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                           dim_feedforward=8)
    with pytest.raises(RuntimeError, match=r"batch number of src \(3, 2, 4\) and tgt \(2, 3, 4\)"):
        model(mg.randn(3, 2, 4), mg.randn(2, 3, 4))
    with pytest.raises(RuntimeError, match="must be equal to d_model=4"):
        model(mg.randn(3, 2, 4), mg.randn(2, 2, 5))
    with pytest.raises(RuntimeError, match="need attn_mask if specifying the is_causal hint"):
        model(mg.randn(3, 2, 4), mg.randn(2, 2, 4), tgt_is_causal=True)
