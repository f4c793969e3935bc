"""Reference solutions for the exercises of Chapter 6. Try them yourself first."""

import numpy as np


# Exercise 1: the four row blocks of the weights are the gates i, f, g, o (PyTorch's order)
def lstm_step(x, h, c, W_ih, W_hh, b_ih, b_hh):
    def sig(a):
        return 1 / (1 + np.exp(-a))

    z = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, g, o = np.split(z, 4, axis=-1)
    c = sig(f) * c + sig(i) * np.tanh(g)
    h = sig(o) * np.tanh(c)
    return h, c


# Exercise 2
def clip_by_total_norm(grads, max_norm):
    total = np.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in grads))
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads:
            g *= coef                                    # in place: the caller's arrays
    return total


# Exercise 3
def softmax_with_temperature(z, tau):
    z = np.asarray(z, dtype=np.float64) / tau
    e = np.exp(z - z.max())                              # the largest exponent is 0: no overflow
    return e / e.sum()
