"""Checks for the exercises of Chapter 12 (generative models)."""

from __future__ import annotations

import numpy as np

import minigrad as mg

from .checking import assert_close, attempt, exercise, fail, to_array


def _tensor_result(call, got, shape):
    """``got`` must be a minigrad Tensor of ``shape`` that autograd can differentiate."""
    __tracebackhide__ = True
    if not isinstance(got, mg.Tensor):
        fail(f"{call} returned a {type(got).__name__}; return a minigrad Tensor built with "
             "minigrad ops, so that autograd can differentiate it.")
    if tuple(got.shape) != shape:
        fail(f"{call} has shape {tuple(got.shape)}, expected {shape}.")
    if got.grad_fn is None:
        fail(f"{call} has no graph (grad_fn is None): it was computed outside minigrad "
             "(NumPy, .item(), .detach()), so no gradient can reach its inputs.")
    return got


# -- Exercise 1 -------------------------------------------------------------------------------
def _kl_by_quadrature(mu, var):
    """KL(N(mu, var) || N(0, 1)) of one dimension: the integral of q log(q / p), summed on a
    fine grid that covers q to 12 standard deviations (accurate to about 1e-10)."""
    sd = np.sqrt(var)
    z = np.linspace(mu - 12 * sd, mu + 12 * sd, 40001)
    log_q = -0.5 * np.log(2 * np.pi * var) - (z - mu) ** 2 / (2 * var)
    log_p = -0.5 * np.log(2 * np.pi) - z**2 / 2
    return np.trapezoid(np.exp(log_q) * (log_q - log_p), z)


@exercise(1, "the Gaussian KL in closed form", "gaussian_kl")
def gaussian_kl(gaussian_kl):
    rng = np.random.default_rng(0)
    N, d = 4, 3
    mu = rng.normal(0, 1.5, (N, d))
    logvar = rng.normal(0, 1.0, (N, d))
    mu[0], logvar[0] = 0.0, 0.0                        # q = p: the KL is 0
    call = f"gaussian_kl(mu, logvar) for mu and logvar of shape ({N}, {d})"
    mu_t, logvar_t = mg.tensor(mu, requires_grad=True), mg.tensor(logvar, requires_grad=True)
    got = _tensor_result(call, attempt(call, gaussian_kl, mu_t, logvar_t), (N,))
    by_quadrature = np.array([sum(_kl_by_quadrature(m, np.exp(lv)) for m, lv in zip(mr, lr))
                              for mr, lr in zip(mu, logvar)])
    assert_close(call, got, by_quadrature, rtol=1e-6, atol=1e-8,
                 hint="(expected: the integral of q log(q / p) over z, computed numerically, "
                      "one KL per row summed over its dimensions; logvar is log sigma^2, so "
                      "sigma^2 = exp(logvar))")
    got.sum().backward()
    assert_close(f"the gradient of {call} with respect to mu", mu_t.grad, mu, rtol=1e-8,
                 atol=1e-12, hint="(expected: dKL/dmu = mu)")
    assert_close(f"the gradient of {call} with respect to logvar", logvar_t.grad,
                 0.5 * (np.exp(logvar) - 1), rtol=1e-8, atol=1e-12,
                 hint="(expected: dKL/dlogvar = (exp(logvar) - 1) / 2)")
    return "gaussian_kl matches the KL integrated numerically, and its gradients"


# -- Exercise 2 -------------------------------------------------------------------------------
@exercise(2, "the reparameterised sample", "reparameterize")
def reparameterize(reparameterize):
    rng = np.random.default_rng(1)
    shape = (5, 3)
    mu, logvar, eps = rng.normal(0, 1, shape), rng.normal(0, 1, shape), rng.normal(0, 1, shape)
    call = f"reparameterize(mu, logvar, eps) for arrays of shape {shape}"
    mu_t, logvar_t = mg.tensor(mu, requires_grad=True), mg.tensor(logvar, requires_grad=True)
    got = _tensor_result(call, attempt(call, reparameterize, mu_t, logvar_t, mg.tensor(eps)),
                         shape)
    sigma = np.exp(0.5 * logvar)
    assert_close(call, got, mu + sigma * eps, rtol=1e-10, atol=1e-12,
                 hint="(expected: mu + sigma * eps, where logvar is log sigma^2: "
                      "sigma = exp(logvar / 2), not exp(logvar))")
    got.sum().backward()
    if mu_t.grad is None or logvar_t.grad is None:
        fail(f"no gradient reaches {'mu' if mu_t.grad is None else 'logvar'} through "
             f"{call}: z must be computed from mu and logvar with minigrad ops.")
    assert_close(f"dz/dmu of {call}", mu_t.grad, np.ones(shape), rtol=1e-10, atol=1e-12)
    assert_close(f"dz/dlogvar of {call}", logvar_t.grad, 0.5 * sigma * eps, rtol=1e-10,
                 atol=1e-12, hint="(expected: sigma * eps / 2)")
    return "reparameterize gives mu + sigma * eps, differentiable in mu and logvar"


# -- Exercise 3 -------------------------------------------------------------------------------
@exercise(3, "the non-saturating generator loss", "generator_loss")
def generator_loss(generator_loss):
    logits = np.array([[-800.0], [-20.0], [-2.0], [0.0], [1.5], [30.0], [800.0]])
    n = len(logits)
    call = f"generator_loss(fake_logits) for the logits {logits.ravel().tolist()}"
    logits_t = mg.tensor(logits, requires_grad=True)
    got = _tensor_result(call, attempt(call, generator_loss, logits_t), ())
    value = to_array(got, call)
    # -log sigmoid(l) = softplus(-l) = max(-l, 0) + log1p(exp(-|l|)), exact in float64
    per_logit = np.maximum(-logits, 0) + np.log1p(np.exp(-np.abs(logits)))
    if not np.isfinite(value):
        fail(f"{call} is {value}, expected {per_logit.mean():.6g}: at a logit of -800, "
             "sigmoid(l) is 0 in floating point and its log is -inf. Write -log sigmoid(l) "
             "in a form that never takes the log of 0 (softplus, or "
             "F.binary_cross_entropy_with_logits).")
    if np.isclose(value, n * per_logit.mean(), rtol=1e-9):
        fail(f"{call} is {value:.6g}, {n} times the expected {per_logit.mean():.6g}: the sum "
             f"over the {n} fakes, not their mean.")
    assert_close(call, value, per_logit.mean(), rtol=1e-9, atol=1e-12,
                 hint="(expected: the mean over the fakes of -log D(G(z)) = -log sigmoid(l): "
                      "the generator wants its fakes called real)")
    got.backward()
    sigmoid = np.exp(-np.logaddexp(0, -logits))            # 1 / (1 + exp(-l)), no overflow
    assert_close(f"the gradient of {call}", logits_t.grad, -(1 - sigmoid) / n, rtol=1e-8,
                 atol=1e-14, hint=f"(expected: -(1 - sigmoid(l)) / {n})")
    return ("generator_loss is the mean of -log sigmoid(l), finite at every logit, with "
            "gradient -(1 - D) / N: strongest where D rejects the fake")


__all__ = ["gaussian_kl", "reparameterize", "generator_loss"]
