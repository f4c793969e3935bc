"""How many cores other processes leave to this one, measured: the threads a parallel kernel uses.

A parallel Numba loop gives each thread an equal share and ends when the last share is done.
That is fast while every thread has a core. When another process keeps a core busy, the OS
time-slices it with one of our threads, and a share whose thread is paused waits for the
scheduler, milliseconds instead of microseconds; meanwhile the threads that finished spin at
the loop's end (Numba's OpenMP workers spin between loops too, so the other process gets the
core less often and switches more). On the 2-core VM, with one busy process beside it, a
character-LSTM training step went from 28 ms to 350-1250 ms, and 65 ms with one thread.

So parallel kernels use the cores that are free. Every ``LOAD_CHECK_S`` seconds, at a kernel
launch, ``LoadMonitor`` compares how long this process's cores were busy (Linux's
``/proc/stat``, everything but idle and I/O wait; steal time included, a hypervisor's other
guests take cores too) with this process's own CPU time (``time.process_time``, all its
threads): the difference is what *other* processes used. ``threads()`` is then the cores less
that load, counting a core as free while other processes use at most ``FREE_TOLERANCE`` of it,
at least 1; with one thread left the kernels run their serial build (``kernels/_threads.py``), so nothing waits for a paused thread.

``MINIGRAD_THREADS=fixed`` switches the measuring off: every parallel kernel uses Numba's
thread count (``NUMBA_NUM_THREADS``, ``numba.set_num_threads``), as when timing a given thread
count. Off Linux (no ``/proc/stat``) nothing is measured either. The variable is read at each
check, so setting it later takes effect within ``LOAD_CHECK_S``.
"""

from __future__ import annotations

import math
import os
import threading
import time

ENV_VAR = "MINIGRAD_THREADS"
# A core that other processes use a fraction b of runs our share of a parallel loop at (1 - b)
# speed, and the loop waits for its slowest share: with two threads on two cores the loop
# takes W / (2 (1 - b)) against W serial, a loss once b > 0.5 even before the scheduler's
# pauses (each a time slice, milliseconds, while the finished thread spins). With about half
# a core busy the 2-thread GPT step was much slower than on one thread, so a core counts only
# while nearly free; 0.2 leaves room for the measuring noise (/proc/stat counts in 10 ms
# ticks, 4 % of a core in a 0.25 s window) and for system daemons.
FREE_TOLERANCE = 0.2
LOAD_CHECK_S = 0.25       # a check (one read of /proc/stat) costs ~0.12 ms: ~0.05 % of the time

try:
    _TICKS_PER_S = os.sysconf("SC_CLK_TCK")     # /proc/stat counts in these ticks
except (AttributeError, ValueError, OSError):
    _TICKS_PER_S = 100


def cores_of_this_process() -> list[int]:
    """The CPUs this process may run on (its affinity mask: a container or ``taskset`` can
    allow fewer than the machine has)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def busy_seconds(cpus, path="/proc/stat"):
    """Seconds the CPUs numbered ``cpus`` have been busy since boot, or None without
    ``/proc/stat``. A ``cpuN`` line counts ticks of: user nice system idle iowait irq softirq
    steal (guest time is already inside user and nice)."""
    wanted = {f"cpu{c}".encode() for c in cpus}
    ticks = 0
    try:
        with open(path, "rb") as f:
            for line in f:
                if not line.startswith(b"cpu"):
                    break                       # the per-CPU lines come first
                fields = line.split()
                if fields[0] in wanted:
                    user, nice, system, idle, iowait, irq, softirq, steal = (
                        int(v) for v in fields[1:9])
                    ticks += user + nice + system + irq + softirq + steal
    except (OSError, ValueError):
        return None
    return ticks / _TICKS_PER_S


def threads_for_load(cores: int, others: float) -> int:
    """Threads worth running on ``cores`` cores while other processes keep ``others`` of them
    busy: the cores that are free, a core counting while others use at most
    ``FREE_TOLERANCE`` of it (so 0.2 busy keeps all, 0.3 busy gives one up), at least 1."""
    return max(1, min(cores, math.floor(cores - others + FREE_TOLERANCE)))


class LoadMonitor:
    """``threads()``: how many threads a parallel kernel should use now (see the module
    docstring). The clocks and the ``/proc/stat`` reader are arguments so a test can drive it.
    """

    def __init__(self, cpus=None, read_busy=busy_seconds, wall=time.monotonic,
                 own_cpu=time.process_time, interval_s=LOAD_CHECK_S):
        self.cpus = list(cpus) if cpus is not None else cores_of_this_process()
        self.interval_s = interval_s
        self.others = 0.0                      # cores other processes used in the last window
        self._read_busy, self._wall, self._own_cpu = read_busy, wall, own_cpu
        self._threads = len(self.cpus)         # until a first window is measured: all cores
        self._next_check = 0.0
        self._last = None                      # (wall, busy, own cpu) at the previous check
        self._lock = threading.Lock()

    def threads(self) -> int:
        if self._wall() >= self._next_check and self._lock.acquire(blocking=False):
            try:                               # another thread checking: use the last answer
                self._check()
            finally:
                self._lock.release()
        return self._threads

    def _check(self):
        now = self._wall()
        self._next_check = now + self.interval_s
        busy = None
        if os.environ.get(ENV_VAR, "adaptive") != "fixed":
            busy = self._read_busy(self.cpus)
        if busy is None:                       # switched off, or nothing to read
            self._last, self.others, self._threads = None, 0.0, len(self.cpus)
            return
        sample = (now, busy, self._own_cpu())
        if self._last is not None and now > self._last[0]:
            wall_s = now - self._last[0]
            others_s = (busy - self._last[1]) - (sample[2] - self._last[2])
            self.others = max(0.0, others_s / wall_s)
            self._threads = threads_for_load(len(self.cpus), self.others)
        self._last = sample


monitor = LoadMonitor()
