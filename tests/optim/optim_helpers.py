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
        history.append([p.array.copy() for p in params])
    return history


def assert_follows_reference(rng, make_optimizer, reference, rtol, atol):
    """Run ``make_optimizer(params)`` on a fixed sequence of gradients: after every step each
    parameter must equal ``reference(p0, its gradients)[step]``, the update written out from
    the equations. Returns (optimizer, params) for checks of the state."""
    params = make_params(rng)
    start = [p.array.copy() for p in params]
    grads = grad_sequence(rng, params)
    opt = make_optimizer(params)
    got = run(opt, params, grads)
    for i, p0 in enumerate(start):
        want = reference(p0, [g[i] for g in grads])
        for t in range(len(grads)):
            np.testing.assert_allclose(got[t][i], want[t], rtol=rtol, atol=atol)
    return opt, params


def assert_float32_kept(opt, params, last_grads):
    """After steps on float32 parameters: they and every array in their state are still
    float32 (the state's arrays of the parameter's shape), and each ``.grad`` is still the
    gradient given last (the optimizer never writes p.grad)."""
    for p, g in zip(params, last_grads):
        assert p.dtype == np.float32
        np.testing.assert_array_equal(p.grad.array, g)
        for buf in opt.state[p].values():
            if isinstance(buf, np.ndarray):
                assert buf.dtype == np.float32 and buf.shape == p.shape
