"""Fixtures for the kernel tests (plain helpers live in kernel_testing.py)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def kernel_rng():
    return np.random.default_rng(20240601)


@pytest.fixture(autouse=True)
def threads_by_size_only(monkeypatch):
    """Parallel kernels use every Numba thread, however busy the machine is: which build
    runs (serial or parallel) depends on the input sizes alone, as the tests expect. (By
    default the cores other processes keep busy are left to them: kernels/_cpu_load.py.)"""
    from minigrad.kernels import _cpu_load, _threads
    monkeypatch.setattr(_threads, "_load", _cpu_load.LoadMonitor(read_busy=lambda cpus: None))
