"""``minigrad.vision.ops``: torchvision.ops's bounding-box utilities (``boxes.py``)."""

from .boxes import (
    BOX_FORMATS,
    batched_nms,
    box_area,
    box_convert,
    box_iou,
    generalized_box_iou,
    generalized_box_iou_loss,
    nms,
)

__all__ = ["box_area", "box_convert", "box_iou", "generalized_box_iou",
           "generalized_box_iou_loss", "nms", "batched_nms", "BOX_FORMATS"]
