"""Per-op overhead of two versions of minigrad, A/B, interleaved in one process.

    python benchmarks/overhead_ab.py SRC_A SRC_B [--rounds 15]

Each ``SRC`` is a folder holding a ``minigrad`` package (e.g. ``git archive <commit> minigrad |
tar -x -C SRC``), with a ``kernels`` folder inside the package to time other kernels than this
checkout's (which are used otherwise). Both are copied under new names (``minigrad_ab0``, ``minigrad_ab1``) and imported
side by side, so every case runs A, B, B, A, ... in one process: a change in the machine's load
hits both versions alike (on a shared machine, separate processes differ more from each other
than the versions do). Each case is the chains of ``overhead.py`` (200 ops on 4x4 tensors,
then one backward), 200 multiplications under ``no_grad``, and two small training steps (an
MLP and an LSTM cell, forward + backward + Adam). A sample is the wall and CPU microseconds
per op (per step for the training steps); each round keeps the fastest of 3 samples per
version, and the table gives the median over rounds and the ratio B / A of the medians.
Nothing is written to ``benchmarks/results``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

CHAIN = 200


def _cases(mg):
    """name -> (step, ops per step) for the minigrad module ``mg``."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = mg.tensor(rng.uniform(0.5, 1.5, (4, 4)).astype(np.float32))
    m = mg.tensor((np.eye(4) * 0.5).astype(np.float32))
    x0 = mg.tensor(np.full((4, 4), 0.3, np.float32), requires_grad=True)
    chains = {
        "add": lambda x: x + a,
        "mul": lambda x: x * a,
        "tanh": lambda x: x.tanh(),
        "relu": lambda x: x.relu(),
        "matmul": lambda x: x @ m,
        "x - sum(dim)/4": lambda x: x - x.sum(1, keepdim=True) * 0.25,
    }

    def chain_step(op):
        def step():
            x = x0
            for _ in range(CHAIN):
                x = op(x)
            x.sum().backward()
            x0.grad = None
        return step, CHAIN

    def no_grad_step():
        with mg.no_grad():
            x = x0
            for _ in range(CHAIN):
                x = x * a
        return x

    mg.manual_seed(0)
    mlp = mg.nn.Sequential(mg.nn.Linear(8, 16), mg.nn.ReLU(), mg.nn.Linear(16, 4))
    opt = mg.optim.Adam(mlp.parameters(), lr=1e-3)
    xb, yb = mg.randn(5, 8), mg.tensor([0, 1, 2, 3, 1])

    def mlp_step():
        opt.zero_grad()
        mg.nn.functional.cross_entropy(mlp(xb), yb).backward()
        opt.step()

    cell = mg.nn.LSTMCell(6, 8)
    opt2 = mg.optim.Adam(cell.parameters(), lr=1e-3)
    seq = mg.randn(10, 3, 6)

    def lstm_step():
        opt2.zero_grad()
        h = c = mg.zeros(3, 8)
        for t in range(seq.shape[0]):
            h, c = cell(seq[t], (h, c))
        h.sum().backward()
        opt2.step()

    cases = {name: chain_step(op) for name, op in chains.items()}
    cases["mul, no_grad"] = (no_grad_step, CHAIN)
    cases["mlp step"] = (mlp_step, 1)
    cases["lstm step (10)"] = (lstm_step, 1)
    return cases


def _import_as(src, name, into):
    """Copy ``src/minigrad`` to ``into/name`` (with this checkout's kernels if it has none)
    and import it under that name."""
    target = Path(into) / name
    shutil.copytree(Path(src) / "minigrad", target,
                    ignore=shutil.ignore_patterns("__pycache__"))
    if not (target / "kernels").exists():
        shutil.copytree(Path(__file__).resolve().parent.parent / "kernels", target / "kernels",
                        ignore=shutil.ignore_patterns("__pycache__"))
    for py in target.rglob("*.py"):             # the few absolute imports of the package
        text = py.read_text()
        renamed = re.sub(r"^(\s*)(import|from) minigrad\b", rf"\1\2 {name}", text,
                         flags=re.MULTILINE)
        if renamed != text:
            py.write_text(renamed)
    return importlib.import_module(name)


def _sample(fn, per):
    n = 5 if per > 1 else 50
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn()
    return (time.perf_counter() - w0) / n / per * 1e6, (time.process_time() - c0) / n / per * 1e6


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src", nargs=2)
    p.add_argument("--rounds", type=int, default=15)
    args = p.parse_args()
    os.environ.setdefault("MINIGRAD_CACHE_DIR", tempfile.mkdtemp(prefix="minigrad-ab-cache-"))
    into = tempfile.mkdtemp(prefix="minigrad-ab-")
    sys.path.insert(0, into)
    versions = [_import_as(src, f"minigrad_ab{i}", into) for i, src in enumerate(args.src)]
    cases = [_cases(mg) for mg in versions]
    names = list(cases[0])
    samples = {(v, name): [] for v in (0, 1) for name in names}
    for name in names:
        for v in (0, 1):
            for _ in range(3):              # warm-up: compilation, caches, autotuning
                cases[v][name][0]()
    for r in range(args.rounds):
        for name in names:
            for v in ((0, 1) if r % 2 == 0 else (1, 0)):
                fn, per = cases[v][name]
                best = min((_sample(fn, per) for _ in range(3)), key=lambda s: s[1])
                samples[(v, name)].append(best)
    a, b = args.src
    print(f"A = {a}, B = {b}: median over {args.rounds} interleaved rounds of the fastest of "
          "3 samples (µs per op; per step for the training steps)\n")
    print("| case | A wall µs | B wall µs | B/A wall | A CPU µs | B CPU µs | B/A CPU |\n"
          "|---|---|---|---|---|---|---|")
    for name in names:
        med = [[statistics.median(s[k] for s in samples[(v, name)]) for k in (0, 1)]
               for v in (0, 1)]
        print(f"| {name} | {med[0][0]:.1f} | {med[1][0]:.1f} | {med[1][0] / med[0][0]:.2f} | "
              f"{med[0][1]:.1f} | {med[1][1]:.1f} | {med[1][1] / med[0][1]:.2f} |")
    shutil.rmtree(into, ignore_errors=True)


if __name__ == "__main__":
    main()
