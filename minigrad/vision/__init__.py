"""Computer-vision helpers, as in torchvision: ``minigrad.vision.ops`` holds the bounding-box
utilities (``box_iou``, ``nms``, ...) under torchvision's names.

    from minigrad.vision.ops import box_iou, nms

Nothing in minigrad imports this package; it sits at the level of ``nn`` (it uses Tensors and
ops only) and is there for user code and the chapter notebooks.
"""

from . import ops

__all__ = ["ops"]
