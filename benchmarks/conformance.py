"""How much PyTorch code runs unchanged on minigrad, measured on PyTorch's own test inputs.

Runs every OpInfo of PyTorch's ``op_db`` that minigrad exposes on all its float32 and float64
sample inputs, and every ModuleInfo of ``module_db`` whose layer minigrad has on all its
inputs, through ``tests/conformance/opinfo_harness.py`` and ``moduleinfo_harness.py`` (which
say how ops and layers are matched and compared). Writes the counts and every failing op and
layer with its first failing sample:

    python benchmarks/conformance.py [--max-samples N] [--reference-inputs] [--out DIR]

writes ``conformance.md`` and ``conformance.json`` under ``--out`` (``benchmarks/results``;
``conformance-reference.*`` with ``--reference-inputs``) and prints the summary. Needs the
``torch`` extra (torch and expecttest).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "conformance"))   # the harnesses and the tables

import known_failures  # noqa: E402
import moduleinfo_harness  # noqa: E402
import numpy as np  # noqa: E402
import opinfo_harness as harness  # noqa: E402
import torch  # noqa: E402


def run_ops(max_samples, reference):
    """OpResults of every (op, dtype) minigrad exposes, and the entries without float
    samples."""
    results, no_float = [], []
    for op, resolved in harness.minigrad_ops():
        dtypes = harness.float_dtypes(op)
        if not dtypes:
            no_float.append(harness.op_key(op))
        for dtype in dtypes:
            results.append(harness.run_op(op, dtype, max_samples, resolved, reference))
    return results, no_float


def run_modules(max_samples):
    results = []
    for case in moduleinfo_harness.minigrad_modules():
        for dtype in moduleinfo_harness.module_dtypes(case):
            results.append(moduleinfo_harness.run_module(case, dtype, max_samples))
    return results


def _samples_summary(results) -> dict:
    counted = [s for r in results for s in r.counted]
    per_dtype = {}
    for dtype in ("float32", "float64"):
        mine = [s for r in results if r.dtype == dtype for s in r.counted]
        per_dtype[dtype] = {"passed": sum(s.status == "pass" for s in mine), "total": len(mine)}
    return {
        "passed": sum(s.status == "pass" for s in counted),
        "total": len(counted),
        "per_dtype": per_dtype,
        "skipped": sum(s.status == "skip" for r in results for s in r.samples),
        "values_not_compared_random": sum(not s.values_compared for s in counted
                                          if s.status == "pass"),
        "gradients_compared": sum(s.gradients_compared for s in counted),
        "inputs_made_contiguous": sum(s.made_contiguous for s in counted),
        "failure_causes": dict(Counter(s.cause for s in counted if s.status == "fail")),
    }


def _failing(by_key) -> list:
    failing = []
    for key, rs in by_key.items():
        bad = [(r.dtype, s) for r in rs for s in r.failures]
        if not bad:
            continue
        dtype, first = bad[0]
        listed = known_failures.expected_failure(key, dtype)
        failing.append({
            "name": key,
            "failing_samples": len(bad),
            "samples": sum(len(r.counted) for r in rs),
            "dtypes": sorted({d for d, _ in bad}),
            "causes": dict(Counter(s.cause for _, s in bad)),
            "first_failure": f"{dtype} sample {first.index} ({first.description}): "
                             f"{first.message}",
            "table": listed[0] if listed else "not listed",
        })
    failing.sort(key=lambda f: (-f["failing_samples"], f["name"]))
    return failing


def summarise_ops(results, no_float, reference) -> dict:
    ops = harness.all_ops()
    exposed = harness.minigrad_ops()
    names_of = {harness.op_key(op): op.name for op, _ in exposed}
    by_key = defaultdict(list)
    for r in results:
        by_key[r.key].append(r)
    failing_keys = {k for k, rs in by_key.items() if not all(r.passed for r in rs)}
    tested_names = {names_of[k] for k in by_key}
    failing_names = {names_of[k] for k in failing_keys}
    return {
        "inputs": "reference_inputs" if reference else "sample_inputs",
        "op_db": {"entries": len(ops), "unique_names": len({op.name for op in ops})},
        "minigrad_exposes": {
            "entries": len(exposed),
            "unique_names": len({op.name for op, _ in exposed}),
            "called_as": dict(Counter(r.how for _, r in exposed)),
        },
        "no_float_samples": no_float,
        "passing": {
            "entries": len(by_key) - len(failing_keys),
            "entries_tested": len(by_key),
            "unique_names": len(tested_names - failing_names),
            "unique_names_tested": len(tested_names),
        },
        "samples": _samples_summary(results),
        "passing_names": sorted(set(by_key) - failing_keys),
        "failing": _failing(by_key),
    }


def summarise_modules(results) -> dict:
    by_key = defaultdict(list)
    for r in results:
        by_key[r.key].append(r)
    not_run = sorted(k for k, rs in by_key.items() if not any(r.counted for r in rs))
    run = {k: rs for k, rs in by_key.items() if k not in not_run}
    failing_keys = {k for k, rs in run.items() if not all(r.passed for r in rs)}
    return {
        "module_db": {"entries": len(moduleinfo_harness.module_db)},
        "minigrad_has": len(by_key),
        "not_run": {k: "the constructor takes a torch module, which is not converted"
                    for k in not_run},
        "passing": {"modules": len(run) - len(failing_keys), "modules_tested": len(run)},
        "samples": _samples_summary([r for rs in run.values() for r in rs]),
        "passing_names": sorted(set(run) - failing_keys),
        "failing": _failing(run),
    }


def _commit() -> str:
    """The checked-out commit, marked when tracked files other than the reports differ from
    it (the report then describes code that no commit holds)."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ".",
                      ":(exclude)benchmarks/results")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit} with uncommitted changes" if changed else commit


def _numba_version() -> str:
    try:
        import numba
    except ImportError:
        return "not installed"
    return numba.__version__


def _samples_line(what, s, cap) -> str:
    return (f"{what} passed: {s['passed']} / {s['total']} "
            f"(float32 {s['per_dtype']['float32']['passed']}/{s['per_dtype']['float32']['total']}"
            f", float64 {s['per_dtype']['float64']['passed']}/"
            f"{s['per_dtype']['float64']['total']})"
            + ("" if cap is None else f", at most {cap} per op and dtype")
            + f"; gradients compared on {s['gradients_compared']}; failing by cause "
            f"{s['failure_causes']}")


def summary_lines(data) -> list[str]:
    o, m, cap = data["ops"], data["modules"], data["max_samples_per_op_and_dtype"]
    exposed = o["minigrad_exposes"]
    lines = [
        f"PyTorch {data['torch_version']} op_db: {o['op_db']['entries']} OpInfo entries, "
        f"{o['op_db']['unique_names']} unique op names",
        f"minigrad exposes {exposed['entries']} entries ({exposed['unique_names']} unique "
        f"names; the other {o['op_db']['unique_names'] - exposed['unique_names']} names are not "
        f"in minigrad); {len(o['no_float_samples'])} entries have no float samples",
        f"ops passing every float32/float64 sample: {o['passing']['entries']} of "
        f"{o['passing']['entries_tested']} entries, {o['passing']['unique_names']} of "
        f"{o['passing']['unique_names_tested']} unique names",
        _samples_line(f"op samples ({o['inputs']})", o["samples"], cap),
        f"op samples: {o['samples']['skipped']} skipped (PyTorch raised), "
        f"{o['samples']['values_not_compared_random']} random ones compared by shape and dtype "
        f"only, {o['samples']['inputs_made_contiguous']} had non-contiguous inputs (made "
        "contiguous)",
    ]
    if m is not None:
        lines += [
            f"module_db: {m['module_db']['entries']} ModuleInfo entries; minigrad has "
            f"{m['minigrad_has']} of the layers ({len(m['not_run'])} not run: "
            f"{', '.join(m['not_run']) or 'none'})",
            f"layers passing every input: {m['passing']['modules']} of "
            f"{m['passing']['modules_tested']}",
            _samples_line("layer inputs", m["samples"], cap),
        ]
    return lines


def _failing_table(failing) -> list[str]:
    lines = ["| name | failing samples | dtypes | causes | table | first failure |",
             "|---|---|---|---|---|---|"]
    for f in failing:
        causes = ", ".join(f"{k} {v}" for k, v in sorted(f["causes"].items()))
        first = f["first_failure"].replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{f['name']}` | {f['failing_samples']} / {f['samples']} | "
                     f"{', '.join(f['dtypes'])} | {causes} | {f['table']} | {first} |")
    return lines


def write_markdown(data, path: Path):
    o, m = data["ops"], data["modules"]
    lines = ["# Conformance: PyTorch's OpInfo and ModuleInfo inputs run on minigrad", "",
             "Written by `benchmarks/conformance.py` (`make conformance`); how ops and layers "
             "are matched and compared: `tests/conformance/opinfo_harness.py` and "
             "`moduleinfo_harness.py`; the work list: `tests/conformance/known_failures.py` "
             "(`table` below: whether the failing entry is listed there).", "",
             f"torch {data['torch_version']}, NumPy {data['numpy_version']}, Numba "
             f"{data['numba_version']}, Python "
             f"{data['python']}, minigrad commit {data['minigrad_commit']}, "
             f"{data['seconds']} s.", ""]
    lines += [f"* {line}" for line in summary_lines(data)]
    lines += ["", f"OpInfo entries with no float samples (not run): "
              f"{', '.join(o['no_float_samples']) or 'none'}.", "",
              f"## Failing ops ({len(o['failing'])})", ""]
    lines += _failing_table(o["failing"])
    if m is not None:
        lines += ["", f"## Failing layers ({len(m['failing'])})", ""]
        lines += _failing_table(m["failing"])
    lines += ["", f"## Passing ops ({len(o['passing_names'])})", "",
              ", ".join(f"`{k}`" for k in o["passing_names"])]
    if m is not None:
        lines += ["", f"## Passing layers ({len(m['passing_names'])})", "",
                  ", ".join(f"`{k}`" for k in m["passing_names"])]
    path.write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-samples", type=int, default=None,
                        help="at most this many samples per op (or layer) and dtype, evenly "
                             "spaced (default: all)")
    parser.add_argument("--reference-inputs", action="store_true",
                        help="ops only, on op_db's reference_inputs (the samples plus larger "
                             "and extremal cases) instead of sample_inputs")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()

    start = time.perf_counter()
    op_results, no_float = run_ops(args.max_samples, args.reference_inputs)
    ops = summarise_ops(op_results, no_float, args.reference_inputs)
    modules = None if args.reference_inputs else summarise_modules(run_modules(args.max_samples))
    data = {
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "numba_version": _numba_version(),
        "python": platform.python_version(),
        "minigrad_commit": _commit(),
        "max_samples_per_op_and_dtype": args.max_samples,
        "seconds": round(time.perf_counter() - start, 1),
        "ops": ops,
        "modules": modules,
    }

    stem = "conformance-reference" if args.reference_inputs else "conformance"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(data, indent=1) + "\n")
    write_markdown(data, args.out / f"{stem}.md")
    print("\n".join(summary_lines(data)))
    print(f"details: {args.out / (stem + '.md')}")


if __name__ == "__main__":
    main()
