"""``DataLoader``: turn a Dataset into an iterable of mini-batches.

Each epoch (each ``for batch in loader``) it

1. orders the sample indices: ``0..n-1``, or a fresh random permutation when ``shuffle=True``;
2. cuts them into chunks of ``batch_size`` (the last one smaller, or dropped with
   ``drop_last=True``);
3. fetches each chunk's samples, ``[dataset[i] for i in chunk]``, and
4. merges them with ``collate_fn`` (by default ``default_collate``: numbers become a tensor,
   arrays and tensors are stacked along a new first dimension, tuples and dicts are collated
   field by field).

Shuffling is reproducible: with ``seed`` the loader owns a generator seeded once, so the
sequence of epochs is the same on every run (and each epoch still differs from the last);
without it, the permutations come from minigrad's global generator, fixed by
``mg.manual_seed``.

The arguments are PyTorch's, in PyTorch's order, so loaders written for PyTorch run as they
are. Two of them work differently, for reasons of this framework:

* ``num_workers > 0`` fetches batches in that many worker *threads*, not processes: minigrad's
  compiled kernels use an OpenMP thread pool that a forked process cannot use safely, and
  threads need no pickling of the dataset. Batches still arrive in order and hold the same
  samples as with ``num_workers=0``; up to ``prefetch_factor`` batches per worker are fetched
  ahead. Threads help when ``__getitem__`` waits (files, decoding in C code that releases the
  GIL); pure-Python per-sample work shares one core, as everything in a Python process does.
  Random draws inside a Dataset's ``__getitem__`` then happen in whichever thread gets there
  first: for bit-for-bit reproducible random augmentation use ``num_workers=0``.
* ``pin_memory`` (and ``pin_memory_device``) are accepted and change nothing: page-locked
  host memory only speeds up copies to a GPU, and minigrad's CPU arrays are already where the
  kernels read them.
"""

from __future__ import annotations

import collections.abc
import concurrent.futures
import itertools
import threading
from dataclasses import dataclass

import numpy as np

from .. import backend
from ..tensor import Tensor, tensor
from .dataset import Dataset, as_generator


def default_collate(batch):
    """Merge a list of samples into one batch, as PyTorch's ``default_collate`` does.

    * Tensors and arrays of equal shape -> stacked: a tensor of shape ``(B, *shape)``;
    * Python ints / floats / bools -> a 1-D tensor (int64 / float64 / bool, as PyTorch);
    * NumPy scalars -> a 1-D tensor of their dtype;
    * strings (and None) -> left as a list;
    * dicts -> a dict of collated fields; tuples and lists -> a list of collated fields
      (``x, y = batch`` unpacks either); named tuples keep their type.
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(batch)
    if _is_array(elem):
        if elem.dtype.kind in "OUSV":
            raise TypeError(f"default_collate: can't batch arrays of dtype {elem.dtype}; "
                            "only numeric and bool arrays become tensors")
        return Tensor._make(backend.array_module(elem).stack(batch))
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        return Tensor._make(np.array(batch, dtype=elem.dtype))
    if isinstance(elem, bool):
        return tensor(batch, dtype=np.bool_)
    if isinstance(elem, int):
        return tensor(batch, dtype=np.int64)
    if isinstance(elem, float):
        return tensor(batch, dtype=np.float64)  # PyTorch gives float64 for Python floats
    if isinstance(elem, (str, bytes)) or elem is None:
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        fields = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(fields)
        except TypeError:  # a mapping type that can't be built from a dict
            return fields
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(list(f)) for f in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, NumPy arrays, numbers, "
                    f"dicts or lists; found {type(elem).__name__}")


def default_convert(sample):
    """What ``batch_size=None`` yields: the sample with arrays turned into tensors, unbatched."""
    if _is_array(sample) and sample.dtype.kind not in "OUSV":
        return Tensor._make(sample)
    if isinstance(sample, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(v) for v in sample))
    if isinstance(sample, (tuple, list)):
        return type(sample)(default_convert(v) for v in sample)
    return sample


def _is_array(x) -> bool:
    return isinstance(x, np.ndarray) or backend.device_of(x).type == "cuda"


def _stack_tensors(batch) -> Tensor:
    """Stack tensors of equal shape along a new first dimension."""
    shape = batch[0].shape
    for i, t in enumerate(batch):
        if not isinstance(t, Tensor) or t.shape != shape:
            raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, "
                               f"but got {tuple(shape)} at entry 0 and "
                               f"{tuple(getattr(t, 'shape', ()))} at entry {i}")
    if any(t.requires_grad for t in batch):  # keep the graph: the autograd op
        from ..ops.join import stack
        return stack(batch)
    return Tensor._make(backend.array_module(batch[0].array).stack([t.array for t in batch]))


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: as PyTorch's (id, num_workers,
    seed, dataset)."""

    id: int
    num_workers: int
    seed: int
    dataset: object


_worker = threading.local()


def get_worker_info() -> WorkerInfo | None:
    """The calling worker's ``WorkerInfo``, or None outside a DataLoader worker."""
    return getattr(_worker, "info", None)


class DataLoader:
    """Iterate over ``dataset`` in mini-batches.

    Args (PyTorch's, in its order; see the module docstring for ``num_workers`` and
    ``pin_memory``):
        dataset: any Dataset (``len`` and ``[i]``).
        batch_size: samples per batch (default 1). ``None`` yields single samples, unbatched.
        shuffle: a new random order every epoch (default False).
        sampler: an iterable of indices giving the order of one epoch (instead of shuffle).
        batch_sampler: an iterable of lists of indices, one list per batch (instead of
            batch_size, shuffle, sampler and drop_last).
        num_workers: worker threads fetching batches ahead (default 0: in the calling thread).
        collate_fn: merges a list of samples into a batch (default ``default_collate``).
        pin_memory: accepted; no effect.
        drop_last: drop the last batch if it is smaller than ``batch_size`` (default False).
        timeout: seconds to wait for a worker's batch before raising (0: wait forever).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker as it starts.
        multiprocessing_context: accepted for PyTorch's signature; workers are threads.
        generator: a ``numpy.random.Generator`` (or a seed) to shuffle with.
        prefetch_factor: batches fetched ahead per worker (default 2 with workers).
        persistent_workers: keep the worker threads between epochs.
        seed: seed of this loader's own shuffling generator (minigrad's; PyTorch has
            ``generator`` only). None uses minigrad's global generator.
    """

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True, seed: int | None = None):
        if batch_size is not None and (isinstance(batch_size, bool)
                                       or not isinstance(batch_size, (int, np.integer))
                                       or batch_size <= 0):
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size!r}")
        _check_workers(num_workers, prefetch_factor, persistent_workers, timeout,
                       multiprocessing_context)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                             "shuffle, sampler, and drop_last")
        if batch_sampler is not None:
            batch_size = None
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if seed is not None and generator is not None:
            raise ValueError("give either seed or generator, not both")
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.drop_last = drop_last
        self.seed = seed
        self.num_workers = int(num_workers)
        self.prefetch_factor = (2 if prefetch_factor is None else int(prefetch_factor)) \
            if self.num_workers else None
        self.persistent_workers = persistent_workers
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.pin_memory = pin_memory
        self.in_order = in_order
        auto_batch = batch_size is not None or batch_sampler is not None
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if auto_batch else default_convert)
        # the loader's own generator, created once: epoch k's order depends only on (seed, k)
        self.generator = generator if seed is None else np.random.default_rng(seed)
        self._pool = None

    def __len__(self) -> int:
        """Batches per epoch: ceil(n / batch_size), or floor with drop_last."""
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def _indices(self) -> list:
        if self.sampler is not None:
            return list(self.sampler)
        n = len(self.dataset)
        if self.shuffle:
            return as_generator(self.generator).permutation(n).tolist()
        return list(range(n))

    def _batches_of_indices(self):
        """One epoch's work: lists of indices (one per batch), or single indices unbatched."""
        if self.batch_sampler is not None:
            return [list(b) for b in self.batch_sampler]
        order = self._indices()
        if self.batch_size is None:
            return order
        return [order[start:start + self.batch_size]
                for start in range(0, len(self) * self.batch_size, self.batch_size)]

    def _fetch(self, work):
        if self.batch_size is None and self.batch_sampler is None:
            return self.collate_fn(self.dataset[work])
        return self.collate_fn([self.dataset[i] for i in work])

    def __iter__(self):
        work = self._batches_of_indices()
        if self.num_workers == 0:
            return (self._fetch(w) for w in work)
        return self._from_workers(work)

    def _from_workers(self, work):
        """Fetch in worker threads, ``prefetch_factor`` batches per worker ahead, yielded in
        order."""
        pool = self._pool or self._start_workers()
        ahead = self.num_workers * self.prefetch_factor
        pending = iter(work)
        futures = collections.deque(pool.submit(self._fetch, w)
                                    for w in itertools.islice(pending, ahead))
        try:
            while futures:
                batch = _result(futures.popleft(), self.timeout)
                nxt = next(pending, None)
                if nxt is not None:
                    futures.append(pool.submit(self._fetch, nxt))
                yield batch
        finally:
            for f in futures:
                f.cancel()
            if not self.persistent_workers:
                self._stop_workers()

    def _start_workers(self):
        ids = itertools.count()
        base_seed = int(np.random.default_rng().integers(2**62))

        def init():
            worker_id = next(ids)
            _worker.info = WorkerInfo(worker_id, self.num_workers, base_seed + worker_id,
                                      self.dataset)
            if self.worker_init_fn is not None:
                self.worker_init_fn(worker_id)

        self._pool = concurrent.futures.ThreadPoolExecutor(
            self.num_workers, thread_name_prefix="minigrad-dataloader", initializer=init)
        return self._pool

    def _stop_workers(self):
        pool = getattr(self, "_pool", None)     # None also when __init__ raised early
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def __del__(self):
        self._stop_workers()

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, num_workers={self.num_workers})")


def _check_workers(num_workers, prefetch_factor, persistent_workers, timeout, context):
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) \
            or num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                         f"disable multiprocessing (got {num_workers!r})")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                         "let num_workers > 0 to enable multiprocessing, otherwise set "
                         "prefetch_factor to None.")
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if context is not None and num_workers == 0:
        raise ValueError("multiprocessing_context can only be used with multi-process "
                         "loading (num_workers > 0), but got num_workers=0")


def _result(future, timeout):
    try:
        return future.result(timeout=timeout or None)
    except concurrent.futures.TimeoutError:
        raise RuntimeError(f"DataLoader timed out after {timeout} seconds waiting for a "
                           "worker's batch") from None
