"""gelu and gelu_backward: every CPU implementation against a float64 truth written from the
definition with Python's math.erfc (and against central differences for the slope), on
random odd shapes and layouts, both approximations, float32 and float64; the parallel build
on an array large enough for it; special values; argument errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from kernel_testing import CPU_IMPLS, DTYPES, assert_close, random_array
from minigrad.kernels import _threads

from minigrad import kernels as K

APPROXIMATIONS = ["none", "tanh"]


def gelu_truth(x, approximate):
    """GELU of each element in Python floats (float64), written from the definition."""
    def one(v):
        if approximate == "tanh":
            return 0.5 * v * (1.0 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)))
        return 0.5 * v * math.erfc(-v / math.sqrt(2.0))
    return np.array([one(v) for v in np.asarray(x, np.float64).ravel().tolist()]
                    ).reshape(np.shape(x))


def slope_truth(x, approximate, h=1e-5):
    """d gelu / dx by central differences of ``gelu_truth`` (float64)."""
    x = np.asarray(x, np.float64)
    return (gelu_truth(x + h, approximate) - gelu_truth(x - h, approximate)) / (2 * h)


# float32 A&S erfc is within 1.5e-7 of erfc (gelu_numba.py): a float32 ulp or so
SLOPE_TOLERANCE = {np.float32: dict(rtol=1e-5, atol=2e-6), np.float64: dict(rtol=1e-7, atol=1e-8)}


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("approximate", APPROXIMATIONS)
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 9, 5), (1, 1), (5, 3, 2, 3)])
def test_matches_the_definition(impl, dtype, approximate, shape, kernel_rng):
    x = random_array(kernel_rng, shape, dtype, scale=3.0)
    gy = random_array(kernel_rng, shape, dtype)
    y = K.gelu(x, approximate, impl=impl)
    assert y.dtype == dtype and y.shape == shape and y.flags.c_contiguous
    assert_close(y, gelu_truth(x, approximate))
    gx = K.gelu_backward(gy, x, approximate, impl=impl)
    assert gx.dtype == dtype and gx.shape == shape and gx.flags.c_contiguous
    np.testing.assert_allclose(gx, gy.astype(np.float64) * slope_truth(x, approximate),
                               **SLOPE_TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("approximate", APPROXIMATIONS)
def test_numba_parallel_build_on_views_matches_the_reference(dtype, approximate, kernel_rng):
    """Over SMALL_WORK elements (the parallel build), blocks with a ragged last one, read
    through transposed and strided views."""
    base = random_array(kernel_rng, (2 * _threads.SMALL_WORK // 37 + 3, 2 * 37), dtype, 4.0)
    x = base[:, ::2].T                       # (37, rows): not contiguous
    gy = random_array(kernel_rng, x.shape, dtype)
    assert x.size > _threads.SMALL_WORK and x.size % 4096 != 0
    reference = K.gelu(x, approximate, impl="numpy")
    assert_close(K.gelu(x, approximate, impl="numba"), reference)
    assert_close(K.gelu_backward(gy, x, approximate, impl="numba"),
                 K.gelu_backward(gy, x, approximate, impl="numpy"))


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("approximate", APPROXIMATIONS)
def test_tails_and_special_values(impl, dtype, approximate):
    x = np.array([-40.0, -8.0, 0.0, 8.0, 40.0, np.inf, np.nan], dtype)
    y = K.gelu(x, approximate, impl=impl)
    np.testing.assert_allclose(y[[2, 3, 4, 5]], np.array([0.0, 8.0, 40.0, np.inf], dtype),
                               rtol=1e-14)
    assert np.isnan(y[6])
    assert -1e-12 < y[1] <= 0 and y[0] == 0       # the far left tail: tiny, never positive
    gx = K.gelu_backward(np.ones_like(x), x, approximate, impl=impl)
    np.testing.assert_allclose(gx[[0, 2, 4]], [0.0, 0.5, 1.0], atol=1e-6)
    assert np.isnan(gx[6])


def test_far_left_tail_keeps_its_digits():
    """Phi(x) through erfc: gelu(-6) = -6 Phi(-6) ~ -5.9e-9 to a few digits, where
    x (1 + erf(x / sqrt 2)) / 2 in float32 gives 0 (erf rounds to -1). The float32 Numba
    kernel's A&S erfc is good to ~0.4 % relative this far out (its error is 1.5e-7 absolute)."""
    x = np.array([-6.0, -5.0], np.float32)
    for impl in CPU_IMPLS:
        np.testing.assert_allclose(K.gelu(x, impl=impl), gelu_truth(x, "none"), rtol=5e-3)


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_empty_input(impl):
    x = np.zeros((0, 3), np.float32)
    assert K.gelu(x, impl=impl).shape == (0, 3)
    assert K.gelu_backward(x, x, "tanh", impl=impl).shape == (0, 3)


def test_argument_errors():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"kernels\.gelu: approximate must be 'none' or "
                                         r"'tanh', got 'erf'"):
        K.gelu(x, "erf")
    with pytest.raises(ValueError, match=r"kernels\.gelu_backward: gy has shape \(2, 3\).*x "
                                         r"has shape \(3, 2\)"):
        K.gelu_backward(x, x.T.copy())
    with pytest.raises(ValueError, match=r"kernels\.gelu: x must be float32 or float64"):
        K.gelu(np.ones(3, np.int64))
