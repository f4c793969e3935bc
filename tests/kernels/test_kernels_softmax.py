"""softmax / log_softmax and their backward passes: every CPU implementation, every axis."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_testing import (
    CPU_IMPLS,
    DTYPES,
    assert_close,
    log_softmax_truth,
    random_array,
    softmax_truth,
)

from minigrad import kernels as K

FORWARD = ["softmax", "log_softmax"]
SHAPES = [(7,), (3, 5), (2, 3, 4), (2, 1, 3, 5)]


def forward_truth(op, x, axis):
    return softmax_truth(x, axis) if op == "softmax" else log_softmax_truth(x, axis)


def backward_truth(op, x, gy, axis):
    """Vector-Jacobian products computed from the Jacobians, in float64."""
    p = softmax_truth(x, axis)
    gy = np.asarray(gy, np.float64)
    if op == "softmax":
        return p * (gy - (gy * p).sum(axis=axis, keepdims=True))
    return gy - p * gy.sum(axis=axis, keepdims=True)


def all_axes(shape):
    return list(range(-len(shape), len(shape)))


# ---------------------------------------------------------------------------------------------
# Forward and backward against float64 truths, every axis of several ranks
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", FORWARD)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_forward_every_axis(impl, dtype, op, shape, kernel_rng):
    x = random_array(kernel_rng, shape, dtype, scale=3.0)
    for axis in all_axes(shape):
        y = getattr(K, op)(x, axis=axis, impl=impl)
        assert y.dtype == dtype and y.shape == shape and y.flags.c_contiguous
        assert_close(y, forward_truth(op, x, axis), dtype)


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", FORWARD)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_backward_every_axis(impl, dtype, op, shape, kernel_rng):
    x = random_array(kernel_rng, shape, dtype, scale=3.0)
    gy = random_array(kernel_rng, shape, dtype)
    for axis in all_axes(shape):
        y = getattr(K, op)(x, axis=axis, impl="numpy")
        gx = getattr(K, op + "_backward")(y, gy, axis=axis, impl=impl)
        assert gx.dtype == dtype and gx.shape == shape
        assert_close(gx, backward_truth(op, x, gy, axis), dtype, scale=10)


@pytest.mark.parametrize("op", FORWARD)
def test_backward_formula_matches_finite_differences(op, kernel_rng):
    """The reference backward is the true gradient of L(x) = sum(gy * op(x))."""
    x = random_array(kernel_rng, (3, 4), np.float64)
    gy = random_array(kernel_rng, (3, 4), np.float64)
    forward = getattr(K, op)
    y = forward(x, axis=0, impl="numpy")
    gx = getattr(K, op + "_backward")(y, gy, axis=0, impl="numpy")
    eps = 1e-6
    numeric = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[idx] = eps
        numeric[idx] = (np.sum(gy * forward(x + step, axis=0)) -
                        np.sum(gy * forward(x - step, axis=0))) / (2 * eps)
    np.testing.assert_allclose(gx, numeric, rtol=1e-6, atol=1e-8)


@settings(max_examples=30, deadline=None)
@given(
    shape=st.lists(st.integers(1, 9), min_size=1, max_size=4).map(tuple),
    data=st.data(),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**31 - 1),
)
def test_numba_matches_reference_on_random_shapes(shape, data, dtype, seed):
    if "numba" not in CPU_IMPLS:
        pytest.skip("numba is not installed")
    axis = data.draw(st.sampled_from(all_axes(shape)))
    rng = np.random.default_rng(seed)
    x = random_array(rng, shape, dtype, scale=5.0)
    gy = random_array(rng, shape, dtype)
    for op in FORWARD:
        y = getattr(K, op)(x, axis, impl="numpy")
        assert_close(getattr(K, op)(x, axis, impl="numba"), y)
        backward = getattr(K, op + "_backward")
        assert_close(backward(y, gy, axis, impl="numba"), backward(y, gy, axis, impl="numpy"),
                     scale=10)


# ---------------------------------------------------------------------------------------------
# Numerical stability and special values
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_values_are_stable(impl, dtype, kernel_rng):
    """exp(1000) overflows in both dtypes: only the max-subtraction keeps this finite."""
    x = np.where(kernel_rng.random((6, 33)) < 0.5, -1000.0, 1000.0).astype(dtype)
    x[:, 0] = 1000.0                         # every row has a maximum of 1000
    x[0] = 1000.0                            # a row of equal values: uniform distribution
    x[1, 1:] += np.arange(32, dtype=dtype)   # 1000, 1000, 1001, ... one clear winner
    for axis in (0, 1):
        p = K.softmax(x, axis=axis, impl=impl)
        logp = K.log_softmax(x, axis=axis, impl=impl)
        assert np.isfinite(p).all() and np.isfinite(logp).all()
        assert_close(p.sum(axis=axis), np.ones(x.shape[1 - axis]), dtype)
        assert_close(p, softmax_truth(x, axis), dtype)
        assert_close(logp, log_softmax_truth(x, axis), dtype)
    assert_close(K.softmax(x, impl=impl)[0], np.full(33, 1 / 33), dtype)


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_minus_infinity_masks_give_exact_zeros(impl, dtype, kernel_rng):
    x = random_array(kernel_rng, (4, 10), dtype)
    x[:, ::3] = -np.inf                      # masked positions, as in attention
    p = K.softmax(x, impl=impl)
    assert (p[:, ::3] == 0).all()
    assert_close(p.sum(axis=1), np.ones(4), dtype)
    logp = K.log_softmax(x, impl=impl)
    assert (logp[:, ::3] == -np.inf).all() and np.isfinite(logp[:, 1::3]).all()


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")   # NumPy on NaN rows
@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_nan_and_fully_masked_rows_behave_like_numpy(impl):
    x = np.array([[0.0, np.nan, 1.0], [-np.inf, -np.inf, -np.inf], [0.0, 1.0, 2.0]], np.float32)
    for op in FORWARD:
        y = getattr(K, op)(x, impl=impl)
        assert np.isnan(y[0]).all() and np.isnan(y[1]).all()   # NaN spreads over its row
        assert np.isfinite(y[2]).all()


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("op", FORWARD + ["softmax_backward", "log_softmax_backward"])
@pytest.mark.parametrize("shape", [(0, 5), (3, 0), (0,)], ids=str)
def test_empty_inputs(impl, op, shape):
    x = np.zeros(shape, np.float32)
    args = (x,) if op in FORWARD else (x, x)
    out = getattr(K, op)(*args, impl=impl)
    assert out.shape == shape and out.dtype == np.float32


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_zero_dimensional_input(impl):
    assert K.softmax(np.array(3.0), impl=impl) == 1.0
    assert K.log_softmax(np.array(3.0), impl=impl) == 0.0


# ---------------------------------------------------------------------------------------------
# The vectorisable float32 exp the Numba kernels use
# ---------------------------------------------------------------------------------------------

@pytest.mark.skipif("numba" not in CPU_IMPLS, reason="numba is not installed")
def test_numba_exp_float32_accuracy_and_special_values():
    from minigrad.kernels._numba_exp import exp_float32
    from numba import njit

    @njit(error_model="numpy")
    def exp_all(t, out):
        for i in range(t.shape[0]):
            out[i] = exp_float32(t[i])

    t = np.linspace(-87.3, 87.3, 400_001).astype(np.float32)
    out = np.empty_like(t)
    exp_all(t, out)
    exact = np.exp(t.astype(np.float64))
    ulp = np.spacing(exact.astype(np.float32)).astype(np.float64)
    err = np.abs(out - exact) / ulp
    assert err[t <= 0].max() <= 2.0
    assert err[t > 0].max() <= 3.0
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, -100.0, 100.0], np.float32)
    out = np.empty_like(special)
    exp_all(special, out)
    assert np.isnan(out[0])
    np.testing.assert_array_equal(out[1:], [np.inf, 0.0, 1.0, 1.0, 0.0, np.inf])


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

def test_integer_input_is_rejected():
    with pytest.raises(ValueError, match=r"kernels.softmax: x must be float32 or float64"):
        K.softmax(np.arange(6).reshape(2, 3))


@pytest.mark.parametrize("axis", [2, -3])
def test_axis_out_of_range(axis):
    with pytest.raises(ValueError, match=rf"axis {axis} is out of range for a 2-D array"):
        K.log_softmax(np.zeros((2, 3)), axis=axis)


def test_backward_shape_and_dtype_mismatch():
    y = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"softmax_backward: y has shape \(2, 3\).*\(3, 2\)"):
        K.softmax_backward(y, np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match="dtypes differ"):
        K.log_softmax_backward(y, np.zeros((2, 3), np.float64))
