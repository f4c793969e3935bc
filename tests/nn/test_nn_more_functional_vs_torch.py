"""The second set of nn.functional ops against PyTorch: same inputs, same outputs, same
gradients (float64 unless a test says otherwise), including the edge cases where PyTorch's
choices are not the textbook ones (kinks, nearest-neighbour shortcuts, clamped norms)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def both(array, grad=True):
    array = np.asarray(array)
    return (mg.tensor(array, requires_grad=grad and array.dtype.kind == "f"),
            torch.tensor(array, requires_grad=grad and array.dtype.kind == "f"))


def compare(mg_fn, torch_fn, *arrays, atol=1e-12, rtol=1e-10, second=False, grads=True):
    """Outputs, input gradients for a random upstream gradient and, with ``second``, the
    gradient of (sum of those gradients) again (a second derivative)."""
    pairs = [both(a) for a in arrays]
    out_m, out_t = mg_fn(*[p[0] for p in pairs]), torch_fn(*[p[1] for p in pairs])
    assert tuple(out_m.shape) == tuple(out_t.shape)
    np.testing.assert_allclose(out_m.detach().numpy(), out_t.detach().numpy(), atol=atol,
                               rtol=rtol)
    if not grads:
        return
    up = np.random.default_rng(0).standard_normal(tuple(out_t.shape)).astype(arrays[0].dtype)
    leaves_m = [m for m, _ in pairs if m.requires_grad]
    leaves_t = [tt for _, tt in pairs if tt.requires_grad]
    gm = mg.autograd.grad((out_m * mg.tensor(up)).sum(), leaves_m, create_graph=second)
    gt = torch.autograd.grad((out_t * torch.tensor(up)).sum(), leaves_t, create_graph=second)
    for a, b in zip(gm, gt):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=atol, rtol=rtol)
    if second and not any(g.requires_grad for g in gm):
        # piecewise linear: the gradient does not depend on the input, its derivative is 0
        ggt = torch.autograd.grad(sum(g.sum() for g in gt), leaves_t, allow_unused=True)
        for b in ggt:
            assert b is None or not b.numpy().any()
    elif second:
        ggm = mg.autograd.grad(sum(g.sum() for g in gm), leaves_m, allow_unused=True)
        ggt = torch.autograd.grad(sum(g.sum() for g in gt), leaves_t, allow_unused=True)
        for a, b in zip(ggm, ggt):
            a = 0.0 if a is None else a.numpy()      # None: that gradient is zero
            b = 0.0 if b is None else b.numpy()
            np.testing.assert_allclose(a, b, atol=atol, rtol=rtol)


@pytest.fixture
def r():
    return np.random.default_rng(5)


# ---------------------------------------------------------------------------------------------
# interpolate
# ---------------------------------------------------------------------------------------------

MODES = [(1, "nearest"), (2, "nearest"), (3, "nearest"), (1, "nearest-exact"),
         (2, "nearest-exact"), (1, "linear"), (2, "bilinear"), (3, "trilinear"),
         (2, "bicubic"), (1, "area"), (2, "area")]
SCALES = [0.5, 0.7, 1.0, 1.3, 1.5, 2.0, 2.2, 3.0]


def _random_call(rng, dims, mode):
    """A random input size and size / scale_factor / align_corners for one mode."""
    spatial = [int(v) for v in rng.integers(1, 8, size=dims)]
    kw = {}
    if rng.random() < 0.4:
        kw["size"] = [int(v) for v in rng.integers(1, 11, size=dims)]
    else:
        while True:
            scales = [float(v) for v in rng.choice(SCALES, size=dims)]
            if all(math.floor(n * s) >= 1 for n, s in zip(spatial, scales)):
                break
        kw["scale_factor"] = scales
        if rng.random() < 0.3:
            kw["recompute_scale_factor"] = True
    if mode in ("linear", "bilinear", "trilinear", "bicubic"):
        kw["align_corners"] = bool(rng.random() < 0.5)
    return [2, 3] + spatial, kw


def _torch_nearest_backward_differs(shape, kw, dims, mode):
    """PyTorch 2.13's 1-D and 3-D nearest *backward* copies an axis whose size a scale factor
    leaves unchanged (and uses j // 2 when it doubles) although its forward does not: there
    its gradient is not the gradient of its output. minigrad's is (see the test below)."""
    if mode != "nearest" or dims == 2 or "scale_factor" not in kw:
        return False
    if kw.get("recompute_scale_factor"):
        return False
    return any(math.floor(n * s) in (n, 2 * n) and math.floor(n * s) != n * s
               for n, s in zip(shape[2:], kw["scale_factor"]))


@pytest.mark.parametrize("dims,mode", MODES, ids=[f"{m}-{d}d" for d, m in MODES])
def test_interpolate_matches_torch_on_random_sizes(dims, mode):
    rng = np.random.default_rng(dims * 100 + len(mode))
    for _ in range(12):
        shape, kw = _random_call(rng, dims, mode)
        x = rng.standard_normal(shape)
        compare(lambda a, kw=kw: F.interpolate(a, mode=mode, **kw),
                lambda a, kw=kw: TF.interpolate(a, mode=mode, **kw), x,
                grads=not _torch_nearest_backward_differs(shape, kw, dims, mode))


def test_interpolate_nearest_1d_gradient_is_the_adjoint_of_its_forward():
    """x of length 3 scaled by 1.3: the output (length 3) reads x[0], x[0], x[1]. So the
    gradient of sum(y * g) is (g0 + g1, g2, 0), which minigrad gives; PyTorch 2.13's
    backward assumes a copy and gives (g0, g1, g2)."""
    x = mg.tensor(np.array([[[10.0, 20.0, 30.0]]]), requires_grad=True)
    y = F.interpolate(x, scale_factor=1.3)
    np.testing.assert_array_equal(y.detach().numpy(), [[[10.0, 10.0, 20.0]]])
    y.backward(mg.tensor(np.array([[[1.0, 2.0, 4.0]]])))
    np.testing.assert_array_equal(x.grad.numpy(), [[[3.0, 4.0, 0.0]]])


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_interpolate_float32_matches_torch(mode, r):
    x = r.standard_normal((2, 3, 5, 4)).astype(np.float32)
    for kw in [dict(scale_factor=2.2), dict(size=(3, 7)), dict(scale_factor=(1.5, 0.75))]:
        out = F.interpolate(mg.tensor(x), mode=mode, **kw)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.numpy(), TF.interpolate(torch.tensor(x), mode=mode,
                                                               **kw).numpy(), atol=1e-5)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_interpolate_float16_computes_positions_in_float32(mode):
    """ATen computes half-precision sampling positions in float32; in float16 itself the
    positions of a 40 -> 377 resize would be off by up to a tenth of a pixel."""
    x = np.linspace(-30, 30, 40 * 3).reshape(1, 1, 40, 3).astype(np.float16)
    got = F.interpolate(mg.tensor(x), size=(377, 3), mode=mode)
    want = TF.interpolate(torch.tensor(x), size=(377, 3), mode=mode)
    assert got.dtype == np.float16
    np.testing.assert_allclose(got.numpy().astype(np.float64),
                               want.numpy().astype(np.float64), atol=0.05)


def test_interpolate_nearest_follows_torch_shortcuts():
    """PyTorch's 2-D nearest kernel copies an axis whose size is unchanged (and takes j // 2
    when it doubles) whatever the scale factor; its 1-D and 3-D kernels apply the formula.
    Linear modes copy unchanged axes too."""
    x1, x2 = np.arange(3.0).reshape(1, 1, 3), np.arange(9.0).reshape(1, 1, 3, 3)
    for mode, x in [("nearest", x1), ("nearest", x2), ("linear", x1), ("bilinear", x2),
                    ("nearest-exact", x2)]:
        for scale in (1.3, 2.2):   # out == in, out == 2 * in
            got = F.interpolate(mg.tensor(x), scale_factor=scale, mode=mode).numpy()
            want = TF.interpolate(torch.tensor(x), scale_factor=scale, mode=mode).numpy()
            np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15,
                                       err_msg=f"{mode} {x.ndim}-D x{scale}")


def test_interpolate_nearest_exact_rounds_like_torch():
    """ATen computes (j + 0.5) * scale in double and rounds it to float before the floor: for
    2 -> 25 that puts output 12 on input 1 (exact arithmetic says 0)."""
    for n, out in [(2, 25), (2, 29), (2, 43)]:
        x = np.arange(float(n)).reshape(1, 1, n)
        for xx, size in [(x, out), (x[..., None] * np.ones(3), (out, 3))]:
            got = F.interpolate(mg.tensor(xx), size=size, mode="nearest-exact").numpy()
            want = TF.interpolate(torch.tensor(xx), size=size, mode="nearest-exact").numpy()
            np.testing.assert_array_equal(got, want)


def test_interpolate_integer_input_nearest(r):
    x = r.integers(0, 255, size=(1, 2, 3, 5)).astype(np.uint8)
    got = F.interpolate(mg.tensor(x), size=(4, 7))
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got.numpy(), TF.interpolate(torch.tensor(x),
                                                              size=(4, 7)).numpy())


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
def test_interpolate_second_derivative_matches_torch(mode, r):
    compare(lambda a: F.interpolate(a, scale_factor=1.5, mode=mode) ** 2,
            lambda a: TF.interpolate(a, scale_factor=1.5, mode=mode) ** 2,
            r.standard_normal((1, 2, 3, 4)), second=True)


# ---------------------------------------------------------------------------------------------
# pixel shuffle, unfold, fold
# ---------------------------------------------------------------------------------------------

def test_pixel_shuffle_and_unshuffle_match_torch(r):
    compare(lambda a: F.pixel_shuffle(a, 2), lambda a: TF.pixel_shuffle(a, 2),
            r.standard_normal((2, 3, 8, 3, 5)))
    compare(lambda a: F.pixel_unshuffle(a, 3), lambda a: TF.pixel_unshuffle(a, 3),
            r.standard_normal((2, 6, 9)))
    x = r.standard_normal((2, 4, 6, 4))
    np.testing.assert_array_equal(
        F.pixel_shuffle(F.pixel_unshuffle(mg.tensor(x), 2), 2).numpy(), x)


FOLD_CASES = [dict(kernel_size=2), dict(kernel_size=3, padding=1, stride=2),
              dict(kernel_size=(2, 3), dilation=(2, 1), padding=(1, 0), stride=(1, 2)),
              dict(kernel_size=3, padding=3, dilation=2)]


@pytest.mark.parametrize("kw", FOLD_CASES, ids=str)
def test_unfold_and_fold_match_torch(kw, r):
    x = r.standard_normal((2, 3, 7, 6))
    compare(lambda a: F.unfold(a, **kw), lambda a: TF.unfold(a, **kw), x)
    compare(lambda a: F.unfold(a, **kw), lambda a: TF.unfold(a, **kw), x[0])
    cols = TF.unfold(torch.tensor(x), **kw).numpy()
    compare(lambda c: F.fold(c, (7, 6), **kw), lambda c: TF.fold(c, (7, 6), **kw),
            r.standard_normal(cols.shape))
    compare(lambda c: F.fold(c, (7, 6), **kw), lambda c: TF.fold(c, (7, 6), **kw),
            r.standard_normal(cols.shape[1:]))


def test_unfold_then_matmul_is_a_convolution(r):
    x, w = r.standard_normal((2, 3, 6, 5)), r.standard_normal((4, 3, 3, 3))
    cols = F.unfold(mg.tensor(x), 3, padding=1)                    # (2, 27, 30)
    y = (mg.tensor(w.reshape(4, -1)) @ cols).reshape(2, 4, 6, 5)
    np.testing.assert_allclose(y.numpy(), TF.conv2d(torch.tensor(x), torch.tensor(w),
                                                    padding=1).numpy(), atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------------

KINKS = np.array([-4.0, -3.0, -2.9, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 2.9, 3.0, 5.9, 6.0, 7.0])
ACTIVATIONS = [
    ("hardtanh", lambda a: F.hardtanh(a), lambda a: TF.hardtanh(a)),
    ("hardtanh(-0.5, 2)", lambda a: F.hardtanh(a, -0.5, 2.0), lambda a: TF.hardtanh(a, -0.5, 2.0)),
    ("relu6", F.relu6, TF.relu6),
    ("hardsigmoid", F.hardsigmoid, TF.hardsigmoid),
    ("hardswish", F.hardswish, TF.hardswish),
    ("mish", F.mish, TF.mish),
    ("softsign", F.softsign, TF.softsign),
]


@pytest.mark.parametrize("name,fm,ft", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activations_match_torch_at_and_between_kinks(name, fm, ft, r):
    x = np.concatenate([KINKS, r.uniform(-8, 8, size=20)])
    # PyTorch's hardsigmoid gradient is the float32 constant 1/6 even in float64: rtol 1e-7
    compare(fm, ft, x, rtol=1e-7)


@pytest.mark.parametrize("name,fm,ft", [a for a in ACTIVATIONS if a[0] != "hardsigmoid"],
                         ids=[a[0] for a in ACTIVATIONS if a[0] != "hardsigmoid"])
def test_activation_second_derivatives_match_torch(name, fm, ft, r):
    # (PyTorch has no double backward for hardsigmoid; ours is 0, checked by the registry)
    compare(fm, ft, np.concatenate([KINKS, r.uniform(-8, 8, size=10)]), second=True)


def test_mish_is_finite_for_large_inputs():
    x = np.array([-1000.0, -50.0, 50.0, 1000.0])
    compare(F.mish, TF.mish, x)


def test_glu_and_softmin_match_torch(r):
    x = r.standard_normal((4, 6, 2))
    for dim in (0, 1, -2):
        compare(lambda a, d=dim: F.glu(a, d), lambda a, d=dim: TF.glu(a, d), x, second=True)
    for dim in (0, 2):
        compare(lambda a, d=dim: F.softmin(a, d), lambda a, d=dim: TF.softmin(a, d), x)
    got = F.softmin(mg.tensor(x.astype(np.float32)), 1, dtype=mg.float64)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got.numpy(), TF.softmin(torch.tensor(x.astype(np.float32)), 1,
                                                       dtype=torch.float64).numpy())


def test_softmin_without_dim_warns_and_picks_pytorchs_dim(r):
    x = r.standard_normal((3, 4))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        got = F.softmin(mg.tensor(x))
    with pytest.warns(UserWarning):
        want = TF.softmin(torch.tensor(x))
    np.testing.assert_allclose(got.numpy(), want.numpy())


# ---------------------------------------------------------------------------------------------
# Distances
# ---------------------------------------------------------------------------------------------

def test_cosine_similarity_matches_torch(r):
    a, b = r.standard_normal((4, 5)), r.standard_normal((4, 5))
    compare(F.cosine_similarity, TF.cosine_similarity, a, b, second=True)
    compare(lambda x, y: F.cosine_similarity(x, y, dim=-1),
            lambda x, y: TF.cosine_similarity(x, y, dim=-1), a, b[0])
    compare(lambda x, y: F.cosine_similarity(x, y, dim=0),
            lambda x, y: TF.cosine_similarity(x, y, dim=0),
            r.standard_normal((3, 2, 4)), r.standard_normal((3, 1, 4)))


def test_cosine_similarity_clamps_norms_without_their_gradient(r):
    """A norm below eps: the value divides by eps, the gradient is the unclamped norm's
    (PyTorch clamps in place under no_grad). A zero vector: similarity 0, gradient finite."""
    a, b = r.standard_normal((4, 5)), r.standard_normal((4, 5))
    a[1] = 0.0
    a[2] *= 1e-9
    compare(F.cosine_similarity, TF.cosine_similarity, a, b, atol=1e-6, rtol=1e-9)
    compare(lambda x, y: F.cosine_similarity(x, y, eps=3.0),
            lambda x, y: TF.cosine_similarity(x, y, eps=3.0), a, b)


def test_distances_promote_dtypes_as_torch():
    a, b = np.array([[1, 2, 3]]), np.array([[3, 2, 1]])
    got = F.cosine_similarity(mg.tensor(a.astype(np.float32)), mg.tensor(b.astype(np.float64)))
    assert got.dtype == np.float64
    got = F.pairwise_distance(mg.tensor(a), mg.tensor(b))      # integers: the default float
    want = TF.pairwise_distance(torch.tensor(a), torch.tensor(b))
    assert got.dtype == np.float32 and want.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, float("inf")])
def test_pairwise_distance_matches_torch(p, r):
    a, b = r.standard_normal((4, 5)), r.standard_normal((4, 5))
    compare(lambda x, y: F.pairwise_distance(x, y, p), lambda x, y: TF.pairwise_distance(x, y, p),
            a, b)
    compare(lambda x, y: F.pairwise_distance(x, y, p, 1e-3, True),
            lambda x, y: TF.pairwise_distance(x, y, p, 1e-3, True), a, b[0])


def test_pairwise_distance_of_identical_vectors(r):
    a = r.standard_normal((3, 4))
    compare(F.pairwise_distance, TF.pairwise_distance, a, a.copy())          # eps keeps it > 0
    compare(lambda x, y: F.pairwise_distance(x, y, eps=0.0),
            lambda x, y: TF.pairwise_distance(x, y, eps=0.0), a, a.copy())  # 0, gradient 0
    got = F.pairwise_distance(mg.tensor(a), mg.tensor(a + (a > 0)), p=0)
    np.testing.assert_array_equal(got.numpy(), TF.pairwise_distance(
        torch.tensor(a), torch.tensor(a + (a > 0)), p=0).numpy())


# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------

POOL1D = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
          dict(kernel_size=3, stride=2, ceil_mode=True),
          dict(kernel_size=(3,), stride=(1,), padding=(1,))]


@pytest.mark.parametrize("kw", POOL1D, ids=str)
def test_max_and_avg_pool1d_match_torch(kw, r):
    for shape in [(2, 3, 9), (3, 10)]:
        x = r.standard_normal(shape)
        compare(lambda a: F.max_pool1d(a, **kw), lambda a: TF.max_pool1d(a, **kw), x)
        compare(lambda a: F.avg_pool1d(a, **kw), lambda a: TF.avg_pool1d(a, **kw), x)
        compare(lambda a: F.avg_pool1d(a, count_include_pad=False, **kw),
                lambda a: TF.avg_pool1d(a, count_include_pad=False, **kw), x)
    x = r.standard_normal((2, 3, 11))
    kw2 = dict(kw, dilation=2)
    compare(lambda a: F.max_pool1d(a, **kw2), lambda a: TF.max_pool1d(a, **kw2), x)


def test_max_pool1d_indices_match_torch(r):
    x = r.standard_normal((2, 3, 9))
    x[0, 0, :3] = 1.5                      # a tie: the first maximum wins, in both
    for kw in POOL1D:
        y, idx = F.max_pool1d(mg.tensor(x), return_indices=True, **kw)
        ty, tidx = TF.max_pool1d(torch.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
        np.testing.assert_array_equal(y.numpy(), ty.numpy())


@pytest.mark.parametrize("out", [1, 3, 4, 7, 12])
def test_adaptive_pool1d_match_torch(out, r):
    x = r.standard_normal((2, 3, 7))
    compare(lambda a: F.adaptive_avg_pool1d(a, out), lambda a: TF.adaptive_avg_pool1d(a, out), x)
    compare(lambda a: F.adaptive_max_pool1d(a, out), lambda a: TF.adaptive_max_pool1d(a, out), x)
    y, idx = F.adaptive_max_pool1d(mg.tensor(x[0]), (out,), return_indices=True)
    np.testing.assert_array_equal(
        idx.numpy(), TF.adaptive_max_pool1d(torch.tensor(x[0]), out, return_indices=True)[1])


@pytest.mark.parametrize("out", [1, (2, 3), (3, None), (5, 4), (9, 11)], ids=str)
def test_adaptive_max_pool2d_matches_torch(out, r):
    x = r.standard_normal((2, 3, 5, 7))
    x[1, 2, :2, :3] = 4.0                      # ties: the first maximum (row-major) wins
    x[0, 1, 2, 3] = -np.inf
    compare(lambda a: F.adaptive_max_pool2d(a, out), lambda a: TF.adaptive_max_pool2d(a, out), x)
    for xx in (x, x[0]):
        y, idx = F.adaptive_max_pool2d(mg.tensor(xx), out, return_indices=True)
        ty, tidx = TF.adaptive_max_pool2d(torch.tensor(xx), out, return_indices=True)
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
        np.testing.assert_array_equal(y.numpy(), ty.numpy())
        assert idx.dtype == np.int64


def test_adaptive_max_pool_nan_wins_as_in_torch():
    """PyTorch's scan replaces the winner on a larger value or on any NaN: NaN wins, and of
    several NaNs the last one."""
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan
    x[0, 1, 2, 3] = np.nan
    for out in (1, 2, (3, 2)):
        y, idx = F.adaptive_max_pool2d(mg.tensor(x), out, return_indices=True)
        ty, tidx = TF.adaptive_max_pool2d(torch.tensor(x), out, return_indices=True)
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
        np.testing.assert_array_equal(y.numpy(), ty.numpy())


# ---------------------------------------------------------------------------------------------
# Normalization
# ---------------------------------------------------------------------------------------------

def test_instance_norm_matches_torch(r):
    x, w, b = r.standard_normal((3, 4, 5, 6)), r.standard_normal(4), r.standard_normal(4)
    compare(lambda a, ww, bb: F.instance_norm(a, weight=ww, bias=bb, eps=1e-3),
            lambda a, ww, bb: TF.instance_norm(a, weight=ww, bias=bb, eps=1e-3), x, w, b,
            second=True, atol=1e-10)
    compare(F.instance_norm, TF.instance_norm, r.standard_normal((2, 3, 7)), atol=1e-10)


@pytest.mark.parametrize("use_input_stats", [True, False])
def test_instance_norm_running_stats_match_torch(use_input_stats, r):
    x = r.standard_normal((3, 4, 5)) * 2 + 1
    stats = [r.standard_normal(4), r.uniform(0.5, 2.0, 4)]
    mine = [mg.tensor(s.copy()) for s in stats]
    theirs = [torch.tensor(s.copy()) for s in stats]
    for _ in range(2):
        ym = F.instance_norm(mg.tensor(x), *mine, use_input_stats=use_input_stats,
                             momentum=0.3)
        yt = TF.instance_norm(torch.tensor(x), *theirs, use_input_stats=use_input_stats,
                              momentum=0.3)
        np.testing.assert_allclose(ym.numpy(), yt.numpy(), atol=1e-12)
        for m, t_ in zip(mine, theirs):
            np.testing.assert_allclose(m.numpy(), t_.numpy(), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_rms_norm_matches_torch(dtype, r):
    x = r.standard_normal((3, 4, 5)).astype(dtype)
    w = r.standard_normal((4, 5)).astype(dtype)
    for args in [((5,), None, None), ((4, 5), w, None), ((5,), None, 1e-2)]:
        shape, weight, eps = args
        got = F.rms_norm(mg.tensor(x), shape, None if weight is None else mg.tensor(weight), eps)
        want = TF.rms_norm(torch.tensor(x), shape,
                           None if weight is None else torch.tensor(weight), eps)
        assert got.dtype == dtype
        tol = {np.float64: 1e-13, np.float32: 1e-6, np.float16: 1e-3}[dtype]
        np.testing.assert_allclose(got.numpy().astype(np.float64),
                                   want.numpy().astype(np.float64), atol=tol, rtol=tol)
    if dtype == np.float64:
        compare(lambda a, ww: F.rms_norm(a, (4, 5), ww), lambda a, ww: TF.rms_norm(a, (4, 5), ww),
                x, w, second=True)
