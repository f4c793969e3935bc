"""Checks for the exercises of Chapter 4 (optimisation and regularisation)."""

from __future__ import annotations

import numpy as np

import minigrad as mg
import minigrad.optim as optim

from .checking import assert_close, attempt, exercise, fail


def _least_squares(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((20, 5)), rng.standard_normal(20)


def _side_by_side(make_opt, my_step, steps=20):
    """Run ``steps`` steps of a minigrad optimizer and of the student's update on the same
    least-squares problem; fail at the first step where the parameters differ."""
    A, b = _least_squares()
    w_mg = mg.tensor(np.zeros(5), requires_grad=True)
    opt = make_opt([w_mg])
    w_np = np.zeros(5)
    for step in range(1, steps + 1):
        opt.zero_grad()
        ((mg.tensor(A) @ w_mg - mg.tensor(b)) ** 2).sum().backward()
        opt.step()
        before = w_np.copy()
        my_step(w_np, 2 * A.T @ (A @ w_np - b))
        if np.array_equal(w_np, before):
            fail(f"step {step} left your parameters unchanged: update the array in place "
                 "(p -= ...), the caller keeps the same array.")
        assert_close(f"after step {step}, your parameter vector (next to optim."
                     f"{type(opt).__name__}'s)", w_np, w_mg.detach().numpy(), rtol=1e-9,
                     atol=1e-12)
    return w_np


# -- Exercise 1 -------------------------------------------------------------------------------
@exercise(1, "momentum by hand", "sgd_momentum")
def sgd_momentum(sgd_momentum):
    bufs = [None]

    def my_step(p, g):
        attempt("sgd_momentum([p], [g], bufs, lr=0.01, momentum=0.9)", sgd_momentum,
                [p], [g], bufs, lr=0.01, momentum=0.9)

    w = _side_by_side(lambda ps: optim.SGD(ps, lr=0.01, momentum=0.9), my_step)
    return f"hand-written momentum matches optim.SGD for 20 steps: {np.round(w, 4)}"


# -- Exercise 2 -------------------------------------------------------------------------------
@exercise(2, "Adam by hand", "adam_step")
def adam_step(adam_step):
    state = {}

    def my_step(p, g):
        attempt("adam_step(p, g, state, lr=0.05)", adam_step, p, g, state, lr=0.05)

    w = _side_by_side(lambda ps: optim.Adam(ps, lr=0.05), my_step)
    return f"hand-written Adam matches optim.Adam for 20 steps: {np.round(w, 4)}"


# -- Exercise 3 -------------------------------------------------------------------------------
@exercise(3, "cosine annealing in closed form", "cosine_lr")
def cosine_lr(cosine_lr):
    for lr0, T_max, eta_min in ((0.1, 50, 0.001), (0.5, 7, 0.0)):
        opt = optim.SGD([mg.zeros(1, requires_grad=True)], lr=lr0)
        sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T_max, eta_min=eta_min)
        expected = []
        for _ in range(T_max + 1):
            expected.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        call = f"cosine_lr(epoch, lr0={lr0}, T_max={T_max}, eta_min={eta_min})"
        got = [attempt(call.replace("epoch", str(e)), cosine_lr, e, lr0, T_max, eta_min)
               for e in range(T_max + 1)]
        assert_close(f"{call} for epoch = 0..{T_max}", got, expected, rtol=1e-9, atol=1e-12,
                     hint="(the index is the epoch)")
    return "cosine_lr matches CosineAnnealingLR epoch by epoch"


__all__ = ["sgd_momentum", "adam_step", "cosine_lr"]
