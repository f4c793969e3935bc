"""layer_norm and layer_norm_backward: every CPU implementation against a float64 truth
written in the test (and the backward against central differences), on odd shapes, with and
without weight and bias, float32 and float64; the parallel build; rows far from 0; argument
errors."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_testing import CPU_IMPLS, DTYPES, assert_close, numeric_gradient, random_array
from minigrad.kernels import _threads

from minigrad import kernels as K


def layer_norm_truth(x, w, b, eps):
    x = np.asarray(x, np.float64)
    mean = x.mean(axis=1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y, mean[:, 0], var[:, 0]


def affine(rng, n, dtype, present):
    return random_array(rng, (n,), dtype) if present else None


def rstd_of(var, eps, dtype):
    return (1.0 / np.sqrt(var.astype(np.float64) + eps)).astype(dtype)


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (13, 5), (2, 129)])
@pytest.mark.parametrize("with_affine", [True, False])
def test_forward_matches_the_definition(impl, dtype, shape, with_affine, kernel_rng):
    x = random_array(kernel_rng, shape, dtype, scale=2.0) + dtype(3)
    w, b = (affine(kernel_rng, shape[1], dtype, with_affine) for _ in range(2))
    y, mean, var = K.layer_norm(x, w, b, 1e-3, impl=impl)
    y_truth, mean_truth, var_truth = layer_norm_truth(x, w, b, 1e-3)
    assert y.dtype == mean.dtype == var.dtype == dtype and y.flags.c_contiguous
    assert_close(y, y_truth)
    assert_close(mean, mean_truth)
    assert_close(var, var_truth)


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("shape", [(1, 2), (3, 7), (4, 5)])
@pytest.mark.parametrize("with_weight", [True, False])
def test_backward_matches_central_differences(impl, shape, with_weight, kernel_rng):
    """float64: gx, gw, gb are the derivatives of <g, y> in x, weight and bias."""
    x = random_array(kernel_rng, shape, np.float64)
    g = random_array(kernel_rng, shape, np.float64)
    w = random_array(kernel_rng, (shape[1],), np.float64) if with_weight else None
    b = random_array(kernel_rng, (shape[1],), np.float64)
    eps = 1e-3

    def loss():
        return float((layer_norm_truth(x, w, b, eps)[0] * g).sum())

    _, _, var = K.layer_norm(x, w, b, eps, impl=impl)
    gx, gw, gb = K.layer_norm_backward(g, x, rstd_of(var, eps, np.float64), w, impl=impl)
    np.testing.assert_allclose(gx, numeric_gradient(loss, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gb, numeric_gradient(loss, b), rtol=1e-6, atol=1e-8)
    if with_weight:
        np.testing.assert_allclose(gw, numeric_gradient(loss, w), rtol=1e-6, atol=1e-8)
    else:               # gw is still sum(g * x_hat): the gradient a weight of ones would get
        np.testing.assert_allclose(gw, (g * layer_norm_truth(x, None, None, eps)[0]).sum(0),
                                   rtol=1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_numba_parallel_build_matches_the_reference(dtype, kernel_rng):
    """More rows than SMALL_WORK elements and than 64 blocks of partial sums, read
    through a non-contiguous view."""
    base = random_array(kernel_rng, (2 * _threads.SMALL_WORK // 37 + 515, 2 * 37), dtype)
    x = base[:, ::2]
    g = random_array(kernel_rng, x.shape, dtype)
    w, b = random_array(kernel_rng, (37,), dtype), random_array(kernel_rng, (37,), dtype)
    outs = {impl: K.layer_norm(x, w, b, impl=impl) for impl in CPU_IMPLS}
    for got, want in zip(outs["numba"], outs["numpy"]):
        assert_close(got, want)
    rstd = rstd_of(outs["numpy"][2], 1e-5, dtype)
    for got, want in zip(K.layer_norm_backward(g, x, rstd, w, impl="numba"),
                         K.layer_norm_backward(g, x, rstd, w, impl="numpy")):
        assert_close(got, want, scale=np.sqrt(x.shape[0]))


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_rows_far_from_zero_are_centred(impl, kernel_rng):
    """float32 rows near 1000 with a spread of 1e-3: x_hat has mean ~0 and the gradient of
    sum(y), exactly 0, stays near 0 (the mean is taken in float64)."""
    x = (1000 + 1e-3 * kernel_rng.standard_normal((4, 64))).astype(np.float32)
    y, _, var = K.layer_norm(x, None, None, impl=impl)
    assert np.abs(y.astype(np.float64).mean(axis=1)).max() < 1e-4
    gx, _, _ = K.layer_norm_backward(np.ones_like(x), x, rstd_of(var, 1e-5, np.float32),
                                     None, impl=impl)
    assert np.abs(gx).max() < 1e-3


def test_empty_inputs():
    y, mean, var = K.layer_norm(np.zeros((3, 0), np.float32))
    assert y.shape == (3, 0) and np.isnan(mean).all() and np.isnan(var).all()
    gx, gw, gb = K.layer_norm_backward(np.zeros((0, 4)), np.zeros((0, 4)), np.zeros(0))
    assert gx.shape == (0, 4) and (gw == 0).all() and gb.shape == (4,)


def test_argument_errors():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"kernels\.layer_norm: weight must have shape \(3,\) "
                                         r"for x of shape \(2, 3\)"):
        K.layer_norm(x, np.ones(4, np.float32))
    with pytest.raises(ValueError, match=r"kernels\.layer_norm: x must be 2-D"):
        K.layer_norm(np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r"kernels\.layer_norm: .*float32.*float64"):
        K.layer_norm(x, np.ones(3))
    with pytest.raises(ValueError, match=r"kernels\.layer_norm_backward: rstd must have "
                                         r"shape \(2,\)"):
        K.layer_norm_backward(x, x, np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r"kernels\.layer_norm: eps must be a real number"):
        K.layer_norm(x, eps="small")
