"""Datasets that work offline: scikit-learn's bundled sets and generated tasks.

Every function returns an ``ArrayDataset``: a TensorDataset whose samples are ``(x, y)`` (or a
few more fields), which also keeps the NumPy arrays at hand as ``ds.X`` and ``ds.y`` for
plotting, baselines and inspection. Features are float32; class labels are int64 (what
``cross_entropy`` expects); regression targets are float32.

Bundled with scikit-learn (imported only when called):
    load_digits  load_iris  load_breast_cancer  load_diabetes
Generated (NumPy only; pass ``seed`` for the same data every time):
    make_moons  make_circles  make_spirals          2-D toy classification
    make_sequence_task                              copy / reverse / sort token sequences
    make_adding_problem                             long-range memory test for RNNs
    make_shapes_images                              circles / squares / triangles, with
                                                    masks and boxes (segmentation, detection)
    make_shape_scenes                               several overlapping shapes per image, a
                                                    class for every pixel (segmentation)
"""

from __future__ import annotations

import numpy as np

from .dataset import TensorDataset

F32, I64 = np.float32, np.int64


class ArrayDataset(TensorDataset):
    """A TensorDataset over NumPy arrays that keeps them: ``ds.X`` (inputs), ``ds.y`` (first
    target), plus any extra information given as keywords (``target_names``, ``masks``...).

    The tensors share memory with the arrays (no copy).
    """

    def __init__(self, X: np.ndarray, *targets: np.ndarray, **info):
        super().__init__(X, *targets)
        self.X = X
        self.y = targets[0] if targets else None
        for key, value in info.items():
            setattr(self, key, value)

    def __repr__(self):
        shapes = ", ".join(str(tuple(t.shape)) for t in self.tensors)
        return f"{type(self).__name__}({len(self)} samples: {shapes})"


# ---------------------------------------------------------------------------------------------
# scikit-learn's bundled datasets
# ---------------------------------------------------------------------------------------------

def _sklearn_datasets(name: str):
    try:
        from sklearn import datasets
    except ImportError as e:
        raise ImportError(f"mg.data.{name}() reads the copy of this dataset bundled with "
                          "scikit-learn, which is not installed: pip install scikit-learn "
                          "(it is in minigrad's 'dev' extras)") from e
    return datasets


def _from_sklearn(name: str, classification: bool, **info) -> ArrayDataset:
    bunch = getattr(_sklearn_datasets(name), name)()
    X = np.ascontiguousarray(bunch.data, dtype=F32)
    y = np.ascontiguousarray(bunch.target, dtype=I64 if classification else F32)
    extras = {k: bunch[k] for k in ("target_names", "feature_names", "DESCR") if k in bunch}
    extras.update(info)
    return ArrayDataset(X, y, **extras)


def load_digits(as_images: bool = False) -> ArrayDataset:
    """1797 handwritten digits, 8x8 pixels with values 0..16; labels 0..9.

    ``X`` is (1797, 64), or (1797, 1, 8, 8) with ``as_images=True`` (for convolutions).
    ``ds.images`` is always the (1797, 8, 8) view.
    """
    ds = _from_sklearn("load_digits", True)
    ds.images = ds.X.reshape(-1, 8, 8)
    if as_images:
        return ArrayDataset(ds.X.reshape(-1, 1, 8, 8), ds.y, images=ds.images,
                            target_names=ds.target_names, DESCR=ds.DESCR)
    return ds


def load_iris() -> ArrayDataset:
    """150 iris flowers, 4 measurements (cm) each; 3 species (labels 0..2)."""
    return _from_sklearn("load_iris", True)


def load_breast_cancer() -> ArrayDataset:
    """569 tumours, 30 features each; label 0 = malignant, 1 = benign."""
    return _from_sklearn("load_breast_cancer", True)


def load_diabetes() -> ArrayDataset:
    """442 patients, 10 (standardized) features; ``y`` a float32 disease progression score
    of shape (442,) — a regression target (unsqueeze it to (N, 1) to match a Linear(..., 1))."""
    return _from_sklearn("load_diabetes", False)


# ---------------------------------------------------------------------------------------------
# 2-D toy classification
# ---------------------------------------------------------------------------------------------

def _shuffled(rng, X, y, **info) -> ArrayDataset:
    order = rng.permutation(len(X))
    return ArrayDataset(np.ascontiguousarray(X[order], dtype=F32),
                        np.ascontiguousarray(y[order], dtype=I64), **info)


def make_moons(n_samples: int = 200, noise: float = 0.1, seed=None) -> ArrayDataset:
    """Two interleaving half circles (labels 0 and 1): not linearly separable."""
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], 1)])
    X += rng.normal(0.0, noise, X.shape)
    y = np.r_[np.zeros(n_out), np.ones(n_in)]
    return _shuffled(rng, X, y)


def make_circles(n_samples: int = 200, factor: float = 0.5, noise: float = 0.05,
                 seed=None) -> ArrayDataset:
    """A small circle (label 1) inside a large one (label 0); radius ratio ``factor``."""
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        factor * np.stack([np.cos(t_in), np.sin(t_in)], 1)])
    X += rng.normal(0.0, noise, X.shape)
    y = np.r_[np.zeros(n_out), np.ones(n_in)]
    return _shuffled(rng, X, y)


def make_spirals(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2,
                 seed=None) -> ArrayDataset:
    """``n_classes`` interleaved spiral arms (CS231n's classic), one label per arm.

    Arm k: radius r from 0 to 1, angle 4k + 4r (+ noise) — a linear model gets about
    1/n_classes right, a small MLP nearly all.
    """
    rng = np.random.default_rng(seed)
    per_class = np.full(n_classes, n_samples // n_classes)
    per_class[: n_samples % n_classes] += 1
    X, y = [], []
    for k, n in enumerate(per_class):
        r = np.linspace(0.0, 1.0, n)
        t = np.linspace(4.0 * k, 4.0 * (k + 1), n) + rng.normal(0.0, noise, n)
        X.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
        y.append(np.full(n, k))
    return _shuffled(rng, np.concatenate(X), np.concatenate(y))


# ---------------------------------------------------------------------------------------------
# Sequence tasks
# ---------------------------------------------------------------------------------------------

def make_sequence_task(task: str = "copy", n_samples: int = 1000, seq_len: int = 10,
                       vocab_size: int = 10, seed=None) -> ArrayDataset:
    """Sequence-to-sequence toy tasks on random tokens in ``[0, vocab_size)``.

    Samples are ``(src, tgt)``, both int64 of shape ``(seq_len,)``:

    * ``"copy"``: tgt = src — needs memory of the whole sequence;
    * ``"reverse"``: tgt = src[::-1] — the first output depends on the last input;
    * ``"sort"``: tgt = sorted(src) — needs comparisons across positions (attention shines).

    Token ids ``vocab_size`` and above are free for special tokens (BOS, padding).
    """
    rng = np.random.default_rng(seed)
    src = rng.integers(0, vocab_size, size=(n_samples, seq_len))
    if task == "copy":
        tgt = src.copy()
    elif task == "reverse":
        tgt = src[:, ::-1].copy()
    elif task == "sort":
        tgt = np.sort(src, axis=1)
    else:
        raise ValueError(f"unknown task {task!r}: expected 'copy', 'reverse' or 'sort'")
    return ArrayDataset(src.astype(I64), tgt.astype(I64), task=task, vocab_size=vocab_size)


def make_adding_problem(n_samples: int = 1000, seq_len: int = 50, seed=None) -> ArrayDataset:
    """The adding problem (Hochreiter & Schmidhuber, 1997): a test of long-range memory.

    Each input is a (seq_len, 2) float32 sequence: channel 0 holds random numbers in [0, 1),
    channel 1 is a marker, 1 at exactly two positions (one in each half) and 0 elsewhere.
    The target, shape (1,), is the sum of the two marked numbers. Always predicting 1.0 gives
    a mean squared error of about 0.167; beating that means the network remembers.
    """
    if seq_len < 2:
        raise ValueError("seq_len must be at least 2 (one marker in each half)")
    rng = np.random.default_rng(seed)
    values = rng.random((n_samples, seq_len))
    half = seq_len // 2
    first = rng.integers(0, half, n_samples)
    second = rng.integers(half, seq_len, n_samples)
    markers = np.zeros((n_samples, seq_len))
    rows = np.arange(n_samples)
    markers[rows, first] = markers[rows, second] = 1.0
    X = np.stack([values, markers], axis=2).astype(F32)
    y = (values[rows, first] + values[rows, second]).astype(F32)[:, None]
    return ArrayDataset(X, y)


# ---------------------------------------------------------------------------------------------
# Shape images (classification, segmentation, detection)
# ---------------------------------------------------------------------------------------------

SHAPE_NAMES = ("circle", "square", "triangle")


def _shape_masks(labels, cx, cy, r, size):
    """Boolean (N, size, size) masks: pixel (row, col) is inside shape n?"""
    rows, cols = np.mgrid[0:size, 0:size].astype(F32) + 0.5  # pixel centres
    x, y = cols[None] - cx[:, None, None], rows[None] - cy[:, None, None]
    r = r[:, None, None]
    circle = x * x + y * y <= r * r
    square = (np.abs(x) <= r) & (np.abs(y) <= r)
    # apex at the top (y = -r), base at the bottom (y = +r): half-width grows as (y + r) / 2
    triangle = (np.abs(y) <= r) & (np.abs(x) <= (y + r) / 2)
    return np.choose(labels[:, None, None], [circle, square, triangle])


def make_shapes_images(n_samples: int = 500, image_size: int = 32, task: str = "classify",
                       noise: float = 0.05, seed=None) -> ArrayDataset:
    """Small grey images, each with one circle, square or triangle of random size and place.

    ``ds.X`` is float32 (N, 1, image_size, image_size) in [0, 1]. What a sample holds depends
    on ``task``:

    * ``"classify"``: ``(image, label)``, label int64 in {0: circle, 1: square, 2: triangle};
    * ``"segment"``: ``(image, mask)``, mask int64 (H, W): 0 background, label + 1 inside;
    * ``"detect"``: ``(image, box, label)``, box float32 ``[x0, y0, x1, y1]`` in pixels (the
      shape's extent; x1, y1 exclusive).

    All of them are kept as ``ds.labels``, ``ds.masks`` and ``ds.boxes`` whatever the task.
    """
    if task not in ("classify", "segment", "detect"):
        raise ValueError(f"unknown task {task!r}: expected 'classify', 'segment' or 'detect'")
    if image_size < 8:
        raise ValueError("image_size must be at least 8 pixels")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(SHAPE_NAMES), n_samples)
    r = rng.uniform(image_size / 8, image_size / 3, n_samples).astype(F32)
    cx = rng.uniform(r, image_size - r).astype(F32)  # the whole shape stays inside
    cy = rng.uniform(r, image_size - r).astype(F32)
    inside = _shape_masks(labels, cx, cy, r, image_size)

    brightness = rng.uniform(0.5, 1.0, (n_samples, 1, 1)).astype(F32)
    images = inside * brightness + rng.normal(0.0, noise, inside.shape).astype(F32)
    images = np.clip(images, 0.0, 1.0).astype(F32)[:, None]
    masks = np.where(inside, labels[:, None, None] + 1, 0).astype(I64)
    boxes = _boxes(inside)
    labels = labels.astype(I64)
    targets = {"classify": (labels,), "segment": (masks,), "detect": (boxes, labels)}[task]
    return ArrayDataset(images, *targets, labels=labels, masks=masks, boxes=boxes,
                        class_names=SHAPE_NAMES, task=task)


def _boxes(inside: np.ndarray) -> np.ndarray:
    """[x0, y0, x1, y1] of each mask's pixels (x1, y1 one past the last pixel)."""
    any_row, any_col = inside.any(axis=2), inside.any(axis=1)
    y0, x0 = any_row.argmax(1), any_col.argmax(1)
    y1 = inside.shape[1] - any_row[:, ::-1].argmax(1)
    x1 = inside.shape[2] - any_col[:, ::-1].argmax(1)
    return np.stack([x0, y0, x1, y1], axis=1).astype(F32)


def _checked_radius_and_noise(op, radius, default, image_size, noise, smallest):
    """(lo, hi): ``radius``, or ``default`` when it is None, checked to lie between
    ``smallest`` and half the image; and ``noise`` checked to be a standard deviation."""
    lo, hi = default if radius is None else radius
    if not smallest <= lo <= hi <= image_size / 2:
        raise ValueError(f"{op}: radius must be (lo, hi) with {smallest} <= lo <= hi <= "
                         f"image_size / 2 = {image_size / 2:g}, got {radius!r}")
    if noise < 0:
        raise ValueError(f"{op}: noise is a standard deviation, got {noise}")
    return lo, hi


def _ramp_backgrounds(rng, n_samples: int, image_size: int) -> np.ndarray:
    """(n_samples, size, size) float32 backgrounds: each a plane through a random level (0.1
    to 0.2) with a random slope, so that it stays within [0, 0.3]."""
    rows, cols = np.mgrid[0:image_size, 0:image_size].astype(F32) / (image_size - 1) - 0.5
    level = rng.uniform(0.1, 0.2, (n_samples, 1, 1))
    slope = rng.uniform(-0.1, 0.1, (n_samples, 2, 1, 1))
    return (level + slope[:, 0] * rows + slope[:, 1] * cols).astype(F32)


def _add_noise(rng, images: np.ndarray, noise: float) -> np.ndarray:
    """``images`` plus Gaussian noise of standard deviation ``noise``, clipped to [0, 1]."""
    images = images + rng.normal(0.0, noise, images.shape).astype(F32)
    return np.clip(images, 0.0, 1.0).astype(F32)


def make_shape_scenes(n_samples: int = 500, image_size: int = 32, max_shapes: int = 3,
                      radius=None, noise: float = 0.1, seed=None) -> ArrayDataset:
    """Small grey scenes of several circles, squares and triangles that may overlap, with a
    class for every pixel: a semantic segmentation task.

    Each image holds 1 to ``max_shapes`` shapes (the number drawn uniformly), each of a random
    class, radius (uniform in ``radius = (lo, hi)`` pixels, by default ``image_size / 10`` to
    ``image_size / 5``), grey level (0.55 to 1) and place (wholly inside the image). They are
    painted one after the other, so a later shape hides the part of an earlier one it covers,
    and the mask holds the class of the shape on top. Under the shapes lies a background ramp
    (a random level and slope, 0 to 0.3), and over everything Gaussian noise of standard
    deviation ``noise``; pixel values are clipped to [0, 1].

    Samples are ``(image, mask)``: ``ds.X`` float32 (N, 1, image_size, image_size); ``ds.y``
    (also ``ds.masks``) int64 (N, image_size, image_size), 0 for background and 1 + the class
    index elsewhere (1 circle, 2 square, 3 triangle; ``ds.class_names`` names the classes), as
    ``make_shapes_images(task="segment")``. ``ds.counts`` (N,) holds the number of shapes
    painted into each image (some may be hidden by those painted later).
    """
    if image_size < 8:
        raise ValueError(f"make_shape_scenes: image_size must be at least 8 pixels, "
                         f"got {image_size}")
    if not isinstance(max_shapes, (int, np.integer)) or max_shapes < 1:
        raise ValueError(f"make_shape_scenes: max_shapes must be a positive int, "
                         f"got {max_shapes!r}")
    lo, hi = _checked_radius_and_noise("make_shape_scenes", radius, (image_size / 10,
                                       image_size / 5), image_size, noise, smallest=1)
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, max_shapes + 1, n_samples)
    images = _ramp_backgrounds(rng, n_samples, image_size)
    masks = np.zeros((n_samples, image_size, image_size), dtype=I64)

    for layer in range(max_shapes):           # painted in order: later shapes on top
        labels = rng.integers(0, len(SHAPE_NAMES), n_samples)
        r = rng.uniform(lo, hi, n_samples).astype(F32)
        cx = rng.uniform(r, image_size - r).astype(F32)
        cy = rng.uniform(r, image_size - r).astype(F32)
        grey = rng.uniform(0.55, 1.0, (n_samples, 1, 1)).astype(F32)
        inside = _shape_masks(labels, cx, cy, r, image_size) & (layer < counts)[:, None, None]
        images = np.where(inside, grey, images)
        masks = np.where(inside, labels[:, None, None] + 1, masks)

    images = _add_noise(rng, images, noise)[:, None]
    return ArrayDataset(images, masks, masks=masks, counts=counts.astype(I64),
                        class_names=SHAPE_NAMES)
