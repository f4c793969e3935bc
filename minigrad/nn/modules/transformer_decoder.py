"""The Transformer decoder and the whole encoder-decoder: TransformerDecoderLayer,
TransformerDecoder, Transformer.

A decoder layer is an encoder layer with one more block in the middle, cross-attention, where
the target sequence (queries) reads the encoder's output, the *memory* (keys and values):

    self-attention block:    sa(x)     = dropout1(self_attn(x, x, x))        (tgt_mask: causal)
    cross-attention block:   mha(x, m) = dropout2(multihead_attn(x, m, m))   (memory_mask)
    feed-forward block:      ff(x)     = dropout3(linear2(dropout(activation(linear1(x)))))

    post-norm (norm_first=False):  x = norm1(x + sa(x)); x = norm2(x + mha(x, m)); x = norm3(x + ff(x))
    pre-norm  (norm_first=True):   x = x + sa(norm1(x)); x = x + mha(norm2(x), m); x = x + ff(norm3(x))

``Transformer`` is the model of "Attention Is All You Need": ``encoder`` (a
``TransformerEncoder`` of ``num_encoder_layers`` layers and a final LayerNorm) turns the source
into the memory, ``decoder`` (a ``TransformerDecoder``, same shape) turns the target and the
memory into the output. It has no embeddings and no output projection (add your own). Every
matrix starts Xavier-uniform, as in PyTorch.

Submodule names are PyTorch's (self_attn, multihead_attn, linear1, dropout, linear2, norm1-3,
dropout1-3; layers.0, ...; encoder, decoder), so state_dicts move between the two unchanged.
"""

from __future__ import annotations

import copy

import numpy as np

from ... import backend
from ...tensor import tensor
from .. import functional as F
from .. import init
from ..module import Module, ModuleList
from .attention import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .normalization import LayerNorm
from .transformer import TransformerEncoder, TransformerEncoderLayer

__all__ = ["TransformerDecoderLayer", "TransformerDecoder", "Transformer"]


def _activation(name_or_fn):
    """"relu" / "gelu" -> the function; a callable (function or Module) is kept."""
    if not isinstance(name_or_fn, str):
        return name_or_fn
    if name_or_fn == "relu":
        return F.relu
    if name_or_fn == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {name_or_fn}")


class TransformerDecoderLayer(Module):
    """forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False).

    Shapes (batch_first=False): tgt (T, N, E), memory (S, N, E) -> (T, N, E); batch_first
    swaps the first two dims; unbatched inputs drop N. Masks follow MultiheadAttention: bool
    True = masked out, float masks are added; tgt_mask (T, T), memory_mask (T, S),
    *_key_padding_mask (N, T) / (N, S).
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                            batch_first=batch_first, bias=bias, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                                 batch_first=batch_first, bias=bias, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation)

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, memory, memory, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x


class TransformerDecoder(Module):
    """``num_layers`` deep copies of ``decoder_layer`` (each with its own weights), then
    ``norm`` if given. forward(tgt, memory, tgt_mask=None, memory_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, tgt_is_causal=None,
    memory_is_causal=False)."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        if not isinstance(decoder_layer, Module):
            raise TypeError("TransformerDecoder: decoder_layer must be a Module, got "
                            f"{type(decoder_layer).__name__}")
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        # tgt_is_causal is only a hint that tgt_mask is causal (PyTorch uses it to pick a
        # faster kernel); minigrad always applies the mask itself, so the hint changes nothing
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return self.norm(x) if self.norm is not None else x


class Transformer(Module):
    """The encoder-decoder Transformer. forward(src, tgt, src_mask=None, tgt_mask=None,
    memory_mask=None, src_key_padding_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
    memory_is_causal=False) -> (T, N, E) (batch_first: (N, T, E)).

    ``custom_encoder`` / ``custom_decoder`` replace the default stacks. For a
    left-to-right decoder pass ``tgt_mask=Transformer.generate_square_subsequent_mask(T)``.
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation=F.relu, custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                      batch_first, norm_first, bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(*layer_args, **kw), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(*layer_args, **kw), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        self._reset_parameters()
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def _reset_parameters(self) -> None:
        """Xavier-uniform for every matrix (PyTorch's choice for this model)."""
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        batch = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch] != tgt.shape[batch]:
            raise RuntimeError(f"Transformer: the batch number of src {tuple(src.shape)} and tgt "
                               f"{tuple(tgt.shape)} must be equal (dim {batch}, "
                               f"batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"Transformer: the feature number of src {tuple(src.shape)} and "
                               f"tgt {tuple(tgt.shape)} must be equal to d_model={self.d_model}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """A (sz, sz) float mask for causal attention: 0 on and below the diagonal (position i
        sees positions up to i), -inf above it."""
        mask = np.triu(np.full((sz, sz), -np.inf), 1)
        return tensor(mask, dtype=dtype if dtype is not None else backend.DEFAULT_FLOAT,
                      device=device)
