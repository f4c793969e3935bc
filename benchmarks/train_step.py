"""Training steps (forward + backward + AdamW step), minigrad vs PyTorch eager, CPU: a sweep.

    python benchmarks/train_step.py [--quick] [--models NAME ...] [--threads 1 2] [--out DIR] [--isa avx2]
    python benchmarks/train_step.py --profile gpt [--threads 2] [--quick]

Every model of ``benchmarks/train_models.py`` (MLPs, CNNs, LSTMs, transformer encoder layers,
a small GPT), float32, at each thread count, in two settings:

* **alone**: fresh processes, one library each; the other library never runs a kernel in
  them (minigrad's processes do not import PyTorch). Each library runs in ``--processes``
  processes (3 by default), alternating minigrad, PyTorch, minigrad, ...; the result is the
  median over its processes, and the report gives their range;
* **paired**: one process, minigrad and PyTorch steps timed in alternating rounds.

Why both: PyTorch brings its own copy of GNU OpenMP (``torch/lib/libgomp.so.1``) and Numba
loads the system's, so a paired process has two thread pools, and each pool's workers spin for
a while after every parallel loop, on the cores the other pool wants next. ``alone`` is what
a user of either library gets; ``paired`` is the cost of the two in one process.

Why several processes: on the virtual machine this was written on, the same step timed in
fresh processes one after another varies by up to 1.5x for *both* libraries (6 processes
each, 2 threads: PyTorch's char_lstm step 5.8-8.4 ms, minigrad's 6.2-8.7 ms; lstm64 3.7-5.1
and 3.0-5.1 ms), more than within one process. One process per library made the ratio a
draw from that spread; the median of alternating processes shares the machine's slow spells
between the libraries.

Same numbers everywhere: the weights are made once (by PyTorch's initialisation, or
minigrad's without PyTorch), saved, and loaded by every process; inputs come from seeded
generators. The report lists the first-step loss of every run.

``n`` threads means ``NUMBA_NUM_THREADS``, ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and
``MKL_NUM_THREADS`` set to ``n`` and ``torch.set_num_threads(n)`` in the worker, with
``MINIGRAD_THREADS=fixed``: minigrad's kernels use the ``n`` threads however busy the machine
is, instead of leaving busy cores to other processes (``kernels/_cpu_load.py``). The report
also says how busy other processes kept the machine during the run.

Timing: per model and process, a warm-up, then 5 rounds of 10 steps (each round after a
0.1 s pause), the libraries' rounds alternating when paired; the result is the median over
rounds of each round's median.

Results: ``<out>/<machine>/train_step.{json,md,png}``, where ``<machine>`` names the CPU model,
vector width and core count (e.g. ``cpu-amd-epyc-avx512-2core``); ``--quick`` (tiny models,
one round of one step: a smoke test in seconds) writes ``train_step-quick.*`` instead.

``--profile MODEL`` times one model's step per minigrad op type (forward and backward, see
``benchmarks/_op_profile.py``) beside ``torch.profiler``'s table for the same step, in one
process, and writes ``profile-MODEL.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))          # for _timing and train_models, run as a script

import _results  # noqa: E402
import _timing  # noqa: E402
import train_models  # noqa: E402

LIBRARIES = ("minigrad", "torch")
LABEL = {"minigrad": "minigrad", "torch": "PyTorch"}


# ---------------------------------------------------------------------------------------------
# One worker process: some models, one or both libraries, one thread count
# ---------------------------------------------------------------------------------------------

def thread_env(threads: int) -> dict:
    """The environment of a worker that runs ``threads`` threads (see the module docstring)."""
    env = dict(os.environ)
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env["MINIGRAD_THREADS"] = "fixed"
    return env


def import_library(name, threads):
    if name == "minigrad":
        import minigrad
        return minigrad
    import torch
    torch.set_num_threads(threads)
    return torch


def time_interleaved(steps, repeats, rounds, settle_s, warmup):
    """Median seconds per step of each of ``steps``, timed in alternating rounds.

    A shared machine's speed drifts over seconds: timing one library for a while and then the
    other would credit the drift to whichever ran in the quiet period; alternating rounds
    spread it over both. Each round starts with a pause, so that one library's spinning
    workers do not eat into the other's round."""
    times = [[] for _ in steps]
    for _ in range(rounds):
        for step, out in zip(steps, times):
            out.append(_timing.measure(step, _timing.HostClock(), repeats=repeats,
                                       warmup=warmup, settle_s=settle_s).median_s)
    return [float(np.median(t)) for t in times]


def worker(libs, threads, models, weights_dir, quick):
    """Time ``models`` with ``libs``; one JSON line per (model, library) on stdout."""
    modules = {name: import_library(name, threads) for name in libs}
    timing = (dict(repeats=1, rounds=1, settle_s=0.0, warmup=1) if quick
              else dict(repeats=10, rounds=5, settle_s=0.1, warmup=2))
    for model in models:
        arrays = dict(np.load(os.path.join(weights_dir, f"{model}.npz")))
        steps = {}
        for name, lib in modules.items():
            bench = train_models.build(lib, model, quick)
            train_models.load_weights(lib, bench.model, arrays)
            steps[name] = train_models.make_step(lib, bench)
        losses = {name: float(step().item()) for name, step in steps.items()}
        seconds = time_interleaved(list(steps.values()), **timing)
        for (name, s) in zip(steps, seconds):
            print("RESULT " + json.dumps({"model": model, "lib": name, "threads": threads,
                                          "mode": "paired" if len(libs) > 1 else "alone",
                                          "ms": s * 1e3, "loss": losses[name]}), flush=True)


# ---------------------------------------------------------------------------------------------
# The sweep: reference weights, then one worker per (setting, thread count)
# ---------------------------------------------------------------------------------------------

def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def save_reference_weights(models, quick, folder, use_torch):
    """Each model's initial weights, made once and saved for every worker to load."""
    if use_torch:
        import torch as lib
        lib.manual_seed(0)
    else:
        import minigrad as lib
        lib.manual_seed(0)
    for model in models:
        bench = train_models.build(lib, model, quick)
        np.savez(os.path.join(folder, f"{model}.npz"), **train_models.weights(bench.model))


def workers(threads_list, use_torch, processes):
    """(libraries, threads, process number) of every worker process of the sweep."""
    libs_alone = LIBRARIES if use_torch else ("minigrad",)
    for threads in threads_list:
        for process in range(processes):
            for lib in libs_alone:
                yield (lib,), threads, process
        if use_torch:
            yield LIBRARIES, threads, 0


def run_worker(libs, threads, models, weights_dir, quick, process=0):
    command = [sys.executable, __file__, "--worker", "--libs", *libs, "--threads", str(threads),
               "--models", *models, "--weights", weights_dir] + (["--quick"] if quick else [])
    print(f"# {' + '.join(libs)}, {threads} thread(s)", flush=True)
    proc = subprocess.run(command, env=thread_env(threads), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {libs} at {threads} threads failed:\n{proc.stderr[-4000:]}")
    rows = [dict(json.loads(line[len("RESULT "):]), process=process)
            for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    for r in rows:
        print(f"  {r['model']:18s} {LABEL[r['lib']]:8s} {r['mode']:6s} {r['ms']:9.2f} ms/step",
              flush=True)
    return rows


def sweep(models, threads_list, quick, processes):
    use_torch = torch_available()
    rows = []
    with tempfile.TemporaryDirectory(prefix="minigrad-train-step-") as weights_dir, \
            _timing.BackgroundLoad() as load:
        save_reference_weights(models, quick, weights_dir, use_torch)
        for libs, threads, process in workers(threads_list, use_torch, processes):
            rows += run_worker(libs, threads, models, weights_dir, quick, process)
    return rows, load, use_torch


# ---------------------------------------------------------------------------------------------
# Report: JSON, Markdown, plot
# ---------------------------------------------------------------------------------------------

def lookup(rows):
    """(model, library, threads, mode) -> {"ms": median over the processes, "min", "max",
    "processes"}."""
    runs = {}
    for r in rows:
        runs.setdefault((r["model"], r["lib"], r["threads"], r["mode"]), []).append(r["ms"])
    return {key: {"ms": float(np.median(ms)), "min": min(ms), "max": max(ms),
                  "processes": len(ms)} for key, ms in runs.items()}


def _ms(table, *key):
    r = table.get(key)
    return None if r is None else r["ms"]


def _with_range(table, *key) -> str:
    """A median, and the range of the processes behind it when there were several."""
    r = table.get(key)
    if r is None or r["processes"] == 1:
        return _timing.ratio_cell(None if r is None else r["ms"])
    return f"{r['ms']:.2f} ({r['min']:.2f}–{r['max']:.2f})"


def _ratio(a, b):
    return None if a is None or b is None else a / b


def markdown(rows, models, threads_list, versions, load, quick, processes):
    table = lookup(rows)
    out = ["# Training steps: minigrad vs PyTorch eager (CPU)", ""]
    for threads in threads_list:
        out += [f"## {threads} thread{'s' if threads > 1 else ''}", "",
                "| model | minigrad alone | PyTorch alone | minigrad / PyTorch alone | "
                "minigrad paired | PyTorch paired | minigrad / PyTorch paired | "
                "paired / alone (minigrad, PyTorch) |",
                "|---|---|---|---|---|---|---|---|"]
        for m in models:
            ma, ta = _ms(table, m, "minigrad", threads, "alone"), _ms(table, m, "torch", threads,
                                                                       "alone")
            mp, tp = _ms(table, m, "minigrad", threads, "paired"), _ms(table, m, "torch",
                                                                        threads, "paired")
            cell = _timing.ratio_cell
            out.append(f"| {m} | {_with_range(table, m, 'minigrad', threads, 'alone')} | "
                       f"{_with_range(table, m, 'torch', threads, 'alone')} | "
                       f"{cell(_ratio(ma, ta), 2, 'x')} | "
                       f"{cell(mp)} | {cell(tp)} | {cell(_ratio(mp, tp), 2, 'x')} | "
                       f"{cell(_ratio(mp, ma), 2, 'x')}, {cell(_ratio(tp, ta), 2, 'x')} |")
        out.append("")
    out += ["## First-step losses (same weights and data in every run)", "",
            "| model | minigrad | PyTorch | largest difference between any two runs |",
            "|---|---|---|---|"]
    for m in models:
        losses = {lib: sorted({round(r["loss"], 6) for r in rows
                               if r["model"] == m and r["lib"] == lib}) for lib in LIBRARIES}
        every = [r["loss"] for r in rows if r["model"] == m]
        spread = max(every) - min(every) if every else float("nan")
        out.append(f"| {m} | {', '.join(f'{v:.6f}' for v in losses['minigrad']) or '—'} | "
                   f"{', '.join(f'{v:.6f}' for v in losses['torch']) or '—'} | {spread:.1e} |")
    timing = ("tiny models (--quick), 1 step after 1 warm-up: a smoke test, not a measurement"
              if quick else "milliseconds per step: median over 5 rounds of each round's median "
              "of 10 steps, after 2 warm-up steps")
    out += ["", f"float32; forward + loss + backward + AdamW step (lr 1e-3, weight decay 0.01); "
            f"{timing}. alone: {processes} fresh process{'es' if processes > 1 else ''} per "
            f"library, alternating between the libraries; the median over them, and their range "
            f"in brackets; paired: both libraries in one process, rounds alternating. Machine {_timing.machine_name()} ({_timing.cpu_description()}); "
            f"{versions}; {load.describe()}.", ""]
    return "\n".join(out)


def plot(rows, models, threads_list, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    table = lookup(rows)
    fig, axes = plt.subplots(2, len(threads_list), figsize=(7 * len(threads_list), 8),
                             squeeze=False)
    x = np.arange(len(models))
    series = [("minigrad", "alone"), ("torch", "alone"), ("minigrad", "paired"),
              ("torch", "paired")]
    for col, threads in enumerate(threads_list):
        top, bottom = axes[0, col], axes[1, col]
        for i, (lib, mode) in enumerate(series):
            ms = [_ms(table, m, lib, threads, mode) for m in models]
            top.bar(x + (i - 1.5) * 0.2, [v or np.nan for v in ms], 0.2,
                    label=f"{LABEL[lib]} {mode}", hatch="//" if mode == "paired" else None)
        top.set_yscale("log")
        top.set_ylabel("ms per training step")
        top.set_title(f"{threads} thread{'s' if threads > 1 else ''}")
        for i, mode in enumerate(("alone", "paired")):
            ratios = [_ratio(_ms(table, m, "minigrad", threads, mode),
                             _ms(table, m, "torch", threads, mode)) for m in models]
            bottom.bar(x + (i - 0.5) * 0.35, [r or np.nan for r in ratios], 0.35, label=mode)
        bottom.axhline(1.0, color="black", linewidth=0.8)
        bottom.set_yscale("log")                # 2x slower and 2x faster equally far from 1
        bottom.set_ylabel("minigrad time / PyTorch time")
        for ax in (top, bottom):
            ax.set_xticks(x, models, rotation=40, ha="right")
            ax.legend(fontsize=8)
    fig.suptitle(f"Training step, minigrad vs PyTorch eager ({_timing.machine_name()})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def versions(use_torch) -> str:
    import numba
    text = (f"NumPy {np.__version__} ({_timing.blas_description()}), "
            f"Numba {numba.__version__}")
    if use_torch:
        import torch
        text += f", PyTorch {torch.__version__}"
    return text


def write_results(rows, models, threads_list, load, use_torch, quick, out_root, processes):
    text = versions(use_torch)
    data = {"machine": _timing.machine_name(), "cpu": _timing.cpu_description(),
            "emulated_isa": os.environ.get(_timing.EMULATED_ISA_VAR), "versions": text,
            "quick": quick, "processes_alone": processes, "other_processes_cores": load.cores,
            "rows": rows}
    report = markdown(rows, models, threads_list, text, load, quick, processes)
    stem = _results.write(out_root, "train_step", data, report, quick=quick, indent=2)
    plot(rows, models, threads_list, f"{stem}.png")
    return stem


def _at_least_one(text: str) -> int:
    """--processes: a whole number of processes, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes, 1 or more; "
                                         f"got {text!r}")
    return value


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny models, one step: a smoke test")
    p.add_argument("--models", nargs="+", default=train_models.NAMES,
                   choices=train_models.NAMES)
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--out", default=str(HERE / "results"))
    p.add_argument("--processes", type=_at_least_one, default=None,
                   help="fresh processes per library in the 'alone' setting (default 3; "
                        "1 with --quick)")
    p.add_argument("--profile", metavar="MODEL", choices=train_models.NAMES,
                   help="per-op profile of one model's step instead of the sweep")
    p.add_argument("--isa", choices=sorted(_timing.ISA_ENV),
                   help="emulate a CPU with only this instruction set (Numba, NumPy's OpenBLAS "
                        "and PyTorch all told so); results go to <machine>-as-<isa>")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--libs", nargs="+", choices=LIBRARIES, help=argparse.SUPPRESS)
    p.add_argument("--weights", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    _timing.run_as_isa(args.isa)          # restarts the script with the ISA's variables set
    if args.worker:
        worker(args.libs, args.threads[0], args.models, args.weights, args.quick)
    elif args.profile:
        os.environ.update(thread_env(args.threads[-1]))    # before Numba or PyTorch loads
        import _op_profile
        _op_profile.main(args.profile, args.threads[-1], args.quick, args.out)
    else:
        processes = args.processes or (1 if args.quick else 3)
        rows, load, use_torch = sweep(args.models, args.threads, args.quick, processes)
        stem = write_results(rows, args.models, args.threads, load, use_torch, args.quick,
                             args.out, processes)
        print(f"{load.describe()}\nwrote {stem}.md, .json, .png")


if __name__ == "__main__":
    main()
