"""The packed GEMM's register tile, one width against another, with NumPy in the same run.

    python benchmarks/gemm_tiles.py [--isa avx2] [--widths 64 32 16] [--rounds 7]
    python benchmarks/gemm_tiles.py [--isa avx2] --asm      # spills in each tile's loop

Times, on one thread (the serial builds; NumPy's OpenBLAS on one thread too):

* ``gemm_packed`` float32 at 128x784x512, 512^3 and 1024^3 with B packed for each tile width
  of ``--widths`` (packing B outside the timing, packing A inside, as in a product);
* conv2d forward 64 -> 128 channels, 3x3 'same', 16x16, batch 32 (the register-tile path of
  conv2d_numba.py) with the tile each vector width would pick (``--bits``);
* NumPy (``a @ b``; conv2d_numpy for the convolution) in the same rounds.

Rounds alternate every variant (the median of ``--rounds``), so a shared machine's drift is
spread over all of them; wall and CPU time are both printed, and the ratios to NumPy are what
to compare. ``--isa avx2`` restarts the script as an AVX2 machine (benchmarks/_timing.py):
Numba compiles for Haswell and OpenBLAS runs its Haswell kernels.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _timing  # noqa: E402

SIZES = ((128, 784, 512), (512, 512, 512), (1024, 1024, 1024))
CONV = ((32, 64, 16, 16), (128, 64, 3, 3))          # x (N, C, H, W), w (F, C, KH, KW)


def inner_loop_counts(width, dtype):
    """(vector FMAs, stack references) in the micro-kernel's inner loop as compiled for Numba's
    target: the basic blocks with FMAs in them. A stack reference (``(%rsp)``) there is an
    accumulator spilled to memory and reloaded at every step of k."""
    import re

    from minigrad.kernels._gemm_tiles import TILES
    from minigrad.kernels._numba_cpu import slp_vectorizer
    from numba import types
    vector, matrix = types.Array(dtype, 1, "C"), types.Array(dtype, 2, "C")
    signature = (vector, vector, types.int64, matrix, types.int64, types.int64)
    kernel = TILES[width]
    with slp_vectorizer():
        kernel.compile(signature)
    blocks = re.split(r"\n(?=\S[^\n]*:)", kernel.inspect_asm(signature))   # at each label
    loops = [block for block in blocks if "vfmadd" in block]
    return (sum(len(re.findall(r"vfmadd", block)) for block in loops),
            sum(len(re.findall(r"\(%rsp\)", block)) for block in loops))


def timed(fn, repeats):
    """(median wall s, median CPU s) of ``repeats`` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return sorted(walls)[len(walls) // 2], sorted(cpus)[len(cpus) // 2]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--isa", choices=sorted(_timing.ISA_ENV))
    p.add_argument("--widths", nargs="+", type=int, default=[64, 32, 16])
    p.add_argument("--bits", nargs="+", type=int, default=[512, 256],
                   help="vector widths whose conv2d tile to time")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--no-conv", action="store_true")
    p.add_argument("--asm", action="store_true",
                   help="only count FMAs and stack spills in each tile's compiled inner loop")
    args = p.parse_args(argv)
    _timing.run_as_isa(args.isa)
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    os.environ["MINIGRAD_AUTOTUNE"] = "0"
    if args.asm:                    # code loaded from Numba's cache has no assembly to read
        _timing.use_fresh_numba_cache()

    import numpy as np
    from minigrad.kernels import _cpu_isa, conv2d_numba, gemm_packed_numba

    from minigrad import kernels
    print(f"Numba target: {_cpu_isa.numba_target()}, vector bits {_cpu_isa.vector_bits()};"
          f" {_timing.machine_name()}")
    if args.asm:
        from numba import types
        for width in args.widths:
            for dtype in (types.float32, types.float64):
                fmas, spills = inner_loop_counts(width, dtype)
                print(f"tile 4x{width} {dtype}: inner loop {fmas} FMAs, "
                      f"{spills} stack references")
        return
    rng = np.random.default_rng(0)
    cases = {}
    for m, k, n in SIZES:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        truth = a.astype(np.float64) @ b
        cases[f"numpy {m}x{k}x{n}"] = (lambda a=a, b=b: a @ b)
        for width in args.widths:
            panels = gemm_packed_numba.pack_rhs(b, width)
            def run(a=a, p=panels, n=n):
                return gemm_packed_numba.gemm_packed(a, p, n, build="serial")
            err = np.abs(run() - truth).max() / np.abs(truth).max()
            assert err < 1e-4, (width, err)
            cases[f"tile 4x{width} {m}x{k}x{n}"] = run
    if not args.no_conv:
        x = rng.standard_normal(CONV[0], dtype=np.float32)
        w = rng.standard_normal(CONV[1], dtype=np.float32)
        cases["numpy conv2d fwd"] = lambda: kernels.conv2d(x, w, 1, 1, 1, impl="numpy")
        original = gemm_packed_numba.vector_bits
        for bits in args.bits:
            def conv(bits=bits):
                gemm_packed_numba.vector_bits = lambda: bits
                try:
                    return conv2d_numba._correlate_stride1_tiles(x, w, 1, 1, 1, 1)
                finally:
                    gemm_packed_numba.vector_bits = original
            width = gemm_packed_numba.tile_widths(bits, 4)[0]
            cases[f"tile 4x{width} conv2d fwd"] = conv
    for fn in cases.values():                                      # compile, warm up
        fn()
    results = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, fn in cases.items():
            results[name].append(timed(fn, 3))
    for name, values in results.items():
        wall = float(np.median([v[0] for v in values]))
        cpu = float(np.median([v[1] for v in values]))
        ref = "numpy " + name.split(" ", 2)[2] if name.startswith("tile") else name
        ref_wall = float(np.median([v[0] for v in results[ref]]))
        ref_cpu = float(np.median([v[1] for v in results[ref]]))
        print(f"{name:30s} {wall * 1e3:9.3f} ms wall {cpu * 1e3:9.3f} ms CPU"
              f"   x NumPy: {wall / ref_wall:5.2f} wall {cpu / ref_cpu:5.2f} CPU")


if __name__ == "__main__":
    main()
