"""Shared test settings: hypothesis profiles, a seeded random generator, and no kernel
autotuning.

The kernels' CPU choice between NumPy and Numba is timed on first use by default
(kernels/autotune.py); a choice that depends on how fast the machine was at that moment
would make the tests non-deterministic, so they run with ``MINIGRAD_AUTOTUNE=0`` (the
default rule) unless the variable is set. Set here, at import, so that the subprocesses
tests start (notebooks, isolated kernel calls) inherit it. The autotuner's own tests turn
it on, with a fake clock and a temporary cache folder.
"""

from __future__ import annotations

import os

os.environ.setdefault("MINIGRAD_AUTOTUNE", "0")

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# CI runs on 2 cores: enough examples to find broadcasting/indexing bugs, no deadline flakiness.
settings.register_profile("default", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=400, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
