"""Checks for the exercises of Chapter 9 (knowledge distillation)."""

from __future__ import annotations

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F

from .checking import assert_close, attempt, exercise, fail, to_array


def soft_term_grad_by_autograd(s, t, T):
    """d/ds of T^2 * KL(softmax(t / T) || softmax(s / T)), batchmean, by autograd (float64)."""
    s_leaf = mg.tensor(np.asarray(s, dtype=np.float64), requires_grad=True)
    teacher = F.log_softmax(mg.tensor(np.asarray(t, dtype=np.float64)) / T, dim=1)
    kl = F.kl_div(F.log_softmax(s_leaf / T, dim=1), teacher, reduction="batchmean",
                  log_target=True)
    (grad,) = mg.autograd.grad(T**2 * kl, s_leaf)
    return grad.numpy()


def _shaped(call, got, shape):
    """``got`` as a float64 array, failing unless it has ``shape``."""
    __tracebackhide__ = True
    array = to_array(got, call)
    if array.shape != shape:
        fail(f"{call} has shape {array.shape}, expected {shape} (one row per sample, one "
             "column per class).")
    return array


# -- Exercise 1 -------------------------------------------------------------------------------
@exercise(1, "the soft term's gradient", "soft_term_grad")
def soft_term_grad(soft_term_grad):
    rng = np.random.default_rng(0)
    # T = 1 comes last: there a forgotten power of T changes nothing
    for N, C, T in ((3, 10, 4.0), (5, 7, 2.5), (4, 6, 1.0)):
        s, t = rng.normal(0, 3, (N, C)), rng.normal(0, 3, (N, C))
        call = f"soft_term_grad(s, t, T={T:g}) for logits of shape ({N}, {C})"
        got = _shaped(call, attempt(call, soft_term_grad, s.copy(), t.copy(), T), (N, C))
        assert_close(call, got, soft_term_grad_by_autograd(s, t, T), rtol=1e-8, atol=1e-12,
                     hint="(expected: autograd's gradient of T**2 * F.kl_div(..., "
                          "reduction='batchmean', log_target=True). Section 3 derives the "
                          "KL's gradient per sample; mind the T**2 in front and the mean "
                          "over the N rows.)")
    return "soft_term_grad matches autograd at T = 4, 2.5 and 1"


# -- Exercise 2 -------------------------------------------------------------------------------
@exercise(2, "the high-temperature limit", "logit_matching_grad")
def logit_matching_grad(logit_matching_grad):
    rng = np.random.default_rng(1)
    N, C = 4, 6
    s = rng.normal(0, 2, (N, C)) + rng.normal(5, 3, (N, 1))     # means far from 0, per row
    t = rng.normal(0, 2, (N, C)) - rng.normal(5, 3, (N, 1))
    call = f"logit_matching_grad(s, t) for logits of shape ({N}, {C})"
    got = _shaped(call, attempt(call, logit_matching_grad, s.copy(), t.copy()), (N, C))
    shift = np.arange(1.0, N + 1)[:, None] * 10
    shifted = _shaped(call, attempt(call, logit_matching_grad, s + shift, t.copy()), (N, C))
    if not np.allclose(shifted, got, rtol=1e-9, atol=1e-12):
        fail(f"{call} changes when a constant is added to each row of s (10 to the first, "
             "20 to the second, ...). A constant added to a sample's logits changes none of "
             "its probabilities, at any T, so it cannot change the gradient: the limit "
             "involves each row's logits minus that row's mean.")
    T = 1e4
    assert_close(f"{call} (compared with the exact gradient at T = {T:g})", got,
                 soft_term_grad_by_autograd(s, t, T), rtol=1e-3, atol=1e-7,
                 hint="(the limit of Exercise 1's gradient: per sample "
                      "((s_i - mean s) - (t_i - mean t)) / C, then averaged over the batch)")
    return "logit_matching_grad is the T -> infinity limit of the soft term's gradient"


# -- Exercise 3 -------------------------------------------------------------------------------
def _log_softmax_np(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def ensemble_log_targets_reference(logits, T):
    """log(mean_k softmax(z_k / T)) in float64 NumPy, through log-probabilities."""
    logp = np.stack([_log_softmax_np(np.asarray(z, dtype=np.float64) / T) for z in logits])
    top = logp.max(axis=0)
    return top + np.log(np.exp(logp - top).mean(axis=0))


@exercise(3, "distilling an ensemble", "ensemble_log_targets")
def ensemble_log_targets(ensemble_log_targets):
    rng = np.random.default_rng(2)
    K, N, C = 3, 4, 6
    cases = [(3.0, 3.0, "three teachers"), (1.0, 3.0, "three teachers"),
             (1.0, 60.0, "three very confident teachers (logits of size ~60)")]
    for T, scale, what in cases:
        logits = [mg.tensor(rng.normal(0, scale, (N, C)).astype(np.float32)) for _ in range(K)]
        call = f"ensemble_log_targets(logits, T={T:g}) for {what}, each ({N}, {C})"
        got = attempt(call, ensemble_log_targets, [z.clone() for z in logits], T)
        if not isinstance(got, mg.Tensor):
            fail(f"{call} returned a {type(got).__name__}; return a Tensor, the target that "
                 "F.kl_div(..., log_target=True) takes.")
        array = _shaped(call, got, (N, C))
        expected = ensemble_log_targets_reference([z.numpy() for z in logits], T)
        if not np.isfinite(array).all():
            i, j = map(int, np.argwhere(~np.isfinite(array))[0])
            fail(f"{call} is {array[i, j]} at [{i}, {j}] (expected {expected[i, j]:.6g}): a "
                 "probability rounded to 0 in float32 and its log is -inf. Combine the "
                 "teachers' log-probabilities (F.log_softmax) with mg.logsumexp instead of "
                 "taking the log of a mean of probabilities.")
        if np.all(array >= 0) and np.allclose(array, np.exp(expected), rtol=1e-4, atol=1e-6):
            fail(f"{call} returned the mean probabilities themselves; F.kl_div with "
                 "log_target=True needs their log.")
        assert_close(call, array, expected, rtol=1e-4, atol=1e-4,
                     hint="(expected: the log of the mean of the K teachers' softmax(z_k / T); "
                          "averaging the logits first is a different distribution)")
    return "ensemble_log_targets is the log of the mean of the teachers' softmax(z / T), " \
           "finite even where a probability underflows"


# -- Exercise 4 -------------------------------------------------------------------------------
@exercise(4, "label smoothing is distillation from a know-nothing teacher", "smoothed_targets")
def smoothed_targets(smoothed_targets):
    labels = mg.tensor([3, 0, 4, 4, 1, 2])
    N, C = 6, 5
    logits = mg.tensor(np.random.default_rng(3).normal(0, 2, (N, C)))
    for eps in (0.1, 0.3):
        call = f"smoothed_targets(labels, {C}, eps={eps})"
        got = _shaped(call, attempt(call, smoothed_targets, labels.clone(), C, eps), (N, C))
        expected = (1 - eps) * np.eye(C)[labels.numpy()] + eps / C
        assert_close(call, got, expected, rtol=1e-6, atol=1e-7,
                     hint="(PyTorch's label_smoothing spreads eps over all C classes, the "
                          "label's included: eps / C each, plus 1 - eps on the label)")
        assert_close(f"F.cross_entropy(logits, {call})",
                     F.cross_entropy(logits, mg.tensor(got)),
                     F.cross_entropy(logits, labels, label_smoothing=eps).numpy(), rtol=1e-6)
    return "the cross-entropy with smoothed_targets is F.cross_entropy's label_smoothing " \
           "(eps = 0.1 and 0.3)"


__all__ = ["soft_term_grad", "logit_matching_grad", "ensemble_log_targets", "smoothed_targets",
           "soft_term_grad_by_autograd", "ensemble_log_targets_reference"]
