"""The parent side of the kernel fuzz: run cases in a child process (kernel_child.py),
survive its crashes, and judge every outcome.

A crash or a hang of the child is blamed on the call it had announced in its progress file;
the child then restarts after that case, so one crash never hides the cases behind it.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys

import numpy as np

from .errors import clear_error_problem
from .harness import TOLERANCES, CaseFailure, torch

CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernel_child.py")
IMPLS = ("numpy", "numba")


def run_cases(cases, workdir, timeout=240):
    """{index: {impl: outcome}} and {index: crash description} for ``cases``."""
    paths = {name: os.path.join(workdir, name) for name in ("cases", "results", "progress")}
    with open(paths["cases"], "wb") as f:
        pickle.dump(cases, f)
    open(paths["results"], "wb").close()
    crashes, start = {}, 0
    while start < len(cases):
        command = [sys.executable, CHILD, paths["cases"], paths["results"], paths["progress"],
                   str(start)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            index, impl = _last_call(paths["progress"], start)
            crashes[index] = f"hang: no answer within {timeout} s ({impl})"
            start = index + 1
            continue
        if done.returncode == 0:
            break
        index, impl = _last_call(paths["progress"], start)
        how = (f"signal {signal.Signals(-done.returncode).name}" if done.returncode < 0
               else f"exit status {done.returncode}")
        crashes[index] = f"crash: the child died ({how}) in impl={impl}: " \
                         f"{done.stderr.strip()[-600:]}"
        start = index + 1
    outcomes = {}
    with open(paths["results"], "rb") as f:
        while True:
            try:
                index, impl, outcome = pickle.load(f)
            except EOFError:
                break
            outcomes.setdefault(index, {})[impl] = outcome
    return outcomes, crashes


def _last_call(progress_path, start):
    try:
        with open(progress_path) as f:
            index, impl = f.read().split()
        return max(int(index), start), impl
    except (OSError, ValueError):
        return start, "?"


# ---------------------------------------------------------------------------------------------
# Judging
# ---------------------------------------------------------------------------------------------

def judge(case, outcomes, crash):
    """Every failure of one case (a list of CaseFailure, empty when the property holds)."""
    if crash is not None:
        return [CaseFailure("crash" if crash.startswith("crash") else "hang", case, crash)]
    failures = []
    for impl, (status, value) in outcomes.items():
        if status == "warning":
            failures.append(CaseFailure("warning", case, f"impl={impl}: NumPy warned: {value}"))
        elif status == "error":
            problem = clear_error_problem(value, case.error_names)
            if problem is not None:
                failures.append(CaseFailure("unclear-error", case,
                                            f"impl={impl}: {value}\n    ({problem})"))
    statuses = {impl: status for impl, (status, _) in outcomes.items()}
    if failures or set(statuses.values()) == {"error"}:
        return failures
    if set(statuses.values()) != {"ok"}:
        return [CaseFailure("impl-mismatch", case, f"implementations disagree: {statuses}")]
    results = {impl: value for impl, (_, value) in outcomes.items()}
    failures += _contract(case, results)
    failures += _agreement(case, results)
    if not failures and torch is not None:
        failures += _against_reference(case, results["numpy"])
    return failures


def _inputs_dtype(case):
    args, _ = case.build()
    return next((a.dtype for a in args if isinstance(a, np.ndarray) and a.dtype.kind == "f"),
                None)


def _contract(case, results):
    """Outputs are new C-contiguous arrays; float outputs have the inputs' dtype."""
    dtype = _inputs_dtype(case)
    for impl, outputs in results.items():
        for i, (array, contiguous) in enumerate(outputs):
            if not isinstance(array, np.ndarray):
                return [CaseFailure("mismatch", case, f"impl={impl}: output {i} is a "
                                                      f"{type(array).__name__}")]
            if not contiguous:
                return [CaseFailure("mismatch", case, f"impl={impl}: output {i} is not "
                                                      "C-contiguous")]
            if array.dtype.kind == "f" and dtype is not None and array.dtype != dtype:
                return [CaseFailure("mismatch", case, f"impl={impl}: output {i} is "
                                                      f"{array.dtype}, inputs {dtype}")]
    return []


def _close(actual, expected):
    if actual.shape != expected.shape:
        return f"shape {actual.shape} vs {expected.shape}"
    if actual.dtype.kind != "f":
        return None if np.array_equal(actual, expected) else "values differ"
    rtol, atol = TOLERANCES[actual.dtype]
    scale = max(1.0, float(np.nanmax(np.abs(expected), initial=0)))
    if not np.allclose(actual, expected, rtol=rtol, atol=atol * scale, equal_nan=True):
        worst = float(np.nanmax(np.abs(actual.astype(np.float64) - expected)))
        return f"values differ (largest difference {worst:.3g})"
    return None


def _agreement(case, results):
    """Every implementation computes the same outputs."""
    reference = results["numpy"]
    for impl, outputs in results.items():
        if len(outputs) != len(reference):
            return [CaseFailure("impl-mismatch", case, f"{impl}: {len(outputs)} outputs, "
                                                       f"numpy {len(reference)}")]
        for i, ((a, _), (b, _)) in enumerate(zip(outputs, reference)):
            problem = _close(a, b) if a.dtype == b.dtype else f"dtype {a.dtype} vs {b.dtype}"
            if problem:
                return [CaseFailure("impl-mismatch", case, f"output {i}: {impl} vs numpy: "
                                                           f"{problem}")]
    return []


def _against_reference(case, outputs):
    """The forward kernels and the convolution's gradients against PyTorch."""
    reference = _torch_reference(case)
    if reference is None:
        return []
    for i, expected in enumerate(reference):
        problem = _close(outputs[i][0], expected.astype(outputs[i][0].dtype))
        if problem:
            return [CaseFailure("mismatch", case, f"output {i} vs PyTorch: {problem}")]
    return []


def _torch_reference(case):
    F = torch.nn.functional
    args, kw = case.build()
    t = [torch.from_numpy(a.copy(order="C")) if isinstance(a, np.ndarray) else a
         for a in args]
    name = case.function
    try:
        if name in ("matmul", "matmul_by"):
            return [(t[0] @ t[1]).numpy()]
        if name in ("softmax", "log_softmax"):
            return [getattr(torch, name)(t[0], kw["axis"]).numpy()]
        if name == "relu":
            return [torch.relu(t[0]).numpy()]
        if name == "conv2d":
            return [F.conv2d(t[0], t[1], **kw).numpy()]
        if name == "conv2d_backward_input":
            return [torch.nn.grad.conv2d_input(t[2], t[1], t[0], **kw).numpy()]
        if name == "conv2d_backward_weight":
            return [torch.nn.grad.conv2d_weight(t[0], t[2], t[1], **kw).numpy()]
        if name == "max_pool2d":
            y, idx = F.max_pool2d(t[0], return_indices=True, **kw)
            return [y.numpy(), idx.numpy()]
    except (RuntimeError, TypeError, ValueError):
        return None                         # PyTorch refuses a case minigrad accepts
    return None
