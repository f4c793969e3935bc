"""Reference solutions for the exercises of Chapter 5. Try them yourself first."""

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F


# Exercise 1: a dilated kernel spans d (k - 1) + 1 inputs
def conv_out(n, k, stride=1, padding=0, dilation=1):
    return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1


# Exercise 2
def avg_pool2d_naive(x, k, stride):
    N, C, H, W = x.shape
    OH, OW = (H - k) // stride + 1, (W - k) // stride + 1
    out = np.empty((N, C, OH, OW), dtype=x.dtype)
    for i in range(OH):
        for j in range(OW):
            window = x[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            out[:, :, i, j] = window.mean(axis=(2, 3))
    return out


# Exercise 3: the im2col recipe of section 2, with minigrad ops so that autograd follows it
def conv2d_mg(x, w, padding=0):
    N, C, H, W = x.shape
    C_out, _, kh, kw = w.shape
    xp = F.pad(x, (padding, padding, padding, padding))
    OH, OW = H + 2 * padding - kh + 1, W + 2 * padding - kw + 1
    patches = [xp[:, :, u:u + OH, v:v + OW] for u in range(kh) for v in range(kw)]
    cols = mg.stack(patches, dim=2).reshape(N, C * kh * kw, OH * OW)   # (N, C*kh*kw, L), C-major
    return (w.reshape(C_out, -1) @ cols).reshape(N, C_out, OH, OW)


# Exercise 4
def lenet_params(batch_norm):
    def conv(c_in, c_out, k):
        return c_out * (c_in * k * k + 1)

    def linear(a, b):
        return b * (a + 1)

    total = conv(1, 16, 3) + conv(16, 32, 3) + linear(128, 64) + linear(64, 10)
    return total + (2 * (16 + 32) if batch_norm else 0)
