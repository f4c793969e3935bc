"""Whole PyTorch programs, run unmodified with real PyTorch and with minigrad standing in.

Each program in this folder is written for PyTorch (``import torch`` at the top). It runs in
a subprocess twice: once as is (skipped when PyTorch is not installed) and once with
``shim/`` first on the path, where ``torch`` is a package that only re-exports minigrad. The
minigrad run must finish and meet the bar stated next to each program.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SHIM = HERE / "shim"
ROOT = HERE.parent.parent


class MissingInMinigrad(Exception):
    """The program stopped on a known gap in minigrad (its expected error text)."""


def run_program(name: str, use_minigrad: bool) -> dict[str, str]:
    """Run tests/programs/<name>, return its ``key value`` output lines as a dict."""
    # one thread: PyTorch's thread pool only slows these small programs on a shared machine
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if use_minigrad:
        env["PYTHONWARNINGS"] = "error::UserWarning"    # minigrad should not warn here
    # the program's own folder comes first on sys.path; the shim (or nothing) next
    paths = [str(SHIM)] if use_minigrad else []
    env["PYTHONPATH"] = os.pathsep.join(paths + [str(ROOT)])
    done = subprocess.run([sys.executable, str(HERE / name)], env=env, cwd=HERE,
                          capture_output=True, text=True, timeout=120)
    gap = MINIGRAD_GAPS.get(name) if use_minigrad else None
    if done.returncode != 0 and gap is not None and gap[1] in done.stderr:
        raise MissingInMinigrad(gap[0])
    assert done.returncode == 0, (
        f"{name} ({'minigrad' if use_minigrad else 'torch'}) exited {done.returncode}\n"
        f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    values = {}
    for line in done.stdout.splitlines():
        key, _, value = line.partition(" ")
        values[key] = value
    return values


def assert_classifier(out):
    assert float(out["final_loss"]) < float(out["first_loss"]) / 4
    assert float(out["test_accuracy"]) > 0.9
    assert out["reload_matches"] == "True"


def assert_char_gpt(out):
    # a uniform guess over ~30 characters is about 3.4; 100 steps get well below 2.2
    assert float(out["initial_val_loss"]) > 3.0
    assert float(out["final_val_loss"]) < 2.2


def assert_custom_function(out):
    assert out["gradcheck"] == "True" and out["grad_matches"] == "True"
    assert float(out["final_loss"]) < float(out["first_loss"]) / 10


def assert_scalar_autograd(out):
    assert out["all_checks_passed"] == "True"


PROGRAMS = {
    "classifier_training.py": assert_classifier,
    "char_gpt.py": assert_char_gpt,
    "custom_function.py": assert_custom_function,
    "scalar_autograd.py": assert_scalar_autograd,
}

# what minigrad lacks for a program: (reason, the text of the error it stops with)
MINIGRAD_GAPS: dict[str, tuple[str, str]] = {}


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_runs_with_pytorch(name):
    if importlib.util.find_spec("torch") is None:
        pytest.skip("PyTorch is not installed")
    PROGRAMS[name](run_program(name, use_minigrad=False))


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(reason=MINIGRAD_GAPS[n][0], strict=True,
                                            raises=MissingInMinigrad))
    if n in MINIGRAD_GAPS else n
    for n in PROGRAMS
])
def test_program_runs_with_minigrad(name):
    PROGRAMS[name](run_program(name, use_minigrad=True))


def test_shim_reaches_torch_autograd_function():
    """``from torch.autograd.function import once_differentiable`` (a common PyTorch import)
    finds minigrad's module itself, not a second copy of it."""
    code = ("import minigrad, torch.autograd.function as f\n"
            "from torch.autograd.function import Function, once_differentiable\n"
            "assert f is minigrad.autograd.function and Function is minigrad.autograd.Function\n"
            "assert once_differentiable is minigrad.autograd.function.once_differentiable\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SHIM), str(ROOT)]))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
