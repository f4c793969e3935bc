"""Data-parallel scaling: one process against two, and where the time of a step goes.

    python benchmarks/distributed.py [--models mlp cnn] [--nprocs 1 2] [--quick] [--out DIR]
                                     [--progress-thread] [--mpi-env NAME=VALUE ...]
                                     [--bind-to default|core] [--autotune on|off]
                                     [--choices cache|measure] [--sync-kernel-choices on|off]

The script starts itself under mpiexec (``python -m minigrad.distributed.run -n P``, one
Numba and one BLAS thread per process, so P processes use P cores) once per process count and
collects what rank 0 measured. Two models, each rank on its own batch (weak scaling: the
global batch grows with P):

* ``mlp``: matrix products with a 512 x 1024 and two 1024 x 1024 weights, 2.6 M parameters,
  10.5 MB of float32 gradients for about 10 ms of compute: communication is a large share;
* ``cnn``: three 3 x 3 convolutions on 32 x 32 images (two max-pools) and one linear layer,
  70 K parameters, 0.28 MB of gradients for about 20 ms of compute: a compute-bound model,
  where communication is a small share.

Measured, as the median over ``ROUNDS`` rounds of ``REPEATS`` steps each after ``WARMUP``
(a barrier before each step so the ranks start together; every round runs every variant in
turn, so a slow phase of a shared machine hits them all alike):

* ``compute``: forward + backward + SGD step under ``no_sync()`` (no communication at all),
  and the CPU time the process got during it per second of wall time (``cpu share``: 1.0
  when it had its core to itself, less when other processes took turns on it). Compute with
  P processes over compute with one bounds the efficiency from above (the ``ceiling``): the
  ranks share memory bandwidth and caches, whatever the communication does. Two more
  compute rows, in the same rounds: ``compute pinned`` (each rank bound to a CPU of its own
  for the step) and, with P > 1, ``compute rank 0 alone`` (rank 0 computes while the others
  sleep): its ratio to ``compute`` is what running side by side costs, measured within one
  run instead of across two runs minutes apart;
* ``step``: the full DDP step, for bucket sizes ``BUCKETS_MB``, with the all-reduces
  overlapping backward or with ``overlap=False`` (all-reduces after backward), and with
  ``gradient_as_bucket_view`` off (``zero_grad()``: PyTorch's default, set_to_none) or on
  (``zero_grad(set_to_none=False)``, which keeps the views: no copy in or out);
* ``allreduce``: one blocking all-reduce of all the gradients in one flat buffer, alone: the
  communication's own cost, and the bandwidth it reaches (bytes / time);
* efficiency = throughput(P) / (P x throughput(1)), samples per second; with the same
  rows per rank that is time(1 process) / time(P processes), the best one-process step
  against this step; 1.0 is perfect scaling.

``exposed communication`` = step - compute: the part of the communication that overlap did
not hide. ``--progress-thread`` adds, in every rank, a Python thread that drives MPI's
progress engine, sleeping ``PROGRESS_INTERVAL_S`` between calls (MPICH moves the data of a
non-blocking collective only inside MPI calls); ``--mpi-env`` passes MPICH settings
(``MPIR_CVAR_*``) to the ranks. Both are recorded in the results. ``--bind-to core`` binds
every rank to a core for the whole run (the launcher's option). The numbers depend on the
cores being free: the report records the load average before and after.

Kernel choices: both runs share one autotuner cache (a new temporary folder unless
``MINIGRAD_CACHE_DIR`` is set). The one-process run saves its choices whatever the load, and
the ranks of the next run read them, so no rank measures kernels while the others compute
(choices measured then differ between ranks: one rank's slower choice makes every step wait
for it) and both runs run the same kernels; the report says where each run's choices came
from and how many differ between ranks. ``--autotune off`` runs the default rule everywhere
(``MINIGRAD_AUTOTUNE=0``). ``--choices measure`` gives every run an empty cache of its own
instead, so the ranks measure their kernels themselves, side by side, as in a first run on a
new machine; DDP then makes them run rank 0's choices (``--sync-kernel-choices off``: each
keeps its own, to measure what agreeing buys). The cost of DDP's per-step check for new
choices (an 8-byte broadcast) is measured on its own (``kernel-choice check``).
Results: ``<out>/<machine>/distributed.{json,md}`` (``--quick``: ``distributed-quick.*``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _ranks  # noqa: E402
import _results  # noqa: E402
import _timing  # noqa: E402

WARMUP, REPEATS, ROUNDS = 3, 5, 3
BUCKETS_MB = [0.25, 1, 4, 25]
PROGRESS_INTERVAL_S = 50e-6
MODELS = {    # rows per rank, input shape per row, model sizes
    "mlp": dict(batch=64, shape=(512,), sizes=(512, 1024, 10)),
    "cnn": dict(batch=16, shape=(3, 32, 32), sizes=(32, 64, 10)),
}
QUICK_MODELS = {
    "mlp": dict(batch=128, shape=(32,), sizes=(32, 64, 10)),   # big enough to autotune
    "cnn": dict(batch=2, shape=(3, 8, 8), sizes=(4, 4, 10)),
}
QUICK = dict(warmup=1, repeats=1, rounds=2, buckets=[0.01, 25])
FULL = dict(warmup=WARMUP, repeats=REPEATS, rounds=ROUNDS, buckets=BUCKETS_MB)


# -- what every rank runs -------------------------------------------------------------------
def build(mg, name, sizes, shape, seed=0):
    """The MLP (in -> hidden -> hidden -> hidden -> out) or the CNN (``sizes`` = channels of
    the first two convolutions, channels of the third, classes)."""
    mg.manual_seed(seed)
    nn = mg.nn
    if name == "mlp":
        n_in, hidden, n_out = sizes
        return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                             nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                             nn.Linear(hidden, n_out))
    c1, c2, n_out = sizes
    channels, height, width = shape
    return nn.Sequential(nn.Conv2d(channels, c1, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(c1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(c2 * (height // 4) * (width // 4), n_out))


def time_rounds(dist, steps, warmup, repeats, rounds, rank0_only=()):
    """For every ``steps[name]()``: the median wall seconds and the median CPU seconds over
    ``rounds`` x ``repeats`` calls, and the CPU time per wall second it got. The steps take
    turns, round after round; before each call a barrier starts the ranks together, and rank
    0 gets the slowest rank's times (a step is as slow as its slowest rank), or its own for
    the steps named in ``rank0_only``."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    walls = {name: [] for name in steps}
    cpus = {name: [] for name in steps}
    share = dict.fromkeys(steps, 0.0)
    for _ in range(rounds):
        for name, step in steps.items():
            for _ in range(repeats):
                dist.barrier()
                start, start_cpu = time.perf_counter(), time.process_time()
                step()
                t = np.array([time.perf_counter() - start, time.process_time() - start_cpu])
                share[name] += t[1] / t[0] / (rounds * repeats)
                own = t.copy()
                dist.all_reduce(_tensor(t), op=dist.ReduceOp.MAX)
                if name in rank0_only:
                    t = own
                walls[name].append(float(t[0]))
                cpus[name].append(float(t[1]))
    return {name: (statistics.median(walls[name]), statistics.median(cpus[name]), share[name])
            for name in steps}


def _tensor(array):
    import minigrad as mg
    return mg.from_numpy(array)


class ProgressThread:
    """A thread that calls into MPI, sleeping ``interval`` seconds between calls, so that MPICH
    moves the data of the collectives in flight while the main thread computes. It tests a
    receive that never matches (from this rank to itself on a communicator of its own): every
    MPI_Test runs the progress engine, and the thread touches no request of the main
    thread's."""

    TAG = 99

    def __init__(self, interval):
        from mpi4py import MPI
        self.MPI, self.interval = MPI, interval
        self.comm = MPI.COMM_WORLD.Dup()
        self.rank = self.comm.Get_rank()
        self.never = self.comm.Irecv(np.empty(1), source=self.rank, tag=self.TAG)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self):
        while not self.stopping.is_set():
            self.never.Test()
            time.sleep(self.interval)

    def stop(self):
        self.stopping.set()
        self.thread.join()
        self.comm.Send(np.empty(1), dest=self.rank, tag=self.TAG)    # completes the receive
        self.never.Wait()
        self.comm.Free()


def measure_model(mg, dist, cfg, name, spec, rank):
    rng = np.random.default_rng(rank)
    x = mg.tensor(rng.standard_normal((spec["batch"],) + tuple(spec["shape"]),
                                      dtype=np.float32))
    y = mg.tensor(rng.integers(0, spec["sizes"][2], spec["batch"]))
    loss_fn = mg.nn.CrossEntropyLoss()

    def make_step(model, opt, sync=True, set_to_none=True):
        def step():
            opt.zero_grad(set_to_none=set_to_none)
            if sync:
                loss_fn(model(x), y).backward()
            else:
                with model.no_sync():
                    loss_fn(model(x), y).backward()
            opt.step()
        return step

    def ddp(**kwargs):
        model = mg.nn.parallel.DistributedDataParallel(
            build(mg, name, spec["sizes"], spec["shape"]),
            sync_kernel_choices=cfg["sync_kernel_choices"] == "on", **kwargs)
        return model, mg.optim.SGD(model.parameters(), lr=1e-3)

    model, opt = ddp()
    steps = {"compute": make_step(model, opt, sync=False)}
    steps["compute pinned"] = pinned(steps["compute"], rank)
    if dist.get_world_size() > 1:
        steps["compute rank 0 alone"] = rank0_alone(dist, steps["compute"], rank)
    grads = sum(p.array.size for p in model.parameters())
    flat = np.zeros(grads, dtype=np.float32)
    steps["allreduce"] = lambda: dist.all_reduce(_tensor(flat))
    variants = {}
    for cap in cfg["buckets"]:
        for overlap in (True, False):
            for view in (False, True):
                model, opt = ddp(bucket_cap_mb=cap, overlap=overlap,
                                 gradient_as_bucket_view=view)
                key = f"step {cap} {overlap} {view}"
                steps[key] = make_step(model, opt, set_to_none=not view)
                variants[key] = {"bucket_mb": cap, "overlap": overlap, "grad_view": view,
                                 "buckets": len(model._buckets)}
    found = time_rounds(dist, steps, cfg["warmup"], cfg["repeats"], cfg["rounds"],
                        rank0_only={"compute rank 0 alone"})
    result = {"model": name, "world": dist.get_world_size(), "spec": spec,
              "grad_bytes": flat.nbytes, "compute_s": found["compute"][0],
              "compute_cpu_s": found["compute"][1], "compute_cpu_share": found["compute"][2],
              "allreduce_s": found["allreduce"][0], "allreduce_cpu_s": found["allreduce"][1],
              "compute_pinned_s": found["compute pinned"][0],
              "compute_pinned_cpu_s": found["compute pinned"][1], "steps": []}
    if "compute rank 0 alone" in found:
        result["compute_rank0_alone_s"], result["compute_rank0_alone_cpu_s"] = \
            found["compute rank 0 alone"][:2]
    for key, variant in variants.items():
        wall, cpu, cpu_share = found[key]
        result["steps"].append(dict(variant, step_s=wall, step_cpu_s=cpu, cpu_share=cpu_share))
    return result


def pinned(step, rank):
    """``step`` run with this rank bound to CPU ``rank`` (modulo the CPUs it may use), the
    process's own CPUs restored after it: binding compared with no binding in the same run."""
    allowed = sorted(os.sched_getaffinity(0))
    core = allowed[rank % len(allowed)]

    def step_pinned():
        os.sched_setaffinity(0, {core})
        try:
            step()
        finally:
            os.sched_setaffinity(0, allowed)
    return step_pinned


def rank0_alone(dist, step, rank):
    """``step`` on rank 0 while the other ranks sleep through it: one rank's compute with
    the other cores idle, in the same processes and rounds as all ranks computing at once
    (so what sets the two apart is only the other ranks' work). The sleep lasts twice the
    slowest rank's step, measured here after two warm-up calls."""
    for _ in range(2):
        step()
    start = time.perf_counter()
    step()
    longest = np.array([time.perf_counter() - start])
    dist.all_reduce(_tensor(longest), op=dist.ReduceOp.MAX)
    idle_s = 2 * float(longest[0]) + 0.005

    def step_rank0_alone():
        if rank == 0:
            step()
        else:
            time.sleep(idle_s)
    return step_rank0_alone


def keep_choices_whatever_the_load():
    """Let the one-process run save its kernel choices even when other processes keep the
    machine busy (the autotuner keeps a choice measured then for its own process only), so
    that the ranks of the next run read them instead of measuring while the other ranks
    compute: every run then runs the same kernels, and no rank's choice differs from
    another's."""
    from minigrad.kernels import autotune
    autotune.machine_is_busy = lambda: False


def kernel_choices(dist):
    """Where this run's kernel choices came from (counts by source, rank 0's) and the
    shape classes whose choice differs between ranks."""
    from minigrad import kernels
    mine = {f"{op}: {cls}": (choice.impl, choice.source)
            for op, classes in kernels.choices().items() for cls, choice in classes.items()}
    everyone = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, mine)
    sources = {}
    for _, source in mine.values():
        sources[source] = sources.get(source, 0) + 1
    differ = sorted(key for key in set().union(*everyone)
                    if len({ranks.get(key, (None,))[0] for ranks in everyone}) > 1)
    return {"sources": sources, "differ_between_ranks": differ}


def kernel_choice_check(dist, model, calls=200):
    """Median seconds of DDP's per-step check for new kernel choices when there are none
    (rank 0's decision count broadcast, compared): ``calls`` calls after a barrier."""
    times = []
    dist.barrier()
    for _ in range(calls):
        start = time.perf_counter()
        model._adopt_rank0_kernel_choices()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def worker(cfg):
    import minigrad as mg
    import minigrad.distributed as dist
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    if world == 1:
        keep_choices_whatever_the_load()
    progress = ProgressThread(PROGRESS_INTERVAL_S) if cfg["progress_thread"] else None
    result = {"world": world, "models": []}
    for name, spec in cfg["models"].items():
        result["models"].append(measure_model(mg, dist, cfg, name, spec, rank))
    if progress is not None:
        progress.stop()
    result["kernel_choices"] = kernel_choices(dist)
    if world > 1:
        model = mg.nn.parallel.DistributedDataParallel(mg.nn.Linear(2, 2))
        model._adopt_rank0_kernel_choices()                  # the first one sends them all
        result["kernel_choice_check_s"] = kernel_choice_check(dist, model)
    if rank == 0:
        _ranks.send_result(result)
    dist.destroy_process_group()


# -- the driver ---------------------------------------------------------------------------
def run_world(nprocs, cfg, mpi_env):
    return _ranks.run_ranks(__file__, nprocs, cfg, env=mpi_env,
                            launcher_options=["--bind-to", cfg["bind_to"]])


def model_report(per_world):
    """One model's table: ``per_world`` holds its results for each process count."""
    base = per_world[0]
    spec = base["spec"]
    best1 = min(s["step_s"] for s in base["steps"])
    best1_cpu = min(s["step_cpu_s"] for s in base["steps"])
    lines = [
        f"## {base['model']}: {spec['batch']} rows of {tuple(spec['shape'])} per rank, "
        f"sizes {tuple(spec['sizes'])}, {base['grad_bytes'] / 1e6:.2f} MB of float32 "
        "gradients", "",
        "| processes | compute ms (cpu ms) | cpu share | compute / 1-process compute | "
        "all-reduce alone ms | bandwidth GB/s | bucket MB | buckets | overlap | grad view | "
        "step ms (cpu ms) | exposed comm. ms | efficiency | cpu-time efficiency |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in per_world:
        bw = r["grad_bytes"] / r["allreduce_s"] / 1e9 if r["world"] > 1 else float("nan")
        slowdown = r["compute_s"] / base["compute_s"]
        for s in r["steps"]:
            lines.append(
                f"| {r['world']} | {r['compute_s'] * 1e3:.1f} ({r['compute_cpu_s'] * 1e3:.1f}) | "
                f"{r['compute_cpu_share']:.2f} | {slowdown:.2f} | "
                f"{r['allreduce_s'] * 1e3:.2f} | {bw:.2f} | {s['bucket_mb']} | "
                f"{s['buckets']} | {s['overlap']} | {s['grad_view']} | "
                f"{s['step_s'] * 1e3:.1f} ({s['step_cpu_s'] * 1e3:.1f}) | "
                f"{(s['step_s'] - r['compute_s']) * 1e3:.1f} | {best1 / s['step_s']:.2f} | "
                f"{best1_cpu / s['step_cpu_s']:.2f} |")
    lines += ["", f"Best one-process step: {best1 * 1e3:.1f} ms; compute alone, 1 process: "
              f"{base['compute_s'] * 1e3:.1f} ms."]
    lines.append("Compute with each rank bound to a CPU of its own for the step, in the same "
                 "rounds: " + "; ".join(
                     f"{r['world']} process(es) {r['compute_pinned_s'] * 1e3:.1f} ms "
                     f"({r['compute_pinned_cpu_s'] * 1e3:.1f} cpu) against "
                     f"{r['compute_s'] * 1e3:.1f} ({r['compute_cpu_s'] * 1e3:.1f}) unbound"
                     for r in per_world if "compute_pinned_s" in r) + ".")
    for r in per_world[1:]:
        if "compute_rank0_alone_s" in r:
            lines.append(
                f"In the {r['world']}-process run, rank 0's compute while the other ranks "
                f"slept: {r['compute_rank0_alone_s'] * 1e3:.1f} ms "
                f"({r['compute_rank0_alone_cpu_s'] * 1e3:.1f} cpu); all ranks at once: "
                f"{r['compute_s'] * 1e3:.1f} ({r['compute_cpu_s'] * 1e3:.1f} cpu): "
                f"{r['compute_s'] / r['compute_rank0_alone_s']:.2f} times "
                f"({r['compute_cpu_s'] / r['compute_rank0_alone_cpu_s']:.2f} in CPU time), "
                "what running side by side costs the compute, measured in one run.")
        best = min(s["step_s"] for s in r["steps"])
        lines.append(
            f"{r['world']} processes: best step {best * 1e3:.1f} ms, efficiency "
            f"{best1 / best:.2f}; compute alone {r['compute_s'] * 1e3:.1f} ms per rank, so "
            f"even with free communication the efficiency could reach only "
            f"{best1 / r['compute_s']:.2f} (the ceiling: best 1-process step / P-process "
            "compute). CPU time, which other processes on the machine disturb less: best "
            f"step {best1_cpu * 1e3:.1f} ms with one process, "
            f"{min(s['step_cpu_s'] for s in r['steps']) * 1e3:.1f} ms per rank with "
            f"{r['world']}; compute {base['compute_cpu_s'] * 1e3:.1f} against "
            f"{r['compute_cpu_s'] * 1e3:.1f} ms.")
    return lines


def report(results, cfg, load, extras):
    lines = [
        "# Data-parallel scaling (benchmarks/distributed.py)", "",
        f"Machine: {_timing.cpu_description()}; load average before/after: "
        f"{load[0]:.1f} / {load[1]:.1f} (other processes were running if these exceed 0).",
        f"Median of {cfg['rounds']} rounds x {cfg['repeats']} steps, the variants taking "
        f"turns; one thread per process. {extras}", "",
        "grad view: gradient_as_bucket_view=True with zero_grad(set_to_none=False) (False: "
        "the default, zero_grad() sets .grad to None). Efficiency: the best one-process step "
        "divided by this step's time (same rows per rank: throughput(P) / (P x "
        "throughput(1))); cpu-time efficiency: the same with CPU times (what a rank's work "
        "costs, whoever else runs). Exposed comm.: step - compute.", "",
    ]
    for r in results:
        choices = r.get("kernel_choices", {})
        differ = choices.get("differ_between_ranks", [])
        lines.append(f"Kernel choices with {r['world']} process(es), by where they came from "
                     f"(rank 0): {choices.get('sources', {})}; differing between ranks: "
                     f"{len(differ)}{' (' + '; '.join(differ) + ')' if differ else ''}.")
        if "kernel_choice_check_s" in r:
            lines.append(f"DDP's per-step check for new kernel choices (rank 0's count "
                         f"broadcast), {r['world']} processes: "
                         f"{r['kernel_choice_check_s'] * 1e6:.1f} us a step.")
    lines.append("")
    for i in range(len(results[0]["models"])):
        lines += model_report([r["models"][i] for r in results]) + [""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=["mlp", "cnn"])
    parser.add_argument("--nprocs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="tiny models, a step or two")
    parser.add_argument("--progress-thread", action="store_true",
                        help="a thread in every rank that keeps MPI's progress engine going")
    parser.add_argument("--mpi-env", nargs="*", default=[], metavar="NAME=VALUE",
                        help="environment for the ranks, e.g. MPIR_CVAR_ASYNC_PROGRESS=1")
    parser.add_argument("--bind-to", choices=["default", "core"], default="default",
                        help="bind each rank to a core of its own (the launcher's option)")
    parser.add_argument("--autotune", choices=["on", "off"], default="on",
                        help="off: MINIGRAD_AUTOTUNE=0, the default rule in every run")
    parser.add_argument("--choices", choices=["cache", "measure"], default="cache",
                        help="measure: every run an empty kernel-choice cache of its own, so "
                             "the ranks measure their kernels themselves")
    parser.add_argument("--sync-kernel-choices", choices=["on", "off"], default="on",
                        help="off: DDP leaves every rank its own kernel choices")
    parser.add_argument("--out", default=str(HERE / "results"))
    opts = _ranks.parse_args_or_work(parser, worker)
    if opts is None:                                  # this process was a rank
        return
    mpi_env = dict(item.split("=", 1) for item in opts.mpi_env)
    if opts.autotune == "off":
        mpi_env["MINIGRAD_AUTOTUNE"] = "0"
    if not os.environ.get("MINIGRAD_CACHE_DIR"):     # choices of this run only, not older ones
        mpi_env["MINIGRAD_CACHE_DIR"] = tempfile.mkdtemp(prefix="minigrad-ddp-choices-")
    models = QUICK_MODELS if opts.quick else MODELS
    cfg = dict(QUICK if opts.quick else FULL, progress_thread=opts.progress_thread,
               bind_to=opts.bind_to, autotune=opts.autotune, choices=opts.choices,
               sync_kernel_choices=opts.sync_kernel_choices,
               models={name: models[name] for name in opts.models})
    load_before = os.getloadavg()[0]
    results = []
    for n in opts.nprocs:
        if opts.choices == "measure":                 # no run reads another run's choices
            mpi_env["MINIGRAD_CACHE_DIR"] = tempfile.mkdtemp(prefix="minigrad-ddp-choices-")
        results.append(run_world(n, cfg, mpi_env))
    load = (load_before, os.getloadavg()[0])
    extras = (f"Progress thread: {'on' if opts.progress_thread else 'off'}; MPI settings: "
              f"{' '.join(opts.mpi_env) or 'none'}; ranks bound to cores: "
              f"{'yes' if opts.bind_to == 'core' else 'no'}; kernel autotuning: "
              f"{opts.autotune}; kernel choices: "
              f"{'from the 1-process run' if opts.choices == 'cache' else 'measured by every run'}"
              f", rank 0's adopted by every rank: {opts.sync_kernel_choices}.")
    text = report(results, cfg, load, extras)
    _results.write(opts.out, "distributed", {"config": cfg, "mpi_env": mpi_env,
                                             "load_average": load, "results": results},
                   text, quick=opts.quick)
    print(text)


if __name__ == "__main__":
    main()
