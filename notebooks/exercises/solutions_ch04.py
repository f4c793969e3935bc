"""Reference solutions for the exercises of Chapter 4. Try them yourself first."""

import numpy as np


# Exercise 1: v <- mu v + g (v = g on the first step), p <- p - lr v, in place
def sgd_momentum(params, grads, bufs, lr, momentum):
    for i, (p, g) in enumerate(zip(params, grads)):
        bufs[i] = g.copy() if bufs[i] is None else momentum * bufs[i] + g
        p -= lr * bufs[i]


# Exercise 2
def adam_step(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8):
    b1, b2 = betas
    state["t"] = state.get("t", 0) + 1
    state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
    state["s"] = b2 * state.get("s", 0.0) + (1 - b2) * g * g
    m_hat = state["m"] / (1 - b1 ** state["t"])          # bias corrections: m, s start at 0
    s_hat = state["s"] / (1 - b2 ** state["t"])
    p -= lr * m_hat / (np.sqrt(s_hat) + eps)


# Exercise 3
def cosine_lr(epoch, lr0, T_max, eta_min=0.0):
    return eta_min + 0.5 * (lr0 - eta_min) * (1 + np.cos(np.pi * epoch / T_max))
