"""Object detection scenes: several shapes per image, each with its box and class.

    ds = mg.data.make_detection_scenes(1000, image_size=48, max_objects=4, seed=0)
    image, target = ds[0]      # (1, 48, 48) float32; {"boxes": (k, 4) float32, "labels": (k,) int64}

A sample is what torchvision's detection models take: an image and a dict of its boxes
("xyxy", in pixels) and labels. The number of objects differs from image to image, so the
default collate cannot stack the targets; ``ds.collate`` keeps them as a list (pass it as a
DataLoader's ``collate_fn``). The shapes are drawn with the helpers of ``datasets.py``
(``make_shapes_images``, ``make_shape_scenes``).
"""

from __future__ import annotations

import numbers

import numpy as np

from ..tensor import Tensor
from .dataset import Dataset
from .datasets import (
    F32,
    I64,
    SHAPE_NAMES,
    _add_noise,
    _boxes,
    _checked_radius_and_noise,
    _ramp_backgrounds,
    _shape_masks,
)


class DetectionScenes(Dataset):
    """Images with a variable number of labelled boxes each (see ``make_detection_scenes``).

    ``ds[i]`` is ``(image, {"boxes": ..., "labels": ...})`` as Tensors. The NumPy arrays are
    kept for plotting and evaluation: ``ds.X`` (N, 1, H, W) float32, ``ds.boxes`` and
    ``ds.labels`` (lists of N arrays, (k_i, 4) float32 and (k_i,) int64), ``ds.counts``
    (N,) int64, ``ds.class_names``.
    """

    def __init__(self, X, boxes, labels, class_names):
        self.X, self.boxes, self.labels = X, boxes, labels
        self.counts = np.array([len(b) for b in boxes], dtype=I64)
        self.class_names = tuple(class_names)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, index):
        target = {"boxes": Tensor._make(self.boxes[index]),
                  "labels": Tensor._make(self.labels[index])}
        return Tensor._make(self.X[index]), target

    @staticmethod
    def collate(samples):
        """A DataLoader ``collate_fn``: the images stacked into one (B, 1, H, W) Tensor, the
        targets left as a list of B dicts (their numbers of boxes differ)."""
        from ..ops.join import stack

        images, targets = zip(*samples)
        return stack(list(images)), list(targets)

    def __repr__(self):
        return (f"DetectionScenes({len(self)} images {tuple(self.X.shape[1:])}, "
                f"{int(self.counts.sum())} objects, classes {self.class_names})")


def make_detection_scenes(n_samples: int = 500, image_size: int = 48, max_objects: int = 4,
                          classes=SHAPE_NAMES, radius=None, noise: float = 0.05,
                          seed=None) -> DetectionScenes:
    """Grey scenes of 1 to ``max_objects`` shapes each, with a box and a class per shape.

    Each image draws its number of objects uniformly from 1 to ``max_objects``; each object
    gets a class (uniform over ``classes``, a sequence of names from "circle", "square",
    "triangle"; its label is its position in ``classes``), a radius (uniform in
    ``radius = (lo, hi)`` pixels, by default ``image_size / 12`` (at least 2) to
    ``image_size / 5``), a
    grey level (0.55 to 1) and a place, wholly inside the image. Objects do not overlap: a
    place whose box would meet (or touch) an earlier object's box is drawn again, and after
    50 failed draws the object is left out, so an image may hold fewer than it drew
    (``ds.counts`` says how many it has). Under the shapes lies a background ramp (0 to 0.3),
    over everything Gaussian noise of standard deviation ``noise``, clipped to [0, 1].

    A box is ``[x1, y1, x2, y2]`` in pixels: the first column and row the shape covers and one
    past the last (pixel ``(row, col)`` is inside the box when ``x1 <= col < x2`` and
    ``y1 <= row < y2``), so ``x2 - x1`` is its width in pixels. Same ``seed``, same scenes.
    """
    op = "make_detection_scenes"
    if not isinstance(n_samples, numbers.Integral) or n_samples < 0:
        raise ValueError(f"{op}: n_samples must be a non-negative int, got {n_samples!r}")
    if not isinstance(image_size, numbers.Integral) or image_size < 8:
        raise ValueError(f"{op}: image_size must be an int of at least 8 pixels, "
                         f"got {image_size!r}")
    if not isinstance(max_objects, numbers.Integral) or max_objects < 1:
        raise ValueError(f"{op}: max_objects must be a positive int, got {max_objects!r}")
    if isinstance(classes, str):
        classes = (classes,)
    classes = tuple(classes)
    unknown = [c for c in classes if c not in SHAPE_NAMES]
    if not classes or unknown or len(set(classes)) != len(classes):
        raise ValueError(f"{op}: classes must be distinct names from {SHAPE_NAMES}, "
                         f"got {classes!r}")
    smallest = max(2.0, image_size / 12)   # sizes in proportion to the image, at least 2 pixels
    lo, hi = _checked_radius_and_noise(op, radius, (smallest, max(smallest, image_size / 5)),
                                       image_size, noise, smallest=2)

    rng = np.random.default_rng(seed)
    shape_index = np.array([SHAPE_NAMES.index(c) for c in classes])
    images = _ramp_backgrounds(rng, n_samples, image_size)
    all_boxes, all_labels = [], []
    for image in images:                       # painted in place, one scene at a time
        labels, cx, cy, r = _place_objects(rng, int(rng.integers(1, max_objects + 1)),
                                           len(classes), lo, hi, image_size)
        inside = _shape_masks(shape_index[labels], cx, cy, r, image_size)   # (k, H, W)
        grey = rng.uniform(0.55, 1.0, len(labels)).astype(F32)
        for mask, level in zip(inside, grey):
            image[mask] = level
        all_boxes.append(_boxes(inside).reshape(-1, 4))
        all_labels.append(labels.astype(I64))
    images = _add_noise(rng, images, noise)[:, None]
    return DetectionScenes(images, all_boxes, all_labels, classes)


def _place_objects(rng, n_objects, n_classes, lo, hi, size, tries=50):
    """Classes, centres and radii of up to ``n_objects`` shapes whose square extents
    (centre +- radius, what the shape can cover) keep at least one pixel apart."""
    labels, cx, cy, r = [], [], [], []
    for _ in range(n_objects):
        label = rng.integers(0, n_classes)
        radius = rng.uniform(lo, hi)
        for _ in range(tries):
            x, y = rng.uniform(radius, size - radius, 2)
            if all(abs(x - x2) >= radius + r2 + 1 or abs(y - y2) >= radius + r2 + 1
                   for x2, y2, r2 in zip(cx, cy, r)):
                labels.append(label)
                cx.append(x)
                cy.append(y)
                r.append(radius)
                break
    return (np.array(labels, dtype=I64), np.array(cx, dtype=F32), np.array(cy, dtype=F32),
            np.array(r, dtype=F32))
