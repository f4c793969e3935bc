"""Reference solutions for the exercises of Chapter 9. Try them yourself first."""

import math

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# Exercise 1: per sample the KL's gradient is (q - p) / T; times T^2, averaged over N rows
def soft_term_grad(s, t, T):
    q, p = _softmax(s / T), _softmax(t / T)
    return T * (q - p) / len(s)


# Exercise 2: for large T, q - p ~ ((s - mean s) - (t - mean t)) / (C T): the T's cancel
def logit_matching_grad(s, t):
    N, C = s.shape
    centred = (s - s.mean(axis=1, keepdims=True)) - (t - t.mean(axis=1, keepdims=True))
    return centred / (C * N)


# Exercise 3: log(mean_k p_k) = logsumexp_k(log p_k) - log K, never a log of a rounded 0
def ensemble_log_targets(teacher_logits, T):
    log_probs = mg.stack([F.log_softmax(z / T, dim=1) for z in teacher_logits])   # (K, N, C)
    return mg.logsumexp(log_probs, dim=0) - math.log(len(teacher_logits))


# Exercise 4
def smoothed_targets(labels, num_classes, eps):
    return (1 - eps) * F.one_hot(labels, num_classes).float() + eps / num_classes
