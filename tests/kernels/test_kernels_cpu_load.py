"""Parallel kernels use the cores other processes leave free (kernels/_cpu_load.py).

The monitor is driven with fake clocks and a fake ``/proc/stat`` reader, so each test sets
exactly how busy the machine was; the last tests check that the kernels follow its answer.
"""

from __future__ import annotations

import numpy as np
import pytest
from minigrad.kernels import _cpu_load, _threads
from minigrad.kernels._cpu_load import LoadMonitor, busy_seconds, threads_for_load

from minigrad import kernels as K


class FakeMachine:
    """Clocks and a /proc/stat reader for a machine with ``cores`` cores: ``run(s, own, others)``
    lets ``s`` seconds pass with this process busy on ``own`` cores, others on ``others``."""

    def __init__(self, cores):
        self.cores = cores
        self.now, self.busy, self.own = 100.0, 5000.0, 3.0
        self.reads = 0

    def run(self, seconds, own, others):
        self.now += seconds
        self.own += own * seconds
        self.busy += (own + others) * seconds

    def read_busy(self, cpus):
        assert list(cpus) == list(range(self.cores))
        self.reads += 1
        return self.busy

    def monitor(self, interval_s=0.25):
        return LoadMonitor(cpus=range(self.cores), read_busy=self.read_busy,
                           wall=lambda: self.now, own_cpu=lambda: self.own,
                           interval_s=interval_s)


@pytest.fixture
def adaptive(monkeypatch):
    monkeypatch.setenv(_cpu_load.ENV_VAR, "adaptive")


@pytest.mark.parametrize("cores, others, threads", [
    (2, 0.0, 2), (2, 0.15, 2), (2, 0.25, 1), (2, 0.5, 1), (2, 0.61, 1), (2, 1.0, 1), (2, 2.0, 1),
    (2, 7.0, 1), (16, 1.0, 15), (16, 3.1, 13), (16, 3.4, 12), (1, 0.0, 1), (3, 0.9, 2),
    (3, 1.49, 1),
])
def test_threads_are_the_cores_left_nearly_free(cores, others, threads):
    assert threads_for_load(cores, others) == threads


def test_other_processes_busy_cores_take_threads_away(adaptive):
    machine = FakeMachine(cores=2)
    monitor = machine.monitor()
    assert monitor.threads() == 2                   # nothing measured yet: every core
    machine.run(0.3, own=0.1, others=1.0)           # one busy process beside us
    assert monitor.threads() == 1
    assert monitor.others == pytest.approx(1.0)
    machine.run(0.3, own=1.0, others=1.0)           # still there: we run serial, it keeps one
    assert monitor.threads() == 1
    machine.run(0.3, own=1.0, others=0.0)           # it is gone
    assert monitor.threads() == 2


def test_own_threads_are_not_counted_as_load(adaptive):
    """Our own spinning workers keep both cores busy: that is not another process."""
    machine = FakeMachine(cores=2)
    monitor = machine.monitor()
    monitor.threads()
    machine.run(0.4, own=2.0, others=0.05)
    assert monitor.threads() == 2
    assert monitor.others == pytest.approx(0.05)


def test_many_cores_lose_only_the_busy_ones(adaptive):
    machine = FakeMachine(cores=16)
    monitor = machine.monitor()
    monitor.threads()
    machine.run(1.0, own=12.0, others=3.0)
    assert monitor.threads() == 13


def test_measures_once_per_interval(adaptive):
    machine = FakeMachine(cores=2)
    monitor = machine.monitor(interval_s=0.25)
    monitor.threads()
    for _ in range(10):                             # 0.2 s in 10 calls: no new window yet
        machine.run(0.02, own=0.0, others=2.0)
        assert monitor.threads() == 2
    assert machine.reads == 1
    machine.run(0.06, own=0.0, others=2.0)
    assert monitor.threads() == 1
    assert machine.reads == 2


def test_fixed_uses_every_core_and_reads_nothing(monkeypatch):
    monkeypatch.setenv(_cpu_load.ENV_VAR, "fixed")
    machine = FakeMachine(cores=2)
    monitor = machine.monitor()
    monitor.threads()
    machine.run(0.5, own=0.0, others=2.0)
    assert monitor.threads() == 2
    assert machine.reads == 0


def test_without_proc_stat_every_core_is_used(adaptive):
    clock = [0.0]
    monitor = LoadMonitor(cpus=[0, 1, 2], read_busy=lambda cpus: None, wall=lambda: clock[0],
                          own_cpu=lambda: 0.0)
    for _ in range(3):
        clock[0] += 1.0
        assert monitor.threads() == 3


def test_busy_seconds_reads_the_named_cpus(tmp_path):
    """user nice system idle iowait irq softirq steal (guest guest_nice): idle and iowait are
    not busy; steal is (another guest of the hypervisor had the core)."""
    stat = tmp_path / "stat"
    stat.write_text(
        "cpu  999 999 999 999 999 999 999 999 0 0\n"
        "cpu0 10 1 5 1000 70 2 3 4 7 0\n"
        "cpu1 20 0 6 2000 80 0 1 0 0 0\n"
        "cpu2 40 0 0 3000 0 0 0 0 0 0\n"
        "intr 123456 0 0\n"
        "cpu3 is not a CPU line any more\n")
    hz = _cpu_load._TICKS_PER_S
    assert busy_seconds([0], stat) == pytest.approx(25 / hz)
    assert busy_seconds([0, 2], stat) == pytest.approx(65 / hz)
    assert busy_seconds([0, 1, 2], stat) == pytest.approx(92 / hz)
    assert busy_seconds([0], tmp_path / "missing") is None


def test_busy_seconds_of_this_machine_only_grow():
    first = busy_seconds(_cpu_load.cores_of_this_process())
    if first is None:
        pytest.skip("no /proc/stat here")
    sum(range(2_000_000))
    assert busy_seconds(_cpu_load.cores_of_this_process()) >= first


# ---------------------------------------------------------------------------------------------
# The kernels follow the monitor
# ---------------------------------------------------------------------------------------------

class Fixed:
    """A monitor that answers ``threads`` every time."""

    def __init__(self, threads):
        self.n = threads

    def threads(self):
        return self.n


def record_builds(monkeypatch, kernel):
    calls = []
    for name in ("serial", "parallel"):
        build = getattr(kernel, name)
        monkeypatch.setattr(kernel, name,
                            lambda *a, build=build, name=name: (calls.append(name), build(*a))[1])
    return calls


def test_busy_machine_runs_the_serial_build_of_large_work(monkeypatch):
    pytest.importorskip("numba")
    from minigrad.kernels import softmax_numba
    calls = record_builds(monkeypatch, softmax_numba.softmax_rows)
    x = np.random.default_rng(3).standard_normal((301, 77))
    expected = K.softmax(x, impl="numpy")

    monkeypatch.setattr(_threads, "_load", Fixed(1))
    assert _threads.build_for(1 << 30) == "serial"
    np.testing.assert_allclose(K.softmax(x, impl="numba"), expected, rtol=1e-12)
    monkeypatch.setattr(_threads, "_load", Fixed(2))
    assert _threads.build_for(1 << 30) == "parallel"
    np.testing.assert_allclose(K.softmax(x, impl="numba"), expected, rtol=1e-12)
    assert calls == ["serial", "parallel"]


def test_busy_machine_runs_the_serial_build_of_a_direct_call(monkeypatch):
    """A ``@parallel_njit`` kernel called outside ``threads_for`` and through ``launch``."""
    numba = pytest.importorskip("numba")
    from minigrad.kernels import softmax_numba
    kernel = softmax_numba.softmax_rows
    calls = record_builds(monkeypatch, kernel)
    x = np.random.default_rng(4).standard_normal((33, 9))
    out = np.empty_like(x)
    monkeypatch.setattr(_threads, "_load", Fixed(1))
    kernel(x, out)
    _threads.launch(lambda: kernel.parallel(x, out), lambda: kernel.serial(x, out))
    assert calls == ["serial", "serial"]
    if numba.config.NUMBA_NUM_THREADS >= 2:
        monkeypatch.setattr(_threads, "_load", Fixed(2))
        kernel(x, out)
        assert calls[-1] == "parallel"


def test_some_busy_cores_lower_numbas_count_for_the_launch_only(monkeypatch):
    numba = pytest.importorskip("numba")
    monkeypatch.setattr(_threads, "_pool_size", lambda: 8)
    before = numba.get_num_threads()
    if before < 2:
        pytest.skip("needs 2 Numba threads")
    seen = []
    _threads._on_threads(1, lambda: seen.append(numba.get_num_threads()))
    _threads._on_threads(before + 1, lambda: seen.append(numba.get_num_threads()))
    assert seen == [1, before]
    assert numba.get_num_threads() == before
