"""Per-op overhead of two versions of minigrad, A/B, in alternating processes.

    python benchmarks/overhead_ab.py SRC_A SRC_B [--rounds 7]

Each ``SRC`` is a folder holding a ``minigrad`` package (a checkout, or
``git archive <commit> minigrad | tar -x -C SRC``). Every round runs one fresh process per
version, A then B then the next round B then A, so a change in the machine's load hits both.
A process times the chains of ``overhead.py`` (200 ops on 4x4 tensors, then one backward)
and two small training steps (an MLP and an LSTM cell, forward + backward + Adam), and reports
per-op (per-step) wall and CPU microseconds, the fastest of 7 samples (on a shared machine
the minimum is the sample least disturbed by other processes). The table is the median over
rounds of those and the ratio B / A. Nothing is written to ``benchmarks/results``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CHAIN = 200


def _worker():
    """Runs in the child: time each case, print one JSON line."""
    import numpy as np

    import minigrad as mg

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
        "sum(dim)+add": lambda x: x.sum(1, keepdim=True) * 0.25 + x,
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
    out = {}
    for name, (fn, per) in cases.items():
        for _ in range(3):
            fn()
        walls, cpus = [], []
        for _ in range(7):
            n = 5 if per > 1 else 50
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(n):
                fn()
            walls.append((time.perf_counter() - w0) / n / per * 1e6)
            cpus.append((time.process_time() - c0) / n / per * 1e6)
        out[name] = (min(walls), min(cpus))      # the least disturbed sample of each
    print(json.dumps(out))


def _run(src):
    env = dict(os.environ, PYTHONPATH=os.path.abspath(src),
               MINIGRAD_CACHE_DIR=tempfile.mkdtemp(prefix="minigrad-ab-cache-"))
    proc = subprocess.run([sys.executable, __file__, "--worker"], env=env, cwd=src,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src", nargs="*")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--worker", action="store_true")
    args = p.parse_args()
    if args.worker:
        return _worker()
    a, b = args.src
    results = {a: [], b: []}
    for r in range(args.rounds):
        for src in ((a, b) if r % 2 == 0 else (b, a)):
            results[src].append(_run(src))
    names = list(results[a][0])
    print(f"A = {a}, B = {b}, median of {args.rounds} rounds (µs per op, per step for the "
          "training steps)\n")
    print("| case | A wall µs | B wall µs | B/A wall | A CPU µs | B CPU µs | B/A CPU |\n"
          "|---|---|---|---|---|---|---|")
    for name in names:
        med = {s: [statistics.median(run[name][k] for run in results[s]) for k in (0, 1)]
               for s in (a, b)}
        print(f"| {name} | {med[a][0]:.1f} | {med[b][0]:.1f} | {med[b][0] / med[a][0]:.2f} | "
              f"{med[a][1]:.1f} | {med[b][1]:.1f} | {med[b][1] / med[a][1]:.2f} |")


if __name__ == "__main__":
    main()
