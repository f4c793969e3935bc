"""batch_norm and batch_norm_backward: every CPU implementation against a float64 truth
written in the test (and the backward against central differences), on odd (N, C, M) shapes,
with and without weight and bias, float32 and float64; the parallel build; channels far from
0; argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_testing import CPU_IMPLS, DTYPES, assert_close, numeric_gradient, random_array
from minigrad.kernels import _threads

from minigrad import kernels as K


def batch_norm_truth(x, w, b, eps):
    x = np.asarray(x, np.float64)
    mean = x.mean(axis=(0, 2), keepdims=True)
    var = ((x - mean) ** 2).mean(axis=(0, 2), keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    if w is not None:
        y = y * w[:, None]
    if b is not None:
        y = y + b[:, None]
    return y, mean.ravel(), var.ravel()


def rstd_of(var, eps, dtype):
    return (1.0 / np.sqrt(var.astype(np.float64) + eps)).astype(dtype)


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 1, 1), (3, 7, 5), (5, 3, 1), (1, 4, 129)])
@pytest.mark.parametrize("with_affine", [True, False])
def test_forward_matches_the_definition(impl, dtype, shape, with_affine, kernel_rng):
    x = random_array(kernel_rng, shape, dtype, scale=2.0) + dtype(3)
    w, b = ((random_array(kernel_rng, (shape[1],), dtype) if with_affine else None)
            for _ in range(2))
    y, mean, var = K.batch_norm(x, w, b, 1e-3, impl=impl)
    y_truth, mean_truth, var_truth = batch_norm_truth(x, w, b, 1e-3)
    assert y.dtype == mean.dtype == var.dtype == dtype and y.flags.c_contiguous
    assert y.shape == shape and mean.shape == var.shape == (shape[1],)
    assert_close(y, y_truth)
    assert_close(mean, mean_truth)
    assert_close(var, var_truth)


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("shape", [(2, 1, 3), (3, 4, 5), (5, 3, 1)])
@pytest.mark.parametrize("with_weight", [True, False])
def test_backward_matches_central_differences(impl, shape, with_weight, kernel_rng):
    """float64: gx, gw, gb are the derivatives of <g, y> in x, weight and bias."""
    x = random_array(kernel_rng, shape, np.float64)
    g = random_array(kernel_rng, shape, np.float64)
    w = random_array(kernel_rng, (shape[1],), np.float64) if with_weight else None
    b = random_array(kernel_rng, (shape[1],), np.float64)
    eps = 1e-3

    def loss():
        return float((batch_norm_truth(x, w, b, eps)[0] * g).sum())

    _, _, var = K.batch_norm(x, w, b, eps, impl=impl)
    gx, gw, gb = K.batch_norm_backward(g, x, rstd_of(var, eps, np.float64), w, impl=impl)
    np.testing.assert_allclose(gx, numeric_gradient(loss, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gb, numeric_gradient(loss, b), rtol=1e-6, atol=1e-8)
    if with_weight:
        np.testing.assert_allclose(gw, numeric_gradient(loss, w), rtol=1e-6, atol=1e-8)
    else:               # gw is still S[g * x_hat]: the gradient a weight of ones would get
        x_hat = batch_norm_truth(x, None, None, eps)[0]
        np.testing.assert_allclose(gw, (g * x_hat).sum(axis=(0, 2)), rtol=1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_numba_parallel_build_matches_the_reference(dtype, kernel_rng):
    """More than SMALL_WORK elements and more channels than threads, read through a
    non-contiguous view."""
    base = random_array(kernel_rng, (7, 13, 2 * (_threads.SMALL_WORK // 91 + 3)), dtype)
    x = base[:, :, ::2]
    g = random_array(kernel_rng, x.shape, dtype)
    w, b = random_array(kernel_rng, (13,), dtype), random_array(kernel_rng, (13,), dtype)
    outs = {impl: K.batch_norm(x, w, b, impl=impl) for impl in CPU_IMPLS}
    for got, want in zip(outs["numba"], outs["numpy"]):
        assert_close(got, want)
    rstd = rstd_of(outs["numpy"][2], 1e-5, dtype)
    n = x.shape[0] * x.shape[2]
    for got, want in zip(K.batch_norm_backward(g, x, rstd, w, impl="numba"),
                         K.batch_norm_backward(g, x, rstd, w, impl="numpy")):
        assert_close(got, want, scale=np.sqrt(n))


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_channels_far_from_zero_are_centred(impl, kernel_rng):
    """float32 channels near 1000 with a spread of 1e-3: x_hat has mean ~0 and the gradient of
    sum(y), exactly 0, stays near 0 (the mean is taken in float64)."""
    x = (1000 + 1e-3 * kernel_rng.standard_normal((6, 3, 40))).astype(np.float32)
    y, _, var = K.batch_norm(x, None, None, impl=impl)
    assert np.abs(y.astype(np.float64).mean(axis=(0, 2))).max() < 1e-4
    gx, _, _ = K.batch_norm_backward(np.ones_like(x), x, rstd_of(var, 1e-5, np.float32),
                                     None, impl=impl)
    assert np.abs(gx).max() < 1e-3


def test_empty_inputs():
    y, mean, var = K.batch_norm(np.zeros((0, 3, 4), np.float32))
    assert y.shape == (0, 3, 4) and mean.shape == (3,) and np.isnan(mean).all() \
        and np.isnan(var).all()
    gx, gw, gb = K.batch_norm_backward(np.zeros((2, 4, 0)), np.zeros((2, 4, 0)), np.zeros(4))
    assert gx.shape == (2, 4, 0) and (gw == 0).all() and (gb == 0).all() and gb.shape == (4,)


def test_argument_errors():
    x = np.ones((2, 3, 4), np.float32)
    with pytest.raises(ValueError, match=r"kernels\.batch_norm: weight must have shape \(3,\) "
                                         r"\(one per channel\) for x of shape \(2, 3, 4\)"):
        K.batch_norm(x, np.ones(4, np.float32))
    with pytest.raises(ValueError, match=r"kernels\.batch_norm: x must be 3-D"):
        K.batch_norm(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"kernels\.batch_norm: .*float32.*float64"):
        K.batch_norm(x, np.ones(3))
    with pytest.raises(ValueError, match=r"kernels\.batch_norm_backward: rstd must have "
                                         r"shape \(3,\)"):
        K.batch_norm_backward(x, x, np.ones(2, np.float32))
    with pytest.raises(ValueError, match=r"kernels\.batch_norm_backward: .*shape"):
        K.batch_norm_backward(x[:1], x, np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r"kernels\.batch_norm: eps must be a real number"):
        K.batch_norm(x, eps="small")
