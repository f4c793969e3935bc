"""max_pool2d and its backward: every CPU implementation against direct loops (values and
PyTorch's indices, with ties, NaN and -inf), the backward as the adjoint of the forward,
random geometries with hypothesis, and argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_testing import CPU_IMPLS, DTYPES, max_pool2d_truth, random_array

from minigrad import kernels as K

# (x shape, kernel, stride, padding, dilation, ceil_mode): odd sizes, windows that do not tile
# the input, overlapping windows, padding, dilation, ceil_mode's overhanging last window.
CASES = [
    ((2, 3, 7, 9), 2, None, 0, 1, False),
    ((2, 3, 8, 8), 2, None, 0, 1, False),
    ((2, 3, 7, 9), 3, 2, 1, 1, True),
    ((1, 2, 10, 11), (3, 2), (2, 1), (1, 1), (2, 1), False),
    ((2, 2, 9, 9), 2, 1, 1, 1, False),
    ((2, 2, 9, 9), 2, 2, 0, 1, True),
    ((1, 1, 5, 5), 5, 1, 2, 1, False),
    ((3, 1, 6, 7), (1, 3), (1, 2), (0, 1), 1, True),
]
CASE_IDS = [f"x{c[0]}-k{c[1]}-s{c[2]}-p{c[3]}-d{c[4]}-{'ceil' if c[5] else 'floor'}".replace(
    " ", "") for c in CASES]


def hyper_of(case):
    _, kernel, stride, padding, dilation, ceil_mode = case
    return dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation,
                ceil_mode=ceil_mode)


def awkward_input(rng, shape, dtype):
    """Random values plus the cases that decide indices: ties, NaN (two in a row), -inf."""
    x = random_array(rng, shape, dtype)
    x[0, 0, 1, 1] = x[0, 0, 1, 2] = np.nan
    x[-1, -1, :3, :3] = -np.inf
    x[0, -1, -2:, -2:] = 0.5                                   # a tie
    return x


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_forward_matches_direct_loops(impl, dtype, case, kernel_rng):
    x = awkward_input(kernel_rng, case[0], dtype)
    y, idx = K.max_pool2d(x, **hyper_of(case), impl=impl)
    y_truth, idx_truth = max_pool2d_truth(x, *case[1:5], ceil_mode=case[5])
    assert y.dtype == dtype and idx.dtype == np.int64
    np.testing.assert_array_equal(y, y_truth)               # a max is exact: no tolerance
    np.testing.assert_array_equal(idx, idx_truth)


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_backward_is_the_adjoint_of_forward(impl, case, kernel_rng):
    """For fixed winners y = P x with P a 0/1 selection matrix; backward must be P^T:
    <P x', gy> = <x', backward(gy)> for any x', and gx sums gy over shared winners."""
    x = random_array(kernel_rng, case[0], np.float64)
    _, idx = K.max_pool2d(x, **hyper_of(case), impl=impl)
    gy = random_array(kernel_rng, idx.shape, np.float64)
    gx = K.max_pool2d_backward(gy, idx, x.shape, **hyper_of(case), impl=impl)
    probe = random_array(kernel_rng, x.shape, np.float64)
    selected = np.take_along_axis(probe.reshape(*x.shape[:2], -1),
                                  idx.reshape(*idx.shape[:2], -1), axis=2)
    np.testing.assert_allclose(np.sum(selected * gy.reshape(selected.shape)),
                               np.sum(probe * gx), rtol=1e-12)
    assert gx.shape == x.shape and gx.dtype == np.float64


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_integer_input(impl, kernel_rng):
    x = kernel_rng.integers(-50, 50, (2, 3, 7, 6))
    y, idx = K.max_pool2d(x, 3, 2, 1, impl=impl)
    y_truth, idx_truth = max_pool2d_truth(x, 3, 2, 1, 1)
    np.testing.assert_array_equal(y, y_truth)
    np.testing.assert_array_equal(idx, idx_truth)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 2), c=st.integers(1, 3), kh=st.integers(1, 3), kw=st.integers(1, 3),
    sh=st.integers(1, 3), sw=st.integers(1, 3), dh=st.integers(1, 2), dw=st.integers(1, 2),
    extra_h=st.integers(0, 6), extra_w=st.integers(0, 6), ceil_mode=st.booleans(),
    data=st.data(), seed=st.integers(0, 2**31 - 1),
)
def test_numba_matches_direct_loops_on_random_geometry(
    n, c, kh, kw, sh, sw, dh, dw, extra_h, extra_w, ceil_mode, data, seed
):
    if "numba" not in CPU_IMPLS:
        pytest.skip("numba is not installed")
    ph = data.draw(st.integers(0, (dh * (kh - 1) + 1) // 2))
    pw = data.draw(st.integers(0, (dw * (kw - 1) + 1) // 2))
    h = max(1, dh * (kh - 1) + 1 - 2 * ph + extra_h)
    w = max(1, dw * (kw - 1) + 1 - 2 * pw + extra_w)
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 3, (n, c, h, w)).astype(np.float32)      # many ties
    hyper = dict(kernel_size=(kh, kw), stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw),
                 ceil_mode=ceil_mode)
    y, idx = K.max_pool2d(x, **hyper, impl="numba")
    y_truth, idx_truth = max_pool2d_truth(x, (kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil_mode)
    np.testing.assert_array_equal(y, y_truth)
    np.testing.assert_array_equal(idx, idx_truth)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    np.testing.assert_allclose(K.max_pool2d_backward(gy, idx, x.shape, **hyper, impl="numba"),
                               K.max_pool2d_backward(gy, idx, x.shape, **hyper, impl="numpy"),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_empty_batch(impl):
    y, idx = K.max_pool2d(np.zeros((0, 2, 6, 6), np.float32), 2, impl=impl)
    assert y.shape == idx.shape == (0, 2, 3, 3)
    gx = K.max_pool2d_backward(y, idx, (0, 2, 6, 6), 2, impl=impl)
    assert gx.shape == (0, 2, 6, 6)


# ---------------------------------------------------------------------------------------------
# Errors: each names the op and the numbers
# ---------------------------------------------------------------------------------------------

def test_padding_larger_than_half_the_window():
    with pytest.raises(ValueError, match=r"kernels.max_pool2d: padding should be at most half "
                                         r"of the effective kernel size, but got padding=2, "
                                         r"kernel_size=3"):
        K.max_pool2d(np.zeros((1, 1, 5, 5)), 3, padding=2)


def test_output_too_small():
    with pytest.raises(ValueError, match=r"input of shape \(1, 1, 2, 2\) with kernel_size "
                                         r"\(3, 3\).*output of size \(0, 0\)"):
        K.max_pool2d(np.zeros((1, 1, 2, 2)), 3)


def test_wrong_rank_and_dtype():
    with pytest.raises(ValueError, match="kernels.max_pool2d: x must be 4-D"):
        K.max_pool2d(np.zeros((1, 5, 5)), 2)
    with pytest.raises(ValueError, match="x must hold float32, float64 or integers"):
        K.max_pool2d(np.zeros((1, 1, 4, 4), bool), 2)


def test_backward_checks_shapes_dtype_and_range():
    gy, idx = np.zeros((1, 2, 2, 2)), np.zeros((1, 2, 2, 2), np.int64)
    with pytest.raises(ValueError, match=r"max_pool2d_backward: gy has shape \(1, 2, 2, 2\).* "
                                         r"produces \(1, 2, 3, 3\)"):
        K.max_pool2d_backward(gy, idx, (1, 2, 6, 6), 2)
    with pytest.raises(ValueError, match="indices must be int64"):
        K.max_pool2d_backward(gy, idx.astype(np.int32), (1, 2, 4, 4), 2)
    with pytest.raises(ValueError, match=r"indices must lie in \[-1, H\*W\) = \[-1, 16\), "
                                         r"got values from 2 to 16"):
        K.max_pool2d_backward(gy, idx + np.arange(8).reshape(idx.shape) * 2 + 2, (1, 2, 4, 4), 2)
