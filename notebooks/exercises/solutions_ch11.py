"""Reference solutions for the exercises of Chapter 11. Try them yourself first."""

import math

import numpy as np


# Exercise 1: the intersection runs from the larger top-left corner to the smaller
# bottom-right one; when they cross, the width or height is negative and the clamp makes it 0
def iou(box_a, box_b):
    ax1, ay1, ax2, ay2 = box_a
    bx1, by1, bx2, by2 = box_b
    width = max(0.0, min(ax2, bx2) - max(ax1, bx1))
    height = max(0.0, min(ay2, by2) - max(ay1, by1))
    inter = width * height
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    return inter / union


# Exercise 2: walk down the boxes best first; a box survives unless a box already kept
# overlaps it by more than the threshold
def nms_by_hand(boxes, scores, iou_threshold):
    order = sorted(range(len(boxes)), key=lambda i: (-scores[i], i))
    keep = []
    for i in order:
        if all(iou(boxes[i], boxes[k]) <= iou_threshold for k in keep):
            keep.append(i)
    return keep


# Exercise 3: at each recall level, the best precision from that recall on
def ap_11_point(precision, recall):
    precision, recall = np.asarray(precision), np.asarray(recall)
    total = 0.0
    for r in np.linspace(0, 1, 11):
        reached = recall >= r - 1e-12           # 0.1 * 3 is 0.30000000000000004
        total += precision[reached].max() if reached.any() else 0.0
    return total / 11


# Exercise 4: the centre is the cell's corner plus a sigmoid offset, in cells, times the
# stride; the size is the prior scaled by exp
def decode_cell(t, row, col, stride, prior):
    tx, ty, tw, th = t
    sigmoid = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    cx, cy = (col + sigmoid(tx)) * stride, (row + sigmoid(ty)) * stride
    w, h = prior * math.exp(tw), prior * math.exp(th)
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
