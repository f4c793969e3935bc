"""The products of a char_lstm step (its two linear layers and the LSTM's dW_hh) through
kernels.matmul's Numba GEMM, with gemm_packed's two parallel drivers (``gemm_packed_into``:
A packed by the calling thread, then the tiles; ``_run_parallel``'s choice: row groups for a
small B), in alternating calls; median and best, us.

    MINIGRAD_CACHE_DIR=$(mktemp -d) python benchmarks/gemm_row_groups_ab.py [THREADS] [ROUNDS]

On one thread both run ``gemm_packed_into``'s serial build: the two columns then differ only
by the machine's noise.
"""

from __future__ import annotations

import os
import sys
import time

THREADS = sys.argv[1] if len(sys.argv) > 1 else "2"
for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = THREADS
os.environ["MINIGRAD_THREADS"] = "fixed"

import numpy as np  # noqa: E402
from minigrad.kernels import gemm_packed_numba as packed  # noqa: E402

from minigrad import kernels  # noqa: E402

ROW_GROUPS = packed._run_parallel


def serial_packing(a, b_panels, c, tile):
    packed.gemm_packed_into.parallel(a, b_panels, c, tile)


def cases():
    rng = np.random.default_rng(0)
    d = rng.standard_normal((1536, 512), dtype=np.float32)        # d gates, (L*N, 4H)
    x = rng.standard_normal((1536, 32), dtype=np.float32)         # the LSTM's input rows
    w = rng.standard_normal((512, 32), dtype=np.float32)          # W_ih
    h = rng.standard_normal((1536, 128), dtype=np.float32)        # h_t rows
    g = rng.standard_normal((1536, 90), dtype=np.float32)         # the head's gradient
    w_out = rng.standard_normal((90, 128), dtype=np.float32)      # the head's weight
    return {"W_ih: dx (1536x512)@(512x32)": (d, w),
            "W_ih: dW (512x1536)T@(1536x32)": (d.T, x),
            "W_ih: forward (1536x32)@(32x512)T": (x, w.T),
            "LSTM dW_hh (128x1536)T@(1536x512)": (h.T, d),
            "head: forward (1536x128)@(128x90)T": (h, w_out.T),
            "head: dx (1536x90)@(90x128)": (g, w_out),
            "head: dW (90x1536)T@(1536x128)": (g.T, h)}


def main():
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    drivers = {"before": serial_packing, "row groups": ROW_GROUPS}
    for name, (a, b) in cases().items():
        times = {label: [] for label in drivers}
        for r in range(rounds + 2):                   # the first two rounds warm up
            order = list(drivers) if r % 2 else list(drivers)[::-1]
            for label in order:
                packed._run_parallel = drivers[label]
                t0 = time.perf_counter()
                kernels.matmul(a, b, impl="numba")
                if r >= 2:
                    times[label].append(time.perf_counter() - t0)
        packed._run_parallel = ROW_GROUPS
        text = "  ".join(f"{label} {np.median(t) * 1e6:6.0f} (best {min(t) * 1e6:5.0f})"
                         for label, t in times.items())
        ratio = np.median(times["row groups"]) / np.median(times["before"])
        best = min(times["row groups"]) / min(times["before"])
        print(f"{name:38s} {text}   ratio median {ratio:.2f}, best {best:.2f}")


if __name__ == "__main__":
    main()
