"""The Transformer encoder: TransformerEncoderLayer and TransformerEncoder.

One encoder layer is two sub-blocks, each wrapped in a residual connection and a LayerNorm:

    self-attention block:   sa(x) = dropout1(self_attn(x, x, x))
    feed-forward block:     ff(x) = dropout2(linear2(dropout(activation(linear1(x)))))

    post-norm (norm_first=False, the 2017 paper):   x = norm1(x + sa(x));  x = norm2(x + ff(x))
    pre-norm  (norm_first=True, easier to train):   x = x + sa(norm1(x));  x = x + ff(norm2(x))

Every position is transformed the same way; only self-attention mixes positions. The shapes
stay (S, N, d_model) (or (N, S, d_model) with batch_first) from input to output, so layers
stack: ``TransformerEncoder`` applies ``num_layers`` independent deep copies of one layer,
optionally followed by a final LayerNorm.

Submodule names are PyTorch's (self_attn, linear1, dropout, linear2, norm1, norm2, dropout1,
dropout2; layers.0, layers.1, ..., norm), so state_dicts move between the two unchanged.
"""

from __future__ import annotations

import copy

from .. import functional as F
from ..module import Module, ModuleList
from .attention import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .normalization import LayerNorm

__all__ = ["TransformerEncoderLayer", "TransformerEncoder"]

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


class TransformerEncoderLayer(Module):
    """forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False).

    ``activation`` is "relu", "gelu" or any callable (a function or a Module). Masks follow
    MultiheadAttention: src_mask (S, S) or (N * nhead, S, S), src_key_padding_mask (N, S),
    bool True = masked out.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise RuntimeError(f"TransformerEncoderLayer: activation should be relu/gelu, "
                                   f"not {activation}")
            activation = _ACTIVATIONS[activation]
        self.activation = activation

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (deep copies: each has its own weights),
    then ``norm`` if given. forward(src, mask=None, src_key_padding_mask=None, is_causal=None).
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError("TransformerEncoder: encoder_layer must be a Module, got "
                            f"{type(encoder_layer).__name__}")
        # enable_nested_tensor / mask_check steer PyTorch's inference fast path; minigrad has
        # one path, so they are accepted and change nothing.
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=bool(is_causal))
        return self.norm(x) if self.norm is not None else x
