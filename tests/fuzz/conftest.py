"""A time limit for each fuzz test (see __init__.py for what the suite checks): a hang fails
the test with a traceback instead of stalling the run."""

from __future__ import annotations

import signal

import pytest

SECONDS_PER_TEST = 300


@pytest.fixture(autouse=True)
def _time_limit():
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def hang(signum, frame):
        raise TimeoutError(f"fuzz test still running after {SECONDS_PER_TEST} s: a hang?")
    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(SECONDS_PER_TEST)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
