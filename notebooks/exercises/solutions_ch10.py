"""Reference solutions for the exercises of Chapter 10. Try them yourself first."""

import numpy as np


# Exercise 1: with I = sum p t and S = sum p + sum t, L = 1 - (2I + eps) / (S + eps) and
# dI/dp_i = t_i, dS/dp_i = 1, so the quotient rule gives
# dL/dp_i = -(2 t_i (S + eps) - (2I + eps)) / (S + eps)^2
def dice_grad(p, t, eps=1.0):
    p, t = np.asarray(p, dtype=np.float64), np.asarray(t, dtype=np.float64)
    inter, total = (p * t).sum(), p.sum() + t.sum()
    return -(2 * t * (total + eps) - (2 * inter + eps)) / (total + eps) ** 2


# Exercise 2: row j holds the weights 1 - frac and frac at the two neighbours of the source
# position of output j
def interp_matrix(n_in, n_out, align_corners):
    j = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = j * (n_in - 1) / (n_out - 1) if n_out > 1 else np.zeros(n_out)
    else:
        src = np.maximum((j + 0.5) * n_in / n_out - 0.5, 0.0)
    left = np.minimum(np.floor(src).astype(int), n_in - 1)
    right = np.minimum(left + 1, n_in - 1)
    frac = src - left
    M = np.zeros((n_out, n_in))
    np.add.at(M, (np.arange(n_out), left), 1 - frac)
    np.add.at(M, (np.arange(n_out), right), frac)
    return M


# Exercise 3: every input pixel paints its value times the kernel onto the output, its
# top-left corner at (i * stride, j * stride); overlapping paint adds up
def conv_transpose2d_naive(x, w, stride):
    N, C_in, H, W = x.shape
    _, C_out, k, _ = w.shape
    out = np.zeros((N, C_out, (H - 1) * stride + k, (W - 1) * stride + k), dtype=x.dtype)
    for i in range(H):
        for j in range(W):
            # (N, C_in) x (C_in, C_out, k, k) -> (N, C_out, k, k)
            patch = np.tensordot(x[:, :, i, j], w, axes=(1, 0))
            out[:, :, i * stride:i * stride + k, j * stride:j * stride + k] += patch
    return out


# Exercise 4: each layer widens the field by (k - 1) steps of the current jump, the distance
# in input pixels between two neighbouring positions of its input; a stride multiplies it
def receptive_field(layers):
    size, jump = 1, 1
    for k, stride in layers:
        size += (k - 1) * jump
        jump *= stride
    return size
