"""The process group: which processes train together, and the collectives they call.

Every process runs the same script (``mpiexec -n 2 python train.py``). MPI numbers them
0 .. world_size-1 (the *rank*) and connects them; ``init_process_group`` checks that and keeps
two communicators: one for the collectives, and a private one for the watchdog below.

Collectives work in place on the tensor's array, as PyTorch's do: after
``all_reduce(t)`` every rank's ``t`` holds the sum. Each one is started with MPI's
non-blocking call (``Iallreduce``, ``Ibcast``, ...) and returns a ``Work``; the blocking form is
the same call followed by ``work.wait()``.

The watchdog. A collective completes only when every rank has joined it, so one rank that
died or is stuck would leave the others waiting forever. ``Work.wait`` therefore polls its
request with a deadline (``timeout`` of ``init_process_group``). While it waits it answers
"are you there?" messages on the private communicator; when the deadline passes it asks every
other rank that question, and the ranks that don't answer within a grace period are the ones
that never reached a collective: the error names them. A process that hit the timeout aborts
the whole MPI job when it exits, so that the stuck ranks don't live on either.
"""

from __future__ import annotations

import atexit
import time
from datetime import timedelta

import numpy as np

DEFAULT_TIMEOUT = timedelta(minutes=30)       # PyTorch's default for a process group
_PROBE, _ANSWER = 7001, 7002                  # message tags on the watchdog's communicator


class DistBackendError(RuntimeError):
    """A collective failed (a rank timed out, died or disagreed); the group is unusable."""


class ReduceOp:
    """How ``all_reduce`` combines the ranks' values (PyTorch's ``dist.ReduceOp``)."""

    SUM = "sum"
    AVG = "avg"
    MAX = "max"
    MIN = "min"
    PRODUCT = "product"


class _Group:
    """The state of an initialised process group (one per process)."""

    def __init__(self, backend, comm, watchdog_comm, timeout):
        self.backend = backend
        self.comm = comm
        self.watchdog_comm = watchdog_comm
        self.timeout = timeout
        self.rank = comm.Get_rank()
        self.world_size = comm.Get_size()
        self.broken = False          # set when a wait timed out: exit aborts the MPI job
        self.answers = []            # pending Isend requests of watchdog answers


_GROUP: _Group | None = None


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(
            "minigrad.distributed with backend='mpi' needs mpi4py and an MPI library: "
            "pip install -e '.[dist]' (mpi4py and the mpich wheel)") from e
    return MPI


def _group(call: str) -> _Group:
    if _GROUP is None:
        raise RuntimeError(
            f"{call}: the default process group has not been initialized; call "
            "minigrad.distributed.init_process_group(backend='mpi') first (and start the "
            "script with mpiexec or python -m minigrad.distributed.run)")
    return _GROUP


# -- set-up and queries -------------------------------------------------------------------------
def is_available() -> bool:
    """Whether the MPI backend can be used (mpi4py imports)."""
    try:
        _mpi()
    except ImportError:
        return False
    return True


def is_initialized() -> bool:
    return _GROUP is not None


def init_process_group(backend: str | None = "mpi", init_method=None,
                       timeout: timedelta | None = None, world_size: int = -1,
                       rank: int = -1, **kwargs) -> None:
    """Join the processes started by mpiexec into the default process group.

    ``backend='mpi'`` (the default) runs the collectives through mpi4py on CPU arrays.
    ``'nccl'`` (GPUs) needs CUDA and CuPy's NCCL bindings. ``timeout`` bounds every wait
    (default 30 minutes). ``world_size``/``rank``, when given, must match what mpiexec set:
    MPI, not the caller, numbers the processes.
    """
    global _GROUP
    if _GROUP is not None:
        raise RuntimeError("init_process_group: the default process group is already "
                           "initialized (call destroy_process_group first)")
    backend = "mpi" if backend is None else str(backend).lower()
    if backend == "nccl":
        _refuse_nccl()
    if backend != "mpi":
        raise ValueError(f"init_process_group: backend {backend!r} is not supported; "
                         "minigrad has 'mpi' (CPU, through mpi4py)")
    if init_method not in (None, "env://"):
        raise ValueError(f"init_process_group: init_method={init_method!r}: with MPI the "
                         "processes find each other through mpiexec; leave it None")
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    if not isinstance(timeout, timedelta) or timeout.total_seconds() <= 0:
        raise ValueError(f"init_process_group: timeout must be a positive datetime.timedelta, "
                         f"got {timeout!r}")
    MPI = _mpi()
    world = MPI.COMM_WORLD
    for name, given, actual in (("world_size", world_size, world.Get_size()),
                                ("rank", rank, world.Get_rank())):
        if given not in (-1, None) and given != actual:
            raise ValueError(f"init_process_group: {name}={given} but mpiexec started this "
                             f"process with {name}={actual}")
    _GROUP = _Group(backend, world.Dup(), world.Dup(), timeout)
    atexit.register(_abort_if_broken, _GROUP)


def _refuse_nccl():
    from .. import cuda
    missing = []
    if not cuda.is_available():
        missing.append("a CUDA GPU (mg.cuda.is_available() is False)")
    try:
        from cupy.cuda import nccl  # noqa: F401
    except ImportError:
        missing.append("CuPy's NCCL bindings (cupy.cuda.nccl does not import)")
    if missing:
        raise RuntimeError("init_process_group(backend='nccl') needs " + " and ".join(missing)
                           + "; on CPUs use backend='mpi'")
    raise NotImplementedError("init_process_group(backend='nccl'): minigrad has no NCCL "
                              "backend yet; use backend='mpi' (CPU arrays)")


def destroy_process_group() -> None:
    """Leave the process group (collectives raise until ``init_process_group`` again)."""
    global _GROUP
    group = _group("destroy_process_group")
    _GROUP = None
    if group.broken:
        return                      # peers may be gone: freeing would wait on them
    for req in group.answers:
        req.Wait()
    group.comm.Free()
    group.watchdog_comm.Free()


def _abort_if_broken(group: _Group):
    """At exit, after a timeout (even if the error was caught and the group destroyed):
    end the whole MPI job, stuck ranks included, instead of waiting for them in Finalize."""
    if group.broken:
        group.comm.Abort(1)


def get_rank() -> int:
    return _group("get_rank").rank


def get_world_size() -> int:
    return _group("get_world_size").world_size


def get_backend() -> str:
    return _group("get_backend").backend


# -- Work: a started collective ------------------------------------------------------------------
class Work:
    """A collective in flight (``async_op=True`` returns one). ``wait()`` blocks until it has
    finished on this rank and its result is in the tensor, or raises DistBackendError when it
    takes longer than the group's timeout."""

    def __init__(self, group: _Group, name: str, request, finish=None):
        self.group, self.name, self.request, self.finish = group, name, request, finish
        self.done = False

    def is_completed(self) -> bool:
        if not self.done and self.request.Test():
            self._complete()
        return self.done

    def wait(self, timeout: timedelta | None = None) -> bool:
        if not self.done:
            _wait_for(self.group, self.name, self.request, timeout or self.group.timeout)
            self._complete()
        return True

    def _complete(self):
        self.done = True
        if self.finish is not None:
            self.finish()


def _wait_for(group: _Group, name: str, request, timeout: timedelta):
    """Poll ``request`` until it completes; on the deadline find who is missing and raise."""
    start = time.perf_counter()
    deadline = start + timeout.total_seconds()
    next_answer = start
    while not request.Test():
        now = time.perf_counter()
        if now >= next_answer:              # answering is cheap but not free: every 10 ms
            _answer_probes(group)
            next_answer = now + 0.01
        if now >= deadline:
            _raise_timeout(group, name, timeout)
        if now - start > 0.01:
            time.sleep(0.0002)               # a long wait: leave the core to the others


def _answer_probes(group: _Group):
    MPI = _mpi()
    status = MPI.Status()
    while group.watchdog_comm.Iprobe(source=MPI.ANY_SOURCE, tag=_PROBE, status=status):
        source = status.Get_source()
        group.watchdog_comm.recv(source=source, tag=_PROBE)
        group.answers.append(group.watchdog_comm.isend(group.rank, dest=source, tag=_ANSWER))


def _raise_timeout(group: _Group, name: str, timeout: timedelta):
    MPI = _mpi()
    group.broken = True
    others = [r for r in range(group.world_size) if r != group.rank]
    for r in others:
        group.answers.append(group.watchdog_comm.isend(group.rank, dest=r, tag=_PROBE))
    heard = set()
    grace = time.perf_counter() + min(5.0, max(1.0, timeout.total_seconds()))
    while time.perf_counter() < grace and len(heard) < len(others):
        _answer_probes(group)
        while group.watchdog_comm.Iprobe(source=MPI.ANY_SOURCE, tag=_ANSWER):
            heard.add(group.watchdog_comm.recv(source=MPI.ANY_SOURCE, tag=_ANSWER))
        time.sleep(0.001)
    missing = [r for r in others if r not in heard]
    who = (f"rank(s) {missing} never reached a collective (dead, finished or stuck "
           "elsewhere)" if missing else
           "every rank is waiting in a collective, so they are waiting in different ones "
           "(the ranks called collectives in different orders)")
    raise DistBackendError(
        f"{name} on rank {group.rank} timed out after {timeout.total_seconds():g} s: {who}. "
        "The process group is unusable; this process aborts the MPI job when it exits.")


# -- the collectives ---------------------------------------------------------------------------
def _array_of(call: str, tensor):
    from ..tensor import Tensor
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{call}: expected a minigrad Tensor, got {type(tensor).__name__}")
    if not isinstance(tensor.array, np.ndarray):
        raise TypeError(f"{call}: the mpi backend works on CPU tensors; this one is on "
                        f"{tensor.device} (move it with .cpu())")
    return tensor.array


def _contiguous_buffer(array):
    """An array MPI can write into: the tensor's own memory if contiguous, else a copy that
    is written back when the collective finishes."""
    if array.flags.c_contiguous and array.flags.writeable:
        return array, None
    buf = np.ascontiguousarray(array)
    return buf, (lambda: np.copyto(array, buf))


def _changed(tensor):
    """A collective wrote into ``tensor``: bump its version like an in-place op."""
    tensor._version[0] += 1


def _run(group, name, request, async_op, finish):
    work = Work(group, name, request, finish)
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Combine ``tensor`` across ranks in place: every rank ends with the same result."""
    call = "all_reduce"
    g = _check_group(call, group)
    array = _array_of(call, tensor)
    MPI = _mpi()
    mpi_op = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.MAX: MPI.MAX,
              ReduceOp.MIN: MPI.MIN, ReduceOp.PRODUCT: MPI.PROD}.get(op)
    if mpi_op is None:
        raise ValueError(f"{call}: unknown op {op!r}; use ReduceOp.SUM, AVG, MAX, MIN or "
                         "PRODUCT")
    if op == ReduceOp.AVG and array.dtype.kind != "f":
        raise TypeError(f"{call}: ReduceOp.AVG needs a floating-point tensor, got "
                        f"{array.dtype}")
    buf, write_back = _contiguous_buffer(array)
    request = g.comm.Iallreduce(MPI.IN_PLACE, buf, op=mpi_op)

    def finish():
        if op == ReduceOp.AVG:
            np.divide(buf, g.world_size, out=buf)
        if write_back is not None:
            write_back()
        _changed(tensor)
    return _run(g, call, request, async_op, finish)


def broadcast(tensor, src: int, group=None, async_op: bool = False):
    """Copy rank ``src``'s ``tensor`` into every rank's ``tensor``."""
    call = "broadcast"
    g = _check_group(call, group)
    _check_rank(call, "src", src, g)
    buf, write_back = _contiguous_buffer(_array_of(call, tensor))
    request = g.comm.Ibcast(buf, root=src)

    def finish():
        if write_back is not None:
            write_back()
        _changed(tensor)
    return _run(g, call, request, async_op, finish)


def all_gather(tensor_list, tensor, group=None, async_op: bool = False):
    """``tensor_list[r]`` becomes rank r's ``tensor``, on every rank."""
    call = "all_gather"
    g = _check_group(call, group)
    array = _array_of(call, tensor)
    if len(tensor_list) != g.world_size:
        raise ValueError(f"{call}: tensor_list has {len(tensor_list)} tensors but the world "
                         f"size is {g.world_size}: give one output tensor per rank")
    for i, out in enumerate(tensor_list):
        out_array = _array_of(call, out)
        if out_array.shape != array.shape or out_array.dtype != array.dtype:
            raise ValueError(f"{call}: tensor_list[{i}] has shape {tuple(out_array.shape)} "
                             f"and dtype {out_array.dtype}, but the input has shape "
                             f"{tuple(array.shape)} and dtype {array.dtype}")
    gathered = np.empty((g.world_size,) + array.shape, dtype=array.dtype)
    request = g.comm.Iallgather(np.ascontiguousarray(array), gathered)

    def finish():
        for out, part in zip(tensor_list, gathered):
            np.copyto(out.array, part)
            _changed(out)
    return _run(g, call, request, async_op, finish)


def all_gather_object(object_list: list, obj, group=None) -> None:
    """``object_list[r]`` becomes rank r's ``obj`` (any picklable object), on every rank."""
    import pickle
    call = "all_gather_object"
    g = _check_group(call, group)
    if len(object_list) != g.world_size:
        raise ValueError(f"{call}: object_list has {len(object_list)} entries but the world "
                         f"size is {g.world_size}")
    payload = np.frombuffer(pickle.dumps(obj), dtype=np.uint8)
    sizes = np.empty(g.world_size, dtype=np.int64)
    Work(g, call, g.comm.Iallgather(np.array([payload.size], dtype=np.int64), sizes)).wait()
    gathered = np.empty(int(sizes.sum()), dtype=np.uint8)
    request = g.comm.Iallgatherv(payload, [gathered, sizes])
    Work(g, call, request).wait()
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    for r in range(g.world_size):
        object_list[r] = pickle.loads(gathered[offsets[r]:offsets[r + 1]].tobytes())


def barrier(group=None, async_op: bool = False):
    """Wait until every rank has reached this call."""
    g = _check_group("barrier", group)
    return _run(g, "barrier", g.comm.Ibarrier(), async_op, None)


def _broadcast_int(call: str, value: int, src: int = 0) -> int:
    """Rank ``src``'s ``value`` (an int64) on every rank; the others' ``value`` is ignored."""
    g = _group(call)
    buf = np.array([value if g.rank == src else 0], dtype=np.int64)
    Work(g, call, g.comm.Ibcast(buf, root=src)).wait()
    return int(buf[0])


def _broadcast_bytes(call: str, payload: bytes | None, src: int = 0) -> bytes:
    """Rank ``src``'s ``payload`` on every rank (the others pass None): its length, then the
    bytes. Raw bytes, never unpickled: the caller decides what they mean (JSON for DDP's
    kernel choices)."""
    g = _group(call)
    size = _broadcast_int(call, len(payload) if g.rank == src else 0, src)
    if g.rank == src:
        buf = np.frombuffer(payload, dtype=np.uint8).copy()
    else:
        buf = np.empty(size, dtype=np.uint8)
    Work(g, call, g.comm.Ibcast(buf, root=src)).wait()
    return buf.tobytes()


def _check_group(call: str, group):
    g = _group(call)
    if group is not None and group is not g:
        raise ValueError(f"{call}: only the default process group exists (group=None)")
    return g


def _check_rank(call: str, what: str, r, g: _Group):
    if not isinstance(r, (int, np.integer)) or not 0 <= r < g.world_size:
        raise ValueError(f"{call}: {what}={r!r} is not a rank of this group "
                         f"(0 .. {g.world_size - 1})")
