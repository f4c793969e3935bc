"""The training-step and contention benchmarks run end to end (``--quick``: tiny models, a
step or two each) and the per-op profiler accounts for a step; no timing is checked, only that
the machinery works and that every run trained the same numbers."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import _op_profile  # noqa: E402
import _timing  # noqa: E402
import train_models  # noqa: E402

import minigrad as mg  # noqa: E402


def test_quick_sweep_writes_every_run_with_the_same_losses(tmp_path):
    models = ["mlp", "gpt"]
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "train_step.py"), "--quick",
                           "--threads", "1", "--models", *models, "--processes", "2",
                           "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    folder = tmp_path / _timing.machine_name()
    result = json.loads((folder / "train_step-quick.json").read_text())
    assert (folder / "train_step-quick.png").stat().st_size > 0
    md = (folder / "train_step-quick.md").read_text()
    have_torch = importlib.util.find_spec("torch") is not None
    runs = [("minigrad", "alone")] + ([("torch", "alone"), ("minigrad", "paired"),
                                       ("torch", "paired")] if have_torch else [])
    processes = {"alone": (0, 1), "paired": (0,)}        # alone: two fresh processes each
    rows = {(r["model"], r["lib"], r["mode"], r["process"]): r for r in result["rows"]}
    assert len(rows) == len(result["rows"])
    assert set(rows) == {(m, lib, mode, k) for m in models for lib, mode in runs
                         for k in processes[mode]}
    rows = {key[:3]: r for key, r in rows.items()}
    for m in models:
        assert f"| {m} |" in md
        losses = [rows[(m, lib, mode)]["loss"] for lib, mode in runs]
        np.testing.assert_allclose(losses, losses[0], rtol=1e-5)
        assert all(rows[(m, lib, mode)]["ms"] > 0 for lib, mode in runs)


def test_alone_runs_are_summarised_by_their_median_and_range():
    import train_step
    rows = [{"model": "mlp", "lib": "minigrad", "threads": 2, "mode": "alone", "ms": ms,
             "process": k} for k, ms in enumerate([7.0, 3.0, 4.0])]
    rows.append({"model": "mlp", "lib": "torch", "threads": 2, "mode": "paired", "ms": 5.0,
                 "process": 0})
    table = train_step.lookup(rows)
    assert table[("mlp", "minigrad", 2, "alone")] == {"ms": 4.0, "min": 3.0, "max": 7.0,
                                                      "processes": 3}
    assert train_step._with_range(table, "mlp", "minigrad", 2, "alone") == "4.00 (3.00–7.00)"
    assert "(" not in train_step._with_range(table, "mlp", "torch", 2, "paired")


@pytest.mark.parametrize("name", train_models.NAMES)
def test_every_model_builds_the_same_in_both_libraries(name):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    reference = train_models.build(torch, name, quick=True)
    bench = train_models.build(mg, name, quick=True)
    assert set(train_models.weights(bench.model)) == set(train_models.weights(reference.model))
    train_models.load_weights(mg, bench.model, train_models.weights(reference.model))
    m_step = train_models.make_step(mg, bench)
    t_step = train_models.make_step(torch, reference)
    for _ in range(2):                              # the AdamW step too: the second loss
        np.testing.assert_allclose(m_step().item(), t_step().item(), rtol=2e-5)


def test_op_timer_accounts_for_ops_once_and_is_removed_afterwards():
    from minigrad.autograd import engine, function
    apply_before = function.ArrayFunction.__dict__["apply"]
    backward_before = engine._call_backward
    mg.manual_seed(0)
    step = train_models.make_step(mg, train_models.build(mg, "gpt", quick=True))
    step()
    rows, step_ms = _op_profile.minigrad_ops(step, steps=2)
    assert function.ArrayFunction.__dict__["apply"] is apply_before
    assert engine._call_backward is backward_before
    ops = {(r["op"], r["direction"]): r for r in rows}
    # one GPT step: per block 4 Linear layers, and the head; the softmax of each block
    blocks = train_models.SIZES["gpt"][2]["blocks"]
    assert ops[("Linear", "forward")]["calls"] == 4 * blocks + 1
    assert ops[("Linear", "backward")]["calls"] == 4 * blocks + 1
    assert ops[("Softmax", "forward")]["calls"] == blocks
    # matmul inside Linear's backward is that backward's time, not a MatMul row of its own
    assert ops[("MatMul", "forward")]["calls"] == 2 * blocks
    assert sum(r["ms"] for r in rows) <= step_ms


def test_profile_report_has_both_libraries_stages_and_ops():
    result = _op_profile.profile("mlp", threads=1, quick=True)
    md = _op_profile.markdown(result, threads=1)
    assert "| Linear | forward |" in md and "| backward |" in md
    if "torch" in result:
        assert "aten::" in md
        assert set(result["torch"]["phases_ms"]) == set(result["minigrad"]["phases_ms"])


def test_quick_contention_run_reports_each_variant(tmp_path):
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "contention.py"), "--quick",
                           "--models", "lstm", "--variants", "adaptive", "fixed",
                           "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    folder = tmp_path / _timing.machine_name()
    result = json.loads((folder / "contention-quick.json").read_text())
    assert [(r["model"], r["variant"]) for r in result["rows"]] == [("lstm", "adaptive"),
                                                                     ("lstm", "fixed")]
    for r in result["rows"]:
        assert r["quiet_ms"] > 0 and r["loaded_ms"] > 0
        assert r["ratio"] == pytest.approx(r["loaded_ms"] / r["quiet_ms"])
    assert "| lstm | fixed |" in (folder / "contention-quick.md").read_text()


def test_emulated_isa_restarts_with_every_library_told_and_its_own_folder(tmp_path):
    """``--isa avx2``: the script runs again with the variables Numba, OpenBLAS and PyTorch
    read when they load (so numpy, imported before, sees them too), and its results folder
    is not the native one."""
    script = tmp_path / "probe.py"
    script.write_text(
        "import json, os, sys\n"
        f"sys.path.insert(0, {str(BENCHMARKS)!r})\n"
        "import _timing\n"
        "_timing.run_as_isa('avx2')\n"
        "names = ['NUMBA_CPU_NAME', 'NUMBA_CPU_FEATURES', 'OPENBLAS_CORETYPE',\n"
        "         'ATEN_CPU_CAPABILITY', 'ONEDNN_MAX_CPU_ISA']\n"
        "print(json.dumps({'env': {n: os.environ.get(n) for n in names},\n"
        "                  'machine': _timing.machine_name(), 'argv': sys.argv[1:]}))\n")
    env = {k: v for k, v in os.environ.items()
           if k not in _timing.ISA_ENV["avx2"] and k != _timing.EMULATED_ISA_VAR}
    result = subprocess.run([sys.executable, str(script), "--an", "argument"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["env"] == {"NUMBA_CPU_NAME": "haswell", "NUMBA_CPU_FEATURES": "+avx2,+fma",
                          "OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2",
                          "ONEDNN_MAX_CPU_ISA": "AVX2"}
    assert out["machine"] == _timing.machine_name() + "-as-avx2"
    assert out["argv"] == ["--an", "argument"]


def test_blas_description_names_the_library_and_a_forced_kernel_set(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Prescott")
    text = _timing.blas_description()
    assert text.endswith("(OPENBLAS_CORETYPE=Prescott set in the environment)")
    assert not text.startswith("BLAS unknown")       # NumPy's BLAS is found by threadpoolctl
    monkeypatch.delenv("OPENBLAS_CORETYPE")
    assert "OPENBLAS_CORETYPE" not in _timing.blas_description()


@pytest.mark.parametrize("bad", ["0", "-2", "two"])
def test_processes_must_be_a_positive_whole_number(bad, capsys):
    import train_step
    with pytest.raises(SystemExit):
        train_step.main(["--quick", "--processes", bad])
    assert "--processes: expected a whole number of processes, 1 or more" in capsys.readouterr().err
