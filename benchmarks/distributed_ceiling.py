"""What two processes on one machine cost each other, before any communication.

    python benchmarks/distributed_ceiling.py [--rounds 5] [--seconds 0.25] [--quick] [--out DIR]

Data-parallel scaling is bounded by the compute itself: when two ranks computing side by side
each run slower than one process alone, no bucketing or overlap can win that back. This script
measures that slowdown on loops whose only difference is where their data lives, so the cause
can be named:

* ``fma registers``: eight independent chains of fused multiply-adds on scalars: no memory
  traffic at all. If this slows when both processes run, the two CPUs are not two cores (SMT
  siblings sharing one core's units, or a hypervisor that time-slices them);
* ``fma L1``: multiply-adds over a 16 KB array (the L1 data cache);
* ``triad L2``: ``a = b + s * c`` over three arrays of 480 KB in all (the core's own L2);
* ``triad L3``: the same over 9.6 MB per process (both processes' arrays fit the shared 32 MB
  L3 together, but they share it);
* ``triad L3 full``: 19.2 MB per process: one process's arrays fit the L3, two processes'
  do not (the MLP's weights and gradients are 21 MB; the CNN's largest im2col-sized
  buffers are of that order too);
* ``triad DRAM``: the same over 192 MB per process: memory bandwidth, shared by both;
* ``mlp step`` and ``cnn step``: forward + backward + SGD step of the two models of
  ``benchmarks/distributed.py`` (no communication: a plain model, not DDP).

Every loop runs in worker processes (one thread in each thread pool, the same kernel choices:
the second worker reads the first one's) in four modes, in
turn, round after round (so a slow phase of a shared machine hits them all): ``alone`` (one
worker runs, the other waits), ``together`` (both run the same loop at the same moment), each
unpinned (the OS places the workers) and ``pinned`` (worker i bound to CPU i with
``os.sched_setaffinity``). For each, the median over the rounds of the time per repetition,
wall and CPU (``time.process_time``); the ratio together / alone is the slowdown, and its
inverse the scaling ceiling for that kind of work.
Results: ``<out>/<machine>/distributed-ceiling.{json,md}``.
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _results  # noqa: E402
import _timing  # noqa: E402

LOOPS = ["fma registers", "fma L1", "triad L2", "triad L3", "triad L3 full", "triad DRAM",
         "mlp step", "cnn step"]
MODES = ["alone", "together", "alone pinned", "together pinned"]
TRIAD_ELEMENTS = {"triad L2": 20_000, "triad L3": 400_000, "triad L3 full": 800_000,
                  "triad DRAM": 8_000_000}
QUICK_TRIAD_ELEMENTS = {"triad L2": 2_000, "triad L3": 20_000, "triad L3 full": 40_000,
                        "triad DRAM": 200_000}


# -- the loops -----------------------------------------------------------------------------------
@numba.njit(fastmath=True, cache=True)
def fma_registers(n):
    """n x 10 000 rounds of eight independent multiply-add chains on scalars (registers)."""
    a0, a1, a2, a3, a4, a5, a6, a7 = 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7
    x, y = 0.999999, 1e-7
    for _ in range(n * 10_000):
        a0 = a0 * x + y
        a1 = a1 * x + y
        a2 = a2 * x + y
        a3 = a3 * x + y
        a4 = a4 * x + y
        a5 = a5 * x + y
        a6 = a6 * x + y
        a7 = a7 * x + y
    return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7


@numba.njit(fastmath=True, cache=True)
def fma_array(a, n):
    """n x 50 passes of a multiply-add over every element of ``a``."""
    for _ in range(n * 50):
        for i in range(a.size):
            a[i] = a[i] * 0.999999 + 1e-7
    return a[0]


@numba.njit(fastmath=True, cache=True)
def triad(a, b, c, n):
    """n passes of a = b + 0.5 c: two arrays read, one written."""
    for _ in range(n):
        for i in range(a.size):
            a[i] = b[i] + 0.5 * c[i]
    return a[0]


def make_loops(quick):
    """name -> a function of a repetition count that runs the loop that many times."""
    loops = {"fma registers": fma_registers}
    l1 = np.ones(2048)                                           # 16 KB
    loops["fma L1"] = lambda n: fma_array(l1, n)
    for name, size in (QUICK_TRIAD_ELEMENTS if quick else TRIAD_ELEMENTS).items():
        arrays = np.zeros(size), np.ones(size), np.ones(size)
        loops[name] = functools.partial(triad, *arrays)
    loops.update(model_steps(quick))
    return loops


def model_steps(quick):
    """The compute of benchmarks/distributed.py's two models, without DDP."""
    from distributed import MODELS, QUICK_MODELS, build

    import minigrad as mg
    steps = {}
    for name, spec in (QUICK_MODELS if quick else MODELS).items():
        model = build(mg, name, spec["sizes"], spec["shape"])
        opt = mg.optim.SGD(model.parameters(), lr=1e-3)
        rng = np.random.default_rng(0)
        x = mg.tensor(rng.standard_normal((spec["batch"],) + tuple(spec["shape"]),
                                          dtype=np.float32))
        y = mg.tensor(rng.integers(0, spec["sizes"][2], spec["batch"]))
        loss_fn = mg.nn.CrossEntropyLoss()

        def step(n, model=model, opt=opt, x=x, y=y, loss_fn=loss_fn):
            for _ in range(n):
                opt.zero_grad()
                loss_fn(model(x), y).backward()
                opt.step()
        steps[f"{name} step"] = step
    return steps


def worker(index, quick, conn):
    """Runs loops on request: ("run", name, reps, cpu or None, start time) -> (wall, cpu)."""
    all_cpus = os.sched_getaffinity(0)
    if index == 0:
        # the first worker's kernel choices are saved whatever the load, and the second
        # worker, started after it, reads them: both run the same kernels
        from distributed import keep_choices_whatever_the_load
        keep_choices_whatever_the_load()
    loops = make_loops(quick)
    for loop in loops.values():          # compile, allocate, let the autotuner decide
        loop(1)
        loop(1)
    conn.send("ready")
    while True:
        message = conn.recv()
        if message[0] == "stop":
            return
        _, name, reps, cpu, start_at = message
        os.sched_setaffinity(0, all_cpus if cpu is None else {cpu})
        while time.perf_counter() < start_at:       # CLOCK_MONOTONIC: the same in both
            pass
        wall, cpu_time = time.perf_counter(), time.process_time()
        loops[name](reps)
        conn.send((time.perf_counter() - wall, time.process_time() - cpu_time))


class Workers:
    def __init__(self, count, quick):
        ctx = multiprocessing.get_context("spawn")
        self.conns, self.procs = [], []
        for index in range(count):       # one after the other: see worker()
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker, args=(index, quick, child), daemon=True)
            proc.start()
            self.conns.append(parent)
            self.procs.append(proc)
            assert parent.recv() == "ready"

    def run(self, name, reps, workers, pinned):
        """Start ``name`` in the first ``workers`` workers at the same moment: each one's
        (wall, cpu) seconds per repetition."""
        start_at = time.perf_counter() + 0.02
        for i in range(workers):
            self.conns[i].send(("run", name, reps, i if pinned else None, start_at))
        return [tuple(t / reps for t in self.conns[i].recv()) for i in range(workers)]

    def stop(self):
        for conn in self.conns:
            conn.send(("stop",))
        for proc in self.procs:
            proc.join()


def calibrate(workers, name, seconds):
    reps = 1
    while True:
        wall = workers.run(name, reps, 1, False)[0][0] * reps
        if wall >= seconds / 4 or reps >= 1 << 20:
            return max(1, round(reps * seconds / max(wall, 1e-9)))
        reps *= 4


def measure(quick, rounds, seconds):
    from minigrad.distributed.run import thread_environment
    os.environ.update(thread_environment(1, os.environ))   # one thread a pool, as for a rank
    if not os.environ.get("MINIGRAD_CACHE_DIR"):            # kernel choices of this run only
        os.environ["MINIGRAD_CACHE_DIR"] = tempfile.mkdtemp(prefix="minigrad-ceiling-choices-")
    workers = Workers(2, quick)
    try:
        reps = {name: calibrate(workers, name, seconds) for name in LOOPS}
        samples = {(name, mode): [] for name in LOOPS for mode in MODES}
        for _ in range(rounds):
            for name in LOOPS:
                for mode in MODES:
                    count = 2 if mode.startswith("together") else 1
                    per_worker = workers.run(name, reps[name], count, "pinned" in mode)
                    wall = max(t[0] for t in per_worker)       # as slow as the slowest
                    cpu = statistics.mean(t[1] for t in per_worker)
                    samples[name, mode].append((wall, cpu))
    finally:
        workers.stop()
    return {name: {mode: {"wall_s": statistics.median(w for w, _ in samples[name, mode]),
                          "cpu_s": statistics.median(c for _, c in samples[name, mode]),
                          "walls_s": [w for w, _ in samples[name, mode]]}
                   for mode in MODES} | {"reps": reps[name]}
            for name in LOOPS}


def report(found, load, rounds):
    lines = ["# Two processes on one machine (benchmarks/distributed_ceiling.py)", "",
             f"Machine: {_timing.cpu_description()}; CPUs: {os.cpu_count()}; load average "
             f"before/after: {load[0]:.1f} / {load[1]:.1f} (other processes were running if "
             "these exceed 0).",
             f"Median of {rounds} rounds, modes taking turns; one thread per process. Time per "
             "repetition of each loop, wall (CPU) microseconds; `together`: both processes run "
             "it at once (the slower one's wall time, the mean CPU time); `pinned`: worker i "
             "bound to CPU i. slowdown = together / alone; ceiling = its inverse, the "
             "best data-parallel efficiency that kind of work allows on two processes.", "",
             "| loop | alone us | together us | slowdown (cpu) | alone pinned us | "
             "together pinned us | slowdown pinned (cpu) | ceiling (pinned) |",
             "|---|---|---|---|---|---|---|---|"]
    for name in LOOPS:
        r = found[name]
        cell = functools.partial(_cell, r)
        slow = functools.partial(_slowdown, r)
        lines.append(
            f"| {name} | {cell('alone')} | {cell('together')} | "
            f"{slow('alone', 'together', 'wall_s'):.2f} "
            f"({slow('alone', 'together', 'cpu_s'):.2f}) | {cell('alone pinned')} | "
            f"{cell('together pinned')} | "
            f"{slow('alone pinned', 'together pinned', 'wall_s'):.2f} "
            f"({slow('alone pinned', 'together pinned', 'cpu_s'):.2f}) | "
            f"{1 / slow('alone', 'together', 'wall_s'):.2f} "
            f"({1 / slow('alone pinned', 'together pinned', 'wall_s'):.2f}) |")
    return "\n".join(lines + [""] + verdict(found)) + "\n"


def verdict(found):
    """What the table says, in a few lines: registers, memory, the models."""
    def cpu_slowdown(name):
        return _slowdown(found[name], "alone", "together", "cpu_s")

    def wall_slowdown(name):
        return _slowdown(found[name], "alone", "together", "wall_s")

    memory = max(("triad L3", "triad L3 full", "triad DRAM"), key=cpu_slowdown)
    models = ", ".join(f"{name} {wall_slowdown(name):.2f} (cpu {cpu_slowdown(name):.2f}, "
                       f"ceiling {1 / wall_slowdown(name):.2f})"
                       for name in ("mlp step", "cnn step"))
    return [
        f"Registers: together / alone {cpu_slowdown('fma registers'):.2f} in CPU time. Above "
        "about 1.05 the two CPUs slow each other with no memory traffic at all (a clock that "
        "drops when both run, or two SMT threads of one core); at 1.00 they are two cores.",
        f"Memory: the largest CPU-time slowdown of the L3, L3-sized and DRAM loops is "
        f"{cpu_slowdown(memory):.2f} ({memory}): what sharing the L3 and the memory bandwidth "
        "costs.",
        f"Model steps, together / alone in wall time: {models}. These slowdowns bound "
        "data-parallel efficiency on two processes from above, whatever the communication.",
        "Wall and CPU slowdowns differ when other processes took turns on the cores: then "
        "only the CPU-time column is the loops' own. All of this needs the other core idle "
        "in the alone rounds (a load average near 0 before the run): on a busy machine "
        "'alone' means other programs on the other core, and a cost that any work there "
        "causes (SMT, a lower clock) shows in both modes and cancels.",
    ]


def _cell(r, mode):
    return f"{r[mode]['wall_s'] * 1e6:.1f} ({r[mode]['cpu_s'] * 1e6:.1f})"


def _slowdown(r, alone, together, key):
    return r[together][key] / r[alone][key]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.25,
                        help="about how long one run of a loop takes")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round")
    parser.add_argument("--out", default=str(HERE / "results"))
    opts = parser.parse_args()
    rounds, seconds = (1, 0.01) if opts.quick else (opts.rounds, opts.seconds)
    load_before = os.getloadavg()[0]
    found = measure(opts.quick, rounds, seconds)
    load = (load_before, os.getloadavg()[0])
    text = report(found, load, rounds)
    _results.write(opts.out, "distributed-ceiling", {"rounds": rounds, "seconds": seconds,
                                                     "load_average": load, "loops": found},
                   text, quick=opts.quick)
    print(text)


if __name__ == "__main__":
    main()
