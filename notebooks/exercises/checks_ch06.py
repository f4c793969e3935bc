"""Checks for the exercises of Chapter 6 (recurrent networks)."""

from __future__ import annotations

import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

from .checking import assert_close, attempt, exercise, fail, fmt, seeded, to_array


# -- Exercise 1 -------------------------------------------------------------------------------
@exercise(1, "an LSTM step by hand", "lstm_step")
def lstm_step(lstm_step):
    with seeded(0):
        lstm = nn.LSTM(3, 5, batch_first=True)
        xs = mg.randn(2, 6, 3)
    out, (_, c_n) = lstm(xs)
    P = {k: v.detach().numpy() for k, v in lstm.named_parameters()}
    weights = (P["weight_ih_l0"], P["weight_hh_l0"], P["bias_ih_l0"], P["bias_hh_l0"])
    h, c = np.zeros((2, 5)), np.zeros((2, 5))
    for t in range(6):
        call = f"lstm_step(x_t, h, c, W_ih, W_hh, b_ih, b_hh) at step t = {t}"
        result = attempt(call, lstm_step, xs.numpy()[:, t], h, c, *weights)
        if not isinstance(result, tuple) or len(result) != 2:
            fail(f"{call} should return the pair (h, c), got {type(result).__name__}.")
        h, c = (to_array(v, call) for v in result)
        assert_close(f"h after step t = {t}", h, out[:, t].detach().numpy(), rtol=1e-4,
                     atol=1e-5, hint="(gates in PyTorch's order: input, forget, cell, output; "
                                     "c = f * c + i * g, h = o * tanh(c))")
    assert_close("the final cell state c", c, c_n[0].detach().numpy(), rtol=1e-4, atol=1e-5)
    return "lstm_step reproduces nn.LSTM over 6 steps"


# -- Exercise 2 -------------------------------------------------------------------------------
@exercise(2, "gradient clipping", "clip_by_total_norm")
def clip_by_total_norm(clip_by_total_norm):
    rng = np.random.default_rng(0)
    shapes = [(4, 3), (3,), (2, 5)]
    for scale, max_norm in ((10.0, 1.0), (0.1, 1.0)):           # clipped, then left alone
        grads = [rng.standard_normal(s) * scale for s in shapes]
        params = [mg.zeros(*s, dtype=mg.float64, requires_grad=True) for s in shapes]
        for p, g in zip(params, grads):
            p.grad = mg.tensor(g.copy())
        norm_ref = float(nn.utils.clip_grad_norm_(params, max_norm))
        mine = [g.copy() for g in grads]
        call = f"clip_by_total_norm(grads, max_norm={max_norm}) with total norm {norm_ref:.3g}"
        norm = to_array(attempt(call, clip_by_total_norm, mine, max_norm), f"what {call} returns")
        if norm.shape != () or not np.isclose(norm, norm_ref, rtol=1e-9):
            fail(f"{call} returned {norm}; expected the total norm before clipping, "
                 f"{fmt(norm_ref)} (the norm of all the gradients concatenated).")
        for i, (g, p) in enumerate(zip(mine, params)):
            assert_close(f"{call}: gradient {i} after clipping", g, p.grad.numpy(), rtol=1e-9,
                         hint="(every array is scaled by the same factor, "
                              "max_norm / (total + 1e-6), and only when total > max_norm)")
    return "clip_by_total_norm matches nn.utils.clip_grad_norm_, clipped and not"


# -- Exercise 3 -------------------------------------------------------------------------------
@exercise(3, "temperature", "softmax_with_temperature")
def softmax_with_temperature(softmax_with_temperature):
    z = np.array([2.0, 1.0, 0.5, -1.0])

    def p(logits, tau):
        call = f"softmax_with_temperature({np.array2string(np.asarray(logits))}, tau={tau})"
        return call, attempt(call, softmax_with_temperature, np.array(logits), tau)

    call, got = p(z, 1.0)
    assert_close(call, got, F.softmax(mg.tensor(z), dim=0).numpy(), rtol=1e-9)
    call, got = p(z, 0.5)
    assert_close(call, got, F.softmax(mg.tensor(z / 0.5), dim=0).numpy(), rtol=1e-9,
                 hint="(divide the logits by tau)")
    call, got = p(z, 1e-3)
    assert_close(call + ", as tau -> 0", got, [1, 0, 0, 0], atol=1e-9,
                 hint="(all mass on the largest logit)")
    call, got = p(z, 1e4)
    assert_close(call + ", as tau -> infinity", got, [0.25] * 4, atol=1e-3,
                 hint="(uniform)")
    call, got = p(z * 1000, 1.0)
    assert_close(call + ", large logits", got, [1, 0, 0, 0], atol=1e-12,
                 hint="(subtract the largest logit before exp, or exp overflows)")
    return "softmax_with_temperature agrees with F.softmax, and its limits check out"


__all__ = ["lstm_step", "clip_by_total_norm", "softmax_with_temperature"]
