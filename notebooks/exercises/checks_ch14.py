"""Checks for the exercises of Chapter 14 (scaling out: data-parallel training)."""

from __future__ import annotations

import math

import numpy as np

from .checking import assert_close, attempt, exercise, fail, to_array


# -- Exercise 1 -------------------------------------------------------------------------------
@exercise(1, "all-reduce by recursive doubling", "recursive_doubling_allreduce")
def recursive_doubling_allreduce(recursive_doubling_allreduce):
    rng = np.random.default_rng(0)
    for p, n in [(1, 5), (2, 7), (4, 6), (8, 3)]:
        arrays = [rng.standard_normal(n) for _ in range(p)]
        originals = [a.copy() for a in arrays]
        call = f"recursive_doubling_allreduce(<{p} arrays of {n}>)"
        out = attempt(call, recursive_doubling_allreduce, arrays)
        if not (isinstance(out, tuple) and len(out) == 2):
            fail(f"{call} returned {type(out).__name__}; expected the pair (results, sent).")
        results, sent = out
        if len(results) != p or len(sent) != p:
            fail(f"{call} returned {len(results)} results and {len(sent)} counts; expected one "
                 f"of each per rank ({p}).")
        for r in range(p):
            if not np.array_equal(arrays[r], originals[r]):
                fail(f"{call} changed rank {r}'s input array; work on copies.")
        total = np.sum(originals, axis=0)
        for r in range(p):
            assert_close(f"{call}: rank {r}'s result", to_array(results[r], call), total,
                         rtol=1e-12, atol=1e-12,
                         hint="(expected: the sum of all p arrays, on every rank. Does every "
                              "step add the partner's whole partial sum, partner r ^ distance?)")
        expected = n * int(math.log2(p))
        for r in range(p):
            if int(sent[r]) != expected:
                fail(f"{call}: rank {r} sent {sent[r]} numbers; recursive doubling takes "
                     f"log2(p) = {int(math.log2(p))} steps of the whole vector ({n} numbers), "
                     f"{expected} in all, the same on every rank.")
    return ("every rank holds the sum after log2(p) swaps of the whole vector: n log2(p) "
            "numbers sent per rank, against the ring's 2 (p - 1) n / p")


# -- Exercise 2 -------------------------------------------------------------------------------
def _ring_time(nbytes, p, bandwidth, latency):
    return 2 * (p - 1) * (latency + nbytes / p / bandwidth)


@exercise(2, "the time of a ring all-reduce", "ring_allreduce_time")
def ring_allreduce_time(ring_allreduce_time):
    cases = [(100e6, 8, 10e9, 5e-6), (4e6, 2, 2e9, 1e-5), (1e3, 64, 25e9, 2e-6),
             (1e9, 1, 10e9, 1e-5)]
    for nbytes, p, bandwidth, latency in cases:
        call = (f"ring_allreduce_time(nbytes={nbytes:g}, p={p}, bandwidth={bandwidth:g}, "
                f"latency={latency:g})")
        got = float(to_array(attempt(call, ring_allreduce_time, nbytes, p, bandwidth, latency),
                             call))
        expected = _ring_time(nbytes, p, bandwidth, latency)
        if math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-15):
            continue
        hint = ""
        if math.isclose(2 * got, expected, rel_tol=1e-9):
            hint = " That is half: the ring runs two phases, reduce-scatter and all-gather."
        elif math.isclose(got, 2 * (p - 1) * (latency + nbytes / bandwidth), rel_tol=1e-9):
            hint = " Each step sends one chunk, nbytes / p, not the whole buffer."
        elif math.isclose(got, 2 * (p - 1) * nbytes / p / bandwidth, rel_tol=1e-9):
            hint = " Each of the 2 (p - 1) steps also pays the latency."
        fail(f"{call} returned {got:.6g} s, expected {expected:.6g} s.{hint}")
    return ("the ring's time is 2 (p - 1) (latency + nbytes / (p bandwidth)): for large "
            "buffers almost independent of p")


# -- Exercise 3 -------------------------------------------------------------------------------
@exercise(3, "ZeRO's memory per GPU", "zero_bytes_per_gpu")
def zero_bytes_per_gpu(zero_bytes_per_gpu):
    psi = 7.5e9
    table = {0: 16 * psi, 1: 4 * psi + 12 * psi / 64, 2: 2 * psi + 14 * psi / 64,
             3: 16 * psi / 64}
    for n_gpus in (64, 1):
        for stage in range(4):
            call = f"zero_bytes_per_gpu({psi:g}, n_gpus={n_gpus}, stage={stage})"
            got = float(to_array(attempt(call, zero_bytes_per_gpu, psi, n_gpus, stage), call))
            expected = table[stage] if n_gpus == 64 else 16 * psi
            if not math.isclose(got, expected, rel_tol=1e-9):
                hint = ""
                if math.isclose(got, expected - 4 * psi * (1 if stage == 0 else 1 / n_gpus),
                                rel_tol=1e-9) or math.isclose(got, 12 * psi, rel_tol=1e-9):
                    hint = (" Adam's state is 12 bytes per parameter: the fp32 copy of the "
                            "weights besides m and v.")
                fail(f"{call} returned {got / 1e9:.4g} GB, expected {expected / 1e9:.4g} GB "
                     f"(2 bytes of fp16 weights + 2 of fp16 gradients + 12 of optimizer state "
                     f"per parameter; stage 1 shards the state, 2 the gradients too, 3 the "
                     f"weights too).{hint}")
    return ("a 7.5 B-parameter model needs 120 GB per GPU without ZeRO, 1.9 GB with stage 3 "
            "on 64 GPUs")


__all__ = ["recursive_doubling_allreduce", "ring_allreduce_time", "zero_bytes_per_gpu"]
