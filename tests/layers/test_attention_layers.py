"""scaled_dot_product_attention and MultiheadAttention: PyTorch agreement, gradients, errors."""

from __future__ import annotations

import numpy as np
import pytest
from layer_helpers import compare_with_torch, leaf, module_gradcheck

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

# ---------------------------------------------------------------------------------------------
# scaled_dot_product_attention
# ---------------------------------------------------------------------------------------------


def _sdpa_both(q, k, v, mask=None, **kwargs):
    """Run minigrad's and PyTorch's sdpa on the same arrays; compare outputs and gradients."""
    torch = pytest.importorskip("torch")
    m = [mg.tensor(a, requires_grad=True) for a in (q, k, v)]
    t = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    ym = F.scaled_dot_product_attention(*m, attn_mask=None if mask is None else mg.tensor(mask),
                                        **kwargs)
    yt = torch.nn.functional.scaled_dot_product_attention(
        *t, attn_mask=None if mask is None else torch.tensor(mask), **kwargs)
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), atol=1e-10)
    g = np.random.default_rng(0).standard_normal(ym.shape)
    ym.backward(mg.tensor(g))
    yt.backward(torch.tensor(g))
    for a, b in zip(m, t):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-10)
    return ym


def _qkv(rng, batch, L, S, E=4, Ev=3):
    return (rng.standard_normal(batch + (L, E)), rng.standard_normal(batch + (S, E)),
            rng.standard_normal(batch + (S, Ev)))


def test_sdpa_matches_torch_plain_and_scaled():
    rng = np.random.default_rng(0)
    _sdpa_both(*_qkv(rng, (2, 3), 4, 5))
    _sdpa_both(*_qkv(rng, (2,), 4, 5), scale=0.3)


def test_sdpa_masks_match_torch():
    rng = np.random.default_rng(1)
    bool_mask = rng.random((4, 5)) > 0.5
    bool_mask[:, 0] = True
    _sdpa_both(*_qkv(rng, (2, 3), 4, 5), mask=bool_mask)                    # True = attend
    float_mask = rng.standard_normal((3, 4, 5))
    float_mask[0, 1, 2] = -np.inf
    _sdpa_both(*_qkv(rng, (2, 3), 4, 5), mask=float_mask)                   # added
    _sdpa_both(*_qkv(rng, (2, 3), 4, 5), mask=bool_mask[None, None, :1])    # broadcast rows


@pytest.mark.parametrize("L,S", [(4, 4), (5, 3), (3, 5)])
def test_sdpa_causal_matches_torch(L, S):
    """Causal = lower triangle anchored at the top-left, also when L != S (as in PyTorch)."""
    _sdpa_both(*_qkv(np.random.default_rng(2), (2,), L, S), is_causal=True)


def test_sdpa_fully_masked_query_gives_zeros_like_torch():
    rng = np.random.default_rng(3)
    mask = np.ones((4, 5), dtype=bool)
    mask[2] = False
    y = _sdpa_both(*_qkv(rng, (2,), 4, 5), mask=mask)
    assert np.all(y.detach().numpy()[:, 2] == 0)
    float_mask = np.zeros((4, 5))
    float_mask[1] = -np.inf
    _sdpa_both(*_qkv(rng, (2,), 4, 5), mask=float_mask)


def test_sdpa_grouped_query_attention_matches_torch():
    rng = np.random.default_rng(4)
    q = rng.standard_normal((2, 4, 3, 4))
    k, v = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((2, 2, 5, 3))
    _sdpa_both(q, k, v, enable_gqa=True)


def test_sdpa_errors():
    q = mg.zeros(2, 4, 3)
    with pytest.raises(RuntimeError, match=r"attn_mask of shape \(3, 4\) can't be broadcast.*"
                                           r"L=4 queries, S=4 keys"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=mg.ones(3, 4, dtype=mg.bool))
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=mg.ones(4, 4, dtype=mg.bool),
                                       is_causal=True)
    with pytest.raises(RuntimeError, match="same last"):
        F.scaled_dot_product_attention(q, mg.zeros(2, 4, 2), q)


def test_sdpa_dropout_drops_weights():
    mg.manual_seed(0)
    q = mg.randn(2, 6, 4)
    a = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    b = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    c = F.scaled_dot_product_attention(q, q, q)
    assert not np.allclose(a.numpy(), b.numpy()) and not np.allclose(a.numpy(), c.numpy())


# ---------------------------------------------------------------------------------------------
# MultiheadAttention
# ---------------------------------------------------------------------------------------------

def _padding_mask(n, s):
    m = np.zeros((n, s), dtype=bool)
    m[0, -2:] = True  # the last two keys of sequence 0 are padding
    return m


def test_mha_gradcheck_self_attention_with_masks():
    rng = np.random.default_rng(5)
    mha = nn.MultiheadAttention(4, 2)
    x = leaf(rng, 3, 2, 4)
    kpm = mg.tensor(np.array([[False, False, True], [False, False, False]]))
    causal = mg.tensor(np.triu(np.ones((3, 3), dtype=bool), 1))
    module_gradcheck(mha, x, x, x, key_padding_mask=kpm, attn_mask=causal)


def test_mha_gradcheck_kdim_vdim_float_mask_batch_first():
    rng = np.random.default_rng(6)
    mha = nn.MultiheadAttention(4, 2, kdim=3, vdim=2, batch_first=True)
    mask = mg.tensor(rng.standard_normal((4, 2, 3)))  # (N * num_heads, L, S)
    module_gradcheck(mha, leaf(rng, 2, 2, 4), leaf(rng, 2, 3, 3), leaf(rng, 2, 3, 2),
                     attn_mask=mask, average_attn_weights=False)


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(batch_first=True),
    dict(kdim=3, vdim=5),
    dict(bias=False),
], ids=["packed", "batch-first", "kdim-vdim", "no-bias"])
def test_mha_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    E, n, L, S = 6, 2, 4, 5
    mm, tm = nn.MultiheadAttention(E, 3, **kwargs), torch.nn.MultiheadAttention(E, 3, **kwargs)
    bf = kwargs.get("batch_first", False)

    def seq(T, d):
        return rng.standard_normal((n, T, d) if bf else (T, n, d))

    q, k, v = seq(L, E), seq(S, kwargs.get("kdim", E)), seq(S, kwargs.get("vdim", E))
    compare_with_torch(mm, tm, [q, k, v], rng=rng)                                  # averaged
    compare_with_torch(mm, tm, [q, k, v], dict(key_padding_mask=_padding_mask(n, S),
                                               average_attn_weights=False), rng=rng)
    attn_mask = rng.random((L, S)) > 0.6
    attn_mask[:, 0] = False
    compare_with_torch(mm, tm, [q, k, v], dict(attn_mask=attn_mask, need_weights=False),
                       rng=rng)


def test_mha_self_attention_and_unbatched_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    mm, tm = nn.MultiheadAttention(4, 2), torch.nn.MultiheadAttention(4, 2)
    x = rng.standard_normal((5, 2, 4))
    causal = np.triu(np.ones((5, 5), dtype=bool), 1)
    compare_with_torch(mm, tm, [x, x, x], dict(attn_mask=causal, is_causal=True), rng=rng)
    compare_with_torch(mm, tm, [x, x, x], dict(attn_mask=rng.standard_normal((4, 5, 5))),
                       rng=rng)
    u = rng.standard_normal((5, 4))
    compare_with_torch(mm, tm, [u, u, u], dict(average_attn_weights=False), rng=rng)


def test_mha_output_shapes():
    mha = nn.MultiheadAttention(8, 2, kdim=3, vdim=5)
    out, w = mha(mg.zeros(4, 2, 8), mg.zeros(6, 2, 3), mg.zeros(6, 2, 5))
    assert tuple(out.shape) == (4, 2, 8) and tuple(w.shape) == (2, 4, 6)
    assert set(mha.state_dict()) == {"q_proj_weight", "k_proj_weight", "v_proj_weight",
                                     "in_proj_bias", "out_proj.weight", "out_proj.bias"}
    out, w = mha(mg.zeros(4, 2, 8), mg.zeros(6, 2, 3), mg.zeros(6, 2, 5), need_weights=False)
    assert w is None


def test_mha_errors():
    with pytest.raises(ValueError, match=r"embed_dim \(10\) must be divisible by num_heads "
                                         r"\(3\)"):
        nn.MultiheadAttention(10, 3)
    mha = nn.MultiheadAttention(4, 2)
    x = mg.zeros(3, 2, 4)
    with pytest.raises(RuntimeError, match=r"MultiheadAttention\(embed_dim=4, num_heads=2\): "
                                           r"attn_mask of shape \(2, 3\) should be \(L, S\) = "
                                           r"\(3, 3\)"):
        mha(x, x, x, attn_mask=mg.zeros(2, 3))
    with pytest.raises(RuntimeError, match=r"key_padding_mask of shape \(3, 2\) should be "
                                           r"\(N, S\) = \(2, 3\)"):
        mha(x, x, x, key_padding_mask=mg.zeros(3, 2, dtype=mg.bool))
    with pytest.raises(RuntimeError, match="key of shape .* has 5 features, expected kdim=4"):
        mha(x, mg.zeros(3, 2, 5), x)
    with pytest.raises(RuntimeError, match="is_causal"):
        mha(x, x, x, is_causal=True)
