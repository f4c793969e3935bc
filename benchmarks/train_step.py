"""One training step (forward + backward + optimizer step), minigrad vs PyTorch eager, CPU.

The models are built by the *same* function for both libraries (``lib`` is ``minigrad`` or
``torch``): the API is PyTorch's, so one definition serves both, and the weights are copied
from the PyTorch model into the minigrad one through ``state_dict`` so both compute the same
numbers. Typical teaching sizes, float32:

* MLP on digits-sized input: 64 -> 256 -> 256 -> 10, batch 128, Adam
* small CNN on 28x28: conv(1->16,3) relu pool, conv(16->32,3) relu pool, linear -> 10, batch 64
* LSTM: input 32, hidden 128, sequence 32, batch 32, linear head
* Transformer encoder layer: d_model 128, 4 heads, ff 256, sequence 32, batch 32

    python benchmarks/train_step.py [--quick] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

import minigrad as mg

sys.path.insert(0, str(Path(__file__).resolve().parent))   # for _timing, run as a script
import _timing  # noqa: E402


def build(lib, name):
    nn = lib.nn
    if name == "mlp":
        model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                              nn.Linear(256, 10))
        x = np.random.default_rng(0).standard_normal((128, 64)).astype(np.float32)
        y = np.random.default_rng(1).integers(0, 10, 128)
    elif name == "cnn":
        model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
        x = np.random.default_rng(0).standard_normal((64, 1, 28, 28)).astype(np.float32)
        y = np.random.default_rng(1).integers(0, 10, 64)
    elif name == "lstm":
        class LSTMClassifier(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(32, 128, batch_first=True)
                self.head = nn.Linear(128, 10)

            def forward(self, inp):
                out, _ = self.lstm(inp)
                return self.head(out[:, -1])
        model = LSTMClassifier()
        x = np.random.default_rng(0).standard_normal((32, 32, 32)).astype(np.float32)
        y = np.random.default_rng(1).integers(0, 10, 32)
    elif name == "transformer":
        class Encoder(nn.Module):
            def __init__(self):
                super().__init__()
                self.layer = nn.TransformerEncoderLayer(128, 4, dim_feedforward=256,
                                                        dropout=0.0, batch_first=True)
                self.head = nn.Linear(128, 10)

            def forward(self, inp):
                return self.head(self.layer(inp).mean(1))
        model = Encoder()
        x = np.random.default_rng(0).standard_normal((32, 32, 128)).astype(np.float32)
        y = np.random.default_rng(1).integers(0, 10, 32)
    else:
        raise ValueError(name)
    return model, x, y


def make_step(lib, model, x_np, y_np):
    x = lib.tensor(x_np)
    y = lib.tensor(y_np)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def _time(step, repeats):
    return _timing.measure(step, _timing.HostClock(), repeats=repeats).median_s


def _time_interleaved(steps, repeats, rounds=5):
    """Median seconds per step for each of ``steps``, timed in alternating rounds.

    This VM is shared: its speed drifts by tens of percent over seconds. Timing one framework
    for a while and then the other would credit the drift to whichever ran in the quiet
    period; alternating rounds of ``repeats`` steps (after a warm-up of each) spreads it over
    both. Each round starts with ``_timing.measure``'s pause, so one library's spinning
    worker threads do not eat into the other's round.
    """
    times = [[] for _ in steps]
    for _ in range(rounds):
        for step, out in zip(steps, times):
            out.append(_timing.measure(step, _timing.HostClock(), repeats=repeats,
                                       settle_s=0.1).median_s)
    return [sorted(t)[len(t) // 2] for t in times]


def run(names, repeats):
    torch = _timing.torch_or_none()
    if torch is not None:
        torch.manual_seed(0)
    rows = []
    for name in names:
        mg.manual_seed(0)
        model, x, y = build(mg, name)
        row = {"model": name}
        if torch is not None:
            t_model, _, _ = build(torch, name)
            model.load_state_dict(t_model.state_dict())   # same weights, same numbers
            t_step = make_step(torch, t_model, x, y)
            row["torch_loss"] = float(t_step().item())
        m_step = make_step(mg, model, x, y)
        row["minigrad_loss"] = float(m_step().item())
        if torch is None:
            row["minigrad_ms"] = _time(m_step, repeats) * 1e3
        else:
            m_s, t_s = _time_interleaved([m_step, t_step], repeats)
            row["minigrad_ms"], row["torch_ms"] = m_s * 1e3, t_s * 1e3
            row["minigrad_over_torch"] = row["minigrad_ms"] / row["torch_ms"]
        rows.append(row)
        print(_row_md(row), flush=True)
    return rows, (torch.__version__ if torch is not None else None)



HEADER = ("| model | minigrad ms/step | PyTorch ms/step | minigrad / PyTorch | first-step loss "
          "(minigrad / PyTorch) |\n|---|---|---|---|---|")


def _row_md(r):
    return (f"| {r['model']} | {r['minigrad_ms']:.2f} | {_timing.ratio_cell(r.get('torch_ms'))} | "
            f"{_timing.ratio_cell(r.get('minigrad_over_torch'), 2, 'x')} | "
            f"{r['minigrad_loss']:.5f} / {_timing.ratio_cell(r.get('torch_loss'), 5)} |")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--models", nargs="*", default=["mlp", "cnn", "lstm", "transformer"])
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = p.parse_args()
    print(HEADER)
    rows, torch_version = run(args.models, 3 if args.quick else 10)
    md = HEADER + "\n" + "\n".join(_row_md(r) for r in rows) + (
        f"\n\nfloat32, forward + backward + Adam step; median of 5 rounds, each the median of "
        f"{3 if args.quick else 10} steps, minigrad and PyTorch rounds alternating; machine "
        f"{_timing.machine_name()} ({_timing.cpu_description()}), "
        f"PyTorch {torch_version or 'not installed'} "
        f"({'default threads' if torch_version else ''}).\n")
    out = os.path.join(args.out, _timing.machine_name())
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "train_step.json"), "w") as f:
        json.dump({"machine": _timing.machine_name(), "torch": torch_version, "rows": rows}, f,
                  indent=2)
    with open(os.path.join(out, "train_step.md"), "w") as f:
        f.write(md)


if __name__ == "__main__":
    main()
