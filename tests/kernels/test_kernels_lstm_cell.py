"""lstm_cell and its backward: every CPU implementation against a float64 truth written from
the equations, the backward against finite differences of the forward, extreme pre-activations,
and argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_testing import CPU_IMPLS, DTYPES, assert_close, numeric_gradient, random_array

from minigrad import kernels as K


def lstm_cell_truth(gates, c):
    """The cell from its definition, in float64 (no code shared with kernels/)."""
    z = np.asarray(gates, np.float64)
    hidden = c.shape[1]
    zi, zf, zg, zo = (z[:, k * hidden:(k + 1) * hidden] for k in range(4))
    with np.errstate(over="ignore"):                 # exp(1000) = inf gives sigmoid 0
        i, f, o = (1 / (1 + np.exp(-v)) for v in (zi, zf, zo))
    g = np.tanh(zg)
    c_new = f * np.asarray(c, np.float64) + i * g
    return o * np.tanh(c_new), c_new


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, hidden", [(1, 1), (3, 5), (7, 33), (2, 130)])
def test_forward_matches_the_equations(impl, dtype, n, hidden, kernel_rng):
    gates = random_array(kernel_rng, (n, 4 * hidden), dtype, scale=3.0)
    c = random_array(kernel_rng, (n, hidden), dtype)
    h, c_new, acts, tanh_c = K.lstm_cell(gates, c, impl=impl)
    h_truth, c_truth = lstm_cell_truth(gates, c)
    for out in (h, c_new, acts, tanh_c):
        assert out.dtype == dtype and out.flags.c_contiguous
    assert_close(h, h_truth)
    assert_close(c_new, c_truth)
    assert_close(tanh_c, np.tanh(c_truth))
    assert_close(acts[:, 2 * hidden:3 * hidden], np.tanh(gates[:, 2 * hidden:3 * hidden]
                                                         .astype(np.float64)))


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_extreme_pre_activations_saturate_without_overflow(impl):
    z = np.array([-1000.0, -100.0, -20.0, -1e-6, 0.0, 1e-6, 20.0, 100.0, 1000.0], np.float32)
    gates = np.tile(z, 4)[None, :]
    c = np.linspace(-2, 2, z.size, dtype=np.float32)[None, :]
    with np.errstate(over="raise", invalid="raise", divide="raise"):   # underflow to 0 is fine
        h, c_new, acts, _ = K.lstm_cell(gates, c, impl=impl)
    assert np.isfinite(acts).all() and np.isfinite(h).all()
    sig = acts[0, :z.size]
    assert sig[0] == 0.0 and sig[-1] == 1.0 and sig[4] == 0.5
    assert_close(c_new, lstm_cell_truth(gates, c)[1])


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("n, hidden", [(2, 3), (3, 7)])
def test_backward_matches_finite_differences(impl, n, hidden, kernel_rng):
    """d/d(gates, c) of L = sum(gh * h_t) + sum(gc * c_t), by central differences in float64."""
    gates = random_array(kernel_rng, (n, 4 * hidden), np.float64, scale=2.0)
    c = random_array(kernel_rng, (n, hidden), np.float64)
    gh, gc = (random_array(kernel_rng, (n, hidden), np.float64) for _ in range(2))
    _, _, acts, tanh_c = K.lstm_cell(gates, c, impl=impl)
    d_gates, d_c = K.lstm_cell_backward(acts, tanh_c, c, gh, gc, impl=impl)

    def loss():
        h, c_new = lstm_cell_truth(gates, c)
        return float((gh * h).sum() + (gc * c_new).sum())

    for array, grad in ((gates, d_gates), (c, d_c)):
        numeric = numeric_gradient(loss, array)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 9), hidden=st.integers(1, 40), seed=st.integers(0, 2**31 - 1),
       dtype=st.sampled_from(DTYPES))
def test_numba_matches_the_reference(n, hidden, seed, dtype):
    if "numba" not in CPU_IMPLS:
        pytest.skip("Numba not installed")
    rng = np.random.default_rng(seed)
    gates = random_array(rng, (n, 4 * hidden), dtype, scale=4.0)
    c, gh, gc = (random_array(rng, (n, hidden), dtype) for _ in range(3))
    ref = K.lstm_cell(gates, c, impl="numpy")
    for out, expected in zip(K.lstm_cell(gates, c, impl="numba"), ref):
        assert_close(out, expected)
    back = (ref[2], ref[3], c, gh, gc)
    for out, expected in zip(K.lstm_cell_backward(*back, impl="numba"),
                             K.lstm_cell_backward(*back, impl="numpy")):
        assert_close(out, expected)


def test_non_contiguous_inputs(kernel_rng):
    gates = random_array(kernel_rng, (8, 12), np.float32)[::2]       # every other row
    c = np.asfortranarray(random_array(kernel_rng, (4, 3), np.float32))
    for impl in CPU_IMPLS:
        h, c_new, _, _ = K.lstm_cell(gates, c, impl=impl)
        assert_close(h, lstm_cell_truth(gates, c)[0])


@pytest.mark.parametrize("gates_shape, c_shape, match", [
    ((3, 8), (3, 3), r"c must have shape \(N, H\) = \(3, 8 / 4\), got \(3, 3\)"),
    ((3, 10), (3, 2), r"4 blocks \(i, f, g, o\)"),
    ((3, 8), (2, 2), r"got \(2, 2\)"),
    ((3, 8, 1), (3, 2), r"gates must be 2-D"),
])
def test_shape_errors_name_the_op_and_shapes(gates_shape, c_shape, match):
    gates = np.zeros(gates_shape, np.float32)
    c = np.zeros(c_shape, np.float32)
    with pytest.raises(ValueError, match=r"kernels\.lstm_cell: .*" + match):
        K.lstm_cell(gates, c)


def test_dtype_errors():
    with pytest.raises(ValueError, match="dtypes differ"):
        K.lstm_cell(np.zeros((2, 8), np.float32), np.zeros((2, 2), np.float64))
    with pytest.raises(ValueError, match="float32 or float64"):
        K.lstm_cell(np.zeros((2, 8), np.int64), np.zeros((2, 2), np.int64))
    with pytest.raises(ValueError, match=r"kernels\.lstm_cell_backward: .*gh must have shape"):
        a = np.zeros((2, 8), np.float32)
        s = np.zeros((2, 2), np.float32)
        K.lstm_cell_backward(a, s, s, np.zeros((2, 3), np.float32), s)
