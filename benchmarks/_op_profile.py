"""Where a training step's time goes, per op: minigrad's op types beside ``torch.profiler``.

``OpTimer`` times minigrad by wrapping the two places every op passes through:
``ArrayFunction.apply`` (an op's forward, recording its node) and the engine's ``_call_backward``
(one node's backward). The wrappers are installed on entering the block and removed on
leaving it, so minigrad runs unchanged, at no cost, outside it. Only the outermost op is
timed: the ops a backward runs (a matmul's backward calls matmul) count as that backward's
time, so the rows add up to the step without counting anything twice. What is left of the
step (module calls, the engine's bookkeeping between nodes, Python in ``forward`` methods)
is the "not inside an op" row.

PyTorch's side is ``torch.profiler``'s ``key_averages()``: aten ops (forward), autograd
nodes (``...Backward0``, backward), the optimizer; self time, i.e. without the ops they call.
"""

from __future__ import annotations

import time
from collections import defaultdict

import _results
import _timing
import numpy as np
import train_models


class OpTimer:
    """``with OpTimer() as t: step()`` -> ``t.seconds[(op name, "forward" | "backward")]``
    (summed over calls) and ``t.calls[...]``."""

    def __init__(self):
        self.seconds = defaultdict(float)
        self.calls = defaultdict(int)
        self._inside = False

    def _timed(self, key, run):
        if self._inside:                    # an op inside an op: counted in the outer one
            return run()
        self._inside = True
        start = time.perf_counter()
        try:
            return run()
        finally:
            self.seconds[key] += time.perf_counter() - start
            self.calls[key] += 1
            self._inside = False

    def __enter__(self):
        from minigrad.autograd import engine, function
        self._function, self._engine = function.ArrayFunction, engine
        self._apply = function.ArrayFunction.__dict__["apply"]
        self._call_backward = engine._call_backward
        apply, call_backward = self._apply.__func__, self._call_backward

        def timed_apply(cls, *args, **kwargs):
            return self._timed((cls.__name__, "forward"), lambda: apply(cls, *args, **kwargs))

        def timed_backward(node, grads):
            return self._timed((node.name, "backward"), lambda: call_backward(node, grads))

        self._function.apply = classmethod(timed_apply)
        self._engine._call_backward = timed_backward
        return self

    def __exit__(self, *exc):
        self._function.apply = self._apply
        self._engine._call_backward = self._call_backward


def phases(step, repeats):
    """Median milliseconds of each stage of ``step`` (see ``train_models.make_step``)."""
    stages = {"zero_grad": [], "forward + loss": [], "backward": [], "optimizer step": []}
    for _ in range(repeats):
        t0 = time.perf_counter()
        step.optimizer.zero_grad()
        t1 = time.perf_counter()
        loss = step.forward()
        t2 = time.perf_counter()
        loss.backward()
        t3 = time.perf_counter()
        step.optimizer.step()
        t4 = time.perf_counter()
        for key, s in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            stages[key].append(s * 1e3)
    return {k: float(np.median(v)) for k, v in stages.items()}


def minigrad_ops(step, steps):
    """Per op type and direction: ms per step and calls per step, over ``steps`` steps."""
    start = time.perf_counter()
    with OpTimer() as timer:
        for _ in range(steps):
            step.optimizer.zero_grad()
            loss = step.forward()
            loss.backward()
            step.optimizer.step()
    total_ms = (time.perf_counter() - start) * 1e3 / steps
    rows = [{"op": op, "direction": d, "ms": s * 1e3 / steps,
             "calls": timer.calls[(op, d)] / steps} for (op, d), s in timer.seconds.items()]
    rows.sort(key=lambda r: -r["ms"])
    return rows, total_ms


def torch_ops(torch, step, steps):
    """torch.profiler's per-op self CPU time, ms per step, over ``steps`` steps."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    rows = []
    for e in prof.key_averages():
        rows.append({"op": e.key, "self_ms": e.self_cpu_time_total / 1e3 / steps,
                     "total_ms": e.cpu_time_total / 1e3 / steps, "calls": e.count / steps})
    rows.sort(key=lambda r: -r["self_ms"])
    return rows


def build_steps(model, quick, torch):
    import minigrad as mg
    if torch is not None:
        torch.manual_seed(0)
        reference = train_models.build(torch, model, quick)
        t_step = train_models.make_step(torch, reference)
        arrays = train_models.weights(reference.model)
    else:
        mg.manual_seed(0)
        arrays, t_step = train_models.weights(train_models.build(mg, model, quick).model), None
    bench = train_models.build(mg, model, quick)
    train_models.load_weights(mg, bench.model, arrays)
    return train_models.make_step(mg, bench), t_step


def profile(model, threads, quick):
    """Stages and per-op times of ``model``'s step, PyTorch on ``threads`` threads (minigrad
    on Numba's count, set by the caller before Numba loads)."""
    try:
        import torch
    except ImportError:
        return _profile(model, quick, None)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _profile(model, quick, torch)
    finally:
        torch.set_num_threads(before)


def _profile(model, quick, torch):
    m_step, t_step = build_steps(model, quick, torch)
    steps = 1 if quick else 10
    result = {"model": model, "steps": steps}
    for name, step in (("minigrad", m_step), ("torch", t_step)):
        if step is None:
            continue
        for _ in range(1 if quick else 3):
            step()                          # warm-up: compilation, allocations
        time.sleep(0 if quick else 0.2)     # the other library's workers stop spinning
        result[name] = {"phases_ms": phases(step, steps)}
    time.sleep(0 if quick else 0.2)
    result["minigrad"]["ops"], result["minigrad"]["profiled_step_ms"] = minigrad_ops(m_step,
                                                                                     steps)
    if t_step is not None:
        time.sleep(0 if quick else 0.2)
        result["torch"]["ops"] = torch_ops(torch, t_step, steps)
    return result


def markdown(result, threads, rows_shown=30):
    m = result["minigrad"]
    t = result.get("torch")
    out = [f"# Per-op profile of one training step: {result['model']}", "",
           "## Stages (ms, median of the steps, no profiler running)", "",
           "| stage | minigrad | PyTorch | minigrad / PyTorch |", "|---|---|---|---|"]
    for stage, ms in m["phases_ms"].items():
        tm = t["phases_ms"][stage] if t else None
        out.append(f"| {stage} | {ms:.3f} | {_timing.ratio_cell(tm, 3)} | "
                   f"{_timing.ratio_cell(tm and ms / tm, 2, 'x')} |")
    total = sum(m["phases_ms"].values())
    t_total = sum(t["phases_ms"].values()) if t else None
    out.append(f"| **step** | **{total:.3f}** | **{_timing.ratio_cell(t_total, 3)}** | "
               f"**{_timing.ratio_cell(t_total and total / t_total, 2, 'x')}** |")
    inside = sum(r["ms"] for r in m["ops"])
    out += ["", f"## minigrad, per op type (ms per step; the step took "
            f"{m['profiled_step_ms']:.3f} ms with the timers on)", "",
            "| op | direction | ms / step | % of step | calls / step | us / call |",
            "|---|---|---|---|---|---|"]
    for r in m["ops"][:rows_shown]:
        out.append(f"| {r['op']} | {r['direction']} | {r['ms']:.3f} | "
                   f"{100 * r['ms'] / m['profiled_step_ms']:.1f} | {r['calls']:g} | "
                   f"{1e3 * r['ms'] / r['calls']:.1f} |")
    if len(m["ops"]) > rows_shown:
        rest = sum(r["ms"] for r in m["ops"][rows_shown:])
        out.append(f"| {len(m['ops']) - rows_shown} more | | {rest:.3f} | "
                   f"{100 * rest / m['profiled_step_ms']:.1f} | | |")
    outside = m["profiled_step_ms"] - inside
    out.append(f"| not inside an op (modules, engine, optimizer's Python) | | {outside:.3f} | "
               f"{100 * outside / m['profiled_step_ms']:.1f} | | |")
    if t:
        out += ["", "## PyTorch, torch.profiler (self CPU time, ms per step)", "",
                "| op | self ms / step | total ms / step | calls / step |", "|---|---|---|---|"]
        for r in t["ops"][:rows_shown]:
            out.append(f"| {r['op']} | {r['self_ms']:.3f} | {r['total_ms']:.3f} | "
                       f"{r['calls']:g} |")
    out += ["", f"float32, forward + loss + backward + AdamW step, {result['steps']} steps "
            f"profiled after warm-up; {threads} thread(s) per library, both libraries in one "
            f"process (one after the other); machine {_timing.machine_name()} "
            f"({_timing.cpu_description()}).", ""]
    return "\n".join(out)


def main(model, threads, quick, out_root):
    with _timing.BackgroundLoad() as load:
        result = profile(model, threads, quick)
    result["other_processes_cores"] = load.cores
    text = markdown(result, threads) + f"\n{load.describe()}.\n"
    stem = _results.write(out_root, f"profile-{model}", result, text, quick=quick, indent=2)
    print(text)
    print(f"wrote {stem}.md, .json")
