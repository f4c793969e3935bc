"""A model's training step with two design choices switched off and on, in alternating rounds
of one process: "before" = gemm_packed's parallel build always on ``gemm_packed_into`` (A
packed by the calling thread, no row groups) and dW_hh over a stacked copy of [h0, h_1, ...];
"after" = the code as it is. Medians of each round's median of 10 steps, and the
after/before ratio of every round.

    MINIGRAD_CACHE_DIR=$(mktemp -d) python benchmarks/lstm_step_ab.py [MODEL] [THREADS] [ROUNDS]

(MODEL of train_models.py, default char_lstm; THREADS default 2, set as train_step.py does;
ROUNDS default 12.) Both arms share the process's kernel choices (autotune.py).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

THREADS = sys.argv[2] if len(sys.argv) > 2 else "2"
for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = THREADS
os.environ["MINIGRAD_THREADS"] = "fixed"
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import train_models  # noqa: E402
from minigrad.kernels import gemm_packed_numba as packed  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import backend  # noqa: E402
from minigrad.ops import lstm_sequence, recompute  # noqa: E402
from minigrad.ops.kernel_calls import matmul_2d  # noqa: E402


def stacked_recurrent_weight_grad(d_pre, h0, hs):
    xp = backend.array_module(h0)
    h_prev = xp.stack([h0, *hs[:-1]]).reshape(-1, h0.shape[-1])
    return xp.ascontiguousarray(matmul_2d(h_prev.T, d_pre.reshape(-1, d_pre.shape[-1])).T)


def serial_packing(a, b_panels, c, tile):
    packed.gemm_packed_into.parallel(a, b_panels, c, tile)


ARMS = {"before": (stacked_recurrent_weight_grad, serial_packing),
        "after": (recompute.recurrent_weight_grad, packed._run_parallel)}


def use(arm):
    lstm_sequence.recurrent_weight_grad, packed._run_parallel = ARMS[arm]


def main():
    model = sys.argv[1] if len(sys.argv) > 1 else "char_lstm"
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 12
    step = train_models.make_step(mg, train_models.build(mg, model))
    for arm in ARMS:
        use(arm)
        for _ in range(5):
            step()
    results = {arm: [] for arm in ARMS}
    for r in range(rounds):
        for arm in (list(ARMS) if r % 2 == 0 else list(ARMS)[::-1]):
            use(arm)
            wall, cpu = [], []
            for _ in range(10):
                t0, c0 = time.perf_counter(), time.process_time()
                step()
                wall.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            results[arm].append((np.median(wall), np.median(cpu)))
    print(f"{model}, {THREADS} thread(s)")
    for arm, rows in results.items():
        print(f"{arm:7s} wall {np.median([w for w, _ in rows]) * 1e3:.2f} ms "
              f"(best round {min(w for w, _ in rows) * 1e3:.2f}), "
              f"process CPU {np.median([c for _, c in rows]) * 1e3:.2f} ms")
    ratios = [a[0] / b[0] for a, b in zip(results["after"], results["before"])]
    print("after/before per round: " + " ".join(f"{x:.3f}" for x in ratios)
          + f"   median {np.median(ratios):.3f}")


if __name__ == "__main__":
    main()
