"""``MultiheadAttention``: attention with learned projections, split into heads.

With embed_dim E and num_heads H (head_dim = E / H):

    q = query W_q^T + b_q,   k = key W_k^T + b_k,   v = value W_v^T + b_v      (in-projection)
    split each into H heads of head_dim features:  (N, L, E) -> (N, H, L, head_dim)
    per head:  softmax(q k^T / sqrt(head_dim) + mask) v                        (ops/attention.py)
    join the heads back to (N, L, E) and apply out_proj (a Linear)

Each head attends with its own slice of the projections, so different heads can look at
different positions; the cost is the same as one head of size E.

Parameters, with PyTorch's names: when key and value have E features (kdim = vdim = E) the
three projection matrices are stacked in ``in_proj_weight`` (3E, E); otherwise they are
``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim). The biases
are always stacked in ``in_proj_bias`` (3E,). ``out_proj.weight`` / ``out_proj.bias``.

Two extra key/value positions, as in PyTorch: ``add_bias_kv=True`` appends the learned
``bias_k`` and ``bias_v`` (each (1, 1, E)) to the projected keys and values of every sequence,
and ``add_zero_attn=True`` appends a zero key and value to every head after that. Both are
positions no mask hides (the masks get unmasked columns for them), so a query can always put
weight there; attn_weights gets one column per added position.

Masks, in *this* module's convention (PyTorch's, and the opposite of
``scaled_dot_product_attention``'s for booleans): a bool ``True`` means "masked out".
``key_padding_mask`` (N, S) hides padding keys of each sequence; ``attn_mask`` (L, S) or
(N * H, L, S) hides query/key pairs. Float masks are added to the scores. Both are turned into
one additive mask (-inf where masked) before the softmax.

Deliberate difference from PyTorch: a query whose keys are all masked gets zero attention
weights and a zero output before out_proj (PyTorch gives NaN with ``need_weights=True``).
"""

from __future__ import annotations

import math

import numpy as np

from ... import backend
from ...ops.attention import attention_weights
from ...ops.join import cat, chunk
from ...ops.matmul import matmul
from ...ops.movement import expand, reshape, squeeze, transpose, unsqueeze
from ...tensor import Tensor, empty, zeros
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .linear import Linear

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) -> (attn_output, attn_weights or None).

    Shapes (batch_first=False): query (L, N, E), key (S, N, kdim), value (S, N, vdim) ->
    attn_output (L, N, E); with batch_first=True the first two dims swap; unbatched inputs
    drop N. attn_weights: (N, L, S) averaged over heads, or (N, H, L, S).
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than "
                             f"0, got embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by "
                             f"num_heads ({num_heads})")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = float(dropout), batch_first
        self.head_dim = embed_dim // num_heads
        kw = dict(dtype=dtype, device=device)

        # registration order = PyTorch's parameter order
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, **kw))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, **kw))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, **kw))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, **kw))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, **kw))
            self.bias_v = Parameter(empty(1, 1, embed_dim, **kw))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = bool(add_zero_attn)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's: Xavier-uniform projections, zero biases (out_proj.weight keeps Linear's)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _label(self) -> str:
        return f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"

    # -- the steps of forward ------------------------------------------------------------------
    def _check_inputs(self, query, key, value):
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise RuntimeError(f"{self._label()}: query, key and value must all be 3-D (batched) "
                               f"or all 2-D (unbatched), got shapes {tuple(query.shape)}, "
                               f"{tuple(key.shape)}, {tuple(value.shape)}")
        for name, t, size in (("query", query, self.embed_dim), ("key", key, self.kdim),
                              ("value", value, self.vdim)):
            if t.shape[-1] != size:
                what = "embed_dim" if name == "query" else name[0] + "dim"
                raise RuntimeError(f"{self._label()}: {name} of shape {tuple(t.shape)} has "
                                   f"{t.shape[-1]} features, expected {what}={size}")
        if key.shape[:-1] != value.shape[:-1]:
            raise RuntimeError(f"{self._label()}: key {tuple(key.shape)} and value "
                               f"{tuple(value.shape)} must have the same sequence length and "
                               f"batch size")
        if query.ndim == 3:
            b = 0 if self.batch_first else 1
            if query.shape[b] != key.shape[b]:
                raise RuntimeError(f"{self._label()}: query {tuple(query.shape)} and key "
                                   f"{tuple(key.shape)} have different batch sizes")

    def _in_projection(self, query, key, value):
        """q, k, v = the three input projections (one matmul when query is key is value)."""
        if self._qkv_same_embed_dim and query is key and key is value:
            return chunk(F.linear(query, self.in_proj_weight, self.in_proj_bias), 3, dim=-1)
        if self._qkv_same_embed_dim:
            w_q, w_k, w_v = chunk(self.in_proj_weight, 3, dim=0)
        else:
            w_q, w_k, w_v = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        b_q = b_k = b_v = None
        if self.in_proj_bias is not None:
            b_q, b_k, b_v = chunk(self.in_proj_bias, 3, dim=0)
        return F.linear(query, w_q, b_q), F.linear(key, w_k, b_k), F.linear(value, w_v, b_v)

    def _split_heads(self, x: Tensor) -> Tensor:
        """(N, T, E) -> (N, H, T, head_dim)."""
        n, t, _ = x.shape
        return transpose(reshape(x, (n, t, self.num_heads, self.head_dim)), 1, 2)

    def _merged_mask(self, attn_mask, key_padding_mask, n, L, S, dtype):
        """One additive mask, broadcastable to (N, H, L, S), or None."""
        parts = []
        if attn_mask is not None:
            if attn_mask.ndim == 2 and tuple(attn_mask.shape) == (L, S):
                parts.append(_additive(attn_mask, dtype))
            elif attn_mask.ndim == 3 and tuple(attn_mask.shape) == (n * self.num_heads, L, S):
                parts.append(reshape(_additive(attn_mask, dtype), (n, self.num_heads, L, S)))
            else:
                raise RuntimeError(
                    f"{self._label()}: attn_mask of shape {tuple(attn_mask.shape)} should be "
                    f"(L, S) = ({L}, {S}) or (N * num_heads, L, S) = ({n * self.num_heads}, "
                    f"{L}, {S})")
        if key_padding_mask is not None:
            if tuple(key_padding_mask.shape) != (n, S):
                raise RuntimeError(f"{self._label()}: key_padding_mask of shape "
                                   f"{tuple(key_padding_mask.shape)} should be (N, S) = "
                                   f"({n}, {S})")
            parts.append(reshape(_additive(key_padding_mask, dtype), (n, 1, 1, S)))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        self._check_inputs(query, key, value)
        if is_causal and attn_mask is None:
            raise RuntimeError(f"{self._label()}: need attn_mask if specifying the is_causal "
                               "hint (it only tells that attn_mask is causal)")
        unbatched = query.ndim == 2
        # work batch-first: (N, L, E)
        if unbatched:
            query, key, value = (unsqueeze(t, 0) for t in (query, key, value))
            if key_padding_mask is not None and key_padding_mask.ndim == 1:
                key_padding_mask = unsqueeze(key_padding_mask, 0)
        elif not self.batch_first:
            same_kv, same_qk = key is value, query is key
            query = transpose(query, 0, 1)
            key = query if same_qk else transpose(key, 0, 1)
            value = key if same_kv else transpose(value, 0, 1)
        n, L, S = query.shape[0], query.shape[1], key.shape[1]

        q, k, v = self._in_projection(query, key, value)
        if self.bias_k is not None:                      # one more key/value: the learned biases
            k = cat([k, expand(self.bias_k, n, 1, self.embed_dim)], dim=1)
            v = cat([v, expand(self.bias_v, n, 1, self.embed_dim)], dim=1)
        q, k, v = (self._split_heads(t) for t in (q, k, v))
        if self.add_zero_attn:                           # and one more: zeros, in every head
            zero = zeros(n, self.num_heads, 1, self.head_dim, dtype=k.dtype, device=k.device)
            k, v = cat([k, zero], dim=2), cat([v, zero], dim=2)
        extra = k.shape[2] - S
        if extra:                                        # the added positions are never masked
            attn_mask, key_padding_mask = (None if m is None else F.pad(m, (0, extra))
                                           for m in (attn_mask, key_padding_mask))
        mask = self._merged_mask(attn_mask, key_padding_mask, n, L, S + extra, q.dtype)
        weights = attention_weights(q, k, mask, dropout_p=self.dropout,
                                    training=self.training, masked_rows_nan=True)  # (N,H,L,S)
        heads = matmul(weights, v)                                        # (N, H, L, hd)
        out = self.out_proj(reshape(transpose(heads, 1, 2), (n, L, self.embed_dim)))

        if unbatched:
            out = squeeze(out, 0)
        elif not self.batch_first:
            out = transpose(out, 0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(dim=1)
        return out, (squeeze(weights, 0) if unbatched else weights)

    def extra_repr(self) -> str:
        s = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if not self._qkv_same_embed_dim:
            s += f", kdim={self.kdim}, vdim={self.vdim}"
        if self.batch_first:
            s += ", batch_first=True"
        if self.bias_k is not None:
            s += ", add_bias_kv=True"
        if self.add_zero_attn:
            s += ", add_zero_attn=True"
        return s


def _additive(mask: Tensor, dtype) -> Tensor:
    """A bool mask (True = masked out) as 0 / -inf; a float mask as it is."""
    if mask.dtype == np.bool_:
        xp = backend.array_module(mask.array)
        return Tensor._make(xp.where(mask.array, -math.inf, 0.0).astype(dtype))
    return mask.to(dtype)
