"""Bounding-box utilities with torchvision's names, arguments and semantics
(``torchvision.ops.box_area``, ``box_iou``, ``box_convert``, ``nms``, ``batched_nms``,
``generalized_box_iou``, ``generalized_box_iou_loss``).

A box is four numbers in the last axis. The formats (``box_convert``'s ``in_fmt``/``out_fmt``):

* ``"xyxy"``: the top-left corner ``(x1, y1)`` and the bottom-right corner ``(x2, y2)``;
  what every other function here expects;
* ``"xywh"``: the top-left corner, then width and height;
* ``"cxcywh"``: the centre, then width and height.

Everything but the two NMS functions is plain tensor arithmetic (indexing, ``maximum``,
``minimum``, ``clamp``, products and quotients), so autograd differentiates it: a detector can
train on ``1 - box_iou`` or on ``generalized_box_iou_loss``. ``nms`` and ``batched_nms``
choose boxes and return int64 indices, which have no gradient.

torchvision's rotated formats (``"xywhr"``, ``"cxcywhr"``, ``"xyxyxyxy"``) are not implemented.
"""

from __future__ import annotations

import numbers

import numpy as np

import minigrad as mg

from ...tensor import Tensor

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")
_ROTATED_FORMATS = ("xywhr", "cxcywhr", "xyxyxyxy")


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------

def _check_boxes(op: str, boxes, name: str = "boxes", min_ndim: int = 1) -> Tensor:
    """``boxes`` as a Tensor of shape (..., 4), or a clear error naming ``op``."""
    if not isinstance(boxes, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor of shape (N, 4), "
                        f"got {type(boxes).__name__}")
    if boxes.ndim < min_ndim or boxes.shape[-1] != 4:
        expected = "(N, 4)" if min_ndim == 2 else "(N, 4) or (4,)"
        raise ValueError(f"{op}: {name} must have shape {expected} (four coordinates in the "
                         f"last dimension), got shape {tuple(boxes.shape)}")
    return boxes


def _check_format(op: str, fmt: str, argument: str = "fmt") -> None:
    if fmt in _ROTATED_FORMATS:
        raise NotImplementedError(f"{op}: rotated boxes ({argument}={fmt!r}) are not "
                                  f"implemented; supported formats: {', '.join(BOX_FORMATS)}")
    if fmt not in BOX_FORMATS:
        raise ValueError(f"{op}: unknown box format {argument}={fmt!r}; expected one of "
                         f"{', '.join(repr(f) for f in BOX_FORMATS)}")


def _upcast(t: Tensor) -> Tensor:
    """torchvision's guard against overflow in products: float16 -> float32, small integer
    types -> int32; float32/float64 and int32/int64 stay as they are."""
    if t.is_floating_point():
        return t if t.dtype in (mg.float32, mg.float64) else t.float()
    return t if t.dtype in (mg.int32, mg.int64) else t.int()


def _float(t: Tensor) -> Tensor:
    """Anything but float32/float64 as float32 (generalized_box_iou_loss's ``_upcast_non_float``)."""
    return t if t.dtype in (mg.float32, mg.float64) else t.float()


# ---------------------------------------------------------------------------------------------
# Formats and areas
# ---------------------------------------------------------------------------------------------

def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Boxes (..., 4) from ``in_fmt`` to ``out_fmt``, each one of "xyxy", "xywh", "cxcywh".

    Same format in and out returns a copy (``clone``), as torchvision does."""
    _check_boxes("box_convert", boxes)
    _check_format("box_convert", in_fmt, "in_fmt")
    _check_format("box_convert", out_fmt, "out_fmt")
    if in_fmt == out_fmt:
        return boxes.clone()
    # every conversion goes through the corners
    a, b, c, d = boxes.unbind(-1)
    if in_fmt == "xywh":                       # corner + size
        x1, y1, x2, y2 = a, b, a + c, b + d
    elif in_fmt == "cxcywh":                   # centre + size
        x1, y1, x2, y2 = a - 0.5 * c, b - 0.5 * d, a + 0.5 * c, b + 0.5 * d
    else:
        x1, y1, x2, y2 = a, b, c, d
    if out_fmt == "xywh":
        return mg.stack([x1, y1, x2 - x1, y2 - y1], dim=-1)
    if out_fmt == "cxcywh":
        return mg.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dim=-1)
    return mg.stack([x1, y1, x2, y2], dim=-1)


def box_area(boxes: Tensor, fmt: str = "xyxy") -> Tensor:
    """The area of each box: (..., 4) -> (...). Width times height, not clamped (a box with
    x2 < x1 has a negative area, as in torchvision)."""
    _check_boxes("box_area", boxes)
    _check_format("box_area", fmt)
    boxes = _upcast(boxes)
    if fmt == "xyxy":
        return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
    return boxes[..., 2] * boxes[..., 3]        # xywh and cxcywh hold the size itself


# ---------------------------------------------------------------------------------------------
# Overlaps
# ---------------------------------------------------------------------------------------------

def _pairwise_corners(boxes1: Tensor, boxes2: Tensor, fmt: str):
    """Top-left and bottom-right corners of boxes1[..., :, None] and boxes2[..., None, :],
    each (..., N, 1, 2) and (..., 1, M, 2), ready to broadcast against each other."""
    if fmt != "xyxy":
        boxes1, boxes2 = (box_convert(b, fmt, "xyxy") for b in (boxes1, boxes2))
    return (boxes1[..., :, None, :2], boxes1[..., :, None, 2:],
            boxes2[..., None, :, :2], boxes2[..., None, :, 2:])


def _inter_union(boxes1: Tensor, boxes2: Tensor, fmt: str = "xyxy"):
    """Pairwise intersection and union areas, each (..., N, M)."""
    area1, area2 = box_area(boxes1, fmt=fmt), box_area(boxes2, fmt=fmt)
    lt1, rb1, lt2, rb2 = _pairwise_corners(boxes1, boxes2, fmt)
    # the intersection is the box between the larger top-left and the smaller bottom-right
    # corner; when they cross, the boxes do not meet and the clamp makes its size 0
    wh = _upcast(mg.minimum(rb1, rb2) - mg.maximum(lt1, lt2)).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = area1[..., :, None] + area2[..., None, :] - inter
    return inter, union


def _check_pair(op: str, boxes1, boxes2) -> None:
    _check_boxes(op, boxes1, "boxes1", min_ndim=2)
    _check_boxes(op, boxes2, "boxes2", min_ndim=2)
    if boxes1.shape[:-2] != boxes2.shape[:-2]:
        raise ValueError(f"{op}: boxes1 {tuple(boxes1.shape)} and boxes2 {tuple(boxes2.shape)} "
                         f"must have the same leading (batch) dimensions before (N, 4) and "
                         f"(M, 4)")


def box_iou(boxes1: Tensor, boxes2: Tensor, fmt: str = "xyxy") -> Tensor:
    """Intersection over union of every pair: boxes1 (..., N, 4), boxes2 (..., M, 4) ->
    (..., N, M). 0 for boxes that do not overlap, 1 for identical ones."""
    _check_pair("box_iou", boxes1, boxes2)
    _check_format("box_iou", fmt)
    inter, union = _inter_union(boxes1, boxes2, fmt)
    return inter / union


def generalized_box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Generalized IoU (Rezatofighi et al., 2019) of every pair of "xyxy" boxes:
    (..., N, 4), (..., M, 4) -> (..., N, M), in (-1, 1].

    GIoU = IoU - (C - U) / C, where C is the area of the smallest box enclosing both and U
    their union. Unlike IoU it still changes when the boxes do not overlap: the farther
    apart, the closer to -1."""
    _check_pair("generalized_box_iou", boxes1, boxes2)
    inter, union = _inter_union(boxes1, boxes2)
    iou = inter / union
    lt1, rb1, lt2, rb2 = _pairwise_corners(boxes1, boxes2, "xyxy")
    wh = _upcast(mg.maximum(rb1, rb2) - mg.minimum(lt1, lt2)).clamp(min=0)
    enclosing = wh[..., 0] * wh[..., 1]
    return iou - (enclosing - union) / enclosing


_REDUCTIONS = ("none", "mean", "sum")


def generalized_box_iou_loss(boxes1: Tensor, boxes2: Tensor, reduction: str = "none",
                             eps: float = 1e-7) -> Tensor:
    """``1 - GIoU`` of matching pairs of "xyxy" boxes (row i of boxes1 with row i of boxes2,
    not every pair): (N, 4) or (4,) each -> (N,) or () with ``reduction="none"``, in [0, 2).

    ``eps`` keeps the two quotients finite for empty boxes. ``reduction`` is "none", "mean"
    or "sum"; the mean of no boxes is 0, as in torchvision."""
    op = "generalized_box_iou_loss"
    _check_boxes(op, boxes1, "boxes1")
    _check_boxes(op, boxes2, "boxes2")
    if boxes1.shape != boxes2.shape:
        raise ValueError(f"{op}: boxes1 {tuple(boxes1.shape)} and boxes2 "
                         f"{tuple(boxes2.shape)} must have the same shape: the loss compares "
                         f"box i of one with box i of the other")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    boxes1, boxes2 = _float(boxes1), _float(boxes2)
    x1, y1, x2, y2 = boxes1.unbind(-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(-1)

    inter = ((mg.minimum(x2, x2g) - mg.maximum(x1, x1g)).clamp(min=0)
             * (mg.minimum(y2, y2g) - mg.maximum(y1, y1g)).clamp(min=0))
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    iou = inter / (union + eps)
    enclosing = ((mg.maximum(x2, x2g) - mg.minimum(x1, x1g))
                 * (mg.maximum(y2, y2g) - mg.minimum(y1, y1g)))
    loss = 1 - (iou - (enclosing - union) / (enclosing + eps))

    if reduction == "mean":
        return loss.mean() if loss.numel() > 0 else 0.0 * loss.sum()
    if reduction == "sum":
        return loss.sum()
    return loss


# ---------------------------------------------------------------------------------------------
# Non-maximum suppression
# ---------------------------------------------------------------------------------------------

def _check_nms_inputs(op: str, boxes, scores, iou_threshold) -> None:
    _check_boxes(op, boxes, min_ndim=2)
    if boxes.ndim != 2:
        raise ValueError(f"{op}: boxes must have shape (N, 4), got {tuple(boxes.shape)}")
    if not isinstance(scores, Tensor) or scores.ndim != 1:
        shape = tuple(scores.shape) if isinstance(scores, Tensor) else type(scores).__name__
        raise ValueError(f"{op}: scores must be a 1-D Tensor (N,), got {shape}")
    if scores.shape[0] != boxes.shape[0]:
        raise ValueError(f"{op}: {boxes.shape[0]} boxes but {scores.shape[0]} scores; "
                         f"expected one score per box")
    if isinstance(iou_threshold, bool) or not isinstance(iou_threshold, numbers.Real):
        raise TypeError(f"{op}: iou_threshold must be a number, got {iou_threshold!r}")


def _nms_numpy(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy NMS on NumPy arrays: the indices kept, highest score first."""
    boxes = boxes.astype(np.float64)
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1) * (y2 - y1)
    order = np.argsort(-scores.astype(np.float64), kind="stable")   # equal scores: index order
    suppressed = np.zeros(len(boxes), dtype=bool)
    keep = []
    for rank, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(i)
        rest = order[rank + 1:]
        # IoU of box i with every lower-scored box; those above the threshold are dropped
        w = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        h = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = w * h
        with np.errstate(divide="ignore", invalid="ignore"):   # empty boxes: 0/0 is no overlap
            iou = inter / (areas[i] + areas[rest] - inter)
        suppressed[rest[iou > iou_threshold]] = True
    return np.asarray(keep, dtype=np.int64)


def _host(t: Tensor) -> np.ndarray:
    """A Tensor's values as a NumPy array (a copy from the GPU when it lives there)."""
    return t.detach().cpu().numpy()


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Non-maximum suppression: keep the highest-scoring box, drop every other box whose IoU
    with it is above ``iou_threshold``, and repeat with the best box left.

    ``boxes`` (N, 4) in "xyxy" format, ``scores`` (N,). Returns an int64 Tensor of the indices
    kept, sorted by decreasing score (boxes with equal scores in index order). Not
    differentiable: it chooses boxes."""
    _check_nms_inputs("nms", boxes, scores, iou_threshold)
    keep = _nms_numpy(_host(boxes), _host(scores), float(iou_threshold))
    return mg.tensor(keep, dtype=mg.int64, device=boxes.device)


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """NMS within each category: a box only suppresses boxes with the same ``idxs`` value
    (its class, or the image it came from).

    ``boxes`` (N, 4) "xyxy", ``scores`` (N,), ``idxs`` (N,) integers. Returns int64 indices
    into the N boxes, sorted by decreasing score."""
    _check_nms_inputs("batched_nms", boxes, scores, iou_threshold)
    if not isinstance(idxs, Tensor) or idxs.ndim != 1 or idxs.shape[0] != boxes.shape[0]:
        shape = tuple(idxs.shape) if isinstance(idxs, Tensor) else type(idxs).__name__
        raise ValueError(f"batched_nms: idxs must be a 1-D Tensor with one category per box "
                         f"({boxes.shape[0]},), got {shape}")
    boxes_np, scores_np, idxs_np = _host(boxes), _host(scores), _host(idxs)
    kept = [np.flatnonzero(idxs_np == c)[_nms_numpy(boxes_np[idxs_np == c],
                                                    scores_np[idxs_np == c],
                                                    float(iou_threshold))]
            for c in np.unique(idxs_np)]
    keep = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
    # all categories together, highest score first (equal scores: index order)
    keep = np.sort(keep)
    keep = keep[np.argsort(-scores_np[keep].astype(np.float64), kind="stable")]
    return mg.tensor(keep.astype(np.int64), dtype=mg.int64, device=boxes.device)


__all__ = ["box_area", "box_convert", "box_iou", "generalized_box_iou",
           "generalized_box_iou_loss", "nms", "batched_nms", "BOX_FORMATS"]
