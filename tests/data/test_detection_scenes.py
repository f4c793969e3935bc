"""mg.data.make_detection_scenes: shapes with boxes and labels for object detection."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import data


def test_samples_dtypes_and_counts():
    ds = data.make_detection_scenes(37, image_size=29, max_objects=5, seed=0)
    assert len(ds) == 37 and ds.X.shape == (37, 1, 29, 29) and ds.X.dtype == np.float32
    assert ds.X.min() >= 0 and ds.X.max() <= 1
    assert ds.class_names == ("circle", "square", "triangle")
    assert len(ds.boxes) == len(ds.labels) == 37
    for boxes, labels, count in zip(ds.boxes, ds.labels, ds.counts):
        assert boxes.dtype == np.float32 and boxes.shape == (count, 4)
        assert labels.dtype == np.int64 and labels.shape == (count,)
        assert 1 <= count <= 5 and set(labels.tolist()) <= {0, 1, 2}
    assert ds.counts.dtype == np.int64
    # several objects per image, every class used
    assert ds.counts.max() > 2 and set(np.concatenate(ds.labels).tolist()) == {0, 1, 2}
    image, target = ds[4]
    assert isinstance(image, mg.Tensor) and image.shape == (1, 29, 29)
    assert target["boxes"].dtype == mg.float32 and target["labels"].dtype == mg.int64
    np.testing.assert_array_equal(target["boxes"].numpy(), ds.boxes[4])


def test_boxes_enclose_exactly_the_drawn_shapes():
    # without noise, a pixel brighter than the background (at most 0.3) belongs to a shape
    ds = data.make_detection_scenes(40, image_size=33, max_objects=4, noise=0.0, seed=1)
    for image, boxes in zip(ds.X[:, 0], ds.boxes):
        drawn = image > 0.45
        covered = np.zeros_like(drawn)
        for x1, y1, x2, y2 in boxes.astype(int):
            assert 0 <= x1 < x2 <= 33 and 0 <= y1 < y2 <= 33
            inside = drawn[y1:y2, x1:x2]
            # tight: the shape touches all four sides of its box
            assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any()
            assert not covered[y1:y2, x1:x2].any(), "boxes overlap"
            covered[y1:y2, x1:x2] = True
        assert not (drawn & ~covered).any(), "a drawn pixel outside every box"


def test_classes_and_labels_follow_the_names_given():
    ds = data.make_detection_scenes(30, image_size=24, classes=("triangle", "circle"),
                                    noise=0.0, seed=2)
    assert ds.class_names == ("triangle", "circle")
    assert set(np.concatenate(ds.labels).tolist()) == {0, 1}
    # a square fills its whole box; circles and triangles leave its corners empty
    for image, boxes in zip(ds.X[:, 0], ds.boxes):
        for x1, y1, x2, y2 in boxes.astype(int):
            assert not (image[y1:y2, x1:x2] > 0.45).all()


def test_same_seed_same_scenes_and_another_seed_others():
    a = data.make_detection_scenes(20, image_size=24, seed=7)
    b = data.make_detection_scenes(20, image_size=24, seed=7)
    np.testing.assert_array_equal(a.X, b.X)
    for x, y in zip(a.boxes + a.labels, b.boxes + b.labels):
        np.testing.assert_array_equal(x, y)
    c = data.make_detection_scenes(20, image_size=24, seed=8)
    assert not np.array_equal(a.X, c.X)


def test_collate_keeps_the_targets_as_a_list():
    ds = data.make_detection_scenes(9, image_size=16, max_objects=3, seed=3)
    loader = data.DataLoader(ds, batch_size=4, collate_fn=ds.collate)
    images, targets = next(iter(loader))
    assert images.shape == (4, 1, 16, 16) and len(targets) == 4
    assert [len(t["labels"]) for t in targets] == ds.counts[:4].tolist()


@pytest.mark.parametrize("kwargs, match", [
    ({"image_size": 5}, "image_size must be an int of at least 8"),
    ({"max_objects": 0}, "max_objects must be a positive int"),
    ({"max_objects": 2.5}, "max_objects must be a positive int"),
    ({"n_samples": -1}, "n_samples must be a non-negative int"),
    ({"classes": ("circle", "hexagon")}, "classes must be distinct names"),
    ({"classes": ()}, "classes must be distinct names"),
    ({"classes": ("circle", "circle")}, "classes must be distinct names"),
    ({"radius": (1, 4)}, r"radius must be \(lo, hi\)"),
    ({"radius": (6, 4)}, r"radius must be \(lo, hi\)"),
    ({"noise": -0.1}, "noise is a standard deviation"),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match="make_detection_scenes: " + match):
        data.make_detection_scenes(**{"n_samples": 5, **kwargs})
