"""Where a linear layer's time goes inside an LSTM training step: each matrix product of
``Linear`` timed in the step, then the same call (same arrays, same layouts) replayed alone
with its operands in cache, and again after 32 MB of other memory was touched (cold caches).

    MINIGRAD_CACHE_DIR=$(mktemp -d) python benchmarks/linear_in_step.py [MODEL] [THREADS] [ROUNDS]

MODEL: a model of train_models.py with an LSTM (default char_lstm); THREADS: as
train_step.py's (NUMBA/OMP/OPENBLAS threads, MINIGRAD_THREADS=fixed; default 1: CPU work,
which a shared machine disturbs least); ROUNDS of 10 steps each, every round followed by the
replays (default 5). Also prints the LSTM op's and its kernels' times and the products'
kernel choices. Medians, us; "thread cpu" is the calling thread's CPU time.
"""

from __future__ import annotations

import collections
import os
import sys
import time
from pathlib import Path

THREADS = sys.argv[2] if len(sys.argv) > 2 else "1"
for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = THREADS
os.environ["MINIGRAD_THREADS"] = "fixed"
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import train_models  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import kernels  # noqa: E402
from minigrad.ops import linear, lstm_sequence  # noqa: E402

in_step = collections.defaultdict(list)
captured = {}


def timed(label, function):
    def call(*args, **kwargs):
        t0, c0 = time.perf_counter(), time.thread_time()
        result = function(*args, **kwargs)
        in_step[label].append((time.perf_counter() - t0, time.thread_time() - c0))
        return result
    return call


def layout(a):
    return f"{a.shape}{'' if a.flags.c_contiguous else 'T'}"


product = linear.matmul_2d


def recorded_product(a, b):
    key = f"matmul {layout(a)} @ {layout(b)}"
    captured[key] = (a, b)
    return timed(key, product)(a, b)


def instrument():
    linear.matmul_2d = recorded_product
    for cls in (linear.Linear, lstm_sequence.LSTMSequence, lstm_sequence.LSTMSequenceBackward):
        forward, backward = cls.forward, cls.backward
        cls.forward = staticmethod(timed(cls.__name__ + ".forward", forward))
        cls.backward = staticmethod(timed(cls.__name__ + ".backward", backward))
    calls = lstm_sequence.kernel_calls
    for name in ("lstm_sequence", "lstm_sequence_backward"):
        setattr(calls, name, timed("kernel " + name, getattr(calls, name)))
    lstm_sequence.recurrent_weight_grad = timed("recurrent_weight_grad (dW_hh)",
                                                lstm_sequence.recurrent_weight_grad)


def replay(results, cold, flush):
    for key, (a, b) in captured.items():
        for _ in range(10):
            if cold:
                flush[::16] += 1.0              # every cache line of 32 MB
            t0, c0 = time.perf_counter(), time.thread_time()
            product(a, b)
            results[key].append((time.perf_counter() - t0, time.thread_time() - c0))


def median_us(samples, i):
    return np.median([s[i] for s in samples]) * 1e6


def main():
    model = sys.argv[1] if len(sys.argv) > 1 else "char_lstm"
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    step = train_models.make_step(mg, train_models.build(mg, model))
    instrument()
    for _ in range(5):
        step()
    in_step.clear()
    hot, cold = collections.defaultdict(list), collections.defaultdict(list)
    flush = np.zeros(8 << 20, np.float32)
    steps, all_in_step = [], collections.defaultdict(list)
    for _ in range(rounds):
        for _ in range(10):
            t0, c0 = time.perf_counter(), time.process_time()
            step()
            steps.append((time.perf_counter() - t0, time.process_time() - c0))
        for key, samples in in_step.items():
            all_in_step[key] += samples
        in_step.clear()
        replay(hot, False, flush)
        replay(cold, True, flush)
    print(f"{model}, {THREADS} thread(s): step {median_us(steps, 0) / 1e3:.2f} ms wall, "
          f"{median_us(steps, 1) / 1e3:.2f} ms process CPU (medians)")
    for key in sorted(all_in_step):
        samples = all_in_step[key]
        line = (f"{key:48s} x{len(samples) / (rounds * 10):.0f}/step  in step "
                f"{median_us(samples, 0):7.0f} (thread cpu {median_us(samples, 1):7.0f})")
        if key in hot:
            line += f"  alone, cold {median_us(cold[key], 0):7.0f}  alone, hot {median_us(hot[key], 0):7.0f}"
        print(line)
    for cls, choice in kernels.choices().get("matmul", {}).items():
        print(f"matmul {cls}: {choice.impl}")


if __name__ == "__main__":
    main()
