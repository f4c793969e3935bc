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


# ---------------------------------------------------------------------------------------------
# lstm_sequence and its backward: a whole layer's time loop
# ---------------------------------------------------------------------------------------------

def lstm_sequence_truth(x_proj, h0, c0, w_hh):
    """The loop from its definition, in float64, on lstm_cell_truth: (hs, cs)."""
    h, c = np.asarray(h0, np.float64), np.asarray(c0, np.float64)
    hs, cs = [], []
    for t in range(x_proj.shape[0]):
        h, c = lstm_cell_truth(np.asarray(x_proj[t], np.float64) + h @ np.asarray(w_hh).T, c)
        hs.append(h)
        cs.append(c)
    return hs, cs


def _sequence_operands(rng, steps, n, hidden, dtype):
    x_proj = random_array(rng, (steps, n, 4 * hidden), dtype, scale=2.0)
    h0, c0 = (random_array(rng, (n, hidden), dtype) for _ in range(2))
    w_hh = random_array(rng, (4 * hidden, hidden), dtype, scale=1 / np.sqrt(hidden))
    return x_proj, h0, c0, w_hh


@settings(max_examples=25, deadline=None)
@given(steps=st.integers(1, 6), n=st.integers(1, 9), hidden=st.integers(1, 40),
       dtype=st.sampled_from(DTYPES), impl=st.sampled_from(CPU_IMPLS),
       seed=st.integers(0, 2**31 - 1))
def test_sequence_forward_matches_the_loop_of_cells(steps, n, hidden, dtype, impl, seed):
    """Odd N and H leave partial GEMM tiles (4 rows, 32/64 columns) at every step."""
    rng = np.random.default_rng(seed)
    x_proj, h0, c0, w_hh = _sequence_operands(rng, steps, n, hidden, dtype)
    hs, cs, acts, tanh_cs = K.lstm_sequence(x_proj, h0, c0, w_hh, impl=impl)
    assert hs.shape == cs.shape == tanh_cs.shape == (steps, n, hidden)
    assert acts.shape == x_proj.shape and hs.dtype == dtype
    hs_truth, cs_truth = lstm_sequence_truth(x_proj, h0, c0, w_hh)
    for t in range(steps):
        assert_close(hs[t], hs_truth[t], scale=np.sqrt(hidden) * (t + 1))
        assert_close(cs[t], cs_truth[t], scale=np.sqrt(hidden) * (t + 1))
        assert_close(tanh_cs[t], np.tanh(cs_truth[t]), scale=np.sqrt(hidden) * (t + 1))


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_sequence_backward_matches_finite_differences(impl, kernel_rng):
    """float64, L=3 N=2 H=3: the gradients of sum(g_hs * hs) + <g_hn, h_n> + <g_cn, c_n>
    with respect to x_proj (= d_gates), h0 and c0, against central differences."""
    x_proj, h0, c0, w_hh = _sequence_operands(kernel_rng, 3, 2, 3, np.float64)
    g_hs, g_hn, g_cn = (random_array(kernel_rng, s, np.float64) for s in
                        ((3, 2, 3), (2, 3), (2, 3)))

    def loss():
        hs, cs, _, _ = K.lstm_sequence(x_proj, h0, c0, w_hh, impl="numpy")
        return float((hs * g_hs).sum() + (hs[-1] * g_hn).sum() + (cs[-1] * g_cn).sum())

    hs, cs, acts, tanh_cs = K.lstm_sequence(x_proj, h0, c0, w_hh, impl=impl)
    d_gates, dh0, dc0 = K.lstm_sequence_backward(acts, tanh_cs, cs, c0, w_hh, g_hs, g_hn, g_cn,
                                                 impl=impl)
    assert_close(d_gates, numeric_gradient(loss, x_proj), scale=1e3)
    assert_close(dh0, numeric_gradient(loss, h0), scale=1e3)
    assert_close(dc0, numeric_gradient(loss, c0), scale=1e3)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sequence_backward_numba_matches_reference(dtype, kernel_rng):
    """N=32, H=128, L=5: the sizes where the Numba loop runs the parallel builds."""
    x_proj, h0, c0, w_hh = _sequence_operands(kernel_rng, 5, 32, 128, dtype)
    hs, cs, acts, tanh_cs = K.lstm_sequence(x_proj, h0, c0, w_hh, impl="numpy")
    for out, ref in zip(K.lstm_sequence(x_proj, h0, c0, w_hh, impl="numba"), (hs, cs, acts, tanh_cs)):
        assert_close(out, ref, scale=30)
    grads = (random_array(kernel_rng, s, dtype) for s in ((5, 32, 128), (32, 128), (32, 128)))
    g_hs, g_hn, g_cn = grads
    refs = K.lstm_sequence_backward(acts, tanh_cs, cs, c0, w_hh, g_hs, g_hn, g_cn, impl="numpy")
    inputs = [a.copy() for a in (g_hs, g_hn, g_cn)]
    outs = K.lstm_sequence_backward(acts, tanh_cs, cs, c0, w_hh, g_hs, g_hn, g_cn, impl="numba")
    for out, ref in zip(outs, refs):
        assert_close(out, ref, scale=100)
    for before, after in zip(inputs, (g_hs, g_hn, g_cn)):   # dh, dc start as copies
        np.testing.assert_array_equal(before, after)


def test_sequence_shape_errors_name_the_op_and_shapes():
    x_proj, h0, c0, w_hh = _sequence_operands(np.random.default_rng(0), 2, 3, 4, np.float32)
    with pytest.raises(ValueError, match=r"kernels\.lstm_sequence: x_proj has shape \(2, 3, 16\)"
                                         r".*w_hh must have shape \(16, 4\), got \(16, 5\)"):
        K.lstm_sequence(x_proj, h0, c0, np.zeros((16, 5), np.float32))
    with pytest.raises(ValueError, match=r"kernels\.lstm_sequence: dtypes differ"):
        K.lstm_sequence(x_proj, h0.astype(np.float64), c0, w_hh)
    hs, cs, acts, tanh_cs = K.lstm_sequence(x_proj, h0, c0, w_hh)
    with pytest.raises(ValueError, match=r"kernels\.lstm_sequence_backward: acts has shape "
                                         r"\(2, 3, 16\).*g_hs must have shape \(2, 3, 4\), "
                                         r"got \(1, 3, 4\)"):
        K.lstm_sequence_backward(acts, tanh_cs, cs, c0, w_hh, hs[:1], h0, c0)


# ---------------------------------------------------------------------------------------------
# The Numba sequence kernels split the batch into blocks of rows, one per thread
# ---------------------------------------------------------------------------------------------

numba_only = pytest.mark.skipif("numba" not in CPU_IMPLS, reason="Numba not installed")


@numba_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("steps, n, hidden", [(3, 9, 5), (2, 13, 33), (4, 6, 7), (1, 17, 3)])
@pytest.mark.parametrize("blocks", [2, 3, 5])
def test_sequence_row_blocks_give_the_same_numbers(steps, n, hidden, dtype, blocks, kernel_rng):
    """Rows are independent through the whole time loop, so any split of the batch into
    blocks (whole 4-row GEMM tiles; the last one partial for odd N) gives every output
    exactly, forward and backward, whatever the thread count."""
    from minigrad.kernels import lstm_cell_numba as numba_lstm
    x_proj, h0, c0, w_hh = _sequence_operands(kernel_rng, steps, n, hidden, dtype)
    g_hs, g_hn, g_cn = (random_array(kernel_rng, s, dtype) for s in
                        ((steps, n, hidden), (n, hidden), (n, hidden)))
    one = numba_lstm.lstm_sequence(x_proj, h0, c0, w_hh, blocks=1)
    split = numba_lstm.lstm_sequence(x_proj, h0, c0, w_hh, blocks=blocks)
    for a, b in zip(one, split):
        np.testing.assert_array_equal(a, b)
    hs, cs, acts, tanh_cs = one
    back = (acts, tanh_cs, cs, c0, w_hh, g_hs, g_hn, g_cn)
    for a, b in zip(numba_lstm.lstm_sequence_backward(*back, blocks=1),
                    numba_lstm.lstm_sequence_backward(*back, blocks=blocks)):
        np.testing.assert_array_equal(a, b)
    truth = lstm_sequence_truth(x_proj, h0, c0, w_hh)[0]
    assert_close(split[0][-1], truth[-1], scale=np.sqrt(hidden) * steps)


@pytest.mark.parametrize("n, blocks, bounds", [
    (32, 2, [0, 16, 32]), (33, 2, [0, 16, 33]), (5, 4, [0, 4, 5]), (3, 2, [0, 3]),
    (12, 5, [0, 4, 8, 12]), (0, 2, [0, 0]),
])
def test_row_blocks_are_whole_tiles(n, blocks, bounds):
    from minigrad.kernels import lstm_cell_numba as numba_lstm
    assert numba_lstm._row_blocks(n, blocks).tolist() == bounds


@numba_only
def test_float32_gates_are_accurate_and_never_subnormal():
    """The float32 cell's exp (2**k from its bits): sigmoid and tanh within a few ulp of
    float64 across the range, 0 instead of a subnormal number (slow to compute with) for
    pre-activations below -86.9, and NaN in, NaN out."""
    z = np.concatenate([np.linspace(-100, 100, 4001), np.linspace(-88, -86, 201),
                        [-np.inf, np.inf, 0.0, -0.0]]).astype(np.float32)
    hidden = z.size
    gates = np.tile(z, 4)[None, :]
    c = np.zeros((1, hidden), np.float32)
    _, _, acts, _ = K.lstm_cell(gates, c, impl="numba")
    z64 = z.astype(np.float64)
    with np.errstate(over="ignore"):
        sigmoid = 1 / (1 + np.exp(-z64))
    np.testing.assert_allclose(acts[0, :hidden], sigmoid, rtol=1e-6, atol=1.9e-38)
    np.testing.assert_allclose(acts[0, 2 * hidden:3 * hidden], np.tanh(z64), rtol=1e-6,
                               atol=3e-7)
    subnormal = (acts != 0) & (np.abs(acts) < np.finfo(np.float32).tiny)
    assert not subnormal.any(), z[np.nonzero(subnormal)[1] % hidden]
    nan_gates = gates.copy()
    nan_gates[0, [0, hidden + 1, 2 * hidden + 2, 3 * hidden + 3]] = np.nan
    _, _, acts, _ = K.lstm_cell(nan_gates, c, impl="numba")
    assert np.isnan(acts[0, [0, hidden + 1, 2 * hidden + 2, 3 * hidden + 3]]).all()
