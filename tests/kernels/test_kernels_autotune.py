"""The autotuner (kernels/autotune.py): the CPU's choice between NumPy and Numba, timed on the
first call of a shape class, remembered in a JSON file, inspectable, and overridden by every
forcing rule.

Speeds are pretended, never measured: a fake clock replaces ``autotune.clock``, and the
registry's functions are wrapped so that each call advances it by a set number of seconds
(then computes the real result). What is chosen therefore depends only on the test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from kernel_testing import random_array
from minigrad.kernels import autotune, dispatch, registry

from minigrad import kernels as K

pytestmark = pytest.mark.skipif(not dispatch.numba_installed(), reason="needs Numba")

SLOW, FAST = 3 / 1024, 1 / 1024      # exact in binary: the fake clock adds them exactly


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch, tmp_path):
    """Autotuning on, decisions kept under tmp_path, nothing forced, a fake clock; every
    test starts (and leaves) as a new process would: nothing in memory."""
    monkeypatch.setenv(autotune.ENV_VAR, "1")
    monkeypatch.setenv(autotune.CACHE_DIR_VAR, str(tmp_path / "cache"))
    monkeypatch.delenv(dispatch.ENV_VAR, raising=False)
    fake = FakeClock()
    monkeypatch.setattr(autotune, "clock", fake)
    monkeypatch.setattr(autotune, "machine_is_busy", lambda: False)
    autotune.forget()
    yield fake
    autotune.forget()


def pretend(monkeypatch, clock, op, seconds):
    """Make each implementation of ``op`` take ``seconds[impl]`` on the fake clock; returns
    how many times each ran."""
    calls = dict.fromkeys(seconds, 0)
    for impl, cost in seconds.items():
        real = registry.kernel(op, impl)

        def timed(*args, real=real, cost=cost, impl=impl):
            clock.now += cost
            calls[impl] += 1
            return real(*args)
        monkeypatch.setitem(registry._loaded, (op, impl), timed)
    return calls


def operands(rng, m=64, k=70, n=80):
    """A product large enough to be measured (k * (m + n) >= MIN_WORK elements)."""
    assert k * (m + n) >= autotune.MIN_WORK
    return random_array(rng, (m, k), np.float32), random_array(rng, (k, n), np.float32)


# ---------------------------------------------------------------------------------------------
# Choosing
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("numpy_s, numba_s, winner", [(FAST, SLOW, "numpy"),
                                                      (SLOW, FAST, "numba")])
def test_the_faster_implementation_runs_and_returns_its_own_result(
        clock, monkeypatch, kernel_rng, numpy_s, numba_s, winner):
    calls = pretend(monkeypatch, clock, "matmul", {"numpy": numpy_s, "numba": numba_s})
    a, b = operands(kernel_rng)
    c = K.matmul(a, b)
    np.testing.assert_array_equal(c, K.matmul(a, b, impl=winner))
    [(shape, choice)] = K.choices()["matmul"].items()
    assert shape == "float32, M 64-127, K 64-127, N 64-127"
    assert choice == autotune.Choice(winner, {"numpy": numpy_s, "numba": numba_s}, "measured")
    # one untimed call each, REPEATS timed rounds, then the real call of the winner
    loser = "numba" if winner == "numpy" else "numpy"
    assert calls[loser] == 1 + autotune.REPEATS
    assert calls[winner] == 1 + autotune.REPEATS + 2     # + the real call + the check above


def test_a_shape_class_is_measured_once(clock, monkeypatch, kernel_rng):
    calls = pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": SLOW})
    K.matmul(*operands(kernel_rng))
    before = dict(calls)
    K.matmul(*operands(kernel_rng, 127, 100, 65))            # the same powers of two
    assert calls == {"numpy": before["numpy"] + 1, "numba": before["numba"]}
    K.matmul(*operands(kernel_rng, 128, 100, 65))            # M crosses into 128-255
    assert calls["numba"] > before["numba"]
    assert len(K.choices()["matmul"]) == 2


def test_a_tie_goes_to_the_default_rule(clock, monkeypatch, kernel_rng):
    pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": FAST})
    K.matmul(*operands(kernel_rng))
    [choice] = K.choices()["matmul"].values()
    assert choice.impl == K.default_impl("matmul", "cpu") == "numba"


def test_slow_calls_are_repeated_fewer_times(clock, monkeypatch, kernel_rng):
    slow = autotune.BUDGET_S / 2
    calls = pretend(monkeypatch, clock, "matmul", {"numpy": slow, "numba": slow * 2})
    K.matmul(*operands(kernel_rng))
    assert calls == {"numpy": 1 + autotune.MIN_REPEATS + 1, "numba": 1 + autotune.MIN_REPEATS}


def test_the_median_decides_not_one_outlier(clock, monkeypatch, kernel_rng):
    """numba is faster in every round but one, where it is very slow: the median ignores it."""
    costs = iter([FAST, FAST] + [1.0] + [FAST] * 20)      # untimed calls, then the rounds
    real = registry.kernel("matmul", "numba")

    def numba_with_one_hiccup(*args):
        clock.now += next(costs)
        return real(*args)
    pretend(monkeypatch, clock, "matmul", {"numpy": SLOW})
    monkeypatch.setitem(registry._loaded, ("matmul", "numba"), numba_with_one_hiccup)
    K.matmul(*operands(kernel_rng))
    [choice] = K.choices()["matmul"].values()
    assert choice.impl == "numba" and choice.seconds["numba"] == FAST


def test_small_calls_take_the_default_rule_untimed(clock, monkeypatch, kernel_rng):
    """(1, k) @ (k, 1) has 2k input elements: measured from k = MIN_WORK / 2 on; below, the
    default rule's small-product choice (NumPy) runs untimed."""
    calls = pretend(monkeypatch, clock, "matmul", {"numpy": SLOW, "numba": FAST})
    for shape in [(4, 4), (4, 4), (1, autotune.MIN_WORK // 2 - 1)]:
        K.matmul(random_array(kernel_rng, shape, np.float32),
                 random_array(kernel_rng, shape[::-1], np.float32))
    assert calls == {"numpy": 3, "numba": 0}
    assert K.choices() == {}
    k = autotune.MIN_WORK // 2
    K.matmul(random_array(kernel_rng, (1, k), np.float32),
             random_array(kernel_rng, (k, 1), np.float32))
    assert list(K.choices()["matmul"]) == ["float32, M 1, K 4096-8191, N 1"]


# ---------------------------------------------------------------------------------------------
# What wins over a measurement
# ---------------------------------------------------------------------------------------------

def test_impl_use_and_the_environment_variable_win(clock, monkeypatch, kernel_rng):
    calls = pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": SLOW})
    a, b = operands(kernel_rng)
    K.matmul(a, b)                                   # numpy measured faster
    before = calls["numba"]
    K.matmul(a, b, impl="numba")
    with K.use("numba"):
        K.matmul(a, b)
    monkeypatch.setenv("MINIGRAD_KERNELS", "numba")
    K.matmul(a, b)
    assert calls["numba"] == before + 3


def test_autotune_off_takes_the_default_rule_and_reads_no_file(clock, monkeypatch, kernel_rng):
    pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": SLOW})
    K.matmul(*operands(kernel_rng))
    assert autotune.cache_file().exists()
    monkeypatch.setenv(autotune.ENV_VAR, "0")
    autotune.forget()                                 # as a new process started with it
    calls = pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": SLOW})
    a, b = operands(kernel_rng)
    assert dispatch.choose_impl("matmul", (a, b)) == "numba"
    K.matmul(a, b)
    assert calls == {"numpy": 0, "numba": 1}


def test_the_gpu_is_not_measured(clock, monkeypatch, kernel_rng):
    from minigrad.kernels import _device

    class FakeCupyArray(np.ndarray):
        pass
    monkeypatch.setattr(_device, "is_cupy_array", lambda a: isinstance(a, FakeCupyArray))
    a, b = operands(kernel_rng)
    chosen = dispatch.choose_impl("matmul", (a.view(FakeCupyArray), b.view(FakeCupyArray)))
    assert chosen == K.default_impl("matmul", "cuda")


# ---------------------------------------------------------------------------------------------
# Every op: its shape class, its result, and ops that write into their arguments
# ---------------------------------------------------------------------------------------------

def op_calls(rng):
    """{op: a call of it on inputs of at least MIN_WORK elements}."""
    f32 = np.float32

    def r(*shape):
        return random_array(rng, shape, f32)
    a, b = r(64, 70), r(70, 80)
    x, y = r(100, 90), r(100, 90)
    rows = np.abs(r(100, 90)) / 90
    image, w, gy = r(2, 4, 32, 32), r(5, 4, 3, 3), r(2, 5, 32, 32)
    planes = r(2, 4, 64, 32)
    pooled, indices = K.max_pool2d(planes, 2, impl="numpy")
    gates, c = r(64, 160), r(64, 40)
    _, _, acts, tanh_c = K.lstm_cell(gates, c, impl="numpy")
    x_proj, h0, c0, w_hh = r(8, 16, 80), r(16, 20), r(16, 20), r(80, 20)
    hs, cs, seq_acts, tanh_cs = K.lstm_sequence(x_proj, h0, c0, w_hh, impl="numpy")
    channels, g_channels = r(9, 5, 200), r(9, 5, 200)
    return {
        "matmul": lambda: K.matmul(a, b),
        "softmax": lambda: K.softmax(x),
        "log_softmax": lambda: K.log_softmax(x),
        "softmax_backward": lambda: K.softmax_backward(rows, y),
        "log_softmax_backward": lambda: K.log_softmax_backward(x, y),
        "conv2d": lambda: K.conv2d(image, w, padding=1),
        "conv2d_backward_input": lambda: K.conv2d_backward_input(gy, w, image.shape, padding=1),
        "conv2d_backward_weight": lambda: K.conv2d_backward_weight(image, gy, w.shape, padding=1),
        "max_pool2d": lambda: K.max_pool2d(planes, 2),
        "max_pool2d_backward": lambda: K.max_pool2d_backward(pooled, indices, planes.shape, 2),
        "lstm_cell": lambda: K.lstm_cell(gates, c),
        "lstm_cell_backward": lambda: K.lstm_cell_backward(acts, tanh_c, c, c, c),
        "lstm_sequence": lambda: K.lstm_sequence(x_proj, h0, c0, w_hh),
        "lstm_sequence_backward": lambda: K.lstm_sequence_backward(
            seq_acts, tanh_cs, cs, c0, w_hh, hs, h0, c0),
        "relu": lambda: K.relu(x),
        "relu_backward": lambda: K.relu_backward(y, x),
        "gelu": lambda: K.gelu(x, "tanh"),
        "gelu_backward": lambda: K.gelu_backward(y, x),
        "layer_norm": lambda: K.layer_norm(x, x[0], x[1]),
        "layer_norm_backward": lambda: K.layer_norm_backward(y, x, rows[:, 0], x[0]),
        "batch_norm": lambda: K.batch_norm(channels, x[0, :5], x[1, :5]),
        "batch_norm_backward": lambda: K.batch_norm_backward(g_channels, channels,
                                                             rows[0, :5], x[0, :5]),
    }


@pytest.mark.parametrize("op", [op for op in K.OPS if op != "adam_step"])
def test_every_op_is_measured_per_shape_class_and_returns_the_winners_result(
        op, clock, monkeypatch, kernel_rng):
    call = op_calls(kernel_rng)[op]
    calls = pretend(monkeypatch, clock, op, {"numpy": FAST, "numba": SLOW})
    result = call()
    assert calls["numba"] == 1 + autotune.REPEATS
    [(shape, choice)] = K.choices()[op].items()
    assert choice.impl == "numpy" and shape.startswith("float32, ")
    with K.use("numpy"):
        expected = call()
    for got, want in zip(result if isinstance(result, tuple) else (result,),
                         expected if isinstance(expected, tuple) else (expected,)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_is_timed_on_copies_and_steps_once(clock, monkeypatch, kernel_rng, amsgrad):
    """Adam writes into its arguments: the timed runs must not move the parameter."""
    calls = pretend(monkeypatch, clock, "adam_step", {"numpy": FAST, "numba": SLOW})

    def arrays():
        rng = np.random.default_rng(3)
        p, g = (random_array(rng, (100, 90), np.float32) for _ in range(2))
        m, v = np.zeros_like(p), np.zeros_like(p)
        return p, g, m, v, (np.zeros_like(p) if amsgrad else None)
    hyper = dict(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, step=1)
    measured, once = arrays(), arrays()
    K.adam_step(*measured, **hyper)
    K.adam_step(*once, **hyper, impl="numpy")
    for got, want in zip(measured, once):
        if got is not None:
            np.testing.assert_array_equal(got, want)
    assert calls["numba"] == 1 + autotune.REPEATS
    [shape] = K.choices()["adam_step"]
    assert shape == f"float32, elements 8192-16383, amsgrad {amsgrad}"


def test_matmul_by_is_measured_at_its_first_product(clock, monkeypatch, kernel_rng):
    """... when b alone is large enough to be measured (else the default rule)."""
    calls = pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": SLOW})
    a, b = operands(kernel_rng, 64, 70, 120)
    assert b.size >= autotune.MIN_WORK
    product = K.matmul_by(b)
    assert K.choices() == {}
    np.testing.assert_array_equal(product(a), K.matmul(a, b, impl="numpy"))
    np.testing.assert_array_equal(product(a), K.matmul(a, b, impl="numpy"))
    assert calls["numba"] == 1 + autotune.REPEATS
    assert [c.impl for c in K.choices()["matmul"].values()] == ["numpy"]


def test_shape_classes_in_words():
    a = np.zeros((100, 300), np.float64)
    b = np.zeros((300, 1), np.float64)
    cls = autotune.shape_class("matmul", (a, b))
    assert autotune.describe("matmul", cls) == "float64, M 64-127, K 256-511, N 1"
    assert cls == autotune.shape_class("matmul", (a[:64], np.zeros((511, 1))[:300]))
    assert set(autotune.SHAPE_CLASSES) == set(K.OPS)


# ---------------------------------------------------------------------------------------------
# The cache file
# ---------------------------------------------------------------------------------------------

def test_decisions_are_read_back_instead_of_measured_again(clock, monkeypatch, kernel_rng):
    pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": SLOW})
    K.matmul(*operands(kernel_rng))
    saved = json.loads(autotune.cache_file().read_text())
    assert saved["machine"] == autotune.machine()
    assert [(e["op"], e["impl"], e["sizes"]) for e in saved["choices"]] == \
        [("matmul", "numpy", [7, 7, 7])]
    autotune.forget()                                     # a new process
    calls = pretend(monkeypatch, clock, "matmul", {"numpy": SLOW, "numba": FAST})
    K.matmul(*operands(kernel_rng))
    assert calls == {"numpy": 1, "numba": 0}
    [choice] = K.choices()["matmul"].values()
    assert choice == autotune.Choice("numpy", {"numpy": FAST, "numba": SLOW}, "cache")


def test_a_choice_measured_on_a_busy_machine_is_not_kept_on_disk(clock, monkeypatch,
                                                                  kernel_rng):
    monkeypatch.setattr(autotune, "machine_is_busy", lambda: True)
    calls = pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": SLOW})
    a, b = operands(kernel_rng)
    K.matmul(a, b)
    K.matmul(a, b)
    measured = calls["numba"]
    [choice] = autotune.choices()["matmul"].values()
    assert (choice.impl, choice.source) == ("numpy", autotune.BUSY)   # used here...
    assert calls["numba"] == measured                                 # ...measured once
    assert not autotune.cache_file().exists()                         # ...not written
    monkeypatch.setattr(autotune, "machine_is_busy", lambda: False)
    autotune.forget()                                                 # a later process
    K.matmul(a, b)
    assert calls["numba"] > measured                                  # measures again
    assert autotune.cache_file().exists()


def test_busy_means_other_processes_took_more_than_the_tolerance(monkeypatch):
    for others, busy in ((0.0, False), (autotune._cpu_load.FREE_TOLERANCE, False),
                         (0.5, True), (1.7, True)):
        monitor = type("Monitor", (), {"threads": lambda self: 1, "others": others})()
        monkeypatch.setattr(autotune._cpu_load, "monitor", monitor)
        assert autotune.machine_is_busy() is busy


def test_another_process_reads_the_file(clock, monkeypatch, kernel_rng, tmp_path):
    pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": SLOW})
    K.matmul(*operands(kernel_rng))
    script = ("from minigrad import kernels as K\n"
              "for op, classes in K.choices().items():\n"
              "    for shape, choice in classes.items():\n"
              "        print(op, '|', shape, '|', choice.impl, choice.source)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=dict(os.environ), cwd=Path(__file__).parent, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "matmul | float32, M 64-127, K 64-127, N 64-127 | numpy cache\n"


def test_each_machine_and_version_has_its_own_file(clock, monkeypatch, kernel_rng):
    assert set(autotune.machine()) == {"cpu", "cores", "numpy", "numba", "minigrad",
                                       "numba_target", "numba_threads", "blas_threads",
                                       "openblas_kernels", "kernels"}
    pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": SLOW})
    K.matmul(*operands(kernel_rng))
    first = autotune.cache_file()
    monkeypatch.setattr(autotune, "machine", lambda: {"cpu": "another", "cores": 64})
    autotune.forget()
    assert autotune.cache_file() != first
    calls = pretend(monkeypatch, clock, "matmul", {"numpy": SLOW, "numba": FAST})
    K.matmul(*operands(kernel_rng))
    assert calls["numpy"] == 1 + autotune.REPEATS         # measured again
    assert first.exists() and autotune.cache_file().exists()


def test_numba_target_cpu_is_part_of_the_machine(monkeypatch):
    """AVX2 code (NUMBA_CPU_NAME=haswell on an AVX-512 machine) runs other register tiles than
    the host's: its choices must not share a file with the host's."""
    from numba.core import config
    host = autotune.machine.__wrapped__()
    monkeypatch.setattr(config, "CPU_NAME", "haswell")
    monkeypatch.setattr(config, "CPU_FEATURES", "+avx2,+fma")
    emulated = autotune.machine.__wrapped__()
    assert emulated["numba_target"] == "haswell [+avx2,+fma]"
    assert emulated != host


@pytest.mark.parametrize("content", [
    b"\x80\x04\x95 not json",                                 # e.g. a pickle
    b'{"format": 1, "machine": {"cpu": "trunc',               # cut short
    b"[]",
    b'{"format": 99, "machine": {}, "choices": []}',
    b'{"format": 1, "machine": {"cpu": "another machine"}, "choices": []}',
])
def test_an_unreadable_file_is_ignored_with_a_warning_and_rewritten(
        clock, monkeypatch, kernel_rng, content):
    path = autotune.cache_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    calls = pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": SLOW})
    with pytest.warns(RuntimeWarning, match="ignoring the kernel-choice cache"):
        K.matmul(*operands(kernel_rng))
    assert calls["numba"] == 1 + autotune.REPEATS
    assert json.loads(path.read_text())["choices"][0]["impl"] == "numpy"


def test_a_bad_entry_makes_the_whole_file_ignored(clock, monkeypatch, kernel_rng):
    pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": SLOW})
    K.matmul(*operands(kernel_rng))
    path = autotune.cache_file()
    data = json.loads(path.read_text())
    data["choices"][0]["impl"] = "blas"
    path.write_text(json.dumps(data))
    autotune.forget()
    with pytest.warns(RuntimeWarning, match="unknown op 'matmul' or implementation 'blas'"):
        assert K.choices() == {}


def test_the_file_is_replaced_whole_or_not_at_all(clock, monkeypatch, kernel_rng):
    pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": SLOW})
    K.matmul(*operands(kernel_rng))
    path = autotune.cache_file()
    before = path.read_text()

    def rename_fails(source, target):
        raise OSError("disk full")
    monkeypatch.setattr(autotune.os, "replace", rename_fails)
    with pytest.warns(RuntimeWarning, match="cannot write the kernel-choice cache"):
        K.matmul(*operands(kernel_rng, 200, 70, 80))     # a new class: a new write
    assert path.read_text() == before
    left = [p.name for p in path.parent.iterdir() if p.name.startswith(path.name)]
    assert left == [path.name]                            # no temporary left
    assert len(K.choices()["matmul"]) == 2                # still held for this process


def test_writes_merge_with_what_another_process_wrote(clock, monkeypatch, kernel_rng):
    pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": SLOW})
    K.matmul(*operands(kernel_rng))
    saved = autotune.cache_file().read_text()
    autotune.clear_choices()
    autotune.cache_file().write_text(saved)                # "another process" wrote this one
    K.matmul(*operands(kernel_rng, 200, 70, 80))          # read at first use, then one more
    shapes = [e["shape"] for e in json.loads(autotune.cache_file().read_text())["choices"]]
    assert len(shapes) == 2


def test_clear_choices_forgets_here_and_on_disk(clock, monkeypatch, kernel_rng):
    calls = pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": SLOW})
    K.matmul(*operands(kernel_rng))
    K.clear_choices()
    assert K.choices() == {} and not K.cache_file().exists()
    K.matmul(*operands(kernel_rng))
    assert calls["numba"] == 2 * (1 + autotune.REPEATS)


def test_where_the_cache_folder_is(monkeypatch, tmp_path):
    monkeypatch.setenv(autotune.CACHE_DIR_VAR, str(tmp_path / "mine"))
    assert autotune.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv(autotune.CACHE_DIR_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert autotune.cache_dir() == tmp_path / "xdg" / "minigrad"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert autotune.cache_dir() == tmp_path / "home" / ".cache" / "minigrad"
    assert autotune.cache_file().parent == autotune.cache_dir()
    assert autotune.cache_file().name.startswith("kernel-choices-")


# ---------------------------------------------------------------------------------------------
# Sharing decisions with another process (what DistributedDataParallel's ranks do)
# ---------------------------------------------------------------------------------------------

def shipped(data):
    """``data`` as another process receives it: through JSON."""
    return json.loads(json.dumps(data))


def test_exported_decisions_are_adopted_and_run_without_measuring(clock, monkeypatch,
                                                                  kernel_rng, tmp_path):
    pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": SLOW})
    a, b = operands(kernel_rng)
    K.matmul(a, b)
    data = shipped(autotune.export_decisions())
    cls = autotune.shape_class("matmul", (a, b))
    assert data == {"matmul": [[list(cls), "numpy", {"numpy": FAST, "numba": SLOW},
                                "measured"]]}
    monkeypatch.setenv(autotune.CACHE_DIR_VAR, str(tmp_path / "other"))
    autotune.forget()                                     # another process, its own cache
    calls = pretend(monkeypatch, clock, "matmul", {"numpy": SLOW, "numba": FAST})
    assert autotune.adopt_decisions(data) == 1
    expected = np.asarray(K.matmul(a, b, impl="numpy"))
    calls["numpy"] = 0
    np.testing.assert_array_equal(K.matmul(a, b), expected)
    assert calls == {"numpy": 1, "numba": 0}              # rank 0's choice, nothing timed
    [choice] = K.choices()["matmul"].values()
    assert choice == autotune.Choice("numpy", {"numpy": FAST, "numba": SLOW},
                                     "rank 0: measured")
    assert not autotune.cache_file().exists()             # adopting writes nothing


def test_adopting_replaces_only_the_same_classes(clock, monkeypatch, kernel_rng):
    pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": SLOW})
    small, large = operands(kernel_rng), operands(kernel_rng, 200, 70, 80)
    K.matmul(*small)
    K.matmul(*large)
    theirs = shipped(autotune.export_decisions())
    theirs["matmul"] = [[cls, "numba", {"numpy": SLOW, "numba": FAST}, "measured"]
                        for cls, *_ in theirs["matmul"][:1]]
    autotune.adopt_decisions(theirs, source="rank 3")
    found = {autotune.shape_class("matmul", args): autotune.decided(
        "matmul", autotune.shape_class("matmul", args)) for args in (small, large)}
    replaced = autotune._tuple(theirs["matmul"][0][0])
    assert found[replaced] == "numba"
    assert [impl for cls, impl in found.items() if cls != replaced] == ["numpy"]
    sources = {c.source for c in K.choices()["matmul"].values()}
    assert sources == {"measured", "rank 3: measured"}


def test_every_kind_of_shape_class_survives_json():
    classes = {"conv2d": ("f", 3, 4, 5, 5, 6, (3, 3), (1, 2), (1, 1)),
               "gelu": ("d", 14, "tanh"), "adam_step": ("f", 17, True),
               "max_pool2d": ("f", 9, 5, 5, (2, 2), (2, 2), (1, 1))}
    data = {op: [[autotune._list(cls), "numba", {"numba": 1e-3, "numpy": 2e-3}, "cache"]]
            for op, cls in classes.items()}
    adopted = autotune._checked_decisions(shipped(data), "rank 0")
    assert set(adopted) == set(classes.items())
    assert all(choice.source == "rank 0: cache" for choice in adopted.values())


def test_only_choices_kept_by_their_process_are_saved_with_later_ones(clock, monkeypatch,
                                                                      kernel_rng):
    pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": SLOW})
    theirs = {"matmul": [[["f", 9, 9, 9], "numpy", {"numpy": FAST, "numba": SLOW},
                          autotune.BUSY],
                         [["f", 10, 10, 10], "numpy", {"numpy": FAST, "numba": SLOW},
                          "measured"]]}
    autotune.adopt_decisions(theirs)
    assert not autotune.cache_file().exists()
    K.matmul(*operands(kernel_rng))                       # a measurement of its own: saved
    saved = json.loads(autotune.cache_file().read_text())["choices"]
    assert sorted(e["sizes"] for e in saved) == [[7, 7, 7], [10, 10, 10]]


@pytest.mark.parametrize("data, words", [
    ([], "expected a dict"),
    ({"matmull": []}, "unknown op 'matmull'"),
    ({"matmul": [[["f", 7, 7, 7], "cuda", {}, "measured"]]}, "implementation 'cuda'"),
    ({"matmul": [[["f", 7, 7], "numba", {}, "measured"]]}, "no valid shape class"),
    ({"matmul": [[["float32", 7, 7, 7], "numba", {}, "measured"]]}, "no valid shape class"),
    ({"matmul": [[["f", 7, -1, 7], "numba", {}, "measured"]]}, "no valid shape class"),
    ({"matmul": [[["f", 7, 7, 7], "numba", {"numba": "fast"}, "measured"]]}, "seconds"),
    ({"matmul": [[["f", 7, 7, 7], "numba", {}]]}, "must be [shape class"),
])
def test_bad_decisions_are_refused_whole(clock, monkeypatch, kernel_rng, data, words):
    pretend(monkeypatch, clock, "matmul", {"numpy": FAST, "numba": SLOW})
    K.matmul(*operands(kernel_rng))
    before = autotune.export_decisions()
    good = [["f", 9, 9, 9], "numba", {"numba": FAST}, "measured"]
    if isinstance(data, dict):
        data = {"softmax": [[["f", 9, 9], "numba", {"numba": FAST}, "measured"]], **data}
        if "matmul" in data:
            data["matmul"] = [good] + data["matmul"]
    with pytest.raises(ValueError, match="adopt_decisions: .*" + re.escape(words)):
        autotune.adopt_decisions(data)
    assert autotune.export_decisions() == before          # nothing adopted, not even the good


def test_openblas_told_other_kernels_keeps_another_file(monkeypatch):
    """NumPy's OpenBLAS runs 2x apart with its Haswell and SkylakeX kernels on one AVX-512
    CPU: a choice timed under one OPENBLAS_CORETYPE says nothing of the other."""
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    autotune.machine.cache_clear()
    native = autotune.cache_file()
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    autotune.machine.cache_clear()
    try:
        assert autotune.machine()["openblas_kernels"] == "Haswell"
        assert autotune.cache_file() != native
    finally:
        monkeypatch.undo()
        autotune.machine.cache_clear()
