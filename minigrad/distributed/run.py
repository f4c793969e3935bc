"""The launcher: ``python -m minigrad.distributed.run -n 2 train.py args...``.

It starts ``n`` copies of ``python train.py args...`` under mpiexec (like torchrun, which
spells the count ``--nproc-per-node``; both spellings work). Starting the script with
``mpiexec -n 2 python train.py`` directly does the same. What the launcher adds:

- it finds the mpiexec that belongs to this Python (the ``mpich`` wheel puts one in the
  virtualenv's bin/) before looking on PATH;
- it runs every copy with the same Python interpreter as itself;
- as root it passes OpenMPI's ``--allow-run-as-root`` (MPICH needs nothing);
- ``--oversubscribe`` lets OpenMPI start more processes than cores (MPICH always may);
- ``--threads k`` sets NUMBA_NUM_THREADS and MINIGRAD_BLAS_THREADS to k in each process
  (default: 1 unless those variables are set; n processes on n cores, not n x cores
  threads fighting).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys


def find_mpiexec() -> str:
    """The mpiexec next to this Python (virtualenv), else the first on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(here, os.X_OK):
        return here
    found = shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError(
            "minigrad.distributed.run: no mpiexec found next to Python or on PATH; install "
            "the dist extra (pip install -e '.[dist]': mpi4py and the mpich wheel)")
    return found


def is_openmpi(mpiexec: str) -> bool:
    out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30)
    return "Open MPI" in out.stdout + out.stderr or "OpenRTE" in out.stdout + out.stderr


def mpiexec_command(nprocs: int, argv: list[str], oversubscribe: bool = False) -> list[str]:
    """The full command line that runs ``python argv...`` on ``nprocs`` processes."""
    mpiexec = find_mpiexec()
    command = [mpiexec, "-n", str(nprocs)]
    if is_openmpi(mpiexec):
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-run-as-root")
        if oversubscribe:
            command.append("--oversubscribe")
    return command + [sys.executable] + argv


def main(args=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.distributed.run",
        description="Run a training script on several processes under mpiexec.")
    parser.add_argument("-n", "--nproc-per-node", "--nproc_per_node", dest="nprocs", type=int,
                        default=1, help="how many processes (ranks) to start")
    parser.add_argument("--threads", type=int, default=None,
                        help="Numba and BLAS threads per process (default 1)")
    parser.add_argument("--oversubscribe", action="store_true",
                        help="allow more processes than cores (OpenMPI; MPICH always allows)")
    parser.add_argument("script", help="the Python script every rank runs")
    parser.add_argument("script_args", nargs=argparse.REMAINDER)
    opts = parser.parse_args(args)
    if opts.nprocs < 1:
        parser.error(f"-n must be at least 1, got {opts.nprocs}")
    env = dict(os.environ)
    for name in ("NUMBA_NUM_THREADS", "MINIGRAD_BLAS_THREADS"):
        if opts.threads is not None:
            env[name] = str(opts.threads)
        else:
            env.setdefault(name, "1")
    command = mpiexec_command(opts.nprocs, [opts.script] + opts.script_args, opts.oversubscribe)
    return subprocess.run(command, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
