"""Kernel benchmarks: every implementation of every op, against vendor libraries, in one run.

    python benchmarks/kernels.py [--quick] [--out DIR] [--repeats N] [--isa avx2]

For each op and size it times every implementation that can run on this machine's devices
("numpy" = NumPy/OpenBLAS on the CPU and CuPy/cuBLAS on a GPU, "numba", "cuda") and the vendor
references that are importable (PyTorch on CPU and GPU), and reports

* the median time of the repeats and the compile time (first call minus a normal call;
  Numba's on-disk cache is pointed at an empty folder, so this is a real compilation);
* GFLOP/s for matmul and conv2d, GB/s for softmax (bytes that must move at least: inputs read
  once, output written once);
* each as a fraction of a ceiling measured in the same run: a large vendor matmul (FLOP/s) and
  a large array copy (bytes/s).

Results go to ``<out>/<machine>/`` as Markdown (``kernels.md``), JSON (``kernels.json``) and
PNG plots; ``--quick`` (small sweep, under ~2 minutes on a 2-core CPU) writes
``kernels-quick.*`` instead, so it never overwrites a full run. ``<machine>`` is the GPU's
name or e.g. ``cpu-amd-epyc-avx512-2core`` (never the hostname).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))          # for _timing, when run as a script

import _results  # noqa: E402
import _timing  # noqa: E402

# Real compile times: an empty Numba cache, set before anything imports Numba.
NUMBA_CACHE = _timing.use_fresh_numba_cache()

import numpy as np  # noqa: E402

from minigrad import kernels as K  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Sizes
# ---------------------------------------------------------------------------------------------

SIZES = {
    "quick": {
        "matmul": [128, 256, 512, 1024],
        "softmax": [(1024, 1024), (4096, 4096)],
        # (N, C, F, H, W, K): 3x3 'same' convolutions
        "conv2d": [(32, 32, 32, 28, 28, 3), (8, 64, 64, 32, 32, 3)],
        # (N, C, H, W, K, stride, padding): the pools of a small CNN and of a ResNet stem
        "max_pool2d": [(64, 16, 28, 28, 2, 2, 0), (32, 64, 56, 56, 3, 2, 1)],
    },
    "full": {
        "matmul": [128, 256, 384, 512, 768, 1024, 1536, 2048],
        "softmax": [(1024, 1024), (4096, 4096), (256, 32768), (32768, 256)],
        "conv2d": [(32, 32, 32, 28, 28, 3), (8, 64, 64, 32, 32, 3), (16, 3, 64, 64, 64, 3),
                   (16, 128, 128, 14, 14, 3)],
        "max_pool2d": [(64, 16, 28, 28, 2, 2, 0), (64, 32, 14, 14, 2, 2, 0),
                       (32, 64, 56, 56, 3, 2, 1)],
    },
}
SOFTMAX_OPS = ["softmax", "log_softmax", "softmax_backward", "log_softmax_backward"]
CONV_PASSES = ["forward", "backward_input", "backward_weight", "fwd+bwd"]
POOL_PASSES = ["forward", "backward"]


# ---------------------------------------------------------------------------------------------
# What to time: (label, callable) pairs per implementation, on one device
# ---------------------------------------------------------------------------------------------

class Device:
    """Arrays and implementations of one device: 'cpu' (NumPy) or 'cuda' (CuPy)."""

    def __init__(self, name, cupy=None, torch=None):
        self.name = name
        self.cupy = cupy
        self.torch = torch
        self.clock = _timing.CudaEventClock(cupy) if name == "cuda" else _timing.HostClock()
        self.xp = cupy if name == "cuda" else np

    def array(self, rng, shape, dtype=np.float32):
        return self.xp.asarray(rng.standard_normal(shape).astype(dtype))

    def kernel_impls(self):
        """Our implementations that run on this device's arrays (labels name the library)."""
        impls = [("numpy", "numpy (CuPy)" if self.name == "cuda" else "numpy (NumPy)")]
        if self.name == "cpu" and "numba" in K.available("matmul"):
            impls.append(("numba", "numba"))
        if self.name == "cuda":
            impls.append(("cuda", "cuda"))
        return impls

    def torch_tensor(self, array):
        t = self.torch
        if self.name == "cuda":
            return t.as_tensor(array, device="cuda")
        return t.from_numpy(np.asarray(array))

    def torch_sync(self):
        if self.torch is not None and self.name == "cuda":
            self.torch.cuda.synchronize()


def matmul_cases(dev, n, rng):
    a, b = dev.array(rng, (n, n)), dev.array(rng, (n, n))
    cases = [(label, lambda impl=impl: K.matmul(a, b, impl=impl))
             for impl, label in dev.kernel_impls()]
    if dev.torch is not None:
        ta, tb = dev.torch_tensor(a), dev.torch_tensor(b)
        cases.append((f"torch ({dev.name})", lambda: (dev.torch.matmul(ta, tb), dev.torch_sync())))
    return cases, 2.0 * n ** 3, None


def softmax_cases(dev, shape, op, rng):
    x = dev.array(rng, shape)
    gy = dev.array(rng, shape)
    forward = op in ("softmax", "log_softmax")
    y = K.softmax(x) if op == "softmax_backward" else K.log_softmax(x)
    args = (x,) if forward else (y, gy)
    cases = [(label, lambda impl=impl: getattr(K, op)(*args, impl=impl))
             for impl, label in dev.kernel_impls()]
    if dev.torch is not None:
        tf = dev.torch.nn.functional
        tx, ty, tgy = (dev.torch_tensor(a) for a in (x, y, gy))
        torch_op = {
            "softmax": lambda: tf.softmax(tx, dim=-1),
            "log_softmax": lambda: tf.log_softmax(tx, dim=-1),
            "softmax_backward": lambda: dev.torch._softmax_backward_data(tgy, ty, -1, ty.dtype),
            "log_softmax_backward": lambda: dev.torch._log_softmax_backward_data(
                tgy, ty, -1, ty.dtype),
        }[op]
        cases.append((f"torch ({dev.name})", lambda: (torch_op(), dev.torch_sync())))
    arrays_moved = (2 if forward else 3) * x.size * x.dtype.itemsize
    return cases, None, arrays_moved


def conv_cases(dev, layer, conv_pass, rng):
    n, c, f, h, w_, k = layer
    pad = k // 2
    x, w = dev.array(rng, (n, c, h, w_)), dev.array(rng, (f, c, k, k))
    gy = dev.array(rng, (n, f, h, w_))
    flop_per_pass = 2.0 * n * f * h * w_ * c * k * k

    def run(impl):
        if conv_pass in ("forward", "fwd+bwd"):
            K.conv2d(x, w, 1, pad, impl=impl)
        if conv_pass in ("backward_input", "fwd+bwd"):
            K.conv2d_backward_input(gy, w, x.shape, 1, pad, impl=impl)
        if conv_pass in ("backward_weight", "fwd+bwd"):
            K.conv2d_backward_weight(x, gy, w.shape, 1, pad, impl=impl)

    cases = [(label, lambda impl=impl: run(impl)) for impl, label in dev.kernel_impls()]
    if dev.torch is not None:
        torch, tf = dev.torch, dev.torch.nn.functional
        tx, tw, tgy = (dev.torch_tensor(a) for a in (x, w, gy))

        def run_torch():
            if conv_pass in ("forward", "fwd+bwd"):
                tf.conv2d(tx, tw, padding=pad)
            if conv_pass in ("backward_input", "fwd+bwd"):
                torch.nn.grad.conv2d_input(tx.shape, tw, tgy, padding=pad)
            if conv_pass in ("backward_weight", "fwd+bwd"):
                torch.nn.grad.conv2d_weight(tx, tw.shape, tgy, padding=pad)
            dev.torch_sync()

        cases.append((f"torch ({dev.name})", run_torch))
    passes = 3 if conv_pass == "fwd+bwd" else 1
    return cases, passes * flop_per_pass, None


def max_pool_cases(dev, layer, pool_pass, rng):
    n, c, h, w_, k, stride, pad = layer
    hyper = dict(kernel_size=k, stride=stride, padding=pad)
    x = dev.array(rng, (n, c, h, w_))
    _, idx = K.max_pool2d(x, **hyper, impl="numpy")
    gy = dev.array(rng, idx.shape)

    def run(impl):
        if pool_pass == "forward":
            K.max_pool2d(x, **hyper, impl=impl)
        else:
            K.max_pool2d_backward(gy, idx, x.shape, **hyper, impl=impl)

    cases = [(label, lambda impl=impl: run(impl)) for impl, label in dev.kernel_impls()]
    if dev.torch is not None:
        torch, tf = dev.torch, dev.torch.nn.functional
        tx, tgy, tidx = dev.torch_tensor(x), dev.torch_tensor(gy), dev.torch_tensor(idx)

        def run_torch():
            if pool_pass == "forward":
                tf.max_pool2d(tx, **hyper, return_indices=True)
            else:
                torch.ops.aten.max_pool2d_with_indices_backward(
                    tgy, tx, [k, k], [stride, stride], [pad, pad], [1, 1], False, tidx)
            dev.torch_sync()

        cases.append((f"torch ({dev.name})", run_torch))
    # bytes that must move: x read (and gx written) once, y/gy and the int64 indices once
    moved = x.size * x.dtype.itemsize + idx.size * (x.dtype.itemsize + 8)
    return cases, None, moved


# ---------------------------------------------------------------------------------------------
# Ceilings, measured in this run
# ---------------------------------------------------------------------------------------------

def measure_ceilings(dev, quick, repeats):
    rng = np.random.default_rng(0)
    n = 1536 if quick else 2048
    a, b = dev.array(rng, (n, n)), dev.array(rng, (n, n))
    matmul = _timing.measure(lambda: a @ b, dev.clock, repeats=repeats)
    src = dev.xp.ones(64 * 2 ** 20 // 4 if quick else 256 * 2 ** 20 // 4, dtype=np.float32)
    dst = dev.xp.empty_like(src)
    copy = _timing.measure(lambda: dev.xp.copyto(dst, src), dev.clock, repeats=repeats)
    return {
        "matmul_gflops": 2.0 * n ** 3 / matmul.median_s / 1e9,
        "matmul_what": f"{'CuPy/cuBLAS' if dev.name == 'cuda' else 'NumPy/BLAS'} "
                       f"{n}x{n}x{n} float32",
        "copy_gbps": 2.0 * src.nbytes / copy.median_s / 1e9,
        "copy_what": f"copy of {src.nbytes // 2 ** 20} MiB float32 (read + write)",
    }


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------

FAMILIES = ("matmul", "softmax", "conv2d", "max_pool2d")


def run_benchmarks(dev, quick, repeats, families=FAMILIES):
    sizes = {family: (sizes if family in families else [])
             for family, sizes in SIZES["quick" if quick else "full"].items()}
    rng = np.random.default_rng(1)
    ceilings = measure_ceilings(dev, quick, repeats)
    print(f"[{dev.name}] ceilings: {ceilings['matmul_gflops']:.1f} GFLOP/s "
          f"({ceilings['matmul_what']}), {ceilings['copy_gbps']:.1f} GB/s ({ceilings['copy_what']})")
    rows = []

    def record(op, size_label, cases, flops, nbytes):
        for label, fn in cases:
            t = _timing.measure(fn, dev.clock, repeats=repeats)
            row = {"device": dev.name, "op": op, "size": size_label, "impl": label,
                   "dtype": "float32", "median_ms": t.median_s * 1e3, "min_ms": t.min_s * 1e3,
                   "compile_s": t.compile_s, "repeats": t.repeats}
            if flops:
                row["gflops"] = flops / t.median_s / 1e9
                row["fraction_of_ceiling"] = row["gflops"] / ceilings["matmul_gflops"]
            if nbytes:
                row["gbps"] = nbytes / t.median_s / 1e9
                row["fraction_of_ceiling"] = row["gbps"] / ceilings["copy_gbps"]
            rows.append(row)
            rate = (f"{row['gflops']:8.1f} GFLOP/s" if flops else f"{row['gbps']:8.1f} GB/s   ")
            print(f"[{dev.name}] {op:22s} {size_label:24s} {label:14s} "
                  f"{row['median_ms']:9.3f} ms  {rate}  {row['fraction_of_ceiling']:6.1%} of "
                  f"ceiling  compile {row['compile_s']:.2f} s", flush=True)

    for n in sizes["matmul"]:
        record("matmul", f"{n}x{n}x{n}", *matmul_cases(dev, n, rng))
    for shape in sizes["softmax"]:
        for op in SOFTMAX_OPS:
            record(op, f"{shape[0]}x{shape[1]}", *softmax_cases(dev, shape, op, rng))
    for layer in sizes["conv2d"]:
        n, c, f, h, w_, k = layer
        label = f"N{n} C{c} F{f} {h}x{w_} k{k}"
        for conv_pass in CONV_PASSES:
            record(f"conv2d {conv_pass}", label, *conv_cases(dev, layer, conv_pass, rng))
    for layer in sizes["max_pool2d"]:
        n, c, h, w_, k, stride, pad = layer
        label = f"N{n} C{c} {h}x{w_} k{k} s{stride} p{pad}"
        for pool_pass in POOL_PASSES:
            record(f"max_pool2d {pool_pass}", label, *max_pool_cases(dev, layer, pool_pass, rng))
    return rows, ceilings


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------

def markdown_report(meta, ceilings, rows):
    lines = [
        f"# Kernel benchmarks: {meta['machine']}{' (quick)' if meta['quick'] else ''}",
        "",
        f"{meta['date']}; {meta['cpu']}, {meta['cpu_count']} cores"
        + (f"; GPU {meta['gpu']}" if meta.get("gpu") else "; no GPU")
        + f"; NumPy {meta['numpy']} ({meta.get('blas', 'BLAS not recorded')}), Numba "
        f"{meta['numba']}, {meta['numba_threads']} Numba threads;"
        f" load average before/after {meta['loadavg_before']} / {meta['loadavg_after']}.",
        "",
        "float32 throughout. Times are medians of the repeats; compile = first call minus a "
        "normal call (empty Numba cache). Fractions are of ceilings measured in the same run:",
        "",
    ]
    for device, c in ceilings.items():
        lines.append(f"* {device}: {c['matmul_gflops']:.1f} GFLOP/s ({c['matmul_what']}), "
                     f"{c['copy_gbps']:.1f} GB/s ({c['copy_what']})")
    lines += ["", "| device | op | size | implementation | median ms | rate | of ceiling | "
              "compile s |", "|---|---|---|---|---:|---:|---:|---:|"]
    for r in rows:
        rate = f"{r['gflops']:.1f} GFLOP/s" if "gflops" in r else f"{r['gbps']:.1f} GB/s"
        lines.append(f"| {r['device']} | {r['op']} | {r['size']} | {r['impl']} | "
                     f"{r['median_ms']:.3f} | {rate} | {r['fraction_of_ceiling']:.1%} | "
                     f"{r['compile_s']:.2f} |")
    return "\n".join(lines) + "\n"


def _series(rows, filter_fn, key):
    """{"impl [device]": [(size, value), ...]} for the rows that pass ``filter_fn``."""
    out = {}
    for r in rows:
        if filter_fn(r):
            out.setdefault(f"{r['impl']} [{r['device']}]", []).append((r["size"], r[key]))
    return out


def plot(rows, out_dir, suffix):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    # matmul: GFLOP/s against n
    if not any(r["op"] == "matmul" for r in rows):
        return files + _bar_plots(rows, out_dir, suffix, plt)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, pts in _series(rows, lambda r: r["op"] == "matmul", "gflops").items():
        ax.plot([int(s.split("x")[0]) for s, _ in pts], [v for _, v in pts], "o-", label=label)
    ax.set(xlabel="n (n x n @ n x n, float32)", ylabel="GFLOP/s", title="matmul")
    ax.grid(alpha=0.3)
    ax.legend()
    files.append(out_dir / f"matmul{suffix}.png")
    fig.tight_layout()
    fig.savefig(files[-1], dpi=120)
    plt.close(fig)
    return files + _bar_plots(rows, out_dir, suffix, plt)


def _bar_plots(rows, out_dir, suffix, plt):
    """softmax, conv2d and max_pool2d: grouped bars, one group per (op, size)."""
    files = []
    for name, is_op, key, unit in [
        ("softmax", lambda r: "softmax" in r["op"], "gbps", "GB/s"),
        ("conv2d", lambda r: r["op"].startswith("conv2d"), "gflops", "GFLOP/s"),
        ("max_pool2d", lambda r: r["op"].startswith("max_pool2d"), "gbps", "GB/s"),
    ]:
        groups = []
        for r in rows:
            if is_op(r) and (r["op"], r["size"]) not in groups:
                groups.append((r["op"], r["size"]))
        if not groups:
            continue
        labels = list(_series(rows, is_op, key))
        fig, ax = plt.subplots(figsize=(max(7, 1.1 * len(groups)), 4.8))
        width = 0.8 / max(1, len(labels))
        for i, label in enumerate(labels):
            values = {(r["op"], r["size"]): r[key] for r in rows
                      if is_op(r) and f"{r['impl']} [{r['device']}]" == label}
            ax.bar([g + i * width for g in range(len(groups))],
                   [values.get(g, 0.0) for g in groups], width, label=label)
        ax.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))])
        ax.set_xticklabels([f"{op}\n{size}" for op, size in groups], fontsize=7, rotation=30,
                           ha="right")
        ax.set(ylabel=unit, title=f"{name} (float32)")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
        files.append(out_dir / f"{name}{suffix}.png")
        fig.tight_layout()
        fig.savefig(files[-1], dpi=120)
        plt.close(fig)
    return files


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sweep (~2 min on 2 cores)")
    parser.add_argument("--out", default=str(HERE / "results"), help="results root folder")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per case")
    parser.add_argument("--ops", nargs="+", choices=FAMILIES, default=list(FAMILIES),
                        help="op families to time (default: all); a subset writes "
                             "kernels[-quick]-<families>.* so it never overwrites a whole run")
    parser.add_argument("--isa", choices=sorted(_timing.ISA_ENV),
                        help="emulate a CPU with only this instruction set (see _timing.py); "
                             "results go to <machine>-as-<isa>")
    args = parser.parse_args(argv)
    _timing.run_as_isa(args.isa)          # restarts the script with the ISA's variables set
    repeats = args.repeats or (7 if args.quick else 15)

    import numba

    cupy = _timing.cupy_or_none()
    torch = _timing.torch_or_none()
    if torch is None:
        print("PyTorch not importable: skipping the torch reference columns")
    devices = [Device("cpu", torch=torch)]
    if cupy is not None:
        devices.append(Device("cuda", cupy=cupy,
                              torch=torch if torch is not None and torch.cuda.is_available()
                              else None))
    else:
        print("No GPU (CuPy missing or no device): CPU columns only")

    meta = {
        "machine": _timing.machine_name(cupy),
        "quick": args.quick,
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cpu": _timing.cpu_description(),
        "cpu_count": os.cpu_count(),
        "gpu": _timing.machine_name(cupy)[4:] if cupy is not None else None,
        "numpy": np.__version__,
        "blas": _timing.blas_description(),
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "torch": getattr(torch, "__version__", None),
        "repeats": repeats,
        "loadavg_before": [round(v, 2) for v in os.getloadavg()],
    }
    rows, ceilings = [], {}
    for dev in devices:
        dev_rows, ceilings[dev.name] = run_benchmarks(dev, args.quick, repeats, args.ops)
        rows += dev_rows
    meta["loadavg_after"] = [round(v, 2) for v in os.getloadavg()]

    suffix = ("-quick" if args.quick else "") + (
        "" if set(args.ops) == set(FAMILIES) else "-" + "-".join(args.ops))
    stem = _results.write(args.out, f"kernels{suffix}",
                          {"meta": meta, "ceilings": ceilings, "results": rows},
                          markdown_report(meta, ceilings, rows), end="\n",
                          machine=meta["machine"])
    files = plot(rows, stem.parent, suffix)
    print(f"wrote {stem}.md, .json and {', '.join(f.name for f in files)}")


if __name__ == "__main__":
    main()
