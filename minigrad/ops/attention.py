"""Scaled dot-product attention, written with ordinary minigrad ops.

For queries Q (..., L, E), keys K (..., S, E) and values V (..., S, Ev):

    scores  = Q K^T * scale               (..., L, S)   scale = 1 / sqrt(E) by default
    weights = softmax(scores + mask, -1)  each query's distribution over the S keys
    output  = weights V                   (..., L, Ev)

The leading dims (batch, heads) broadcast. No new ArrayFunction is needed: matmul, softmax and
``where`` already know their gradients, so attention is differentiable (twice, too) for free.

Masks, as in PyTorch's ``scaled_dot_product_attention``:

* a boolean mask says which pairs *take part*: True = query i may look at key j;
* a float mask is *added* to the scores (use -inf to forbid a pair, or any learned bias);
* ``is_causal=True`` lets query i see keys 0..i only (the lower triangle, top-left aligned).

A query whose keys are all masked has no distribution to speak of; PyTorch 2.x returns
zeros for it (output and gradient), and so does minigrad (a plain softmax would give NaN).
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..tensor import Tensor
from .activation import softmax
from .dropout import dropout
from .elementwise import where
from .matmul import matmul
from .movement import expand, reshape, transpose, unsqueeze


def _shape(t) -> str:
    return "(" + ", ".join(str(s) for s in t.shape) + ")"


def _check_qkv(query, key, value):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor) or t.ndim < 2:
            raise RuntimeError(f"scaled_dot_product_attention: {name} must be a Tensor with at "
                               f"least 2 dims (..., sequence, features), got "
                               f"{_shape(t) if isinstance(t, Tensor) else type(t).__name__}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"scaled_dot_product_attention: query {_shape(query)} and key "
                           f"{_shape(key)} must have the same last (embedding) dimension")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: key {_shape(key)} and value "
                           f"{_shape(value)} must have the same sequence length (dim -2)")


def _repeat_heads(t: Tensor, times: int) -> Tensor:
    """(..., Hk, S, E) -> (..., Hk * times, S, E), each head repeated ``times`` times in place
    (grouped-query attention: several query heads share one key/value head)."""
    shape = tuple(t.shape)
    big = expand(unsqueeze(t, -3), shape[:-2] + (times,) + shape[-2:])
    return reshape(big, shape[:-3] + (shape[-3] * times,) + shape[-2:])


def attention_weights(query, key, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                      training=True, masked_rows_nan=False):
    """softmax(Q K^T * scale + mask) over the keys, with dropout: the (..., L, S) weights.

    ``scaled_dot_product_attention`` multiplies them with V; MultiheadAttention also returns
    them. Masks follow sdpa's convention (bool True = take part, float = added). A query
    whose every key is masked gets zero weights (sdpa), or NaN weights with NaN gradients if
    ``masked_rows_nan`` (MultiheadAttention: PyTorch's softmax of all -inf there).
    """
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = matmul(query, transpose(key, -2, -1)) * scale
    xp = backend.array_module(scores.array)

    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("scaled_dot_product_attention: an explicit attn_mask should not "
                               "be set when is_causal=True (the causal mask is built for you)")
        attn_mask = Tensor._make(xp.tril(xp.ones((L, S), dtype=bool)))
    if attn_mask is not None:
        scores = _apply_mask(scores, attn_mask)

    # Rows with every key masked: softmax of all -inf is NaN. Give them uniform scores (so the
    # softmax and its gradient stay finite) and zero weights afterwards, as PyTorch does.
    dead = xp.isneginf(scores.array).all(axis=-1, keepdims=True)
    any_dead = bool(dead.any())
    if any_dead and masked_rows_nan:      # NaN times the row: quietly NaN, forward and back
        scores = scores * Tensor._make(xp.where(dead, np.nan, 1.0).astype(scores.dtype))
        any_dead = False
    if any_dead:
        dead_t = Tensor._make(dead)
        scores = where(dead_t, 0.0, scores)
    weights = softmax(scores, dim=-1)
    if any_dead:
        weights = where(dead_t, 0.0, weights)
    if dropout_p > 0.0 and training:
        weights = dropout(weights, p=dropout_p, training=True)
    return weights


def _apply_mask(scores: Tensor, mask) -> Tensor:
    """Bool mask: keep scores where True, -inf elsewhere. Float mask: add it."""
    if not isinstance(mask, Tensor):
        mask = Tensor._make(backend.array_module(scores.array).asarray(mask))
    try:
        ok = np.broadcast_shapes(tuple(mask.shape), tuple(scores.shape)) == tuple(scores.shape)
    except ValueError:
        ok = False
    if not ok:
        L, S = scores.shape[-2:]
        raise RuntimeError(
            f"scaled_dot_product_attention: attn_mask of shape {_shape(mask)} can't be "
            f"broadcast to the attention scores of shape {_shape(scores)} (batch dims..., "
            f"L={L} queries, S={S} keys)")
    if mask.dtype == np.bool_:
        return where(mask, scores, -math.inf)
    return scores + mask.to(scores.dtype)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False) -> Tensor:
    """softmax(Q K^T / sqrt(E) + mask) V, exactly as torch.nn.functional's.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev). ``attn_mask``
    broadcasts to (..., L, S): bool (True = take part) or float (added to the scores).
    ``dropout_p`` drops attention weights (always, as in PyTorch: pass 0.0 in eval mode).
    ``enable_gqa``: key/value may have fewer heads (dim -3) than query, dividing it.
    """
    _check_qkv(query, key, value)
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk or value.shape[-3] != hk:
            raise RuntimeError(f"scaled_dot_product_attention: with enable_gqa the number of "
                               f"query heads ({hq}) must be a multiple of the key/value heads "
                               f"({hk}, {value.shape[-3]})")
        key, value = _repeat_heads(key, hq // hk), _repeat_heads(value, hq // hk)
    weights = attention_weights(query, key, attn_mask, dropout_p, is_causal, scale)
    return matmul(weights, value)

