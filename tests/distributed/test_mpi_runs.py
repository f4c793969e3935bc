"""Data-parallel training on real MPI processes: each test starts ``mpiexec -n P`` on
dist_worker.py (through minigrad's launcher, one thread per process) and checks what the ranks
wrote or printed. Skipped where the dist extra (mpi4py, an MPI library) is not installed.

One mpiexec run costs a few seconds of start-up and imports, so the passing checks share one
run per world size (the module-scoped ``train_run`` fixture)."""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py")
from minigrad.distributed import run as launcher  # noqa: E402

try:
    launcher.find_mpiexec()
except FileNotFoundError:
    pytest.skip("no mpiexec (install the dist extra)", allow_module_level=True)

WORKER = Path(__file__).with_name("dist_worker.py")
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
RUN_TIMEOUT = 120                        # seconds: a hung run fails instead of blocking CI


def launch(nprocs, scenario, out, timeout_s=60):
    env = dict(os.environ, DIST_TEST_TIMEOUT=str(timeout_s))
    command = [sys.executable, "-m", "minigrad.distributed.run", "-n", str(nprocs),
               "--oversubscribe", str(WORKER), scenario, str(out)]
    return subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                          env=env)


def launch_and_read(nprocs, scenario, out):
    """Run ``scenario`` on ``nprocs`` ranks, which must succeed; what each rank pickled, by
    rank."""
    done = launch(nprocs, scenario, out)
    assert done.returncode == 0, done.stdout + done.stderr
    ranks = []
    for r in range(nprocs):
        with open(out / f"rank{r}.pkl", "rb") as f:
            ranks.append(pickle.load(f))
    return ranks


def run_quick_benchmark(script, out, env=None):
    """Run ``benchmarks/<script> --quick --out <out>``, which must succeed; the path of the
    one JSON file it wrote (``<out>/<machine>/<name>-quick.json``, the script's name with
    dashes) and what that file holds."""
    command = [sys.executable, str(BENCHMARKS / script), "--quick", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                          env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    stem = Path(script).stem.replace("_", "-")
    [result] = out.glob(f"*/{stem}-quick.json")
    return result, json.loads(result.read_text())


@pytest.fixture(scope="module", params=[2, 4], ids=["2ranks", "4ranks"])
def train_run(request, tmp_path_factory):
    world = request.param
    return world, launch_and_read(world, "train", tmp_path_factory.mktemp(f"train{world}"))


def test_collectives(train_run):
    world, ranks = train_run
    total = sum(range(1, world + 1))
    for found in (r["collectives"] for r in ranks):
        np.testing.assert_array_equal(found["sum"], np.arange(4.0) * total)
        np.testing.assert_allclose(found["avg"], np.arange(4.0) * total / world, rtol=1e-15)
        np.testing.assert_array_equal(found["max"], [world - 1, 0])
        np.testing.assert_array_equal(found["broadcast"], np.full((3, 2), world - 1.0))
        for r, part in enumerate(found["all_gather"]):
            np.testing.assert_array_equal(part, [r, 10 * r])


@pytest.mark.parametrize("cap", [25, 1e-4], ids=["one_bucket", "bucket_per_param"])
def test_ddp_equals_single_process_on_the_whole_batch(train_run, cap):
    world, ranks = train_run
    assert ranks[0]["n_buckets", cap] == (1 if cap == 25 else 6)
    single = ranks[0]["single"]
    for r in ranks:
        for name, value in r[f"ddp_cap{cap}"].items():
            np.testing.assert_array_equal(value, ranks[0][f"ddp_cap{cap}"][name])
            np.testing.assert_allclose(value, single[name], rtol=1e-12, atol=1e-14,
                                       err_msg=f"{name} on rank {r['rank']}")


def test_a_one_parameter_bucket_reduces_the_gradient_in_place(train_run):
    """No copy into the bucket's flat buffer and back: the buffer is never written (the
    averaged values themselves are checked against single-process training above)."""
    _, ranks = train_run
    for r in ranks:
        assert not r["lone_flat_used", 1e-4], f"rank {r['rank']} copied into the buffer"


def test_non_contiguous_gradients_are_averaged_too(train_run):
    """A lone parameter's ``.grad`` is all-reduced in place, also when its memory is not
    contiguous (all_reduce reduces a copy and writes it back)."""
    _, ranks = train_run
    single = ranks[0]["single"]
    for r in ranks:
        assert r["strided_grads_seen"]
        for name, value in r["ddp_strided_grads"].items():
            np.testing.assert_array_equal(value, ranks[0]["ddp_strided_grads"][name])
            np.testing.assert_allclose(value, single[name], rtol=1e-12, atol=1e-14,
                                       err_msg=f"{name} on rank {r['rank']}")


def test_ddp_broadcasts_buffers_and_prefixes_state_dict(train_run):
    _, ranks = train_run
    for r in ranks:
        np.testing.assert_array_equal(r["buffer"], [1.0, 1.0])       # rank 0's seed
        assert r["state_dict_keys"] and all(k.startswith("module.")
                                            for k in r["state_dict_keys"])


def test_no_sync_accumulation_equals_one_big_step(train_run):
    _, ranks = train_run
    for r in ranks:
        synced, reference, local_only, _ = r["no_sync"]
        for name in reference:
            np.testing.assert_allclose(synced[name], reference[name], rtol=1e-12, atol=1e-15)
        # under no_sync nothing was averaged: the local sums differ from the global gradient
        assert any(not np.allclose(local_only[n], reference[n]) for n in reference)


@pytest.mark.parametrize("cap", [25, 1e-4], ids=["one_bucket", "bucket_per_param"])
@pytest.mark.parametrize("set_to_none", [False, True])
def test_gradient_as_bucket_view_trains_exactly_as_the_default(train_run, cap, set_to_none):
    """The same sums and the same division, only in other memory: bit for bit equal."""
    _, ranks = train_run
    for r in ranks:
        trained = r["view_mode"]["params", cap, set_to_none]
        for name, value in r[f"ddp_cap{cap}"].items():
            np.testing.assert_array_equal(trained[name], value,
                                          err_msg=f"{name} on rank {r['rank']}")


@pytest.mark.parametrize("cap", [25, 1e-4], ids=["one_bucket", "bucket_per_param"])
def test_gradient_as_bucket_view_makes_grads_views_of_the_buckets(train_run, cap):
    """As PyTorch: after a synchronised backward every ``.grad`` is its bucket's slot (also
    when zero_grad(set_to_none=True) dropped it before that backward); set_to_none leaves
    None; without the option the gradients are arrays of their own."""
    _, ranks = train_run
    for r in ranks:
        found = r["view_mode"]
        for set_to_none in (False, True):
            views = found["views", cap, set_to_none]
            assert views and all(views.values()), views
        assert found["grads_after_set_to_none", cap] == [None] * 6
        assert all(found["views_after_next_backward", cap].values())
        assert not any(found["default_views", cap].values())


@pytest.mark.parametrize("cap", [25, 1e-4], ids=["one_bucket", "bucket_per_param"])
def test_gradient_as_bucket_view_no_sync_accumulates_in_the_buckets(train_run, cap):
    _, ranks = train_run
    for r in ranks:
        synced, reference, local_only, views_in_no_sync = r["no_sync_view"][cap]
        assert all(views_in_no_sync.values())       # local sums went into the buckets
        for name in reference:
            np.testing.assert_allclose(synced[name], reference[name], rtol=1e-12, atol=1e-15)
        assert any(not np.allclose(local_only[n], reference[n]) for n in reference)


def test_sampler_covers_the_dataset_once_per_epoch(train_run):
    world, ranks = train_run
    n = 11
    per_rank = -(-n // world)
    for r in ranks:
        everyone = r["sampler"]                      # [rank][epoch] -> indices
        assert everyone == ranks[0]["sampler"]
        for epoch in range(2):
            shares = [everyone[k][epoch] for k in range(world)]
            assert all(len(s) == per_rank for s in shares)
            together = sorted(i for s in shares for i in s)
            assert set(together) == set(range(n))
            assert len(together) - n == per_rank * world - n      # only the padding repeats
        assert everyone[0][0] != everyone[0][1]                    # set_epoch reshuffles


def test_a_parameter_without_gradient_is_named_at_the_next_forward(train_run):
    _, ranks = train_run
    for r in ranks:
        second_backward, next_forward = r["unused_error"]
        assert re.search(r"parameter 'used\.(weight|bias)' got a second gradient before the "
                         "gradients of one forward were all averaged", second_backward)
        assert ("the previous backward gave no gradient to parameter(s) ['unused.bias', "
                "'unused.weight'], so") in next_forward


def test_ranks_run_rank0s_kernel_choices_after_the_first_step(tmp_path):
    """The ranks disagree on a kernel choice before the first step (and on another after
    it); DDP's broadcast makes every rank's decisions rank 0's, which training on one process
    does not notice."""
    ranks = launch_and_read(2, "kernel_choices", tmp_path)
    first, later = ("matmul", ("d", 7, 7, 7)), ("matmul", ("d", 12, 12, 12))
    # without the broadcast the seeded disagreement stays
    assert [r["without_broadcast"][first] for r in ranks] == ["numpy", "numba"]
    for key, seeded in (("after_first_step", first), ("after_second_step", later)):
        assert ranks[0][key][seeded] == "numpy"
        assert ranks[1][key] == ranks[0][key]          # every class the ranks know, too
    assert len(ranks[0]["after_first_step"]) > 1       # the model's own classes were measured
    assert all(s.startswith("rank 0: ") for s in ranks[1]["sources"])
    for r in ranks:
        for name, value in ranks[0]["single"].items():
            np.testing.assert_allclose(r["ddp"][name], value, rtol=1e-12, atol=1e-14)


def test_a_stuck_rank_times_out_and_is_named(tmp_path):
    done = launch(2, "stuck", tmp_path, timeout_s=2)
    assert done.returncode != 0
    assert "all_reduce on rank 0 timed out after 2 s" in done.stderr, done.stderr
    assert "rank(s) [1] never reached a collective (dead, finished or stuck" in done.stderr, done.stderr


def test_a_dead_rank_ends_the_job(tmp_path):
    done = launch(2, "dies", tmp_path, timeout_s=5)
    assert done.returncode != 0, done.stdout + done.stderr


def test_mismatched_parameters_are_named(tmp_path):
    done = launch(2, "mismatch", tmp_path)
    assert done.returncode != 0
    assert ("parameter '0.weight' has shape (6, 4) (float32) on rank 0 but '0.weight' has "
            "shape (5, 4) (float32) on rank 1") in done.stderr, done.stderr


def test_quick_benchmark_measures_one_and_two_processes(tmp_path):
    env = dict(os.environ, MINIGRAD_AUTOTUNE="1")    # the tests' default is 0; a run tunes
    env.pop("MINIGRAD_CACHE_DIR", None)               # the script makes a cache of its own
    result, found = run_quick_benchmark("distributed.py", tmp_path, env)
    assert [r["world"] for r in found["results"]] == [1, 2]
    for r in found["results"]:
        assert [m["model"] for m in r["models"]] == ["mlp", "cnn"]
        for m in r["models"]:
            assert m["world"] == r["world"]
            assert m["compute_s"] > 0 and m["allreduce_s"] > 0 and m["compute_pinned_s"] > 0
            # the side-by-side cost measured inside the run: rank 0 alone, only with 2 ranks
            assert ("compute_rank0_alone_s" in m) == (r["world"] > 1)
            assert {(s["bucket_mb"], s["overlap"], s["grad_view"]) for s in m["steps"]} == {
                (cap, overlap, view) for cap in (0.01, 25) for overlap in (True, False)
                for view in (True, False)}
        mlp_buckets = {s["bucket_mb"]: s["buckets"] for s in r["models"][0]["steps"]}
        assert mlp_buckets == {0.01: 5, 25: 1}
        assert r["kernel_choices"]["differ_between_ranks"] == []
    # the one-process run measures the MLP's kernels and saves them whatever the load; the
    # ranks of the two-process run read them instead of measuring while the other computes
    one, two = (r["kernel_choices"]["sources"] for r in found["results"])
    assert set(one) == {"measured"} and one["measured"] > 0
    assert two == {"cache": one["measured"]}
    assert found["config"]["bind_to"] == "default"
    assert found["mpi_env"]["MINIGRAD_CACHE_DIR"]      # a kernel-choice cache of its own
    report = result.with_suffix(".md").read_text()
    assert "## mlp" in report and "## cnn" in report and "the ceiling" in report
    assert "while the other ranks slept" in report


def test_quick_ceiling_compares_alone_and_together(tmp_path):
    _, written = run_quick_benchmark("distributed_ceiling.py", tmp_path)
    loops = written["loops"]
    assert set(loops) == {"fma registers", "fma L1", "triad L2", "triad L3", "triad L3 full",
                          "triad DRAM", "mlp step", "cnn step"}
    for found in loops.values():
        for mode in ("alone", "together", "alone pinned", "together pinned"):
            assert found[mode]["wall_s"] > 0 and found[mode]["cpu_s"] > 0


def test_quick_progress_probe_reports_every_mode(tmp_path):
    _, written = run_quick_benchmark("distributed_progress.py", tmp_path)
    medians = written["medians"]
    modes = ["compute alone", "all-reduce alone", "blocking", "no calls", "test per chunk",
             "progress thread"]
    assert sorted(medians) == sorted(f"0.01 {m}" for m in modes)
    for total, waited in medians.values():
        assert 0 <= waited <= total


def test_quick_choices_benchmark_times_every_set_of_choices(tmp_path):
    _, written = run_quick_benchmark("distributed_choices.py", tmp_path)
    found = written["results"]
    assert [r["model"] for r in found] == ["mlp", "cnn"]
    assert found[0]["classes"] > 0                    # the quick MLP is big enough to tune
    for r in found:
        assert list(r["steps"]) == ["agree", "rank 1 its own", "rank 1 the other kernel"]
        assert all(s["step_s"] > 0 and s["step_cpu_s"] > 0 for s in r["steps"].values())
