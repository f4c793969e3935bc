"""What it costs when the ranks of a data-parallel run choose different kernels.

    python benchmarks/distributed_choices.py [--models mlp cnn] [--rounds N] [--quick]
                                             [--out DIR]

Two ranks (the launcher, one thread each) train benchmarks/distributed.py's models with
DistributedDataParallel, its kernel-choice broadcast off (``sync_kernel_choices=False``), so
each rank first measures its own kernel choices during the warm-up, side by side with the
other (a new machine's first run). Then the full DDP step (one 25 MB bucket, overlap on) is
timed with three sets of choices on rank 1, taking turns round after round, while rank 0
keeps its own:

* ``agree``: rank 0's choices on every rank, what DDP's broadcast gives;
* ``rank 1 its own``: what rank 1 measured for itself (what every rank ran before the
  broadcast); it differs from ``agree`` only in the shape classes where the ranks chose
  differently, reported beside it (often none);
* ``rank 1 the other kernel``: on every shape class rank 1 runs the candidate that rank 0
  did not choose: the worst case of disagreeing, deterministic.

A step is as slow as its slowest rank: each one's time is the slower rank's (wall and CPU),
the median of ``ROUNDS`` x ``REPEATS`` steps after a barrier each. The sets are swapped with
``autotune.adopt_decisions`` at the first step of each turn (inside that step's time: about
a tenth of a millisecond). Results: ``<out>/<machine>/distributed-choices.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _ranks  # noqa: E402
import _results  # noqa: E402
import _timing  # noqa: E402
import distributed as bench  # noqa: E402  (benchmarks/distributed.py: models, timing)

WARMUP, REPEATS, ROUNDS = 3, 5, 5
QUICK = dict(warmup=1, repeats=1, rounds=2)
FULL = dict(warmup=WARMUP, repeats=REPEATS, rounds=ROUNDS)


def flipped(decisions):
    """``decisions`` with the other candidate on every shape class."""
    from minigrad.kernels import autotune
    other = {a: b for a, b in zip(autotune.CANDIDATES, reversed(autotune.CANDIDATES))}
    return {op: [[cls, other[impl], seconds, "the other kernel"]
                 for cls, impl, seconds, _ in entries] for op, entries in decisions.items()}


def measure_model(mg, dist, cfg, name, spec):
    from minigrad.kernels import autotune

    from minigrad.distributed import process_group
    rank = dist.get_rank()
    rng = np.random.default_rng(rank)
    x = mg.tensor(rng.standard_normal((spec["batch"],) + tuple(spec["shape"]),
                                      dtype=np.float32))
    y = mg.tensor(rng.integers(0, spec["sizes"][2], spec["batch"]))
    loss_fn = mg.nn.CrossEntropyLoss()
    model = mg.nn.parallel.DistributedDataParallel(
        bench.build(mg, name, spec["sizes"], spec["shape"]), sync_kernel_choices=False)
    opt = mg.optim.SGD(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    known = _keys(autotune.export_decisions())       # an earlier model's classes
    for _ in range(cfg["warmup"]):          # every rank measures its own choices here
        step()
    everything = autotune.export_decisions()
    own = {op: [e for e in entries if (op, json.dumps(e[0])) not in known]
           for op, entries in everything.items()}
    own = {op: entries for op, entries in own.items() if entries}
    payload = json.dumps(own).encode() if rank == 0 else None
    rank0 = json.loads(process_group._broadcast_bytes("distributed_choices", payload))
    sets = {"agree": rank0, "rank 1 its own": own, "rank 1 the other kernel": flipped(rank0)}
    current = [None]

    def with_choices(label):
        def run():
            if current[0] != label:
                if rank != 0:
                    autotune.adopt_decisions(sets[label], source=label)
                current[0] = label
            step()
        return run

    steps = {label: with_choices(label) for label in sets}
    found = bench.time_rounds(dist, steps, 1, cfg["repeats"], cfg["rounds"])
    if rank != 0:
        autotune.adopt_decisions(everything, source="own")   # the next model starts from these
    everyone = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, {(op, str(cls)): impl for op, entries in own.items()
                                      for cls, impl, *_ in entries})
    differ = sorted(f"{op} {cls}" for (op, cls), impl in everyone[0].items()
                    if any(theirs.get((op, cls), impl) != impl for theirs in everyone[1:]))
    return {"model": name, "spec": spec, "differ_between_ranks": differ,
            "classes": sum(len(entries) for entries in rank0.values()),
            "steps": {label: {"step_s": wall, "step_cpu_s": cpu, "cpu_share": share}
                      for label, (wall, cpu, share) in found.items()}}


def _keys(decisions):
    return {(op, json.dumps(entry[0])) for op, entries in decisions.items() for entry in entries}


def worker(cfg):
    import minigrad as mg
    import minigrad.distributed as dist
    dist.init_process_group("mpi")
    results = [measure_model(mg, dist, cfg, name, spec)
               for name, spec in cfg["models"].items()]
    if dist.get_rank() == 0:
        _ranks.send_result(results)
    dist.destroy_process_group()


def report(results, cfg, load):
    lines = ["# Different kernel choices on the ranks (benchmarks/distributed_choices.py)", "",
             f"Machine: {_timing.cpu_description()}; load average before/after: "
             f"{load[0]:.1f} / {load[1]:.1f} (other processes were running if these exceed "
             f"0). 2 processes, one thread each; median of {cfg['rounds']} rounds x "
             f"{cfg['repeats']} DDP steps (25 MB bucket, overlap), the slower rank's time, "
             "the sets of choices taking turns.", "",
             "| model | rank 1's choices | step ms (cpu ms) | / agree (cpu) |",
             "|---|---|---|---|"]
    for r in results:
        agree = r["steps"]["agree"]
        for label, s in r["steps"].items():
            lines.append(f"| {r['model']} | {label} | {s['step_s'] * 1e3:.1f} "
                         f"({s['step_cpu_s'] * 1e3:.1f}) | {s['step_s'] / agree['step_s']:.2f} "
                         f"({s['step_cpu_s'] / agree['step_cpu_s']:.2f}) |")
    lines.append("")
    for r in results:
        differ = r["differ_between_ranks"]
        lines.append(f"{r['model']}: {r['classes']} shape classes; the ranks' own choices "
                     f"differed on {len(differ)}{': ' + '; '.join(differ) if differ else ''}.")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=sorted(bench.MODELS),
                        default=["mlp", "cnn"])
    parser.add_argument("--quick", action="store_true", help="tiny models, a step or two")
    parser.add_argument("--rounds", type=int, help=f"rounds of turns (default {ROUNDS})")
    parser.add_argument("--out", default=str(HERE / "results"))
    opts = _ranks.parse_args_or_work(parser, worker)
    if opts is None:                                  # this process was a rank
        return
    models = bench.QUICK_MODELS if opts.quick else bench.MODELS
    cfg = dict(QUICK if opts.quick else FULL,
               models={name: models[name] for name in opts.models})
    if opts.rounds:
        cfg["rounds"] = opts.rounds
    env = dict(MINIGRAD_AUTOTUNE="1",   # an empty cache: every rank measures
               MINIGRAD_CACHE_DIR=tempfile.mkdtemp(prefix="minigrad-ddp-choices-"))
    load_before = os.getloadavg()[0]
    results = _ranks.run_ranks(__file__, 2, cfg, env=env)
    load = (load_before, os.getloadavg()[0])
    text = report(results, cfg, load)
    _results.write(opts.out, "distributed-choices",
                   {"config": cfg, "load_average": load, "results": results},
                   text, quick=opts.quick)
    print(text)


if __name__ == "__main__":
    main()
