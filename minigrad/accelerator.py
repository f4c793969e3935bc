"""``mg.accelerator``: PyTorch's device-agnostic queries. minigrad's only accelerator is a
CUDA GPU reached through CuPy, so these answer from ``mg.cuda``."""

from __future__ import annotations

from . import backend


def is_available() -> bool:
    return backend.cuda_is_available()


def current_accelerator(check_available: bool = False):
    """``mg.device("cuda")`` when a usable GPU is present, else None (PyTorch's answer on a
    machine without one)."""
    return backend.Device("cuda") if backend.cuda_is_available() else None


def device_count() -> int:
    return backend.cuda_device_count()
