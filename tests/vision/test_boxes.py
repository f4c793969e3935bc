"""minigrad.vision.ops: torchvision's box utilities. Hand-worked cases, random boxes against
brute-force NumPy references (hypothesis), float64 gradchecks, the errors, and torchvision
itself when it can be imported."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.vision import ops as V

# ---------------------------------------------------------------------------------------------
# helpers: random well-formed boxes and brute-force references
# ---------------------------------------------------------------------------------------------


def random_boxes(rng, n, size=20.0, min_side=0.5):
    """(n, 4) float64 "xyxy" boxes with x1 < x2 and y1 < y2, clustered so that many overlap."""
    corner = rng.uniform(0, size, (n, 2))
    side = rng.uniform(min_side, size / 2, (n, 2))
    return np.concatenate([corner, corner + side], axis=1)


def iou_by_loops(a, b):
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            w = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
            h = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
            inter = w * h
            union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - inter
            out[i, j] = inter / union
    return out


def giou_by_loops(a, b):
    out = iou_by_loops(a, b)
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            w = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
            h = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
            union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - w * h
            hull = (max(p[2], q[2]) - min(p[0], q[0])) * (max(p[3], q[3]) - min(p[1], q[1]))
            out[i, j] -= (hull - union) / hull
    return out


def nms_by_definition(boxes, scores, threshold):
    """Greedy NMS written as the definition says: take the best remaining box, remove it and
    everything overlapping it by more than the threshold, repeat."""
    remaining = sorted(range(len(boxes)), key=lambda i: (-scores[i], i))
    keep = []
    while remaining:
        best = remaining.pop(0)
        keep.append(best)
        ious = iou_by_loops(boxes[[best]], boxes[remaining])[0] if remaining else []
        remaining = [r for r, v in zip(remaining, ious) if not v > threshold]
    return keep


def T(a, **kw):
    return mg.tensor(np.asarray(a, dtype=np.float64), **kw)


# ---------------------------------------------------------------------------------------------
# hand-worked cases
# ---------------------------------------------------------------------------------------------

def test_box_area_and_formats_by_hand():
    xyxy = T([[1, 2, 4, 6], [0, 0, 10, 1]])
    np.testing.assert_array_equal(V.box_area(xyxy).numpy(), [12, 10])
    xywh = V.box_convert(xyxy, "xyxy", "xywh")
    cxcywh = V.box_convert(xyxy, "xyxy", "cxcywh")
    np.testing.assert_array_equal(xywh.numpy(), [[1, 2, 3, 4], [0, 0, 10, 1]])
    np.testing.assert_array_equal(cxcywh.numpy(), [[2.5, 4, 3, 4], [5, 0.5, 10, 1]])
    np.testing.assert_array_equal(V.box_area(xywh, fmt="xywh").numpy(), [12, 10])
    np.testing.assert_array_equal(V.box_area(cxcywh, fmt="cxcywh").numpy(), [12, 10])
    for a, b in [("xywh", "cxcywh"), ("cxcywh", "xywh"), ("xywh", "xyxy"), ("cxcywh", "xyxy")]:
        src = {"xywh": xywh, "cxcywh": cxcywh}[a]
        want = {"xywh": xywh, "cxcywh": cxcywh, "xyxy": xyxy}[b]
        np.testing.assert_allclose(V.box_convert(src, a, b).numpy(), want.numpy())
    same = V.box_convert(xyxy, "xyxy", "xyxy")
    assert same is not xyxy and np.array_equal(same.numpy(), xyxy.numpy())   # a copy


def test_box_iou_by_hand():
    # two 2x2 squares shifted by 1 along x: intersection 1x2 = 2, union 4 + 4 - 2 = 6
    a, b = T([[0, 0, 2, 2]]), T([[1, 0, 3, 2], [5, 5, 6, 6], [0, 0, 2, 2], [2, 0, 4, 2]])
    np.testing.assert_allclose(V.box_iou(a, b).numpy(), [[1 / 3, 0, 1, 0]])
    # a box inside another: IoU = small area / large area
    np.testing.assert_allclose(V.box_iou(T([[0, 0, 4, 4]]), T([[1, 1, 2, 2]])).numpy(), [[1 / 16]])
    # the same pairs, given in the other formats
    for fmt in ("xywh", "cxcywh"):
        np.testing.assert_allclose(
            V.box_iou(V.box_convert(a, "xyxy", fmt), V.box_convert(b, "xyxy", fmt), fmt=fmt).numpy(),
            [[1 / 3, 0, 1, 0]])


def test_generalized_box_iou_by_hand():
    # disjoint unit squares 1 apart: IoU 0, enclosing box 3x1 = 3, union 2 -> GIoU = -1/3
    a, b = T([[0, 0, 1, 1]]), T([[2, 0, 3, 1]])
    np.testing.assert_allclose(V.generalized_box_iou(a, b).numpy(), [[-1 / 3]])
    np.testing.assert_allclose(V.generalized_box_iou(a, a).numpy(), [[1.0]])
    # the loss pairs row i with row i: 1 - GIoU, and its reductions
    loss = V.generalized_box_iou_loss(T([[0, 0, 1, 1], [0, 0, 2, 2]]), T([[2, 0, 3, 1], [0, 0, 2, 2]]))
    np.testing.assert_allclose(loss.numpy(), [4 / 3, 0.0], atol=1e-6)
    assert abs(V.generalized_box_iou_loss(a, b, reduction="sum").item() - 4 / 3) < 1e-6
    assert abs(V.generalized_box_iou_loss(a, b, reduction="mean").item() - 4 / 3) < 1e-6
    # one box each, shape (4,): a scalar loss; no boxes: mean 0 (not NaN)
    assert V.generalized_box_iou_loss(T([0, 0, 1, 1]), T([2, 0, 3, 1])).shape == ()
    empty = mg.zeros(0, 4, dtype=mg.float64)
    assert V.generalized_box_iou_loss(empty, empty, reduction="mean").item() == 0.0


def test_nms_by_hand():
    boxes = T([[0, 0, 10, 10],        # 0: score .8
               [1, 1, 11, 11],        # 1: score .9, IoU with 0 = 81/119 = 0.68
               [20, 20, 30, 30],      # 2: score .3, far away
               [0, 0, 10, 9]])        # 3: score .85, IoU with 1 = 72/118 = 0.61
    scores = T([0.8, 0.9, 0.3, 0.85])
    keep = V.nms(boxes, scores, 0.5)
    assert keep.dtype == mg.int64 and keep.tolist() == [1, 2]
    # with a higher threshold only boxes overlapping by more than it go: 0 and 3 overlap 0.9
    assert V.nms(boxes, scores, 0.65).tolist() == [1, 3, 2]
    assert V.nms(boxes, scores, 0.95).tolist() == [1, 3, 0, 2]   # sorted by score, not index
    # IoU exactly at the threshold is kept ("above the threshold" is suppressed)
    assert V.nms(T([[0, 0, 2, 2], [1, 0, 3, 2]]), T([1.0, 0.5]), 1 / 3).tolist() == [0, 1]
    assert V.nms(mg.zeros(0, 4), mg.zeros(0), 0.5).tolist() == []


def test_batched_nms_only_suppresses_within_a_category():
    boxes = T([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10.5]])
    scores = T([0.9, 0.8, 0.7])
    assert V.nms(boxes, scores, 0.5).tolist() == [0]
    assert V.batched_nms(boxes, scores, mg.tensor([0, 1, 0]), 0.5).tolist() == [0, 1]
    assert V.batched_nms(boxes, scores, mg.tensor([0, 1, 2]), 0.5).tolist() == [0, 1, 2]
    assert V.batched_nms(mg.zeros(0, 4), mg.zeros(0), mg.zeros(0, dtype=mg.int64), 0.5).tolist() == []


def test_integer_boxes_keep_integer_areas_and_give_float_ious():
    boxes = mg.tensor([[0, 0, 2, 2], [1, 0, 3, 2]])
    assert V.box_area(boxes).dtype == mg.int64
    iou = V.box_iou(boxes, boxes)
    assert iou.is_floating_point()
    np.testing.assert_allclose(iou.numpy(), [[1, 1 / 3], [1 / 3, 1]], rtol=1e-6)
    # the loss works in float32 for integer boxes, as torchvision's does
    assert V.generalized_box_iou_loss(boxes, boxes).dtype == mg.float32


def test_batch_dimensions_like_torchvision():
    rng = np.random.default_rng(3)
    a, b = random_boxes(rng, 2 * 5).reshape(2, 5, 4), random_boxes(rng, 2 * 3).reshape(2, 3, 4)
    iou = V.box_iou(T(a), T(b)).numpy()
    assert iou.shape == (2, 5, 3)
    for k in range(2):
        np.testing.assert_allclose(iou[k], iou_by_loops(a[k], b[k]), rtol=1e-12)
    assert V.box_area(T(a)).shape == (2, 5)
    assert V.generalized_box_iou(T(a), T(b)).shape == (2, 5, 3)


# ---------------------------------------------------------------------------------------------
# random boxes (hypothesis) against the brute-force references
# ---------------------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.integers(1, 9), st.integers(1, 7), st.integers(0, 2 ** 16))
def test_iou_and_giou_match_the_definitions(n, m, seed):
    rng = np.random.default_rng(seed)
    a, b = random_boxes(rng, n), random_boxes(rng, m)
    iou = V.box_iou(T(a), T(b)).numpy()
    np.testing.assert_allclose(iou, iou_by_loops(a, b), rtol=1e-12, atol=1e-15)
    assert iou.shape == (n, m) and (iou >= 0).all() and (iou <= 1).all()
    giou = V.generalized_box_iou(T(a), T(b)).numpy()
    np.testing.assert_allclose(giou, giou_by_loops(a, b), rtol=1e-12, atol=1e-15)
    assert (giou <= iou + 1e-12).all() and (giou > -1).all()
    # the loss on matching pairs is 1 - the diagonal of the GIoU matrix
    k = min(n, m)
    loss = V.generalized_box_iou_loss(T(a[:k]), T(b[:k]), eps=0.0).numpy()
    np.testing.assert_allclose(loss, 1 - np.diag(giou_by_loops(a[:k], b[:k])), rtol=1e-10)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.sampled_from(["xywh", "cxcywh"]), st.integers(0, 2 ** 16))
def test_box_convert_round_trips(n, fmt, seed):
    boxes = T(random_boxes(np.random.default_rng(seed), n))
    there = V.box_convert(boxes, "xyxy", fmt)
    np.testing.assert_allclose(V.box_convert(there, fmt, "xyxy").numpy(), boxes.numpy(), rtol=1e-12)
    np.testing.assert_allclose(V.box_area(there, fmt=fmt).numpy(), V.box_area(boxes).numpy(),
                               rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 25), st.floats(0.0, 0.9), st.booleans(), st.integers(0, 2 ** 16))
def test_nms_matches_the_definition(n, threshold, ties, seed):
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, n)
    # with ties, several boxes share a score: equal scores are taken in index order
    scores = rng.integers(0, 3, n).astype(float) if ties else rng.random(n)
    keep = V.nms(T(boxes), T(scores), threshold)
    assert keep.dtype == mg.int64
    assert keep.tolist() == nms_by_definition(boxes, scores, threshold)
    # what is kept overlaps by at most the threshold, and is sorted by score
    kept = boxes[keep.numpy()]
    iou = iou_by_loops(kept, kept)
    assert (iou[~np.eye(len(kept), dtype=bool)] <= threshold).all()
    assert (np.diff(scores[keep.numpy()]) <= 0).all()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 25), st.integers(1, 4), st.integers(0, 2 ** 16))
def test_batched_nms_is_nms_per_category(n, n_classes, seed):
    rng = np.random.default_rng(seed)
    boxes, scores = random_boxes(rng, n), rng.random(n)
    classes = rng.integers(0, n_classes, n)
    keep = V.batched_nms(T(boxes), T(scores), mg.tensor(classes), 0.4).tolist()
    expected = []
    for c in range(n_classes):
        members = np.flatnonzero(classes == c)
        expected += [members[i] for i in nms_by_definition(boxes[members], scores[members], 0.4)]
    assert sorted(keep) == sorted(expected)
    assert keep == sorted(keep, key=lambda i: -scores[i])


# ---------------------------------------------------------------------------------------------
# gradients
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradcheck_box_functions(seed):
    rng = np.random.default_rng(seed)
    a = T(random_boxes(rng, 5), requires_grad=True)
    b = T(random_boxes(rng, 3), requires_grad=True)
    c = T(random_boxes(rng, 5), requires_grad=True)
    checks = {
        "box_area": (lambda x: V.box_area(x), (a,)),
        "box_convert xyxy->cxcywh": (lambda x: V.box_convert(x, "xyxy", "cxcywh"), (a,)),
        "box_convert cxcywh->xywh": (lambda x: V.box_convert(x, "cxcywh", "xywh"), (a,)),
        "box_iou": (V.box_iou, (a, b)),
        "box_iou cxcywh": (lambda x, y: V.box_iou(x, y, fmt="cxcywh"), (a, b)),
        "generalized_box_iou": (V.generalized_box_iou, (a, b)),
        "generalized_box_iou_loss": (V.generalized_box_iou_loss, (a, c)),
        "generalized_box_iou_loss mean": (
            lambda x, y: V.generalized_box_iou_loss(x, y, reduction="mean"), (a, c)),
    }
    for name, (fn, inputs) in checks.items():
        assert mg.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-6), name


def test_iou_gradient_points_towards_more_overlap():
    # the predicted box lies to the left of the target: increasing its x1 and x2 (moving it
    # right) raises the IoU, and the gradient of 1 - IoU says so
    pred = T([[0, 0, 4, 4]], requires_grad=True)
    (1 - V.box_iou(pred, T([[2, 0, 6, 4]]))).sum().backward()
    gx1, _, gx2, _ = pred.grad.numpy()[0]
    assert gx1 < 0 and gx2 < 0
    # GIoU still pulls disjoint boxes together, where IoU's gradient is 0
    pred = T([[0, 0, 1, 1]], requires_grad=True)
    V.generalized_box_iou_loss(pred, T([[3, 0, 4, 1]])).sum().backward()
    assert pred.grad.numpy()[0, 2] < 0
    pred = T([[0, 0, 1, 1]], requires_grad=True)
    V.box_iou(pred, T([[3, 0, 4, 1]])).sum().backward()
    assert not pred.grad.numpy().any()


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------

def test_bad_shapes_formats_and_lengths_are_refused_clearly():
    good = T([[0, 0, 1, 1]])
    with pytest.raises(ValueError, match=r"box_iou: boxes1 must have shape \(N, 4\).*\(3, 3\)"):
        V.box_iou(T(np.ones((3, 3))), good)
    with pytest.raises(ValueError, match=r"box_iou: boxes2 must have shape \(N, 4\).*\(4,\)"):
        V.box_iou(good, T([0, 0, 1, 1]))
    with pytest.raises(ValueError, match=r"box_area: .*\(2, 5\)"):
        V.box_area(T(np.ones((2, 5))))
    with pytest.raises(TypeError, match="box_area: boxes must be a Tensor"):
        V.box_area(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"box_convert: unknown box format in_fmt='xy'"):
        V.box_convert(good, "xy", "xyxy")
    with pytest.raises(ValueError, match=r"out_fmt='XYXY'"):
        V.box_convert(good, "xyxy", "XYXY")
    with pytest.raises(NotImplementedError, match="rotated boxes"):
        V.box_convert(good, "xyxy", "cxcywhr")
    with pytest.raises(ValueError, match="box_iou: unknown box format fmt='yxyx'"):
        V.box_iou(good, good, fmt="yxyx")
    with pytest.raises(ValueError, match=r"generalized_box_iou_loss: .*\(1, 4\).*\(2, 4\)"):
        V.generalized_box_iou_loss(good, T(np.ones((2, 4))))
    with pytest.raises(ValueError, match="reduction must be one of"):
        V.generalized_box_iou_loss(good, good, reduction="avg")
    with pytest.raises(ValueError, match="nms: 1 boxes but 2 scores"):
        V.nms(good, T([0.5, 0.4]), 0.5)
    with pytest.raises(ValueError, match=r"nms: scores must be a 1-D Tensor"):
        V.nms(good, T([[0.5]]), 0.5)
    with pytest.raises(ValueError, match=r"nms: boxes must have shape \(N, 4\)"):
        V.nms(T(np.ones((1, 1, 4))), T([0.5]), 0.5)
    with pytest.raises(TypeError, match="nms: iou_threshold must be a number"):
        V.nms(good, T([0.5]), "0.5")
    with pytest.raises(ValueError, match="batched_nms: idxs must be a 1-D Tensor"):
        V.batched_nms(good, T([0.5]), mg.tensor([0, 1]), 0.5)
    with pytest.raises(ValueError, match="same leading"):
        V.box_iou(T(np.ones((2, 3, 4))), T(np.ones((3, 3, 4))))


# ---------------------------------------------------------------------------------------------
# torchvision itself, when it can be imported
# ---------------------------------------------------------------------------------------------

def test_same_results_as_torchvision():
    torch = pytest.importorskip("torch")
    tv_ops = pytest.importorskip("torchvision.ops")
    rng = np.random.default_rng(11)
    a, b, c = random_boxes(rng, 13), random_boxes(rng, 7), random_boxes(rng, 13)
    ta, tb, tc = (torch.from_numpy(x) for x in (a, b, c))
    np.testing.assert_allclose(V.box_iou(T(a), T(b)).numpy(), tv_ops.box_iou(ta, tb).numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(V.generalized_box_iou(T(a), T(b)).numpy(),
                               tv_ops.generalized_box_iou(ta, tb).numpy(), rtol=1e-12)
    for fmt in ("xywh", "cxcywh"):
        np.testing.assert_allclose(V.box_convert(T(a), "xyxy", fmt).numpy(),
                                   tv_ops.box_convert(ta, "xyxy", fmt).numpy(), rtol=1e-12)
    for reduction in ("none", "mean", "sum"):
        np.testing.assert_allclose(
            V.generalized_box_iou_loss(T(a), T(c), reduction=reduction).numpy(),
            tv_ops.generalized_box_iou_loss(ta, tc, reduction=reduction).numpy(), rtol=1e-10)
    scores = rng.random(13)
    for threshold in (0.1, 0.3, 0.7):
        assert V.nms(T(a), T(scores), threshold).tolist() == \
            tv_ops.nms(ta, torch.from_numpy(scores), threshold).tolist()
        classes = rng.integers(0, 3, 13)
        assert V.batched_nms(T(a), T(scores), mg.tensor(classes), threshold).tolist() == \
            tv_ops.batched_nms(ta, torch.from_numpy(scores), torch.from_numpy(classes),
                               threshold).tolist()
