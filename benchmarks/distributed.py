"""Data-parallel scaling: one process against two, and where the time of a step goes.

    python benchmarks/distributed.py [--nprocs 1 2] [--quick] [--out DIR]

The script starts itself under mpiexec (``python -m minigrad.distributed.run -n P``, one
Numba and one BLAS thread per process, so P processes use P cores) once per process count and
collects what rank 0 measured. The model is a compute-bound MLP (matrix products with a
512 x 1024 and two 1024 x 1024 weights: 2.6 M parameters, 10.5 MB of float32 gradients);
every rank trains on its own batch of ``BATCH`` rows (weak scaling: the global batch grows
with P).

Measured, as the median of ``REPEATS`` steps after ``WARMUP`` (a barrier before each so the
ranks start together):

* ``compute``: forward + backward + SGD step under ``no_sync()`` (no communication at all),
  and the CPU time the process got during it per second of wall time (``cpu share``: 1.0
  when it had its core to itself, less when other processes took turns on it);
* ``step``: the full DDP step, for bucket sizes ``BUCKETS_MB``, with the all-reduces
  overlapping backward, and with ``overlap=False`` (all-reduces after backward);
* ``allreduce``: one blocking all-reduce of all the gradients in one flat buffer, alone: the
  communication's own cost, and the bandwidth it reaches (bytes / time);
* efficiency = throughput(P) / (P x throughput(1)), samples per second; with the same
  rows per rank that is time(1 process) / time(P processes); 1.0 is perfect scaling.

``exposed communication`` = step - compute: the part of the communication that overlap did
not hide. The numbers depend on the cores being free: on a shared machine say so (the
report records the load average before and after).
Results: ``<out>/<machine>/distributed.{json,md}`` (``--quick``: ``distributed-quick.*``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _timing  # noqa: E402

BATCH, WARMUP, REPEATS = 64, 3, 15
BUCKETS_MB = [0.25, 1, 4, 25]
QUICK = dict(batch=8, warmup=1, repeats=2, buckets=[0.01, 25], sizes=(32, 64, 10))
FULL = dict(batch=BATCH, warmup=WARMUP, repeats=REPEATS, buckets=BUCKETS_MB,
            sizes=(512, 1024, 10))


# -- what every rank runs -------------------------------------------------------------------
def build(mg, sizes, seed=0):
    n_in, hidden, n_out = sizes
    mg.manual_seed(seed)
    nn = mg.nn
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                         nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, n_out))


def timed_steps(dist, step, warmup, repeats):
    """Median seconds of ``step()`` over ``repeats`` calls, ranks started together; rank 0
    reports the slowest rank's time of each step (a step is as slow as its slowest rank)."""
    for _ in range(warmup):
        step()
    times, cpu, wall = [], 0.0, 0.0
    for _ in range(repeats):
        dist.barrier()
        start, start_cpu = time.perf_counter(), time.process_time()
        step()
        t = np.array([time.perf_counter() - start])
        cpu += time.process_time() - start_cpu
        wall += t[0]
        dist.all_reduce(_tensor(t), op=dist.ReduceOp.MAX)
        times.append(float(t[0]))
    timed_steps.cpu_share = cpu / wall
    return statistics.median(times)


def _tensor(array):
    import minigrad as mg
    return mg.from_numpy(array)


def worker(cfg):
    import minigrad as mg
    import minigrad.distributed as dist
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    rng = np.random.default_rng(rank)
    x = mg.tensor(rng.standard_normal((cfg["batch"], cfg["sizes"][0]), dtype=np.float32))
    y = mg.tensor(rng.integers(0, cfg["sizes"][2], cfg["batch"]))
    loss_fn = mg.nn.CrossEntropyLoss()
    result = {"world": world}

    def make_step(model, opt, sync=True):
        def step():
            opt.zero_grad()
            if sync:
                loss_fn(model(x), y).backward()
            else:
                with model.no_sync():
                    loss_fn(model(x), y).backward()
            opt.step()
        return step

    def ddp(**kwargs):
        model = mg.nn.parallel.DistributedDataParallel(build(mg, cfg["sizes"]), **kwargs)
        return model, mg.optim.SGD(model.parameters(), lr=1e-3)

    model, opt = ddp()
    result["compute_s"] = timed_steps(dist, make_step(model, opt, sync=False),
                                      cfg["warmup"], cfg["repeats"])
    result["compute_cpu_share"] = timed_steps.cpu_share
    grads = sum(p.array.size for p in model.parameters())
    flat = np.zeros(grads, dtype=np.float32)
    result["grad_bytes"] = flat.nbytes
    result["allreduce_s"] = timed_steps(dist, lambda: dist.all_reduce(_tensor(flat)),
                                        cfg["warmup"], cfg["repeats"])
    result["steps"] = []
    for cap in cfg["buckets"]:
        for overlap in (True, False):
            model, opt = ddp(bucket_cap_mb=cap, overlap=overlap)
            seconds = timed_steps(dist, make_step(model, opt), cfg["warmup"], cfg["repeats"])
            result["steps"].append({"bucket_mb": cap, "overlap": overlap,
                                    "buckets": len(model._buckets), "step_s": seconds})
    if rank == 0:
        print("RESULT " + json.dumps(result), flush=True)
    dist.destroy_process_group()


# -- the driver ---------------------------------------------------------------------------
def run_world(nprocs, cfg):
    command = [sys.executable, "-m", "minigrad.distributed.run", "-n", str(nprocs),
               "--threads", "1", __file__, "--worker", json.dumps(cfg)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"mpiexec -n {nprocs} failed:\n{done.stdout}\n{done.stderr}")
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def report(results, cfg, load):
    base = results[0]
    one = base["compute_s"]
    lines = [
        "# Data-parallel scaling (benchmarks/distributed.py)", "",
        f"Machine: {_timing.cpu_description()}; load average before/after: "
        f"{load[0]:.1f} / {load[1]:.1f} (other processes were running if these exceed 0).",
        f"Model: MLP {cfg['sizes']}, {base['grad_bytes'] / 1e6:.1f} MB of float32 gradients; "
        f"{cfg['batch']} rows per rank; median of {cfg['repeats']} steps, one thread per "
        "process.", "",
        "| processes | compute ms | cpu share | all-reduce alone ms | bandwidth GB/s | bucket MB | buckets"
        " | overlap | step ms | exposed comm. ms | efficiency |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    best1 = min(s["step_s"] for s in base["steps"])
    for r in results:
        bw = r["grad_bytes"] / r["allreduce_s"] / 1e9 if r["world"] > 1 else float("nan")
        for s in r["steps"]:
            eff = best1 / s["step_s"]          # same rows per rank: time ratio = efficiency
            lines.append(
                f"| {r['world']} | {r['compute_s'] * 1e3:.1f} | {r['compute_cpu_share']:.2f} | "
                f"{r['allreduce_s'] * 1e3:.2f} | "
                f"{bw:.2f} | {s['bucket_mb']} | {s['buckets']} | {s['overlap']} | "
                f"{s['step_s'] * 1e3:.1f} | {(s['step_s'] - r['compute_s']) * 1e3:.1f} | "
                f"{eff:.2f} |")
    lines += ["", f"Efficiency: the best one-process step ({best1 * 1e3:.1f} ms) divided by this "
              "step's time; with the same rows per rank that is throughput(P) / "
              f"(P x throughput(1)). Compute alone, 1 process: {one * 1e3:.1f} ms."]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nprocs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="a tiny model, a step or two")
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.worker:
        worker(json.loads(opts.worker))
        return
    cfg = QUICK if opts.quick else FULL
    load_before = os.getloadavg()[0]
    results = [run_world(n, cfg) for n in opts.nprocs]
    load = (load_before, os.getloadavg()[0])
    folder = Path(opts.out) / _timing.machine_name()
    folder.mkdir(parents=True, exist_ok=True)
    stem = "distributed-quick" if opts.quick else "distributed"
    (folder / f"{stem}.json").write_text(json.dumps(
        {"config": cfg, "load_average": load, "results": results}, indent=1))
    text = report(results, cfg, load)
    (folder / f"{stem}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
