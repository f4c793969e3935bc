"""``mg.linalg``: PyTorch's ``torch.linalg`` names (the ops live in ``ops/linalg.py``)."""

from .ops.linalg import matrix_norm, norm, svd, svdvals, vector_norm  # noqa: F401
