"""``mg.cuda``: is a GPU usable? (Detected through CuPy, never through numba.cuda.)"""

from .backend import cuda_device_count, cuda_is_available


def is_available() -> bool:
    return cuda_is_available()


def device_count() -> int:
    return cuda_device_count()


def synchronize():
    """Wait for the GPU to finish queued work (needed before timing GPU code)."""
    if cuda_is_available():
        from .backend import _cupy
        _cupy().cuda.Device().synchronize()
