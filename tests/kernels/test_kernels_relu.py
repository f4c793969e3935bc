"""relu and relu_backward: every CPU implementation bit for bit against a truth written from
the definition (both ops are selects: no rounding anywhere), on hypothesis-drawn shapes of 0 to
4 dimensions (empty ones included), with NaN and +-inf, on views of any layout; and argument
errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_testing import CPU_IMPLS, DTYPES, random_array

from minigrad import kernels as K


def relu_truth(x):
    """max(x, 0) element by element in Python (NaN stays NaN); no code shared with kernels/."""
    flat = [v if (v > 0 or v != v) else x.dtype.type(0) for v in x.ravel().tolist()]
    return np.array(flat, dtype=x.dtype).reshape(x.shape)


def relu_backward_truth(gy, y):
    """gy where y > 0, else 0, element by element in Python."""
    flat = [g if v > 0 else 0.0 for g, v in zip(gy.ravel().tolist(), y.ravel().tolist())]
    return np.array(flat, dtype=gy.dtype).reshape(gy.shape)


def assert_identical(actual, expected):
    """Same shape, dtype and bits (NaNs included), and a new C-contiguous array."""
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    assert actual.flags.c_contiguous
    assert actual.tobytes() == np.ascontiguousarray(expected).tobytes()


def with_specials(rng, array, fraction=0.2):
    """``array`` with a fraction of its elements set to NaN, +inf, -inf or +0.0."""
    out = array.copy()
    picks = rng.random(out.shape) < fraction
    specials = np.array([np.nan, np.inf, -np.inf, 0.0], out.dtype)
    out[picks] = rng.choice(specials, size=int(picks.sum()))
    return out


shapes = st.lists(st.integers(0, 9), min_size=0, max_size=4).map(tuple)


@settings(max_examples=60, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**31 - 1), dtype=st.sampled_from(DTYPES),
       specials=st.booleans())
def test_every_implementation_matches_the_definition(shape, seed, dtype, specials):
    rng = np.random.default_rng(seed)
    x = np.asarray(random_array(rng, shape, dtype, scale=3.0))    # shape (): a 0-d array
    gy = np.asarray(random_array(rng, shape, dtype))
    if specials:
        x, gy = with_specials(rng, x), with_specials(rng, gy)
    y_truth = relu_truth(x)
    gx_truth = relu_backward_truth(gy, y_truth)
    for impl in CPU_IMPLS:
        y = K.relu(x, impl=impl)
        assert_identical(y, y_truth)
        assert_identical(K.relu_backward(gy, y, impl=impl), gx_truth)


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_and_infinities(impl, dtype):
    x = np.array([np.nan, np.inf, -np.inf, -2.0, 0.0, 3.0], dtype)
    y = K.relu(x, impl=impl)
    np.testing.assert_array_equal(y, np.array([np.nan, np.inf, 0, 0, 0, 3], dtype))
    # where y <= 0 (or NaN) the gradient is 0 even for an inf or NaN gy: a select, not a product
    gy = np.array([5.0, np.nan, np.inf, -np.inf, np.nan, -np.inf], dtype)
    np.testing.assert_array_equal(K.relu_backward(gy, y, impl=impl),
                                  np.array([0, np.nan, 0, 0, 0, -np.inf], dtype))


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_negative_zero_gives_zero(impl):
    x = np.array([-0.0, 0.0], np.float32)
    np.testing.assert_array_equal(K.relu(x, impl=impl), [0.0, 0.0])
    np.testing.assert_array_equal(K.relu_backward(np.ones(2, np.float32), x, impl=impl), [0, 0])


def views(rng, dtype):
    """Non-contiguous views (and the arrays they are views of): transposed, strided, reversed,
    Fortran-ordered, broadcast."""
    base = random_array(rng, (6, 5, 4), dtype)
    return [
        base.transpose(2, 0, 1),
        base[::2, 1:, ::3],
        base[::-1, :, ::-2],
        np.asfortranarray(base),
        np.broadcast_to(base[:1, :1], (3, 5, 4)),
        base[:, 2],
    ]


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_inputs(impl, dtype, kernel_rng):
    for x in views(kernel_rng, dtype):
        y = K.relu(x, impl=impl)
        assert_identical(y, relu_truth(x))
        gy = random_array(kernel_rng, x.shape[::-1], dtype).T       # a transposed gradient
        assert_identical(K.relu_backward(gy, x, impl=impl), relu_backward_truth(gy, x))


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_empty_and_zero_dimensional(impl, monkeypatch):
    negative, positive = np.array(-2.5), np.array(2.5)
    assert_identical(K.relu(negative, impl=impl), np.array(0.0))
    assert_identical(K.relu(positive, impl=impl), positive)
    assert_identical(K.relu_backward(np.array(4.0), positive, impl=impl), np.array(4.0))
    assert_identical(K.relu_backward(np.array(4.0), negative, impl=impl), np.array(0.0))
    # empty arrays never reach an implementation
    from minigrad.kernels import ops

    def no_kernel(*args):
        raise AssertionError("an empty array reached a kernel")

    monkeypatch.setattr(ops, "_call", no_kernel)
    for shape in [(0,), (3, 0, 2)]:
        empty = np.zeros(shape, np.float32)
        assert K.relu(empty, impl=impl).shape == shape
        out = K.relu_backward(empty, empty, impl=impl)
        assert out.shape == shape and out.dtype == np.float32


def test_default_implementations():
    assert K.default_impl("relu", "cpu") == ("numba" if "numba" in CPU_IMPLS else "numpy")
    assert K.default_impl("relu_backward", "cuda") == "numpy"


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_shape_errors_name_the_op_and_both_shapes(impl):
    gy, y = np.zeros((2, 3), np.float32), np.zeros((3, 2), np.float32)
    with pytest.raises(ValueError, match=r"kernels\.relu_backward: gy has shape \(2, 3\) .*"
                                         r"but y has shape \(3, 2\) .*same shape"):
        K.relu_backward(gy, y, impl=impl)


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_dtype_errors(impl):
    for dtype in (np.float16, np.int64, np.bool_, np.complex64):
        with pytest.raises(ValueError, match=r"kernels\.relu: x must be float32 or float64, got "
                                             rf"shape \(2, 3\) and dtype {np.dtype(dtype)}"):
            K.relu(np.zeros((2, 3), dtype), impl=impl)
    f32, f64 = np.zeros(3, np.float32), np.zeros(3, np.float64)
    with pytest.raises(ValueError, match=r"kernels\.relu_backward: y must be float32 or float64"
                                         r".*dtype int32"):
        K.relu_backward(f32, np.zeros(3, np.int32), impl=impl)
    with pytest.raises(ValueError, match=r"kernels\.relu_backward: dtypes differ: gy with "
                                         r"shape \(3,\) and dtype float32, y with .* float64"):
        K.relu_backward(f32, f64, impl=impl)
    with pytest.raises(TypeError, match=r"kernels\.relu: expected numpy\.ndarray"):
        K.relu([1.0, -1.0], impl=impl)
