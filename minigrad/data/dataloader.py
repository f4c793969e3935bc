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
``mg.manual_seed``. Everything runs in the main process (PyTorch's ``num_workers``,
samplers and pinned memory are not part of minigrad).
"""

from __future__ import annotations

import collections.abc

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
        from ..ops.movement import stack
        return stack(batch)
    return Tensor._make(backend.array_module(batch[0].data).stack([t.data for t in batch]))


class DataLoader:
    """Iterate over ``dataset`` in mini-batches.

    Args:
        dataset: any Dataset (``len`` and ``[i]``).
        batch_size: samples per batch (default 1). ``None`` yields single samples, unbatched.
        shuffle: a new random order every epoch (default False).
        drop_last: drop the last batch if it is smaller than ``batch_size`` (default False).
        seed: seed of this loader's own shuffling generator; None uses minigrad's global one.
        collate_fn: merges a list of samples into a batch (default ``default_collate``).
        generator: a ``numpy.random.Generator`` to shuffle with, instead of ``seed``.
    """

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None, collate_fn=None, *,
                 generator: np.random.Generator | None = None):
        if batch_size is not None and (isinstance(batch_size, bool)
                                       or not isinstance(batch_size, (int, np.integer))
                                       or batch_size <= 0):
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size!r}")
        if batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if seed is not None and generator is not None:
            raise ValueError("give either seed or generator, not both")
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if batch_size is not None else default_convert)
        # the loader's own generator, created once: epoch k's order depends only on (seed, k)
        self.generator = generator if seed is None else np.random.default_rng(seed)

    def __len__(self) -> int:
        """Batches per epoch: ceil(n / batch_size), or floor with drop_last."""
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def _indices(self) -> np.ndarray:
        n = len(self.dataset)
        if self.shuffle:
            return as_generator(self.generator).permutation(n)
        return np.arange(n)

    def __iter__(self):
        order = self._indices().tolist()
        if self.batch_size is None:
            for i in order:
                yield self.collate_fn(self.dataset[i])
            return
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            chunk = order[start:start + self.batch_size]
            yield self.collate_fn([self.dataset[i] for i in chunk])

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last})")
