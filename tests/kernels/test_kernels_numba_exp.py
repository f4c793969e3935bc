"""The vectorisable float32 exp (kernels/_numba_exp.py) against float64's exp: the accuracy
its docstring states (~1.5 ulp for t <= 0, ~2.5 ulp for t > 0), and its flush to 0 / inf
outside float32's normal range."""

from __future__ import annotations

import numpy as np
import pytest
from minigrad.kernels._numba_cpu import njit
from minigrad.kernels._numba_exp import EXP_UNDERFLOW, exp_float32, exp_nonpositive_float32


@njit(cache=False, error_model="numpy")   # as the kernels that inline it
def _apply_exp(ts, out):
    for i in range(ts.shape[0]):
        out[i] = exp_float32(ts[i])


@njit(cache=False, error_model="numpy")   # as the kernels that inline it
def _apply_exp_nonpositive(ts, out):
    for i in range(ts.shape[0]):
        out[i] = exp_nonpositive_float32(ts[i])


def _ulp_errors(ts, got):
    exact = np.exp(ts.astype(np.float64))
    return np.abs(got.astype(np.float64) - exact) / np.spacing(exact.astype(np.float32))


def _run(kernel, ts):
    out = np.empty_like(ts)
    kernel(ts, out)
    return out


@pytest.mark.parametrize("kernel", [_apply_exp, _apply_exp_nonpositive])
def test_exp_of_nonpositive_numbers_within_1_5_ulp(kernel):
    rng = np.random.default_rng(7)
    ts = np.concatenate([rng.uniform(-87.3, 0.0, 200_001), rng.uniform(-1.0, 0.0, 50_001),
                         np.float32([0.0, -0.0, -1e-30, -0.5, -0.34657359])]).astype(np.float32)
    errors = _ulp_errors(ts, _run(kernel, ts))
    assert errors.max() <= 1.5, (errors.max(), ts[errors.argmax()])


def test_exp_of_positive_numbers_within_2_5_ulp():
    rng = np.random.default_rng(8)
    ts = np.concatenate([rng.uniform(0.0, 87.3, 200_001),
                         np.float32([1e-30, 0.5, 1.0, 10.0])]).astype(np.float32)
    errors = _ulp_errors(ts, _run(_apply_exp, ts))
    assert errors.max() <= 2.5, (errors.max(), ts[errors.argmax()])


def test_results_outside_the_normal_range_are_flushed():
    below = np.float32([EXP_UNDERFLOW - np.float32(0.01), -100.0, -1e30, -np.inf])
    assert (_run(_apply_exp, below) == 0).all()
    above = np.float32([-EXP_UNDERFLOW + np.float32(0.01), 100.0, np.inf])
    assert np.isposinf(_run(_apply_exp, above)).all()
