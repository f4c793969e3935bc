"""Benchmarks that run themselves as MPI ranks.

A data-parallel benchmark is one script in two roles. Started by hand it is the driver: it
parses its options, starts itself under minigrad's launcher (``python -m
minigrad.distributed.run -n P``, one thread in each thread pool, so P ranks use P cores) with
the hidden option ``--worker CONFIG`` (the configuration as JSON), and writes the report.
Started so, every process is a rank: it runs the script's ``worker(config)``, and rank 0
prints what it measured as one line ``RESULT <JSON>``, which the driver reads back.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys


def parse_args_or_work(parser: argparse.ArgumentParser, worker):
    """The driver's options; in a rank (``--worker CONFIG``), ``worker(config)`` runs instead
    and None comes back."""
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.worker is None:
        return opts
    worker(json.loads(opts.worker))
    return None


def send_result(result) -> None:
    """Rank 0's measurements, to the driver (``run_ranks``)."""
    print("RESULT " + json.dumps(result), flush=True)


def run_ranks(script, nprocs: int, cfg, *, env=None, timeout_s: float = 3600,
              launcher_options=()):
    """Run ``script`` as ``nprocs`` ranks on ``cfg``, with ``env`` added to this process's
    environment, and return what rank 0 sent (``send_result``). ``launcher_options``: more
    options for the launcher, e.g. ``["--bind-to", "core"]``."""
    command = [sys.executable, "-m", "minigrad.distributed.run", "-n", str(nprocs),
               "--threads", "1", *launcher_options, str(script), "--worker", json.dumps(cfg)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s,
                          env=dict(os.environ, **(env or {})))
    if done.returncode != 0:
        raise RuntimeError(f"mpiexec -n {nprocs} failed:\n{done.stdout}\n{done.stderr}")
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])
