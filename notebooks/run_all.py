#!/usr/bin/env python
"""Execute the chapter notebooks headless, the way a student would run them top to bottom.

    python notebooks/run_all.py --mode full --out notebooks/executed      # what `make notebooks` runs
    python notebooks/run_all.py --mode fast 01 03_mlp                     # a few, quick (MINIGRAD_FAST=1)
    python notebooks/run_all.py --copy-to notebooks/mine                  # what `make lab` opens
    python notebooks/run_all.py --check-stripped                          # part of `make lint`

Each notebook runs in a fresh ``python3`` Jupyter kernel with notebooks/ as its working
directory. Executed copies (with outputs) go to ``--out``; figures go to notebooks/figures/
(both git-ignored: the ``.ipynb`` files in the repository are stored without outputs). Prints
the wall time of each notebook and exits non-zero if any cell of any notebook raised.
Names may be given as file names, stems or prefixes ("01", "03_mlp").
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "executed"


def find_notebooks(names=None, directory: Path = HERE) -> list[Path]:
    """The chapter notebooks (sorted), or those matching ``names`` (file name, stem or prefix)."""
    all_nbs = sorted(p for p in directory.glob("*.ipynb") if not p.name.startswith("_"))
    if not names:
        return all_nbs
    chosen = []
    for name in names:
        stem = Path(name).name.removesuffix(".ipynb")
        hits = [p for p in all_nbs if p.stem == stem] or [p for p in all_nbs
                                                          if p.stem.startswith(stem)]
        if not hits:
            raise SystemExit(f"run_all: no notebook matches {name!r} in {directory}")
        chosen.extend(h for h in hits if h not in chosen)
    return chosen


def execute_notebook(path: Path, mode: str = "fast", out_dir: Path | None = None,
                     timeout: int | None = None, figures: Path | None = None):
    """Run one notebook in a fresh kernel; return the executed ``NotebookNode``.

    Raises ``nbclient.exceptions.CellExecutionError`` (with the failing cell's traceback) if a
    cell raises. ``mode`` sets MINIGRAD_FAST for the kernel. If ``out_dir`` is given, the
    executed copy (outputs included, also when it failed) is written there.
    """
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    if mode not in ("full", "fast"):
        raise ValueError(f"mode must be 'full' or 'fast', not {mode!r}")
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    env_before = {k: os.environ.get(k) for k in ("MINIGRAD_FAST", "MINIGRAD_FIGURES",
                                                 "PYTHONPATH", "TQDM_MININTERVAL")}
    # the kernel inherits this process's environment
    os.environ["MINIGRAD_FAST"] = "1" if mode == "fast" else "0"
    # progress bars: nobody watches a headless run, and every redraw would be stored as one
    # more output line; this way the executed copy shows a bar's first and last state only
    os.environ["TQDM_MININTERVAL"] = "1e9"
    if figures is not None:
        os.environ["MINIGRAD_FIGURES"] = str(figures)
    # _common.py sits next to the notebooks; cwd is already there, this makes it certain
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(path.parent)] + ([env_before["PYTHONPATH"]] if env_before["PYTHONPATH"] else []))
    # inline figures in the executed copies: never let a global MPLBACKEND (e.g. Agg) stop that
    mpl_before = os.environ.pop("MPLBACKEND", None)
    # the kernel talks to us over Unix sockets in a private folder, not over TCP on localhost
    # (which anyone on the machine could connect to, and which makes the kernel warn about it)
    sockets = tempfile.TemporaryDirectory(prefix="minigrad-kernel-")
    kernel = KernelManager(kernel_name="python3", transport="ipc",
                           ip=os.path.join(sockets.name, "kernel"))
    client = NotebookClient(nb, km=kernel, timeout=timeout or (900 if mode == "full" else 300),
                            kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    finally:
        if kernel.has_kernel:          # a kernel manager we made is ours to shut down
            kernel.shutdown_kernel(now=True)
        sockets.cleanup()
        for k, v in env_before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if mpl_before is not None:
            os.environ["MPLBACKEND"] = mpl_before
        if out_dir is not None:
            out_dir = Path(out_dir)
            out_dir.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, out_dir / path.name)
    return nb


def copy_chapters(dest: Path, directory: Path = HERE) -> None:
    """Copy each chapter into ``dest`` unless a copy is already there (``make lab``).

    Students work in their own copies: the chapters in the repository stay as they are, so
    saving an edited notebook never changes a tracked file and ``git pull`` never has to merge
    a student's outputs. A copy made earlier is never overwritten; delete it to start again
    from the current chapter."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for chapter in find_notebooks(directory=directory):
        copy = dest / chapter.name
        if copy.exists():
            print(f"kept your copy   {copy}")
        else:
            shutil.copyfile(chapter, copy)
            print(f"copied chapter   {copy}")


def unstripped(directory: Path = HERE) -> list[str]:
    """'<notebook> cell <i>' for every code cell of a chapter that has stored outputs."""
    import nbformat

    found = []
    for path in find_notebooks(directory=directory):
        nb = nbformat.read(path, as_version=4)
        found += [f"{path.name} cell {i}" for i, cell in enumerate(nb.cells)
                  if cell.cell_type == "code"
                  and (cell.get("outputs") or cell.get("execution_count") is not None)]
    return found


def strip_outputs(directory: Path = HERE) -> None:
    """Remove outputs and execution counts from every chapter, in place."""
    import nbformat

    for path in find_notebooks(directory=directory):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(nb, path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="notebooks to run (default: all)")
    ap.add_argument("--copy-to", metavar="DIR",
                    help="copy the chapters into DIR (never overwriting a copy) and exit")
    ap.add_argument("--check-stripped", action="store_true",
                    help="exit non-zero if a chapter in the repository has stored outputs")
    ap.add_argument("--strip", action="store_true",
                    help="remove the stored outputs of every chapter in place and exit")
    ap.add_argument("--mode", choices=("full", "fast"), default="full")
    ap.add_argument("--out", default=str(DEFAULT_OUT),
                    help="folder for the executed copies (default notebooks/executed)")
    ap.add_argument("--timeout", type=int, default=None,
                    help="seconds per cell (default 900 full, 300 fast)")
    args = ap.parse_args(argv)
    if args.copy_to:
        copy_chapters(Path(args.copy_to))
        return 0
    if args.strip:
        strip_outputs()
        return 0
    if args.check_stripped:
        found = unstripped()
        for where in found:
            print(f"stored outputs: {where} (run: python notebooks/run_all.py --strip)",
                  file=sys.stderr)
        return 1 if found else 0

    from nbclient.exceptions import CellExecutionError

    notebooks = find_notebooks(args.names)
    if not notebooks:
        print(f"run_all: no notebooks in {HERE}", file=sys.stderr)
        return 1
    failures, times = [], {}
    total0 = time.perf_counter()
    for nb_path in notebooks:
        print(f"[{args.mode}] {nb_path.name} ...", flush=True)
        t0 = time.perf_counter()
        try:
            execute_notebook(nb_path, args.mode, Path(args.out), args.timeout)
            status = "ok"
        except CellExecutionError as e:
            status = "FAILED"
            failures.append(nb_path.name)
            print(str(e)[-3000:], file=sys.stderr)
        except Exception as e:  # a kernel that died, a timeout
            status = "FAILED"
            failures.append(nb_path.name)
            print(f"{type(e).__name__}: {e}", file=sys.stderr)
        times[nb_path.name] = time.perf_counter() - t0
        print(f"    {status:6s} {times[nb_path.name]:7.1f} s", flush=True)
    total = time.perf_counter() - total0
    print("\n" + "\n".join(f"{t:7.1f} s  {n}" for n, t in times.items()))
    print(f"{total:7.1f} s  total ({args.mode} mode), executed copies in {args.out}")
    if failures:
        print("FAILED: " + ", ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
