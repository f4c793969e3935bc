"""Checks for the exercises of Chapter 2 (linear and logistic regression)."""

from __future__ import annotations

import numpy as np

import minigrad as mg

from .checking import assert_close, attempt, exercise, fail, fmt, to_array


def _regression_data(n=60, d=4, seed=0):
    """Features on different scales and not centred (so the bias matters), and a target."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 3.0, d) + rng.uniform(-2.0, 2.0, d)
    y = X @ rng.standard_normal(d) + 1.5 + rng.standard_normal(n)
    return X, y


def _with_ones(X):
    return np.hstack([X, np.ones((len(X), 1))])


# -- Exercise 1 -------------------------------------------------------------------------------
@exercise(1, "ridge regression in closed form", "ridge_closed_form")
def ridge_closed_form(ridge_closed_form):
    X, y = _regression_data()
    Xt, lam = _with_ones(X), 0.5
    call = "ridge_closed_form(Xt, y, lam=0.5)"
    theta = to_array(attempt(call, ridge_closed_form, Xt.copy(), y.copy(), lam), call)
    if theta.shape != (Xt.shape[1],):
        fail(f"{call} returned shape {theta.shape}; expected ({Xt.shape[1]},): one weight per "
             "column of Xt, the bias last.")
    # at the minimum of the penalised loss its gradient is zero: ask autograd for it
    th = mg.tensor(theta, requires_grad=True)
    Xt_t, y_t = mg.tensor(Xt), mg.tensor(y)
    loss = ((Xt_t @ th - y_t) ** 2).mean() + lam * (th[:-1] ** 2).sum()
    loss.backward()
    grad = th.grad.numpy()
    if not np.abs(grad).max() <= 1e-8:                     # (nan fails too)
        hint = ""
        if np.abs(grad[:-1]).max() < 1e-8:
            hint = " Only the bias component is off: the bias must not be penalised (D[-1, -1] = 0)."
        elif np.abs(grad[-1]) < 1e-8:
            hint = " Is the penalty term n * lam * D (the loss is a mean over n examples)?"
        i = int(np.argmax(~(np.abs(grad) <= 1e-8)))
        fail(f"your theta is not the minimum of the penalised loss: its gradient there is "
             f"{fmt(grad[i])} in component [{i}] (it must be 0 in every component).{hint}")
    return ("the gradient of the penalised loss is zero at your theta "
            f"(|theta| = {fmt(np.linalg.norm(theta))})")


# -- Exercise 2 -------------------------------------------------------------------------------
@exercise(2, "the cross-entropy gradient by hand", "bce_grad")
def bce_grad(bce_grad):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 5))
    y = (rng.random(40) < 0.5).astype(np.float64)
    w, b = rng.standard_normal(5), 0.3
    wt = mg.tensor(w, requires_grad=True)
    bt = mg.tensor(b, dtype=mg.float64, requires_grad=True)
    z = mg.tensor(X) @ wt + bt
    loss = (z.relu() + (-z.abs()).exp().log1p() - mg.tensor(y) * z).mean()
    loss.backward()
    call = "bce_grad(X, y, w, b)"
    result = attempt(call, bce_grad, X.copy(), y.copy(), w.copy(), b)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{call} should return two things, (gradient for w, gradient for b); "
             f"got {type(result).__name__} {result!r:.80}")
    gw, gb = result
    assert_close("your gradient for w", gw, wt.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert_close("your gradient for b", gb, bt.grad.item(), rtol=1e-9, atol=1e-12,
                 hint="(one number: the mean of the residuals)")
    return "the hand-derived BCE gradient matches autograd"


# -- Exercise 3 -------------------------------------------------------------------------------
@exercise(3, "the learning-rate ceiling, measured", "max_stable_lr")
def max_stable_lr(max_stable_lr):
    X, _ = _regression_data(n=80, d=3, seed=5)
    call = "max_stable_lr(X)"
    got = to_array(attempt(call, max_stable_lr, X.copy()), call)
    if got.shape != ():
        fail(f"{call} returned shape {got.shape}; expected one number.")
    Xt = _with_ones(X)
    expected = 2.0 / np.linalg.eigvalsh(2 / len(Xt) * Xt.T @ Xt)[-1]
    without_ones = 2.0 / np.linalg.eigvalsh(2 / len(X) * X.T @ X)[-1]
    hint = ""
    if np.isclose(got, without_ones, rtol=1e-6):
        hint = "That is the value without the column of ones: the bias has a curvature too."
    assert_close(call, got, expected, rtol=1e-6, hint=hint)
    return f"max_stable_lr = 2 / lambda_max = {fmt(float(got))} on the check's data"


__all__ = ["ridge_closed_form", "bce_grad", "max_stable_lr"]
