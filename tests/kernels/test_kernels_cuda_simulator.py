"""Make a plain `pytest` run exercise the CUDA kernels, with or without a GPU.

Numba reads NUMBA_ENABLE_CUDASIM once, when it is first imported, and by the time this file
runs other tests have long imported Numba for the CPU kernels. Setting the variable here would
do nothing (or, done earlier in a conftest, would put every other test in this process into
the simulator). So we run test_kernels_cuda.py in a fresh Python process with the simulator on.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from minigrad.kernels import _device

CUDA_TESTS = Path(__file__).with_name("test_kernels_cuda.py")


def test_cuda_kernels_pass_in_the_simulator():
    if _device.cuda_simulator_enabled():
        pytest.skip("the simulator is on in this process: test_kernels_cuda.py runs in-process")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(CUDA_TESTS)],
        env=env, cwd=CUDA_TESTS.parent, capture_output=True, text=True, timeout=600,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    passed = re.search(r"(\d+) passed", report)
    assert passed and int(passed.group(1)) >= 20, f"too few CUDA tests ran:\n{report}"
    # only the realistic-size tests may be skipped (they need a real GPU)
    for line in report.splitlines():
        if line.startswith("SKIPPED"):
            assert "needs a real CUDA GPU" in line, f"unexpected skip:\n{report}"
