"""adam_step: the Numba kernel bit for bit against the NumPy reference, both against Adam's
textbook formula in float64, on odd shapes, 0-d, empty and non-contiguous arrays, with
AMSGrad and NaN; the dispatcher's choice; argument errors (hostile ones, which a missing
check would turn into out-of-bounds writes, are in test_kernels_hostile_inputs.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_testing import CPU_IMPLS, DTYPES
from minigrad.kernels import dispatch

from minigrad import kernels as K

SCALARS = dict(lr=3e-3, beta1=0.8, beta2=0.99, eps=1e-6)


def adam_truth(p, g, m, v, v_max, lr, beta1, beta2, eps, step):
    """One Adam step in float64, written from the paper's formula (bias-corrected moments),
    sharing no code with kernels/: new (p, m, v, v_max)."""
    p, g, m, v = (np.asarray(a, np.float64) for a in (p, g, m, v))
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    if v_max is not None:
        v_max = np.maximum(np.asarray(v_max, np.float64), v)
    m_hat = m / (1 - beta1 ** step)
    v_hat = (v if v_max is None else v_max) / (1 - beta2 ** step)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, v_max


def random_state(rng, shape, dtype, amsgrad):
    """(p, g, m, v, v_max) with the moments as after a few steps (v, v_max >= 0)."""
    p, g, m = (np.asarray(rng.standard_normal(shape), dtype) for _ in range(3))
    v = np.asarray(rng.random(shape), dtype)
    v_max = np.asarray(v + rng.random(shape) * (rng.random(shape) < 0.5), dtype) if amsgrad \
        else None
    return p, g, m, v, v_max


def run_steps(impl, arrays, grads, **scalars):
    """Copies of (p, m, v, v_max) after one adam_step per gradient in ``grads``."""
    p, _, m, v, v_max = (None if a is None else a.copy() for a in arrays)
    for step, g in enumerate(grads, start=1):
        K.adam_step(p, g, m, v, v_max, step=step, impl=impl, **scalars)
    return p, m, v, v_max


def assert_same_bits(first, second):
    for a, b in zip(first, second):
        if a is None:
            assert b is None
            continue
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()


shapes = st.lists(st.integers(0, 9), min_size=0, max_size=3).map(tuple)


@pytest.mark.skipif("numba" not in CPU_IMPLS, reason="needs Numba")
@settings(max_examples=40, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**31 - 1), dtype=st.sampled_from(DTYPES),
       amsgrad=st.booleans())
def test_numba_is_bitwise_the_reference(shape, seed, dtype, amsgrad):
    rng = np.random.default_rng(seed)
    arrays = random_state(rng, shape, dtype, amsgrad)
    grads = [np.asarray(rng.standard_normal(shape), dtype) for _ in range(3)]
    assert_same_bits(run_steps("numpy", arrays, grads, **SCALARS),
                     run_steps("numba", arrays, grads, **SCALARS))


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("amsgrad", [False, True])
def test_matches_the_textbook_formula(impl, dtype, amsgrad, kernel_rng):
    p, g, m, v, v_max = random_state(kernel_rng, (7, 13), dtype, amsgrad)
    step = 4
    expected = adam_truth(p, g, m, v, v_max, step=step, **SCALARS)
    K.adam_step(p, g, m, v, v_max, step=step, impl=impl, **SCALARS)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for actual, truth in zip((p, m, v, v_max), expected):
        if truth is not None:
            assert actual.dtype == dtype
            np.testing.assert_allclose(actual, truth, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_non_contiguous_arrays_are_updated_in_place(impl, kernel_rng):
    """Views of any layout: the caller's arrays (and nothing around them) change."""
    dtype = np.float32
    p, g, m, v, v_max = random_state(kernel_rng, (5, 6), dtype, True)
    expected = adam_truth(p, g, m, v, v_max, step=2, **SCALARS)
    big = [np.full((10, 12), 7.0, dtype) for _ in range(4)]
    views = [b[::2, ::2] for b in big[:3]] + [np.asfortranarray(v_max)]
    for view, values in zip(views, (p, m, v, v_max)):
        view[...] = values
    K.adam_step(views[0], g.T.copy().T, views[1], views[2], views[3], step=2, impl=impl,
                **SCALARS)
    for view, truth in zip(views, (expected[0], expected[1], expected[2], expected[3])):
        np.testing.assert_allclose(view, truth, rtol=1e-5, atol=1e-6)
    for b in big[:3]:                                  # untouched outside the views
        assert (b[1::2] == 7).all() and (b[:, 1::2] == 7).all()


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_amsgrad_nan_propagates_as_numpy_maximum(impl):
    """v_max = maximum(v_max, v): NaN in either gives NaN, as NumPy's maximum does."""
    p, g, m = (np.zeros(3) for _ in range(3))
    v = np.array([np.nan, 1.0, 1.0])
    v_max = np.array([1.0, np.nan, 0.5])
    K.adam_step(p, g, m, v, v_max, step=1, impl=impl, **SCALARS)
    assert np.isnan(v_max[0]) and np.isnan(v_max[1]) and v_max[2] == v[2]


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_zero_size_and_0d(impl):
    empty = [np.zeros((0, 4)) for _ in range(4)]
    assert K.adam_step(*empty, step=1, impl=impl, **SCALARS) is None
    p, g, m, v = (np.array(x) for x in (1.0, 0.5, 0.0, 0.0))
    K.adam_step(p, g, m, v, step=1, impl=impl, **SCALARS)
    np.testing.assert_allclose(p, adam_truth(1.0, 0.5, 0.0, 0.0, None, step=1, **SCALARS)[0])


def test_default_is_numba_on_the_cpu_and_the_environment_forces_numpy(monkeypatch):
    arrays = tuple(np.zeros(3) for _ in range(4))
    monkeypatch.delenv(dispatch.ENV_VAR, raising=False)
    assert dispatch.choose_impl("adam_step", arrays) == K.default_impl("adam_step", "cpu")
    assert K.default_impl("adam_step", "cuda") == "numpy"
    if dispatch.numba_installed():
        assert K.default_impl("adam_step", "cpu") == "numba"
    monkeypatch.setenv(dispatch.ENV_VAR, "numpy")
    assert dispatch.choose_impl("adam_step", arrays) == "numpy"
    with K.use("numba"):
        assert dispatch.choose_impl("adam_step", arrays) == "numba"


def test_errors_name_the_op_and_the_numbers():
    a = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"kernels\.adam_step: param has shape \(2, 3\) but "
                                         r"exp_avg_sq has shape \(3, 2\)"):
        K.adam_step(a, a.copy(), a.copy(), a.T.copy(), step=1, **SCALARS)
    with pytest.raises(ValueError, match=r"kernels\.adam_step: beta2 must be in \[0, 1\)"):
        K.adam_step(a, a.copy(), a.copy(), a.copy(), step=1, **{**SCALARS, "beta2": -0.5})
    with pytest.raises(ValueError, match=r"kernels\.adam_step: step must be an int >= 1"):
        K.adam_step(a, a.copy(), a.copy(), a.copy(), step=2.0, **SCALARS)
    with pytest.raises(ValueError, match=r"kernels\.adam_step: eps must be a real number, got "
                                         r"nan"):
        K.adam_step(a, a.copy(), a.copy(), a.copy(), step=1, **{**SCALARS, "eps": np.nan})
