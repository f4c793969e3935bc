"""conv2d and its two backward passes: reference vs direct loops, every CPU implementation vs
the reference, the adjoint identities, and argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_testing import CPU_IMPLS, DTYPES, assert_close, conv2d_truth, random_array

from minigrad import kernels as K

# (x shape, w shape, stride, padding, dilation): odd sizes, non-square kernels, every
# hyper-parameter as an int and as a pair, and windows that do not tile the input exactly.
CASES = [
    ((2, 3, 7, 6), (4, 3, 3, 3), 1, 0, 1),
    ((2, 3, 7, 6), (4, 3, 3, 3), 1, 1, 1),          # "same" padding
    ((1, 2, 9, 8), (3, 2, 3, 2), 2, 1, 1),          # stride 2, rows left over at the end
    ((2, 2, 8, 9), (2, 2, 2, 3), (1, 2), (2, 0), 1),
    ((1, 3, 9, 9), (2, 3, 3, 3), 1, 2, 2),          # dilation 2
    ((2, 1, 10, 7), (3, 1, 2, 2), (3, 2), (1, 2), (2, 3)),
    ((1, 2, 5, 5), (2, 2, 5, 5), 1, 0, 1),          # kernel as large as the input: 1x1 output
    ((3, 4, 6, 5), (5, 4, 1, 1), 1, 0, 1),          # 1x1 convolution
    # enough filters for the Numba register tiles (conv2d_numba._takes_tiles), with filter
    # counts that are not whole tiles of 4, and pixel counts that are not whole chunks of
    # 32/64 (one sample's 42 pixels; 99 = 64 + 35):
    ((2, 3, 7, 6), (18, 3, 3, 3), 1, 1, 1),         # few products per output, 18 filters
    ((2, 2, 9, 11), (17, 2, 3, 3), 1, 1, 1),
    ((2, 9, 5, 7), (33, 9, 3, 3), 1, 1, 1),         # forward on tiles
    ((2, 35, 6, 5), (9, 35, 3, 3), 1, 1, 1),        # input gradient on tiles
    ((1, 33, 7, 9), (65, 33, 3, 2), 1, (2, 0), (1, 2)),  # both; two panels of filters
]
CASE_IDS = [f"x{c[0]}-w{c[1]}-s{c[2]}-p{c[3]}-d{c[4]}".replace(" ", "") for c in CASES]


def make_inputs(rng, case, dtype):
    x_shape, w_shape, stride, padding, dilation = case
    x = random_array(rng, x_shape, dtype)
    w = random_array(rng, w_shape, dtype)
    y_shape = K.conv2d(x, w, stride, padding, dilation, impl="numpy").shape
    gy = random_array(rng, y_shape, dtype)
    return x, w, gy, dict(stride=stride, padding=padding, dilation=dilation)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_reference_forward_matches_direct_loops(case, kernel_rng):
    x, w, _, hyper = make_inputs(kernel_rng, case, np.float64)
    y = K.conv2d(x, w, **hyper, impl="numpy")
    assert_close(y, conv2d_truth(x, w, **hyper))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_reference_backward_is_the_adjoint_of_forward(case, kernel_rng):
    """conv2d is linear in x and in w, so its gradients are its adjoints:
    <conv(x, w), gy> = <x, backward_input(gy, w)> = <w, backward_weight(x, gy)>."""
    x, w, gy, hyper = make_inputs(kernel_rng, case, np.float64)
    y = K.conv2d(x, w, **hyper, impl="numpy")
    gx = K.conv2d_backward_input(gy, w, x.shape, **hyper, impl="numpy")
    gw = K.conv2d_backward_weight(x, gy, w.shape, **hyper, impl="numpy")
    assert gx.shape == x.shape and gw.shape == w.shape
    np.testing.assert_allclose(np.sum(x * gx), np.sum(y * gy), rtol=1e-12)
    np.testing.assert_allclose(np.sum(w * gw), np.sum(y * gy), rtol=1e-12)


@pytest.mark.parametrize("impl", CPU_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_implementation_matches_reference(impl, dtype, case, kernel_rng):
    x, w, gy, hyper = make_inputs(kernel_rng, case, dtype)
    terms = w.shape[1] * w.shape[2] * w.shape[3]          # products summed per output
    checks = [
        (K.conv2d(x, w, **hyper, impl=impl),
         K.conv2d(x, w, **hyper, impl="numpy")),
        (K.conv2d_backward_input(gy, w, x.shape, **hyper, impl=impl),
         K.conv2d_backward_input(gy, w, x.shape, **hyper, impl="numpy")),
        (K.conv2d_backward_weight(x, gy, w.shape, **hyper, impl=impl),
         K.conv2d_backward_weight(x, gy, w.shape, **hyper, impl="numpy")),
    ]
    for actual, expected in checks:
        assert actual.dtype == dtype and actual.flags.c_contiguous
        assert_close(actual, expected, scale=np.sqrt(terms * gy.size / gy.shape[1]))


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 3), c=st.integers(1, 4), f=st.integers(1, 4),
    kh=st.integers(1, 3), kw=st.integers(1, 3),
    sh=st.integers(1, 3), sw=st.integers(1, 3),
    ph=st.integers(0, 2), pw=st.integers(0, 2),
    dh=st.integers(1, 2), dw=st.integers(1, 2),
    extra_h=st.integers(0, 6), extra_w=st.integers(0, 6),
    seed=st.integers(0, 2**31 - 1),
)
def test_numba_matches_reference_on_random_geometry(
    n, c, f, kh, kw, sh, sw, ph, pw, dh, dw, extra_h, extra_w, seed
):
    if "numba" not in CPU_IMPLS:
        pytest.skip("numba is not installed")
    # input just large enough for the dilated kernel, plus a random margin
    h = max(1, dh * (kh - 1) + 1 - 2 * ph + extra_h)
    w_ = max(1, dw * (kw - 1) + 1 - 2 * pw + extra_w)
    case = ((n, c, h, w_), (f, c, kh, kw), (sh, sw), (ph, pw), (dh, dw))
    x, w, gy, hyper = make_inputs(np.random.default_rng(seed), case, np.float64)
    assert_close(K.conv2d(x, w, **hyper, impl="numba"), conv2d_truth(x, w, **hyper))
    assert_close(K.conv2d_backward_input(gy, w, x.shape, **hyper, impl="numba"),
                 K.conv2d_backward_input(gy, w, x.shape, **hyper, impl="numpy"))
    assert_close(K.conv2d_backward_weight(x, gy, w.shape, **hyper, impl="numba"),
                 K.conv2d_backward_weight(x, gy, w.shape, **hyper, impl="numpy"))


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_empty_batch(impl):
    x = np.zeros((0, 2, 5, 5), np.float32)
    w = np.ones((3, 2, 3, 3), np.float32)
    assert K.conv2d(x, w, impl=impl).shape == (0, 3, 3, 3)
    gy = np.zeros((0, 3, 3, 3), np.float32)
    assert K.conv2d_backward_input(gy, w, x.shape, impl=impl).shape == x.shape
    gw = K.conv2d_backward_weight(x, gy, w.shape, impl=impl)
    assert gw.shape == w.shape and not gw.any()


# ---------------------------------------------------------------------------------------------
# Errors: each names the op and the numbers
# ---------------------------------------------------------------------------------------------

def test_channel_mismatch():
    with pytest.raises(ValueError, match=r"kernels.conv2d: input has 3 channels .*expects 4"):
        K.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 4, 3, 3)))


def test_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"kernel 3x3 with dilation \(2, 2\) spans 5x5, larger "
                                         r"than the padded input 4x6"):
        K.conv2d(np.zeros((1, 1, 2, 4)), np.zeros((1, 1, 3, 3)), padding=1, dilation=2)


@pytest.mark.parametrize(
    "hyper, message",
    [
        (dict(stride=0), "stride must be >= 1"),
        (dict(padding=-1), "padding must be >= 0"),
        (dict(dilation=(1, 0)), "dilation must be >= 1"),
        (dict(stride=(1, 2, 3)), "stride must be an int or a pair of ints"),
        (dict(padding=1.5), "padding must be an int or a pair of ints"),
    ],
)
def test_invalid_hyper_parameters(hyper, message):
    with pytest.raises(ValueError, match=message):
        K.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), **hyper)


def test_wrong_ranks_and_dtypes():
    with pytest.raises(ValueError, match="x must be 4-D"):
        K.conv2d(np.zeros((1, 5, 5)), np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match="dtypes differ"):
        K.conv2d(np.zeros((1, 1, 5, 5), np.float32), np.zeros((1, 1, 3, 3), np.float64))


def test_backward_gy_shape_is_checked():
    w = np.zeros((2, 1, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d_backward_input: gy has shape \(1, 2, 4, 4\) "
                                         r"but .* produces \(1, 2, 3, 3\)"):
        K.conv2d_backward_input(np.zeros((1, 2, 4, 4)), w, (1, 1, 5, 5))
    with pytest.raises(ValueError, match="conv2d_backward_weight: gy has shape"):
        K.conv2d_backward_weight(np.zeros((1, 1, 5, 5)), np.zeros((1, 2, 4, 4)), w.shape)


@pytest.mark.parametrize("impl", CPU_IMPLS)
def test_infinite_input_gives_the_reference_weight_gradient(impl, kernel_rng):
    """The Numba stride-1 weight gradient multiplies thrown-away border outputs by zeros of
    gy; 0 * inf would be NaN, so an input with inf must take another path and agree with the
    reference (inf and NaN exactly where the reference has them)."""
    x = random_array(kernel_rng, (2, 3, 6, 5), np.float64)
    x[0, 1, 2, 0] = np.inf
    w = random_array(kernel_rng, (4, 3, 3, 3), np.float64)
    gy = random_array(kernel_rng, (2, 4, 6, 5), np.float64)
    gw = K.conv2d_backward_weight(x, gy, w.shape, 1, 1, impl=impl)
    expected = K.conv2d_backward_weight(x, gy, w.shape, 1, 1, impl="numpy")
    assert np.isfinite(expected).sum() > 0 and not np.isfinite(expected).all()
    np.testing.assert_array_equal(np.isfinite(gw), np.isfinite(expected))
    assert_close(np.where(np.isfinite(gw), gw, 0), np.where(np.isfinite(expected), expected, 0))


def test_tile_cases_take_the_tiled_path():
    """The last five CASES run on the register tiles, in the forward pass (K products per
    output, F filters) or the input gradient's (channels swapped)."""
    conv2d_numba = pytest.importorskip("minigrad.kernels.conv2d_numba")
    tiled = [(conv2d_numba._takes_tiles(c[1][1] * c[1][2] * c[1][3], c[1][0]),
              conv2d_numba._takes_tiles(c[1][0] * c[1][2] * c[1][3], c[1][1]))
             for c in CASES[-5:]]
    assert tiled == [(True, False), (True, False), (True, False), (False, True), (True, True)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [
    ((1, 57, 4, 5), (65, 57, 3, 3), 1, 1, 1),        # K = 513, F = 65: two panels of filters
    ((3, 60, 5, 7), (70, 60, 3, 3), 1, (0, 1), (1, 2)),
], ids=["K513-F65", "K540-F70-dilated"])
def test_numba_weight_gradient_on_tiles_matches_reference(dtype, case, kernel_rng):
    """Large enough for conv2d_numba's weight gradient on register tiles
    (WGRAD_TILED_MIN_K products per output, WGRAD_TILED_MIN_F filters)."""
    conv2d_numba = pytest.importorskip("minigrad.kernels.conv2d_numba")
    x, w, gy, hyper = make_inputs(kernel_rng, case, dtype)
    assert w[0].size >= conv2d_numba.WGRAD_TILED_MIN_K
    assert w.shape[0] >= conv2d_numba.WGRAD_TILED_MIN_F
    actual = K.conv2d_backward_weight(x, gy, w.shape, **hyper, impl="numba")
    expected = K.conv2d_backward_weight(x, gy, w.shape, **hyper, impl="numpy")
    assert actual.dtype == dtype and actual.flags.c_contiguous
    assert_close(actual, expected, scale=np.sqrt(gy.size / gy.shape[1]))
