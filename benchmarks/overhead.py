"""Per-op framework overhead: forward + backward of tiny tensors, minigrad vs NumPy vs PyTorch.

On a 4x4 tensor the arithmetic costs almost nothing, so the time per op *is* the framework:
creating Tensors, recording the graph node, running the engine. We time a chain of N ops on
a leaf that requires grad, then one backward through the whole chain, and divide by N:

    per-op cost = (forward of N ops + backward through N ops) / N

The NumPy column is the bare arithmetic of the same forward and backward formulas written by
hand (no graph at all): the floor any autograd framework pays on top. The PyTorch column is
eager-mode autograd on CPU, measured in the same run when torch is installed.

    python benchmarks/overhead.py [--quick] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

import minigrad as mg

sys.path.insert(0, str(Path(__file__).resolve().parent))   # for _timing, run as a script
import _results  # noqa: E402
import _timing  # noqa: E402

CHAIN = 200  # ops per chain: long enough that the final sum and backward call amortise


def _time(fn, repeats, number):
    """Median seconds per call: ``number`` calls per timed sample (one call is microseconds)."""
    def calls():
        for _ in range(number):
            fn()
    return _timing.measure(calls, _timing.HostClock(), repeats=repeats, warmup=1).median_s / number


# Each case: (name, minigrad step, torch step, numpy forward+backward of one op)
def _cases(shape):
    rng = np.random.default_rng(0)
    a_np = rng.uniform(0.5, 1.5, shape).astype(np.float32)
    m_np = (np.eye(shape[0]) * 0.5).astype(np.float32)

    def numpy_add(x):
        y = x + a_np
        return y, np.ones_like(y) * 1.0          # d/dx = g

    def numpy_mul(x):
        y = x * a_np
        return y, np.ones_like(y) * a_np         # d/dx = g * a

    def numpy_tanh(x):
        y = np.tanh(x)
        return y, 1.0 - y * y

    def numpy_matmul(x):
        y = x @ m_np
        return y, np.ones_like(y) @ m_np.T

    def numpy_relu(x):
        y = np.maximum(x, 0)
        return y, (y > 0).astype(x.dtype)

    def numpy_sum_keep(x):
        y = x - x.sum(axis=1, keepdims=True) * 0.25      # rows centred: stays finite
        return y, np.ones_like(x)

    return [
        ("add", lambda x, a: x + a, numpy_add),
        ("mul", lambda x, a: x * a, numpy_mul),
        ("tanh", lambda x, a: x.tanh(), numpy_tanh),
        ("relu", lambda x, a: x.relu(), numpy_relu),
        ("matmul", lambda x, m: x @ m, numpy_matmul),
        ("x - sum(dim)/4", lambda x, a: x - x.sum(1, keepdim=True) * 0.25, numpy_sum_keep),
    ], a_np, m_np


def _chain_step(lib, op, x0, operand):
    def step():
        x = x0
        for _ in range(CHAIN):
            x = op(x, operand)
        x.sum().backward()
        x0.grad = None
    return step


def _numpy_step(fn, x_np):
    def step():
        x = x_np
        grads = []
        for _ in range(CHAIN):
            x, local = fn(x)
            grads.append(local)
        g = np.ones_like(x)
        for local in reversed(grads):   # the chain rule without a framework
            g = g * local if local.shape == g.shape else g @ local
        return g
    return step


def run(quick: bool):
    shape = (4, 4)
    repeats, number = (3, 2) if quick else (7, 5)
    cases, a_np, m_np = _cases(shape)
    torch = _timing.torch_or_none()
    if torch is not None:
        torch.set_num_threads(1)
    rows = []
    for name, op, np_fn in cases:
        operand_np = m_np if name == "matmul" else a_np
        x_mg = mg.tensor(np.ones(shape, np.float32) * 0.3, requires_grad=True)
        t_mg = _time(_chain_step(mg, op, x_mg, mg.tensor(operand_np)), repeats, number) / CHAIN
        t_np = _time(_numpy_step(np_fn, np.ones(shape, np.float32) * 0.3), repeats,
                     number) / CHAIN
        row = {"op": name, "minigrad_us": t_mg * 1e6, "numpy_us": t_np * 1e6}
        if torch is not None:
            x_t = torch.full(shape, 0.3, requires_grad=True)
            t_t = _time(_chain_step(torch, op, x_t, torch.from_numpy(operand_np)), repeats,
                        number) / CHAIN
            row["torch_us"] = t_t * 1e6
            row["minigrad_over_torch"] = t_mg / t_t
        rows.append(row)
    return rows, (torch.__version__ if torch is not None else None)



def to_markdown(rows, torch_version) -> str:
    head = "| op (4x4 float32) | minigrad µs/op | NumPy µs/op | PyTorch µs/op | minigrad / PyTorch |"
    lines = [head, "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['op']} | {r['minigrad_us']:.1f} | {r['numpy_us']:.1f} | "
                     f"{_timing.ratio_cell(r.get('torch_us'), 1)} | "
                     f"{_timing.ratio_cell(r.get('minigrad_over_torch'), 2, 'x')} |")
    note = (f"\nForward + backward per op, chain of {CHAIN} ops, median of repeats; "
            f"machine {_timing.machine_name()} ({_timing.cpu_description()}), "
            f"PyTorch {torch_version or 'not installed'} (1 thread).\n")
    return "\n".join(lines) + "\n" + note


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = p.parse_args()
    rows, torch_version = run(args.quick)
    md = to_markdown(rows, torch_version)
    print(md)
    _results.write(args.out, "overhead", {"machine": _timing.machine_name(), "chain": CHAIN,
                                          "torch": torch_version, "rows": rows},
                   md, indent=2)


if __name__ == "__main__":
    main()
