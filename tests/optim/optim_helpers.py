"""What the optimizer tests share: parameters, a fixed sequence of gradients, and a loop that
feeds them to an optimizer and records the parameters after each step."""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad.nn.parameter import Parameter

STEPS = 6


def make_params(rng, dtype=np.float64):
    return [Parameter(mg.tensor(rng.standard_normal(s).astype(dtype))) for s in [(3, 4), (4,)]]


def grad_sequence(rng, params, steps=STEPS):
    return [[rng.standard_normal(p.shape).astype(p.dtype) for p in params] for _ in range(steps)]


def run(opt, params, grads):
    """Feed the given gradients, one list per step; return the parameters after each step."""
    history = []
    for step_grads in grads:
        opt.zero_grad()
        for p, g in zip(params, step_grads):
            p.grad = mg.tensor(g)
        opt.step()
        history.append([p.data.copy() for p in params])
    return history
