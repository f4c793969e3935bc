"""The launcher: ``python -m minigrad.distributed.run -n 2 train.py args...``.

It starts ``n`` copies of ``python train.py args...`` under mpiexec (like torchrun, which
spells the count ``--nproc-per-node``; both spellings work). Starting the script with
``mpiexec -n 2 python train.py`` directly does the same. What the launcher adds:

- it finds the mpiexec that belongs to this Python (the ``mpich`` wheel puts one in the
  virtualenv's bin/) before looking on PATH;
- it runs every copy with the same Python interpreter as itself;
- as root it passes OpenMPI's ``--allow-run-as-root`` (MPICH needs nothing);
- ``--oversubscribe`` lets OpenMPI start more processes than cores (MPICH always may);
- ``--threads k`` gives each process k threads in every thread pool it may load: Numba's
  (NUMBA_NUM_THREADS), NumPy's BLAS through minigrad (MINIGRAD_BLAS_THREADS) and the pools
  that read their size when the library loads (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS,
  MKL_NUM_THREADS): default 1 for each variable not already set, so n processes on n cores
  run n threads, not n thread pools fighting. minigrad limits NumPy's BLAS only once its
  kernels load; a rank's own NumPy products before that, or another library's OpenBLAS
  (SciPy ships its own), would otherwise run one thread per core in every rank: on the 2-core
  VM, two ranks' 400 products of 96 x 96 float32 arrays took 10-160 ms of CPU each with
  NumPy's two OpenBLAS threads, 8 ms with one;
- ``--bind-to core`` binds each process to a core of its own (MPICH's ``-bind-to core``,
  OpenMPI's ``--bind-to core``), so the OS never moves a rank or puts two on one core;
  default: what the MPI does by default (MPICH binds nothing, OpenMPI binds jobs of one or
  two processes to cores); a process that is not bound can move to a core that another
  program leaves free.
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


THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "MINIGRAD_BLAS_THREADS", "OPENBLAS_NUM_THREADS",
                    "OMP_NUM_THREADS", "MKL_NUM_THREADS")
BINDINGS = ("default", "core")


def mpiexec_command(nprocs: int, argv: list[str], oversubscribe: bool = False,
                    bind_to: str = "default") -> list[str]:
    """The full command line that runs ``python argv...`` on ``nprocs`` processes."""
    if bind_to not in BINDINGS:
        raise ValueError(f"mpiexec_command: bind_to must be one of {BINDINGS}, got {bind_to!r}")
    mpiexec = find_mpiexec()
    command = [mpiexec, "-n", str(nprocs)]
    openmpi = is_openmpi(mpiexec)
    if openmpi:
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-run-as-root")
        if oversubscribe:
            command.append("--oversubscribe")
    if bind_to == "core":
        command += ["--bind-to" if openmpi else "-bind-to", "core"]
    return command + [sys.executable] + argv


def thread_environment(threads: int | None, env: dict) -> dict:
    """``env`` with every thread-pool variable set to ``threads``, or, when None, to 1 where
    it is not set already."""
    env = dict(env)
    for name in THREAD_VARIABLES:
        if threads is not None:
            env[name] = str(threads)
        else:
            env.setdefault(name, "1")
    return env


def main(args=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.distributed.run",
        description="Run a training script on several processes under mpiexec.")
    parser.add_argument("-n", "--nproc-per-node", "--nproc_per_node", dest="nprocs", type=int,
                        default=1, help="how many processes (ranks) to start")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per process in each thread pool (default 1)")
    parser.add_argument("--bind-to", choices=BINDINGS, default="default",
                        help="core: bind each process to a core of its own (default: the "
                             "MPI's own default)")
    parser.add_argument("--oversubscribe", action="store_true",
                        help="allow more processes than cores (OpenMPI; MPICH always allows)")
    parser.add_argument("script", help="the Python script every rank runs")
    parser.add_argument("script_args", nargs=argparse.REMAINDER)
    opts = parser.parse_args(args)
    if opts.nprocs < 1:
        parser.error(f"-n must be at least 1, got {opts.nprocs}")
    if opts.threads is not None and opts.threads < 1:
        parser.error(f"--threads must be at least 1, got {opts.threads}")
    env = thread_environment(opts.threads, os.environ)
    command = mpiexec_command(opts.nprocs, [opts.script] + opts.script_args, opts.oversubscribe,
                              opts.bind_to)
    return subprocess.run(command, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
