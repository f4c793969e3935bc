"""Does a non-blocking all-reduce move while the process computes? A probe of MPI progress.

    python benchmarks/distributed_progress.py [--mpi-env NAME=VALUE ...] [--out DIR]

Two ranks (``python -m minigrad.distributed.run -n 2``, one thread in each thread pool:
the compute is NumPy's own products, whose OpenBLAS would otherwise run a thread per core in
each rank) start an all-reduce of ``MB`` megabytes with ``async_op=True``, then compute for
about ``COMPUTE_MS`` (small matrix products, ``CHUNKS`` of them, as many products per chunk
as the ranks measured on average after a warm-up), then wait for the all-reduce. How long
that last wait takes says how much of the all-reduce happened during the compute. The ways of
computing, in turn, round after round (after one untimed round of them all):

* ``blocking``: compute, then a blocking all-reduce (nothing to hide behind: the reference);
* ``no calls``: no MPI call during the compute (MPICH moves data only inside MPI calls);
* ``test per chunk``: ``work.is_completed()`` (MPI_Test) after every chunk, as DDP's hooks
  test the buckets in flight after every gradient;
* ``progress thread``: a Python thread tests a never-matching receive, sleeping 50 us between tests.

``--mpi-env MPIR_CVAR_ASYNC_PROGRESS=1`` gives MPICH its own progress thread. The report:
medians of the wait after the compute and of the whole (compute + all-reduce) time, against
compute alone and the blocking all-reduce alone.
Results: ``<out>/<machine>/distributed-progress.{json,md}``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _ranks  # noqa: E402
import _results  # noqa: E402
import _timing  # noqa: E402
from distributed import ProgressThread  # noqa: E402

SIZES_MB = [0.28, 10.5]           # the CNN's and the MLP's gradients (benchmarks/distributed.py)
COMPUTE_MS, CHUNKS = 20.0, 40
ROUNDS, REPEATS = 5, 3
MODES = ["blocking", "no calls", "test per chunk", "progress thread"]


def calibrate(dist, chunk, seconds):
    """How many ``chunk()`` calls take ``seconds``, the same count on every rank: measured
    after a barrier and a warm-up (the first products pay for page faults and for the other
    rank still starting), the median of five batches, averaged over the ranks."""
    import minigrad as mg
    dist.barrier()
    for _ in range(50):
        chunk()
    dist.barrier()
    batches = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(20):
            chunk()
        batches.append((time.perf_counter() - t0) / 20)
    per_chunk = np.array([statistics.median(batches)])
    dist.all_reduce(mg.from_numpy(per_chunk))
    return max(1, round(seconds / (per_chunk[0] / dist.get_world_size())))


def worker(cfg):
    import minigrad as mg
    import minigrad.distributed as dist
    dist.init_process_group("mpi")
    a = np.random.default_rng(0).standard_normal((96, 96)).astype(np.float32)

    def chunk():
        a @ a

    reps = calibrate(dist, chunk, cfg["compute_ms"] * 1e-3 / cfg["chunks"])

    def compute(poll=None):
        for _ in range(cfg["chunks"]):
            for _ in range(reps):
                chunk()
            if poll is not None:
                poll()

    progress = None
    found = {}
    for mb in cfg["sizes_mb"]:
        buf = mg.zeros(int(mb * 1e6 / 4), dtype=mg.float32)
        for timed in [False] + [True] * cfg["rounds"]:     # one untimed round first
            for mode in ["compute alone", "all-reduce alone"] + cfg["modes"]:
                if mode == "progress thread" and progress is None:
                    progress = ProgressThread(50e-6)
                for _ in range(cfg["repeats"]):
                    dist.barrier()
                    start = time.perf_counter()
                    if mode == "compute alone":
                        compute()
                        waited = 0.0
                    elif mode in ("all-reduce alone", "blocking"):
                        if mode == "blocking":
                            compute()
                        t = time.perf_counter()
                        dist.all_reduce(buf)
                        waited = time.perf_counter() - t
                    else:
                        work = dist.all_reduce(buf, async_op=True)
                        compute(work.is_completed if mode == "test per chunk" else None)
                        t = time.perf_counter()
                        work.wait()
                        waited = time.perf_counter() - t
                    total = time.perf_counter() - start
                    times = np.array([total, waited])
                    dist.all_reduce(mg.from_numpy(times), op=dist.ReduceOp.MAX)
                    if timed:
                        found.setdefault(f"{mb} {mode}", []).append(times.tolist())
                if mode == "progress thread":
                    progress.stop()
                    progress = None
    if dist.get_rank() == 0:
        medians = {k: [statistics.median(t[0] for t in v), statistics.median(t[1] for t in v)]
                   for k, v in found.items()}
        _ranks.send_result(medians)
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mpi-env", nargs="*", default=[], metavar="NAME=VALUE")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(HERE / "results"))
    opts = _ranks.parse_args_or_work(parser, worker)
    if opts is None:                                  # this process was a rank
        return
    cfg = dict(sizes_mb=SIZES_MB, compute_ms=COMPUTE_MS, chunks=CHUNKS, rounds=ROUNDS,
               repeats=REPEATS, modes=MODES)
    if opts.quick:
        cfg.update(sizes_mb=[0.01], compute_ms=1.0, chunks=4, rounds=1, repeats=1)
    mpi_env = dict(item.split("=", 1) for item in opts.mpi_env)
    load_before = os.getloadavg()[0]
    medians = _ranks.run_ranks(__file__, 2, cfg, env=mpi_env, timeout_s=1800)
    load = (load_before, os.getloadavg()[0])
    lines = ["# MPI progress during compute (benchmarks/distributed_progress.py)", "",
             f"Machine: {_timing.cpu_description()}; load average before/after: "
             f"{load[0]:.1f} / {load[1]:.1f}; MPI settings: {' '.join(opts.mpi_env) or 'none'}.",
             f"2 ranks; about {cfg['compute_ms']:g} ms of compute in {cfg['chunks']} chunks; "
             f"medians of {cfg['rounds']} rounds x {cfg['repeats']}, slowest rank.", "",
             "| MB | mode | total ms | wait after compute ms | total - compute alone ms |",
             "|---|---|---|---|---|"]
    for mb in cfg["sizes_mb"]:
        alone = medians[f"{mb} compute alone"][0]
        for mode in ["compute alone", "all-reduce alone"] + cfg["modes"]:
            total, waited = medians[f"{mb} {mode}"]
            extra = "" if mode.endswith("alone") else f"{(total - alone) * 1e3:.2f}"
            lines.append(f"| {mb} | {mode} | {total * 1e3:.2f} | {waited * 1e3:.2f} | {extra} |")
    text = "\n".join(lines) + "\n"
    _results.write(opts.out, "distributed-progress", {"config": cfg, "mpi_env": mpi_env,
                                                      "load_average": load, "medians": medians},
                   text, quick=opts.quick)
    print(text)


if __name__ == "__main__":
    main()
