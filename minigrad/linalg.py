"""``mg.linalg``: PyTorch's ``torch.linalg`` names (the ops live in ``ops/linalg.py``)."""

from .ops.linalg import (  # noqa: F401
    det,
    inv,
    matrix_norm,
    norm,
    slogdet,
    solve,
    svd,
    svdvals,
    vector_norm,
)
