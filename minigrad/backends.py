"""``mg.backends``: PyTorch's "is this backend here?" queries, answered truthfully for minigrad.

Device-selection boilerplate from PyTorch programs runs unchanged::

    if mg.cuda.is_available():
        device = "cuda"
    elif mg.backends.mps.is_available():
        device = "mps"
    else:
        device = "cpu"

minigrad computes on NumPy (CPU) or CuPy (CUDA GPUs) only, so Apple's MPS, cuDNN and oneDNN
(mkldnn) are never available here. The switches programs set (``cudnn.benchmark = True``,
``cudnn.deterministic = True``) are accepted and have no effect: minigrad's kernels choose
their own implementation (``mg.kernels``) and are deterministic on the CPU.
"""

from __future__ import annotations

from . import backend


class _Backend:
    """One backend's queries; attributes such as ``benchmark`` may be set freely."""

    def __init__(self, name: str, available, **switches):
        self._name, self._available = name, available
        self.__dict__.update(switches)

    def is_available(self) -> bool:
        return bool(self._available())

    def is_built(self) -> bool:
        return self.is_available()

    def __repr__(self):
        return f"<mg.backends.{self._name}: available={self.is_available()}>"


def _never() -> bool:
    return False


def _openmp() -> bool:
    """Whether Numba's OpenMP threading layer can load (minigrad's CPU kernels use it)."""
    try:
        import numba.np.ufunc.omppool  # noqa: F401
        return True
    except ImportError:
        return False


mps = _Backend("mps", _never)
cuda = _Backend("cuda", backend.cuda_is_available)
cudnn = _Backend("cudnn", _never, enabled=True, benchmark=False, deterministic=False,
                 allow_tf32=True)
mkldnn = _Backend("mkldnn", _never, enabled=True)
openmp = _Backend("openmp", _openmp)

__all__ = ["mps", "cuda", "cudnn", "mkldnn", "openmp"]
