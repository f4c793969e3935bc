"""Bad input to the second set of nn ops and layers: a clear error naming the op and the
values involved (no PyTorch needed), and a few properties that need no reference."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn


def x_(*shape, dtype=np.float64):
    return mg.tensor(np.random.default_rng(0).standard_normal(shape).astype(dtype))


# ---------------------------------------------------------------------------------------------
# interpolate / Upsample
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call,error,match", [
    (lambda: F.interpolate(x_(3, 4), size=5), NotImplementedError,
     r"interpolate: expected a 3-D, 4-D or 5-D input .* got shape \(3, 4\)"),
    (lambda: F.interpolate(x_(1, 1, 4), size=5, mode="cubic"), ValueError,
     r"interpolate: mode must be one of 'nearest', .* got 'cubic'"),
    (lambda: F.interpolate(x_(1, 1, 4, 4), size=5, mode="linear"), NotImplementedError,
     r"got a 4-D input of shape \(1, 1, 4, 4\), but linear mode needs a 3-D input"),
    (lambda: F.interpolate(x_(1, 1, 4), size=5, mode="bilinear"), NotImplementedError,
     r"bilinear mode needs a 4-D input"),
    (lambda: F.interpolate(x_(1, 1, 4, 4), size=5, mode="nearest", align_corners=True),
     ValueError, r"align_corners option can only be set with the interpolating modes"),
    (lambda: F.interpolate(x_(1, 1, 4, 4), size=5, scale_factor=2), ValueError,
     "only one of size or scale_factor should be defined"),
    (lambda: F.interpolate(x_(1, 1, 4, 4)), ValueError,
     "either size or scale_factor should be defined"),
    (lambda: F.interpolate(x_(1, 1, 4, 4), size=(5, 5, 5)), ValueError,
     r"input of shape \(1, 1, 4, 4\) has 2 spatial dimension\(s\) but size is \(5, 5, 5\)"),
    (lambda: F.interpolate(x_(1, 1, 4, 4), scale_factor=(2,)), ValueError,
     r"has 2 spatial dimension\(s\) but scale_factor is \(2,\)"),
    (lambda: F.interpolate(x_(1, 1, 4, 4), size=(2.5, 3)), TypeError,
     r"size must be an int or a tuple of ints, got \(2.5, 3\)"),
    (lambda: F.interpolate(x_(1, 1, 4, 4), size=(0, 3)), ValueError,
     r"output sizes should be greater than 0, .* output size \(0, 3\)"),
    (lambda: F.interpolate(x_(1, 1, 4, 4), scale_factor=0.2), ValueError,
     r"output sizes should be greater than 0, .* output size \(0, 0\)"),
    (lambda: F.interpolate(x_(1, 1, 4, 4), size=3, recompute_scale_factor=True), ValueError,
     "recompute_scale_factor is not meaningful with an explicit size"),
    (lambda: F.interpolate(x_(1, 1, 4, 4), size=3, mode="bilinear", antialias=True),
     NotImplementedError, "antialias=True is not implemented"),
    (lambda: F.interpolate(mg.tensor(np.ones((1, 1, 3), dtype=np.int64)), size=5,
                           mode="linear"), RuntimeError,
     "mode 'linear' needs a floating point input, got int64"),
])
def test_interpolate_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_interpolate_output_sizes_and_values():
    x = mg.tensor(np.arange(6.0).reshape(1, 1, 2, 3))
    assert F.interpolate(x, scale_factor=2.5).shape == (1, 1, 5, 7)
    assert F.interpolate(x, scale_factor=(1, 0.5)).shape == (1, 1, 2, 1)
    assert nn.Upsample(size=(4, 4), mode="area")(x).shape == (1, 1, 4, 4)
    # nearest 2x repeats every pixel; bilinear with align_corners keeps the corners
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=2).numpy()[0, 0, ::2, ::2],
                                  x.numpy()[0, 0])
    y = F.interpolate(x, size=(3, 5), mode="bilinear", align_corners=True).numpy()[0, 0]
    np.testing.assert_allclose(y[[0, 0, -1, -1], [0, -1, 0, -1]], [0.0, 2.0, 3.0, 5.0])
    np.testing.assert_allclose(y[1, 1], 2.0)                # the centre of 0, 1, 3, 4 and ...
    same = F.interpolate(x, size=(2, 3), mode="bilinear")   # the same size: a copy
    np.testing.assert_array_equal(same.numpy(), x.numpy())
    assert same is not x


def test_interpolate_area_is_adaptive_average_pooling():
    x = x_(2, 3, 7, 5)
    np.testing.assert_allclose(F.interpolate(x, size=(3, 2), mode="area").numpy(),
                               F.adaptive_avg_pool2d(x, (3, 2)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(F.interpolate(x_(2, 3, 7), size=3, mode="area").numpy(),
                               F.adaptive_avg_pool1d(x_(2, 3, 7), 3).numpy(), rtol=1e-12)


def _dense_matrix(mode, n_in, **kw):
    """The (out, in) matrix of a 1-D resize, column i = the resize of the i-th unit vector:
    built from the forward pass alone."""
    return F.interpolate(mg.tensor(np.eye(n_in)[:, None, :]), mode=mode, **kw).numpy()[:, 0].T


@pytest.mark.parametrize("mode, n_in, kw", [
    ("nearest", 5, {"size": 12}), ("nearest", 9, {"size": 4}), ("nearest", 7, {"size": 7}),
    ("nearest-exact", 6, {"scale_factor": 1.7}), ("area", 11, {"size": 4}),
    ("area", 3, {"size": 8}), ("linear", 4, {"size": 17}),
    ("linear", 6, {"scale_factor": 2, "align_corners": True}), ("linear", 13, {"size": 5}),
    ("linear", 1, {"size": 6}), ("linear", 8, {"scale_factor": 2.5}),
])
def test_interpolate_backward_is_the_transposed_matrix(mode, n_in, kw):
    """The backward pass reads the resampling table the other way round (input i collects
    the outputs that read it); it must equal g @ M for the dense matrix M of the forward,
    where inputs are read by many outputs, by some only, or (downsampling) by none."""
    M = _dense_matrix(mode, n_in, **kw)
    x = mg.tensor(np.random.default_rng(n_in).standard_normal((2, 3, n_in)), requires_grad=True)
    y = F.interpolate(x, mode=mode, **kw)
    g = np.random.default_rng(1).standard_normal(tuple(y.shape))
    y.backward(mg.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), g @ M, rtol=1e-12, atol=1e-12)


def test_interpolate_backward_of_an_infinite_gradient_stays_where_it_was_read():
    """An inf in the upstream gradient reaches only the inputs its output read (as NaN where
    the weight is 0, as a scatter-add gives): never the inputs that read nothing from it."""
    x = mg.tensor(np.zeros((1, 1, 6)), requires_grad=True)
    y = F.interpolate(x, size=3, mode="linear")               # output j reads 2j, 2j + 1
    g = np.zeros((1, 1, 3))
    g[0, 0, 1] = np.inf
    y.backward(mg.tensor(g))
    got = x.grad.numpy()[0, 0]
    assert np.all(got[[0, 1, 4, 5]] == 0)
    assert not np.isfinite(got[2:4]).any()


def test_interpolate_float16_backward_sums_in_float32():
    """Upsampling 8x makes every input collect about 16 products; summed in float16 they
    would lose digits, so the backward sums in float32 and rounds once."""
    x = mg.tensor(np.zeros((1, 1, 5), dtype=np.float16), requires_grad=True)
    y = F.interpolate(x, scale_factor=8, mode="linear")
    g = np.random.default_rng(0).uniform(0.5, 1.5, tuple(y.shape)).astype(np.float16)
    y.backward(mg.tensor(g))
    exact = g.astype(np.float64)[0] @ _dense_matrix("linear", 5, scale_factor=8)
    assert x.grad.dtype == np.float16
    np.testing.assert_allclose(x.grad.numpy()[0].astype(np.float64), exact,
                               rtol=2 ** -11, atol=0)


def test_resample_transposed_table():
    """Four outputs read (index, weight) pairs from four inputs (input 3 from none); the
    transposed table lists each input's readers in order, padded with out_size (the index of
    a zero appended to gy) and weight 0. Zero-weight reads are kept."""
    from minigrad.ops.resample import transposed_table

    index = np.array([[0, 1], [0, 1], [1, 1], [1, 2]])
    weight = np.array([[1.0, 0.0], [0.5, 0.5], [0.25, 0.75], [0.5, 0.5]])
    back_index, back_weight = transposed_table(index, weight, 4, np.float64)
    np.testing.assert_array_equal(back_index, [[0, 1, 4, 4, 4], [0, 1, 2, 2, 3],
                                               [3, 4, 4, 4, 4], [4, 4, 4, 4, 4]])
    np.testing.assert_array_equal(back_weight, [[1.0, 0.5, 0, 0, 0], [0.0, 0.5, 0.25, 0.75, 0.5],
                                                [0.5, 0, 0, 0, 0], [0, 0, 0, 0, 0]])


def test_upsample_repr_and_defaults():
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert nn.UpsamplingBilinear2d(scale_factor=2).align_corners is True


# ---------------------------------------------------------------------------------------------
# pixel shuffle, unfold / fold
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call,error,match", [
    (lambda: F.pixel_shuffle(x_(2, 6, 3, 3), 2), RuntimeError,
     r"pixel_shuffle: the number of channels \(6, input shape \(2, 6, 3, 3\)\) must be "
     r"divisible by upscale_factor squared \(4\)"),
    (lambda: F.pixel_shuffle(x_(4, 3), 2), RuntimeError,
     r"expected an input of at least 3 dimensions \(\*, C, H, W\), got shape \(4, 3\)"),
    (lambda: F.pixel_shuffle(x_(1, 4, 2, 2), 0), ValueError,
     "upscale_factor must be a positive integer, got 0"),
    (lambda: F.pixel_unshuffle(x_(1, 1, 4, 5), 2), RuntimeError,
     r"height \(4\) and width \(5\) .* must be divisible by downscale_factor \(2\)"),
    (lambda: F.unfold(x_(3, 4), 2), RuntimeError,
     r"unfold: expected a 3-D \(unbatched\) or 4-D \(batched\) input .* got shape \(3, 4\)"),
    (lambda: F.unfold(x_(1, 2, 3, 3), 5), RuntimeError,
     r"unfold: spatial size \(3, 3\) with kernel_size=\(5, 5\).* gives \(-1, -1\) sliding "
     r"blocks"),
    (lambda: F.unfold(x_(1, 2, 3, 3), 2, padding=-1), RuntimeError,
     r"unfold: padding should be at least 0, got \(-1, -1\)"),
    (lambda: F.unfold(x_(1, 2, 3, 3), 2, stride=(1, 2, 3)), ValueError,
     r"stride must be an int or a tuple of 2 ints"),
    (lambda: F.fold(x_(1, 7, 12), (4, 5), 2), RuntimeError,
     r"fold: the input's dimension 1 \(7, shape \(1, 7, 12\)\) must be divisible by the "
     r"product of kernel_size \(2, 2\) \(4\)"),
    (lambda: F.fold(x_(1, 8, 10), (4, 5), 2), RuntimeError,
     r"fold: output_size=\(4, 5\), .* give 3 \* 4 = 12 sliding blocks, but the input of "
     r"shape \(1, 8, 10\) has 10"),
    (lambda: F.fold(x_(2, 8, 12, 1), (4, 5), 2), RuntimeError,
     r"fold: expected a 2-D \(unbatched\) or 3-D \(batched\) input"),
])
def test_resampling_and_block_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_fold_of_unfold_counts_how_often_each_pixel_is_read():
    x = mg.ones(1, 1, 4, 5, dtype=mg.float64)
    counts = F.fold(F.unfold(x, 3, padding=1), (4, 5), 3, padding=1).numpy()[0, 0]
    # an interior pixel is in 9 windows, an edge pixel in 6, a corner in 4
    assert counts[1, 1] == 9 and counts[0, 2] == 6 and counts[0, 0] == 4


# ---------------------------------------------------------------------------------------------
# Activations, distances
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call,error,match", [
    (lambda: F.hardtanh(x_(3), 2.0, 1.0), ValueError,
     r"hardtanh: min_val \(2.0\) cannot be greater than max_val \(1.0\)"),
    (lambda: nn.Hardtanh(1.0, 1.0), ValueError,
     r"Hardtanh: max_val \(1.0\) must be greater than min_val \(1.0\)"),
    (lambda: F.glu(x_(3, 5)), RuntimeError,
     r"glu: halving dimension must be even, but dimension 1 of the input of shape \(3, 5\) is "
     r"size 5"),
    (lambda: F.glu(mg.tensor(1.0)), RuntimeError, "glu: does not support 0-d tensors"),
    (lambda: F.glu(x_(4, 2), dim=2), IndexError, "glu"),
    (lambda: F.cosine_similarity(x_(3, 4), x_(2, 4)), RuntimeError,
     r"cosine_similarity: x1 of shape \(3, 4\) and x2 of shape \(2, 4\) can't be broadcast"),
    (lambda: F.cosine_similarity(mg.tensor([[1, 2]]), mg.tensor([[2, 1]])), RuntimeError,
     "cosine_similarity: expected floating point inputs, got int64 and int64"),
    (lambda: F.cosine_similarity(x_(3, 4), x_(3, 4), dim=2), IndexError, "cosine_similarity"),
    (lambda: F.pairwise_distance(mg.tensor(1.0), mg.tensor(2.0)), RuntimeError,
     "pairwise_distance: expected inputs with at least one dimension"),
])
def test_activation_and_distance_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_hardtanh_deprecated_argument_names():
    with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
        layer = nn.Hardtanh(min_value=-2.0)
    assert layer.min_val == -2.0


def test_cosine_similarity_of_a_zero_vector_is_zero_with_a_finite_gradient():
    a = mg.tensor(np.zeros((1, 3)), requires_grad=True)
    b = mg.tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True)
    y = F.cosine_similarity(a, b)
    y.sum().backward()
    assert y.item() == 0.0
    assert np.isfinite(a.grad.numpy()).all() and np.isfinite(b.grad.numpy()).all()


# ---------------------------------------------------------------------------------------------
# Pooling, normalization
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call,error,match", [
    (lambda: F.max_pool1d(x_(5), 3), RuntimeError,
     r"max_pool1d: expected a 2-D \(unbatched\) or 3-D \(batched\) input \(N, C, L\), got "
     r"shape \(5,\)"),
    (lambda: F.max_pool1d(x_(2, 3, 5), 2, padding=2), RuntimeError,
     r"max_pool1d: padding should be at most half of kernel size, but got padding=2 and "
     r"kernel_size=2"),
    (lambda: F.max_pool1d(x_(2, 3, 2), 3), RuntimeError,
     r"max_pool1d: input of shape \(2, 3, 2\) \(length 2\) with kernel_size=3.* gives an "
     r"output of length 0"),
    (lambda: F.max_pool1d(x_(2, 3, 5), 2, stride=0), RuntimeError,
     r"max_pool1d: kernel_size \(2\), stride \(0\) and dilation \(1\) must be greater than "
     r"zero"),
    (lambda: F.avg_pool1d(x_(2, 3, 5), (2, 2)), ValueError,
     r"avg_pool1d: kernel_size must be an int or a tuple of one int, got \(2, 2\)"),
    (lambda: F.adaptive_avg_pool1d(x_(2, 3, 5), 0), ValueError,
     "adaptive_avg_pool1d: output_size must be positive, got 0"),
    (lambda: F.adaptive_max_pool2d(x_(5, 4), 2), RuntimeError,
     r"adaptive_max_pool2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input, got shape "
     r"\(5, 4\)"),
    (lambda: F.adaptive_max_pool2d(x_(1, 5, 4), (2, 2, 2)), ValueError,
     "output_size must be an int or a pair"),
    (lambda: F.adaptive_max_pool2d(mg.tensor(np.ones((1, 2, 2), dtype=np.int64)), 1),
     RuntimeError, "adaptive_max_pool2d: expected a floating point input, got int64"),
    (lambda: F.instance_norm(x_(2, 3)), ValueError,
     r"instance_norm: expected more than 1 spatial element when using the input's statistics, "
     r"got input of shape \(2, 3\)"),
    (lambda: F.instance_norm(x_(2, 3, 4), weight=mg.ones(2)), RuntimeError,
     r"instance_norm: weight has shape \(2,\), but the input \(2, 3, 4\) has 3 channels"),
    (lambda: F.instance_norm(x_(2, 3, 4), use_input_stats=False), RuntimeError,
     "running_mean and running_var must be given when use_input_stats=False"),
    (lambda: nn.InstanceNorm2d(3)(x_(3, 4)), ValueError,
     r"InstanceNorm2d\(3\): expected 3D or 4D input \(got 2D input of shape \(3, 4\)\)"),
    (lambda: nn.InstanceNorm1d(3)(x_(2, 3, 4, 5)), ValueError,
     r"InstanceNorm1d\(3\): expected 2D or 3D input \(got 4D input of shape \(2, 3, 4, 5\)\)"),
    (lambda: F.rms_norm(x_(2, 3), (4,)), RuntimeError, r"rms_norm: normalized_shape=\(4,\)"),
    (lambda: F.rms_norm(x_(2, 3), (3,), mg.ones(2)), RuntimeError,
     r"rms_norm: weight has shape \(2,\) but normalized_shape is \(3,\)"),
    (lambda: F.rms_norm(mg.tensor(np.ones((2, 3), dtype=np.int64)), 3), RuntimeError,
     "rms_norm: expected a floating point input, got int64"),
])
def test_pool_and_norm_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_instance_norm_standardises_each_instance():
    x = x_(3, 4, 6, 5) * 3 + 2
    y = nn.InstanceNorm2d(4)(x).numpy()
    np.testing.assert_allclose(y.mean(axis=(2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(2, 3)), 1, rtol=1e-4)   # eps = 1e-5 in the var
    assert nn.InstanceNorm2d(4).state_dict() == {}                  # no affine, no tracking


def test_instance_norm_eval_uses_running_stats_only_when_tracked():
    x = x_(2, 3, 5) * 4
    untracked = nn.InstanceNorm1d(3).eval()
    tracked = nn.InstanceNorm1d(3, track_running_stats=True).eval()
    np.testing.assert_allclose(untracked(x).numpy().mean(axis=2), 0, atol=1e-12)
    np.testing.assert_allclose(tracked(x).numpy(), x.numpy() / np.sqrt(1 + 1e-5), rtol=1e-6)


def test_rms_norm_has_unit_root_mean_square():
    y = nn.RMSNorm(7)(x_(4, 7) * 5).detach().numpy()
    np.testing.assert_allclose(np.sqrt((y ** 2).mean(axis=-1)), 1.0, rtol=1e-6)
