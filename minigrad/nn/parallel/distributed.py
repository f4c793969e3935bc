"""``DistributedDataParallel``: the same model on every rank, each on its own share of the batch.

Every rank holds a full copy of the model. At construction rank 0's parameters and buffers are
copied to all ranks, so the copies start equal. Each step, every rank runs forward and backward
on its own batch; the gradients are then averaged across ranks, so every rank takes the same
optimizer step and the copies stay equal. Averaging the gradients of the ranks' mean losses is
the gradient of the mean loss over the whole (concatenated) batch.

The averaging overlaps with backward. Parameters are grouped into *buckets* of about
``bucket_cap_mb`` megabytes, in reverse order of ``parameters()``: backward reaches the last
layers first, so the first bucket is the first to have all its gradients. A
post-accumulate-grad hook on each parameter copies its finished gradient into its bucket's flat
buffer; when a bucket is full, its all-reduce starts (non-blocking) while backward goes on with
the earlier layers. A bucket of one parameter (a weight larger than the cap) skips the copy:
its ``.grad`` is all-reduced in place. When the last bucket has started, the hook waits for
all of them and writes the sums divided by the world size into ``.grad``, in one pass. Buckets
always start in the same order on every rank, because MPI matches collectives by their order.

``gradient_as_bucket_view=True`` (PyTorch's option) removes the copies: each parameter's
``.grad`` becomes a view of its slot in the bucket's flat buffer, so the next backward adds its
gradient straight into the bucket (autograd accumulates into an existing ``.grad`` in place)
and the all-reduce and the division run on the buffer itself. A ``.grad`` that is not such a
view (the first step, or after ``zero_grad(set_to_none=True)``) is copied into its slot once
and replaced by the view, as PyTorch does.

Kernel choices agree across ranks. minigrad's autotuner (kernels/autotune.py) times NumPy
against Numba the first time it meets a shape class and keeps the faster; every rank would
time its own, beside the other ranks' work, and the ranks could choose differently, so that
each step waits for the rank running the slower kernel. So after the gradients of a
synchronised backward are averaged, rank 0 broadcasts how many decisions it knows (one
int64); when that number has changed since the last broadcast (always at the first backward),
it broadcasts its decisions as JSON and every other rank adopts them
(``autotune.adopt_decisions``): from then on all ranks run rank 0's kernels.
"""

from __future__ import annotations

import contextlib
import json

import numpy as np

from ... import distributed as dist
from ...autograd.grad_mode import is_grad_enabled
from ...distributed import process_group
from ...kernels import autotune, dispatch
from ...tensor import Tensor
from ..module import Module


class _Bucket:
    """Some parameters' gradients, side by side in one flat array (one all-reduce)."""

    def __init__(self, index, params, names):
        self.index, self.params, self.names = index, params, names
        sizes = [p.array.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.flat = np.zeros(int(self.offsets[-1]), dtype=params[0].array.dtype)
        # each parameter's slot shaped like the parameter: its .grad with gradient_as_bucket_view
        self.views = [self.slot(i).reshape(p.array.shape) for i, p in enumerate(params)]
        self.ready = 0                          # how many of its gradients have arrived
        self.arrived = [False] * len(params)
        self.work = None
        self.reduced = None                     # the tensor its all-reduce sums in place

    def reset(self):
        self.ready, self.work, self.reduced = 0, None, None
        self.arrived = [False] * len(self.params)

    def slot(self, i):
        return self.flat[self.offsets[i]:self.offsets[i + 1]]


def _buckets_of(named_params, cap_bytes):
    """Consecutive parameters (already in reverse order), cut at ``cap_bytes`` and at dtype
    changes (one flat array holds one dtype)."""
    buckets, current, size = [], [], 0
    for name, p in named_params:
        if current and (size + p.array.nbytes > cap_bytes
                        or p.array.dtype != current[0][1].array.dtype):
            buckets.append(current)
            current, size = [], 0
        current.append((name, p))
        size += p.array.nbytes
    if current:
        buckets.append(current)
    return [_Bucket(i, [p for _, p in b], [n for n, _ in b]) for i, b in enumerate(buckets)]


class DistributedDataParallel(Module):
    """Data-parallel training of ``module`` over the default process group (PyTorch's names).

    Args:
        module: the model; ``ddp.module`` is it, and state_dict keys start with ``module.``.
        bucket_cap_mb: the size of one all-reduce, in megabytes (PyTorch's default 25).
        broadcast_buffers: copy rank 0's buffers (e.g. BatchNorm's running statistics) to
            every rank at each forward.
        gradient_as_bucket_view: make every ``.grad`` a view into its bucket's flat buffer
            (from the first synchronised backward on), so that backward accumulates into the
            bucket and nothing is copied in or out; the buffers then hold the gradients (one
            gradient-sized copy less in memory). The views survive only
            ``zero_grad(set_to_none=False)``; ``set_to_none=True`` (the default) drops them
            and each step copies once, as without the option. On a CPU the zeroing and the
            in-place ``+=`` cost about what the copies did (docs/distributed.md).
        overlap: minigrad's own switch, for measuring: False waits until backward has finished
            before starting any all-reduce.
        sync_kernel_choices: minigrad's own switch (on by default): after each synchronised
            backward in which rank 0 knows new autotuner decisions (always the first), every
            rank adopts rank 0's, so that all ranks run the same kernels. Off: each rank
            keeps its own (for measuring what agreeing buys).
    device_ids, output_device, dim, process_group and static_graph are accepted for PyTorch's
    signature; find_unused_parameters=True is not supported.
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False,
                 *, overlap: bool = True, sync_kernel_choices: bool = True):
        super().__init__()
        call = "DistributedDataParallel"
        if not dist.is_initialized():
            dist.process_group._group(call)          # raises the "not initialized" error
        if not isinstance(module, Module):
            raise TypeError(f"{call}: expected an nn.Module, got {type(module).__name__}")
        if find_unused_parameters:
            raise ValueError(f"{call}: find_unused_parameters=True is not supported; every "
                             "parameter that requires grad must get a gradient each step")
        bucket_cap_mb = 25 if bucket_cap_mb is None else bucket_cap_mb
        if bucket_cap_mb <= 0:
            raise ValueError(f"{call}: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.bucket_cap_mb = bucket_cap_mb
        self.overlap = overlap
        self.sync_kernel_choices = bool(sync_kernel_choices)
        self._kernel_choices_count = -1              # rank 0's decisions at the last broadcast
        self.gradient_as_bucket_view = bool(gradient_as_bucket_view)
        self.require_backward_grad_sync = True
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._check_same_parameters(module)
        self._sync_module_states(module)
        self._buckets = _buckets_of(list(reversed(named)), bucket_cap_mb * 1024 * 1024)
        self._where = {}                             # id(param) -> (bucket, slot)
        for bucket in self._buckets:
            for i, p in enumerate(bucket.params):
                self._where[id(p)] = (bucket, i)
                p.register_post_accumulate_grad_hook(self._grad_ready)
        self._expect_grads = False                   # set by a forward that will sync
        self._next_bucket = 0                        # the next bucket to start

    # -- construction --------------------------------------------------------------------------
    @staticmethod
    def _check_same_parameters(module):
        """Every rank must hold the same parameters: compare names, shapes and dtypes."""
        mine = [(n, tuple(p.shape), str(p.array.dtype)) for n, p in module.named_parameters()]
        everyone = [None] * dist.get_world_size()
        dist.all_gather_object(everyone, mine)
        for rank, theirs in enumerate(everyone):
            if theirs == everyone[0]:
                continue
            if len(theirs) != len(everyone[0]):
                raise ValueError(
                    f"DistributedDataParallel: rank 0 has {len(everyone[0])} parameters but "
                    f"rank {rank} has {len(theirs)}: every rank must build the same model")
            for (n0, s0, d0), (n1, s1, d1) in zip(everyone[0], theirs):
                if (n0, s0, d0) != (n1, s1, d1):
                    raise ValueError(
                        f"DistributedDataParallel: parameter {n0!r} has shape {s0} ({d0}) on "
                        f"rank 0 but {n1!r} has shape {s1} ({d1}) on rank {rank}: every rank "
                        "must build the same model")

    @staticmethod
    def _sync_module_states(module):
        """Start every rank from rank 0's parameters and buffers."""
        tensors = list(module.parameters()) + list(module.buffers())
        works = [dist.broadcast(t, src=0, async_op=True) for t in tensors]
        for w in works:
            w.wait()

    # -- each step -----------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        self._check_previous_reduction()
        if self.broadcast_buffers:
            buffers = list(self.module.buffers())
            for w in [dist.broadcast(b, src=0, async_op=True) for b in buffers]:
                w.wait()
        self._expect_grads = self.require_backward_grad_sync and is_grad_enabled()
        self._next_bucket = 0
        for bucket in self._buckets:
            bucket.reset()
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Backward inside this block only accumulates ``.grad`` locally (no communication):
        gradient accumulation over several micro-batches, synchronised by the first backward
        after the block."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def _check_previous_reduction(self):
        started = [b for b in self._buckets if b.ready]
        if self._expect_grads and started:
            missing = [n for b in self._buckets for n, arrived in zip(b.names, b.arrived)
                       if not arrived]
            raise RuntimeError(
                "DistributedDataParallel: the previous backward gave no gradient to "
                f"parameter(s) {missing[:5]}{' ...' if len(missing) > 5 else ''}, so their "
                "gradients were never averaged. Every parameter that requires grad must take "
                "part in the loss (or set requires_grad=False on the unused ones).")

    def _grad_ready(self, param):
        """The post-accumulate-grad hook: ``param.grad`` is final for this backward."""
        bucket, i = self._where[id(param)]
        if not self._expect_grads:      # no_sync, or no forward through DDP: local only
            return
        if bucket.arrived[i]:
            raise RuntimeError(
                f"DistributedDataParallel: parameter {bucket.names[i]!r} got a second gradient "
                "before the gradients of one forward were all averaged (a second backward "
                "through part of the graph); run forward again before each backward")
        if self.gradient_as_bucket_view:
            self._make_grad_a_view(bucket, i, param)
        elif len(bucket.params) > 1:     # a one-parameter bucket reduces .grad in place
            np.copyto(bucket.slot(i), param.grad.array.reshape(-1))
        bucket.arrived[i] = True
        bucket.ready += 1
        if self.overlap:
            self._start_ready_buckets()
        elif all(b.ready == len(b.params) for b in self._buckets):
            self._start_ready_buckets()
        for b in self._buckets[:self._next_bucket]:
            b.work.is_completed()        # lets MPI progress the transfers in flight
        if self._next_bucket == len(self._buckets):
            self._finish()

    @staticmethod
    def _make_grad_a_view(bucket, i, param):
        """With gradient_as_bucket_view: ``param.grad`` already is its slot of the bucket
        (backward accumulated into it: nothing to do), or it is a new array (first step,
        ``set_to_none=True``, or a gradient set by hand): copy it in and point ``.grad`` at
        the slot from now on."""
        view = bucket.views[i]
        if not _same_memory(param.grad.array, view):
            np.copyto(view, param.grad.array)
            param.grad = Tensor._make(view)

    def _start_ready_buckets(self):
        """Start the all-reduces of the full buckets, in bucket order (the same on all ranks)."""
        while (self._next_bucket < len(self._buckets)
               and self._buckets[self._next_bucket].ready
               == len(self._buckets[self._next_bucket].params)):
            bucket = self._buckets[self._next_bucket]
            bucket.reduced = self._reduced_tensor(bucket)
            bucket.work = dist.all_reduce(bucket.reduced, async_op=True)
            self._next_bucket += 1

    def _reduced_tensor(self, bucket):
        """What the bucket's all-reduce sums in place: the flat buffer that the gradients were
        copied into (or, with gradient_as_bucket_view, accumulated into), or, for a lone
        parameter without that option, its own ``.grad`` (no copy into the flat buffer and
        back; all_reduce copies a non-contiguous one itself)."""
        if len(bucket.params) == 1 and not self.gradient_as_bucket_view:
            return bucket.params[0].grad
        return Tensor._make(bucket.flat)

    def _finish(self):
        """Wait for every bucket and write the averaged gradients into ``.grad``: the sum
        divided by the world size goes straight into ``.grad`` (one pass over the memory);
        where ``.grad`` is the buffer itself (gradient_as_bucket_view) it is divided in place."""
        world = dist.get_world_size()
        for bucket in self._buckets:
            bucket.work.wait()
            reduced = bucket.reduced.array
            if reduced is not bucket.flat or self.gradient_as_bucket_view:
                # a lone gradient reduced in place, or every .grad a view of the buffer
                np.divide(reduced, world, out=reduced)
                continue
            for i, p in enumerate(bucket.params):
                np.divide(bucket.slot(i).reshape(p.grad.array.shape), world, out=p.grad.array)
        self._expect_grads = False
        if self.sync_kernel_choices and world > 1:
            self._adopt_rank0_kernel_choices()

    def _adopt_rank0_kernel_choices(self):
        """Every rank takes rank 0's autotuner decisions when rank 0 has new ones: its count
        of decisions is broadcast (8 bytes, at every synchronised backward); when it has
        changed since the last broadcast, the decisions follow as JSON bytes (data, never
        pickled) and every other rank adopts them."""
        call = "DistributedDataParallel (kernel choices)"
        rank = dist.get_rank()
        count = process_group._broadcast_int(call, autotune.decision_count() if rank == 0 else 0)
        if count == self._kernel_choices_count:
            return
        payload = json.dumps(_rank0_decisions()).encode() if rank == 0 else None
        decisions = json.loads(process_group._broadcast_bytes(call, payload))
        if rank != 0 and decisions:
            autotune.adopt_decisions(decisions, source="rank 0")
        self._kernel_choices_count = count


def _rank0_decisions():
    """This process's autotuner decisions for the other ranks; none without Numba (nothing
    is measured then: every call takes the default rule)."""
    return autotune.export_decisions() if dispatch.numba_installed() else {}


def _same_memory(a, b):
    """Whether arrays ``a`` and ``b`` are the same elements of memory (same start, shape and
    strides), as a ``.grad`` that is its bucket's view is."""
    return a is b or (a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype
                      and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])
