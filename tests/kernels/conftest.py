"""Fixtures for the kernel tests (plain helpers live in kernel_testing.py)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def kernel_rng():
    return np.random.default_rng(20240601)
