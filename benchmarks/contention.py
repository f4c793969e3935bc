"""A training step beside a busy process: how much slower than on a quiet machine?

    python benchmarks/contention.py [--models NAME ...] [--variants NAME ...] [--busy python]
                                    [--competitors 1] [--quick] [--out DIR]

For each model of ``benchmarks/train_models.py`` it times minigrad's training step in
alternating rounds: *quiet* (nothing started by the script), then *loaded*, with
``--competitors`` busy processes started beside it (not pinned to any core) and given
``LEAD_S`` seconds to be seen, then stopped. The ratio loaded / quiet is the result; the
target is at most 2.5x.

Competitors (``--busy``): ``python``, a Python loop that keeps one core busy (another user's
script); ``numpy``, a loop of 512 x 512 matrix products on OpenBLAS's threads (another
numerical job, as many threads as cores).

Variants (``--variants``) are settings a worker process starts with, so that the remedies can
be compared on any machine:

* ``adaptive``: minigrad's default; parallel kernels leave the cores other processes keep
  busy to them, and run their serial build when one core or none is free
  (``kernels/_cpu_load.py``);
* ``fixed``: ``MINIGRAD_THREADS=fixed``, every parallel kernel on all of Numba's threads;
* ``passive``: ``fixed`` plus ``OMP_WAIT_POLICY=passive`` (OpenMP workers sleep at once
  instead of spinning after each loop);
* ``one_thread``: ``NUMBA_NUM_THREADS=1``;
* ``torch``: PyTorch's own step, default settings, for reference.

The machine this runs on is rarely idle: the report says how many cores other processes kept
busy during the quiet rounds, so a "quiet" time taken on a busy machine is labelled as such.
Results: ``<out>/<machine>/contention.{json,md}`` (``--quick``: ``contention-quick.*``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))          # for _timing and train_models, run as a script

import _results  # noqa: E402
import _timing  # noqa: E402
import train_models  # noqa: E402

TARGET = 2.5
LEAD_S = 0.6          # a competitor runs this long before the loaded round, and the quiet
                      # round waits as long after it: kernels/_cpu_load.py measures 0.25 s
                      # windows, so its answer then describes the round's own conditions

VARIANTS = {
    "adaptive": {},
    "fixed": {"MINIGRAD_THREADS": "fixed"},
    "passive": {"MINIGRAD_THREADS": "fixed", "OMP_WAIT_POLICY": "passive"},
    "one_thread": {"NUMBA_NUM_THREADS": "1"},
    "torch": {},
}

BUSY = {
    "python": "while True: pass",
    "numpy": ("import numpy as np\na = np.random.default_rng(0).random((512, 512))\n"
              "while True: a @ a"),
}


# ---------------------------------------------------------------------------------------------
# Worker: one variant, every model
# ---------------------------------------------------------------------------------------------

class Competitors:
    """``with Competitors(kind, n):`` ``n`` busy processes run inside the block."""

    def __init__(self, kind, n):
        self.code, self.n = BUSY[kind], n

    def __enter__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", self.code],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                      for _ in range(self.n)]
        time.sleep(LEAD_S)
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()


def median_step_s(step, steps):
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def time_model(step, busy, competitors, rounds, steps):
    """Median step time quiet and loaded (medians over rounds), and the background load
    (cores other processes used) during the quiet rounds."""
    quiet, loaded, background = [], [], []
    for _ in range(rounds):
        time.sleep(LEAD_S)                 # long enough for the monitor to see it gone
        with _timing.BackgroundLoad() as load:
            quiet.append(median_step_s(step, steps))
        background.append(load.cores)
        with Competitors(busy, competitors):
            loaded.append(median_step_s(step, steps))
    known = [b for b in background if b is not None]
    return (float(np.median(quiet)), float(np.median(loaded)),
            float(np.mean(known)) if known else None)


def worker(variant, models, busy, competitors, quick):
    lib = _timing.torch_or_none() if variant == "torch" else __import__("minigrad")
    rounds, steps = (1, 2) if quick else (3, 7)
    for model in models:
        lib.manual_seed(0)
        step = train_models.make_step(lib, train_models.build(lib, model, quick))
        for _ in range(3):
            step()                         # compile, allocate
        quiet_s, loaded_s, background = time_model(step, busy, competitors, rounds, steps)
        print("RESULT " + json.dumps({
            "model": model, "variant": variant, "quiet_ms": quiet_s * 1e3,
            "loaded_ms": loaded_s * 1e3, "ratio": loaded_s / quiet_s,
            "background_cores": background}), flush=True)


# ---------------------------------------------------------------------------------------------
# The run: one worker per variant
# ---------------------------------------------------------------------------------------------

def run_variant(variant, args):
    env = dict(os.environ)
    for var in ("MINIGRAD_THREADS", "OMP_WAIT_POLICY", "NUMBA_NUM_THREADS"):
        env.pop(var, None)                 # each variant says exactly what it sets
    env.update(VARIANTS[variant])
    command = [sys.executable, __file__, "--worker", variant, "--models", *args.models,
               "--busy", args.busy, "--competitors", str(args.competitors)]
    print(f"# {variant}", flush=True)
    proc = subprocess.run(command + (["--quick"] if args.quick else []), env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"variant {variant} failed:\n{proc.stderr[-4000:]}")
    rows = [json.loads(line[len("RESULT "):]) for line in proc.stdout.splitlines()
            if line.startswith("RESULT ")]
    for r in rows:
        print(f"  {r['model']:18s} quiet {r['quiet_ms']:9.2f} ms  loaded {r['loaded_ms']:9.2f} ms"
              f"  {r['ratio']:6.2f}x", flush=True)
    return rows


def markdown(rows, args):
    competitor = f"{args.competitors} busy process{'es' if args.competitors > 1 else ''} " \
                 f"({args.busy}: {BUSY[args.busy].splitlines()[-1]})"
    out = ["# A training step beside a busy process", "",
           f"Quiet: nothing started by the script. Loaded: {competitor} started "
           f"{LEAD_S} s before the round. Target: loaded within {TARGET}x of quiet.", "",
           "| model | variant | quiet ms/step | loaded ms/step | loaded / quiet | "
           "other processes' cores during quiet rounds |", "|---|---|---|---|---|---|"]
    for r in rows:
        mark = "" if r["ratio"] <= TARGET else " (over target)"
        out.append(f"| {r['model']} | {r['variant']} | {r['quiet_ms']:.2f} | "
                   f"{r['loaded_ms']:.2f} | {r['ratio']:.2f}x{mark} | "
                   f"{_timing.ratio_cell(r['background_cores'])} |")
    busiest = max((r["background_cores"] or 0.0 for r in rows), default=0.0)
    quiet = busiest < 0.1
    out += ["", f"float32 training steps (forward, loss, backward, AdamW); medians over "
            f"{'1 round of 2' if args.quick else '3 rounds of 7'} steps each way. Machine "
            f"{_timing.machine_name()} ({_timing.cpu_description()}). "
            + ("The machine was quiet otherwise." if quiet else
               f"NOT a quiet machine: other processes kept up to {busiest:.2f} cores busy "
               "during the quiet rounds, so 'quiet' times are slower than on an idle machine "
               "and the ratios smaller."), ""]
    return "\n".join(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=train_models.NAMES,
                   choices=train_models.NAMES)
    p.add_argument("--variants", nargs="+", default=["adaptive", "fixed", "torch"],
                   choices=list(VARIANTS))
    p.add_argument("--busy", default="python", choices=list(BUSY))
    p.add_argument("--competitors", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="tiny models, 1 round: a smoke test")
    p.add_argument("--out", default=str(HERE / "results"))
    p.add_argument("--worker", choices=list(VARIANTS), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args.worker, args.models, args.busy, args.competitors, args.quick)
        return
    has_torch = importlib.util.find_spec("torch") is not None
    variants = [v for v in args.variants if v != "torch" or has_torch]
    rows = [r for v in variants for r in run_variant(v, args)]
    rows.sort(key=lambda r: (args.models.index(r["model"]), variants.index(r["variant"])))
    text = markdown(rows, args)
    _results.write(args.out, "contention",
                   {"machine": _timing.machine_name(), "cpu": _timing.cpu_description(),
                    "busy": args.busy, "competitors": args.competitors, "rows": rows},
                   text, quick=args.quick, indent=2)
    print(text)


if __name__ == "__main__":
    main()
