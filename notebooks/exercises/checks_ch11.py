"""Checks for the exercises of Chapter 11 (object detection, YOLO-style)."""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad.vision.ops import box_convert, box_iou, nms

from .checking import assert_close, attempt, exercise, fail, fmt, to_array


# -- Exercise 1 -------------------------------------------------------------------------------
@exercise(1, "IoU by hand", "iou")
def iou(iou):
    cases = [("boxes that overlap", (0, 0, 4, 4), (2, 1, 6, 5)),
             ("identical boxes", (1, 2, 5, 9), (1, 2, 5, 9)),
             ("one box inside the other", (0, 0, 10, 10), (2, 3, 5, 7)),
             ("boxes that touch along an edge", (0, 0, 2, 2), (2, 0, 4, 2)),
             ("boxes apart in x only", (0, 0, 2, 2), (3, 0, 5, 2)),
             ("boxes apart in x and y", (0, 0, 2, 2), (5, 6, 7, 9)),
             ("boxes whose corners overlap", (1.5, 0.5, 4.0, 3.0), (3.0, 2.0, 7.5, 6.25))]
    for what, a, b in cases:
        call = f"iou({a}, {b}) for {what}"
        got = to_array(attempt(call, iou, a, b), call)
        expected = box_iou(mg.tensor([a], dtype=mg.float64), mg.tensor([b], dtype=mg.float64)).item()
        if got.shape not in ((), (1,), (1, 1)):
            fail(f"{call} returned an array of shape {got.shape}; one IoU is a single number.")
        if not np.isclose(got.ravel()[0], expected, rtol=1e-9, atol=1e-12):
            hint = ""
            if expected == 0 and got.ravel()[0] != 0:
                hint = (" For boxes that do not overlap the intersection's width or height "
                        "comes out negative: clamp each at 0 before multiplying.")
            elif expected > 0:
                hint = (" The union is area(a) + area(b) - intersection: the intersection is "
                        "counted in both areas.")
            fail(f"{call} returned {fmt(float(got.ravel()[0]))}, expected "
                 f"{fmt(expected)}.{hint}")
    return "iou matches box_iou on overlapping, nested, touching and separate boxes"


# -- Exercise 2 -------------------------------------------------------------------------------
def _random_boxes(rng, n, size=20.0):
    corner = rng.uniform(0, size, (n, 2))
    return np.concatenate([corner, corner + rng.uniform(1, size / 2, (n, 2))], axis=1)


@exercise(2, "non-maximum suppression by hand", "nms_by_hand")
def nms_by_hand(nms_by_hand):
    rng = np.random.default_rng(0)
    cases = [
        # the middle box overlaps both others, which do not overlap each other: greedy NMS
        # keeps it and drops both, though neither of them overlaps the other
        ("a chain: the best box overlaps two that do not overlap each other",
         np.array([[0, 0, 4, 4], [3, 0, 7, 4], [6, 0, 10, 4.]]), np.array([0.6, 0.9, 0.7]), 0.1),
        ("a box suppressed by a dropped box is not removed by it",
         np.array([[0, 0, 4, 4], [2, 0, 6, 4], [4, 0, 8, 4.]]), np.array([0.9, 0.8, 0.7]), 0.3),
        ("an IoU exactly at the threshold (1/3) is kept",
         np.array([[0, 0, 2, 2], [1, 0, 3, 2.]]), np.array([0.5, 1.0]), 1 / 3),
        ("equal scores (taken in index order)",
         _random_boxes(rng, 12), np.repeat([0.3, 0.8, 0.5], 4), 0.2),
    ] + [(f"{n} random boxes, threshold {t}", _random_boxes(rng, n), rng.random(n), t)
         for n, t in [(15, 0.5), (30, 0.3), (25, 0.0), (20, 0.9), (1, 0.5)]]
    for what, boxes, scores, threshold in cases:
        call = f"nms_by_hand(boxes, scores, {threshold:.3g}) for {what}"
        got = attempt(call, nms_by_hand, boxes.copy(), scores.copy(), threshold)
        if got is None:
            fail(f"{call} returned None: did you forget a `return`?")
        got = [int(i) for i in np.asarray(got).ravel()]
        expected = nms(mg.tensor(boxes), mg.tensor(scores), threshold).tolist()
        if got != expected:
            hint = ""
            if sorted(got) == sorted(expected):
                hint = " The same boxes, in another order: return them best score first."
            elif set(got) > set(expected):
                hint = (" You kept boxes that overlap a kept, better box by more than the "
                        "threshold.")
            elif set(got) < set(expected):
                hint = (" You removed too much: only a *kept* box suppresses others, and only "
                        "an IoU above the threshold (not equal to it) removes a box.")
            fail(f"{call} returned {got}, expected {expected} (minigrad.vision.ops.nms)."
                 f"{hint}")
    return "nms_by_hand keeps the same boxes as minigrad.vision.ops.nms, in the same order"


# -- Exercise 3 -------------------------------------------------------------------------------
def _ap_11_point(precision, recall):
    levels = np.linspace(0, 1, 11)
    return float(np.mean([precision[recall >= r - 1e-12].max(initial=0.0) for r in levels]))


def _curve(hits, n_true):
    tp = np.cumsum(hits)
    return tp / np.arange(1, len(hits) + 1), tp / n_true


@exercise(3, "PASCAL VOC 2007's 11-point average precision", "ap_11_point")
def ap_11_point(ap_11_point):
    rng = np.random.default_rng(0)
    curves = [("every detection right, all 4 objects found", np.ones(4), 4),
              ("a zig-zag: right, wrong, right, wrong, right", np.array([1, 0, 1, 0, 1.]), 3),
              ("only half of the objects ever found", np.array([1, 1, 0, 1, 0, 0.]), 6),
              ("the first detection wrong", np.array([0, 1, 1, 1.]), 3),
              ("200 detections of 120 objects", (rng.random(200) < np.linspace(0.95, 0.2, 200)) * 1.0,
               120)]
    for what, hits, n_true in curves:
        precision, recall = _curve(hits, n_true)
        call = f"ap_11_point(precision, recall) for {what}"
        got = to_array(attempt(call, ap_11_point, precision.copy(), recall.copy()), call)
        expected = _ap_11_point(precision, recall)
        assert_close(call, got.reshape(()) if got.size == 1 else got, expected, rtol=1e-9,
                     hint="(expected: the mean over the 11 recall levels 0, 0.1, ..., 1 of the "
                          "best precision at a recall >= the level, 0 where none reaches it)")
    return "ap_11_point matches VOC 2007's 11-point interpolated average precision"


# -- Exercise 4 -------------------------------------------------------------------------------
def _decode_cell(t, row, col, stride, prior):
    """The chapter's decoding, with minigrad ops: sigmoid offsets in the cell, exp sizes."""
    t = mg.tensor(np.asarray(t, dtype=np.float64))
    centre = (mg.tensor([float(col), float(row)], dtype=mg.float64) + t[:2].sigmoid()) * stride
    size = prior * t[2:].exp()
    return box_convert(mg.cat([centre, size]).reshape(1, 4), "cxcywh", "xyxy").numpy()[0]


@exercise(4, "decode one cell", "decode_cell")
def decode_cell(decode_cell):
    rng = np.random.default_rng(0)
    cases = [((0.0, 0.0, 0.0, 0.0), 0, 0, 8, 10.0),
             ((0.0, 0.0, 0.0, 0.0), 2, 5, 8, 10.0),
             ((1.5, -2.0, 0.3, -0.4), 4, 1, 8, 10.0)] + \
        [(tuple(rng.normal(0, 1.5, 4)), int(rng.integers(0, 7)), int(rng.integers(0, 7)), 16, 24.0)
         for _ in range(4)]
    for t, row, col, stride, prior in cases:
        call = f"decode_cell({tuple(round(v, 3) for v in t)}, row={row}, col={col}, stride={stride}, prior={prior})"
        got = attempt(call, decode_cell, np.array(t), row, col, stride, prior)
        expected = _decode_cell(t, row, col, stride, prior)
        got_a = to_array(got, call)
        if got_a.shape == (4,) and row != col and np.allclose(
                got_a, _decode_cell(t, col, row, stride, prior)):
            fail(f"{call} returned {np.round(got_a, 4).tolist()}: the row and the column are "
                 f"swapped. x runs along the columns, y along the rows.")
        assert_close(call, got, expected, rtol=1e-9, atol=1e-9,
                     hint="(expected: [cx - w/2, cy - h/2, cx + w/2, cy + h/2] with "
                          "cx = (col + sigmoid(t_x)) * stride, cy = (row + sigmoid(t_y)) * stride, "
                          "w = prior * exp(t_w), h = prior * exp(t_h))")
    return "decode_cell gives the chapter's boxes, any cell, stride and prior"


__all__ = ["iou", "nms_by_hand", "ap_11_point", "decode_cell"]
