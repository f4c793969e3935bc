"""Reference solutions for the exercises of Chapter 7. Try them yourself first."""

import numpy as np

import minigrad as mg


# Exercise 1: key j is visible to query i when j <= i (broadcasting a column against a row)
def causal_mask(L):
    i = mg.arange(L)
    return i[:, None] >= i[None, :]


# Exercise 2: sin(a + b) = sin a cos b + cos a sin b,  cos(a + b) = cos a cos b - sin a sin b
def shift_matrix(k, dim):
    M = np.zeros((dim, dim))
    for i, w in enumerate(1.0 / 10000 ** (np.arange(0, dim, 2) / dim)):
        c, s = np.cos(k * w), np.sin(k * w)
        M[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[c, s], [-s, c]]
    return M


# Exercise 3
def encoder_layer_params(E, F_):
    attn = 4 * E * E + 4 * E                       # in_proj (3E x E + 3E) and out_proj (E x E + E)
    ffn = (E * F_ + F_) + (F_ * E + E)             # linear1, linear2
    norms = 2 * 2 * E                              # two LayerNorms, weight and bias
    return attn + ffn + norms
