"""Offline datasets: scikit-learn's bundled sets and the generated tasks."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from minigrad import data
from minigrad.data import ArrayDataset, DataLoader


def check_arrays(ds, x_shape, y_dtype=np.int64):
    assert isinstance(ds, ArrayDataset)
    assert ds.X.shape == x_shape and ds.X.dtype == np.float32
    assert ds.y.dtype == y_dtype and len(ds) == x_shape[0] == len(ds.y)
    x, y = ds[0]
    assert x.shape == x_shape[1:] and x.dtype == np.float32 and y.dtype == y_dtype
    np.testing.assert_array_equal(x.numpy(), ds.X[0])


# -- scikit-learn --------------------------------------------------------------------------------

@pytest.mark.parametrize("loader,shape,n_classes", [
    (data.load_digits, (1797, 64), 10),
    (data.load_iris, (150, 4), 3),
    (data.load_breast_cancer, (569, 30), 2),
])
def test_sklearn_classification_sets(loader, shape, n_classes):
    pytest.importorskip("sklearn")
    ds = loader()
    check_arrays(ds, shape)
    assert sorted(np.unique(ds.y)) == list(range(n_classes))
    assert len(ds.target_names) == n_classes and isinstance(ds.DESCR, str)


def test_digits_as_images():
    pytest.importorskip("sklearn")
    ds = data.load_digits(as_images=True)
    check_arrays(ds, (1797, 1, 8, 8))
    assert ds.images.shape == (1797, 8, 8) and ds.X.max() == 16


def test_diabetes_is_regression():
    pytest.importorskip("sklearn")
    check_arrays(data.load_diabetes(), (442, 10), y_dtype=np.float32)


def test_missing_sklearn_gives_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` fail
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        data.load_iris()


# -- 2-D toy sets --------------------------------------------------------------------------------

@pytest.mark.parametrize("make,n_classes", [
    (lambda **k: data.make_moons(101, **k), 2),
    (lambda **k: data.make_circles(101, **k), 2),
    (lambda **k: data.make_spirals(101, n_classes=4, **k), 4),
])
def test_toy_sets(make, n_classes):
    ds = make(seed=0)
    check_arrays(ds, (101, 2))
    counts = np.bincount(ds.y)
    assert len(counts) == n_classes and counts.max() - counts.min() <= 1  # balanced
    np.testing.assert_array_equal(make(seed=0).X, ds.X)  # seeded: the same data
    assert not np.array_equal(make(seed=1).X, ds.X)
    assert len(set(ds.y[:20].tolist())) > 1  # shuffled, not sorted by class


def test_moons_without_noise_lie_on_the_half_circles():
    ds = data.make_moons(50, noise=0.0, seed=0)
    upper = ds.X[ds.y == 0]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, rtol=1e-6)
    circles = data.make_circles(40, factor=0.3, noise=0.0, seed=0)
    radii = np.hypot(circles.X[:, 0], circles.X[:, 1])
    np.testing.assert_allclose(radii, np.where(circles.y == 1, 0.3, 1.0), rtol=1e-6)


# -- sequence tasks ------------------------------------------------------------------------------

@pytest.mark.parametrize("task,fn", [("copy", lambda s: s), ("reverse", lambda s: s[::-1]),
                                     ("sort", np.sort)])
def test_sequence_tasks(task, fn):
    ds = data.make_sequence_task(task, n_samples=50, seq_len=7, vocab_size=5, seed=0)
    assert ds.X.shape == ds.y.shape == (50, 7) and ds.X.dtype == ds.y.dtype == np.int64
    assert ds.X.min() >= 0 and ds.X.max() < 5 and ds.vocab_size == 5
    for src, tgt in zip(ds.X, ds.y):
        np.testing.assert_array_equal(tgt, fn(src))
    with pytest.raises(ValueError, match="unknown task"):
        data.make_sequence_task("shuffle")


def test_adding_problem():
    ds = data.make_adding_problem(200, seq_len=20, seed=0)
    assert ds.X.shape == (200, 20, 2) and ds.y.shape == (200, 1)
    assert ds.X.dtype == ds.y.dtype == np.float32
    markers = ds.X[:, :, 1]
    assert np.all(markers.sum(1) == 2)
    assert np.all(markers[:, :10].sum(1) == 1) and np.all(markers[:, 10:].sum(1) == 1)
    np.testing.assert_allclose(ds.y[:, 0], (ds.X[:, :, 0] * markers).sum(1), rtol=1e-6)
    # predicting 1 everywhere scores about 1/6 (the variance of a sum of two U(0,1))
    assert 0.1 < np.mean((ds.y - 1) ** 2) < 0.25
    (x, y), = [next(iter(DataLoader(ds, batch_size=8)))]
    assert x.shape == (8, 20, 2) and y.shape == (8, 1)


# -- shape images --------------------------------------------------------------------------------

@pytest.mark.parametrize("task", ["classify", "segment", "detect"])
def test_shapes_images(task):
    ds = data.make_shapes_images(60, image_size=24, task=task, seed=0)
    assert ds.X.shape == (60, 1, 24, 24) and ds.X.dtype == np.float32
    assert 0.0 <= ds.X.min() and ds.X.max() <= 1.0
    assert ds.labels.dtype == ds.masks.dtype == np.int64 and ds.boxes.dtype == np.float32
    assert set(np.unique(ds.labels)) == {0, 1, 2}
    sample = ds[0]
    if task == "classify":
        assert len(sample) == 2 and sample[1].item() == ds.labels[0]
    elif task == "segment":
        assert len(sample) == 2 and sample[1].shape == (24, 24)
    else:
        assert len(sample) == 3 and sample[1].shape == (4,) and sample[2].item() == ds.labels[0]


def test_shapes_masks_and_boxes_agree():
    ds = data.make_shapes_images(100, image_size=16, noise=0.0, seed=1)
    for img, mask, box, label in zip(ds.X[:, 0], ds.masks, ds.boxes, ds.labels):
        inside = mask > 0
        assert inside.any() and set(np.unique(mask[inside])) == {label + 1}
        assert np.all(img[~inside] == 0) and np.all(img[inside] >= 0.5)  # noise-free
        rows, cols = np.nonzero(inside)
        np.testing.assert_array_equal(box, [cols.min(), rows.min(), cols.max() + 1,
                                            rows.max() + 1])


def test_shapes_differ_by_class():
    ds = data.make_shapes_images(300, image_size=32, noise=0.0, seed=2)
    area = (ds.masks > 0).sum((1, 2))
    w = ds.boxes[:, 2] - ds.boxes[:, 0]
    fill = area / (w * (ds.boxes[:, 3] - ds.boxes[:, 1]))  # fraction of the box covered
    means = [fill[ds.labels == k].mean() for k in range(3)]
    assert means[1] > 0.95 and 0.7 < means[0] < 0.9 and means[2] < 0.65  # square, circle, tri


def test_shapes_validation():
    with pytest.raises(ValueError, match="unknown task"):
        data.make_shapes_images(task="count")
    with pytest.raises(ValueError, match="at least 8"):
        data.make_shapes_images(image_size=4)


# -- shape scenes (several shapes per image) -------------------------------------------------------

def test_shape_scenes_arrays():
    ds = data.make_shape_scenes(50, image_size=20, max_shapes=4, seed=0)
    check_arrays(ds, (50, 1, 20, 20))
    assert ds.y is ds.masks and ds.masks.shape == (50, 20, 20)
    assert 0.0 <= ds.X.min() and ds.X.max() <= 1.0
    assert set(np.unique(ds.masks)) == {0, 1, 2, 3}
    assert ds.counts.dtype == np.int64 and set(np.unique(ds.counts)) <= {1, 2, 3, 4}
    assert ds.class_names == ("circle", "square", "triangle")
    x, mask = ds[3]
    assert mask.shape == (20, 20) and mask.dtype == np.int64
    again = data.make_shape_scenes(50, image_size=20, max_shapes=4, seed=0)
    np.testing.assert_array_equal(again.X, ds.X)
    np.testing.assert_array_equal(again.masks, ds.masks)
    assert not np.array_equal(data.make_shape_scenes(50, image_size=20, seed=1).masks,
                              data.make_shape_scenes(50, image_size=20, seed=2).masks)


def test_shape_scenes_masks_follow_the_image():
    """Without noise the background stays below 0.3 and every shape is at least 0.55 bright:
    thresholding the image gives back exactly the foreground of the mask."""
    ds = data.make_shape_scenes(200, image_size=24, noise=0.0, seed=3)
    foreground = ds.masks > 0
    assert np.all(ds.X[:, 0][~foreground] <= 0.3 + 1e-6)
    assert np.all(ds.X[:, 0][foreground] >= 0.55 - 1e-6)
    assert foreground.any(axis=(1, 2)).all()             # every image shows a shape


def test_shape_scenes_several_shapes_and_overlaps():
    one = data.make_shape_scenes(300, image_size=32, max_shapes=1, seed=4)
    several = data.make_shape_scenes(300, image_size=32, max_shapes=4, seed=4)
    assert np.all(one.counts == 1)
    classes_per_image = [len(np.unique(m[m > 0])) for m in one.masks]
    assert set(classes_per_image) == {1}                 # one shape: one class
    classes_per_image = np.array([len(np.unique(m[m > 0])) for m in several.masks])
    assert (classes_per_image >= 2).mean() > 0.4
    assert (several.masks > 0).mean() > 1.5 * (one.masks > 0).mean()


def test_shape_scenes_radius_sets_the_size():
    small = data.make_shape_scenes(100, image_size=32, max_shapes=1, radius=(2, 3), seed=5)
    large = data.make_shape_scenes(100, image_size=32, max_shapes=1, radius=(7, 8), seed=5)
    assert (large.masks > 0).sum() > 4 * (small.masks > 0).sum()


@pytest.mark.parametrize("kwargs, match", [
    ({"image_size": 6}, "image_size must be at least 8 pixels, got 6"),
    ({"max_shapes": 0}, "max_shapes must be a positive int, got 0"),
    ({"radius": (5, 3)}, r"radius must be \(lo, hi\) with 1 <= lo <= hi"),
    ({"radius": (2, 20)}, r"radius must be .* image_size / 2 = 16, got \(2, 20\)"),
    ({"noise": -0.1}, "noise is a standard deviation, got -0.1"),
])
def test_shape_scenes_validation(kwargs, match):
    with pytest.raises(ValueError, match=f"make_shape_scenes: {match}"):
        data.make_shape_scenes(10, **kwargs)
