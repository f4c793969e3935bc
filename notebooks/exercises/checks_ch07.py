"""Checks for the exercises of Chapter 7 (attention and transformers)."""

from __future__ import annotations

import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

from .checking import assert_close, attempt, exercise, fail, seeded


# -- Exercise 1 -------------------------------------------------------------------------------
@exercise(1, "a causal mask", "causal_mask")
def causal_mask(causal_mask):
    for L in (1, 4, 7):
        call = f"causal_mask({L})"
        mask = attempt(call, causal_mask, L)
        if not isinstance(mask, mg.Tensor):
            fail(f"{call} returned a {type(mask).__name__}; expected a Tensor.")
        if mask.dtype != mg.bool:
            fail(f"{call} has dtype {mask.dtype}; expected mg.bool (True = may attend).")
        if tuple(mask.shape) != (L, L):
            fail(f"{call} has shape {tuple(mask.shape)}, expected ({L}, {L}).")
        got, allowed = mask.numpy(), np.tril(np.ones((L, L), dtype=bool))
        wrong = np.argwhere(got != allowed)
        if len(wrong):
            i, j = map(int, wrong[0])
            if got[i, j]:
                fail(f"{call} lets query {i} attend to key {j}, a later position.")
            fail(f"{call} stops query {i} from attending to key {j}, "
                 f"{'itself' if i == j else 'an earlier position'}.")
    with seeded(0):
        q, k, v = mg.randn(3, 7, 4), mg.randn(3, 7, 4), mg.randn(3, 7, 5)
    assert_close("attention with your mask", F.scaled_dot_product_attention(
        q, k, v, attn_mask=causal_mask(7)), F.scaled_dot_product_attention(
        q, k, v, is_causal=True).numpy(), rtol=1e-5, atol=1e-6)
    return "causal_mask matches is_causal=True"


# -- Exercise 2 -------------------------------------------------------------------------------
def _sinusoidal_encoding(length, dim):
    """Section 4's encodings, in float64."""
    pos = np.arange(length)[:, None]
    freq = 1.0 / 10000 ** (np.arange(0, dim, 2) / dim)
    pe = np.zeros((length, dim))
    pe[:, 0::2] = np.sin(pos * freq)
    pe[:, 1::2] = np.cos(pos * freq)
    return pe


@exercise(2, "relative position is a rotation", "shift_matrix")
def shift_matrix(shift_matrix):
    pe = _sinusoidal_encoding(80, 32)
    for k in (1, 5, 17):
        call = f"shift_matrix({k}, 32)"
        M = attempt(call, shift_matrix, k, 32)
        M = np.asarray(M.numpy() if isinstance(M, mg.Tensor) else M, dtype=np.float64)
        if M.shape != (32, 32):
            fail(f"{call} has shape {M.shape}, expected (32, 32).")
        assert_close(f"M_k PE_p with your M for k = {k} (rows p, columns dimensions)",
                     pe[:-k] @ M.T, pe[k:], atol=1e-9,
                     hint="(expected: PE_(p+k). Each 2x2 block acts on the pair "
                          "(PE_(p, 2i), PE_(p, 2i+1)): check the signs of its sines)")
    return "PE_(p+k) = M_k PE_p for k = 1, 5, 17 and every p"


# -- Exercise 3 -------------------------------------------------------------------------------
def _count(module):
    return sum(p.numel() for p in module.parameters())


@exercise(3, "counting parameters", "encoder_layer_params")
def encoder_layer_params(encoder_layer_params):
    for E, H, F_ in ((64, 4, 128), (16, 2, 64), (48, 8, 32)):
        call = f"encoder_layer_params({E}, {F_})"
        got = attempt(call, encoder_layer_params, E, F_)
        with seeded(0):                     # building a layer draws its initial weights
            expected = _count(nn.TransformerEncoderLayer(E, H, dim_feedforward=F_))
        if got != expected:
            fail(f"{call} returned {got}, but TransformerEncoderLayer({E}, {H}, "
                 f"dim_feedforward={F_}) has {expected} parameters (off by {got - expected}).")
    return ("one encoder layer of the chapter's model has "
            f"{encoder_layer_params(64, 128)} parameters")


__all__ = ["causal_mask", "shift_matrix", "encoder_layer_params"]
