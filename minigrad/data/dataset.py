"""Datasets: anything with ``len(ds)`` and ``ds[i]`` (one sample), as in PyTorch.

A Dataset only answers "how many samples?" and "give me sample i". Batching, shuffling and
stacking samples into tensors is the DataLoader's job (``dataloader.py``), so a new data
source needs nothing but these two methods.

    TensorDataset(X, y)             samples are rows of tensors:  ds[i] == (X[i], y[i])
    Subset(ds, indices)             a view of some samples of ds
    random_split(ds, [0.8, 0.2])    disjoint random Subsets (train / validation)
    ConcatDataset([ds1, ds2])       one dataset after the other (also ``ds1 + ds2``)
"""

from __future__ import annotations

import bisect
import math
import warnings
from itertools import accumulate

import numpy as np

from ..random import Generator
from ..tensor import Tensor, default_generator, tensor


class Dataset:
    """Base class: subclasses define ``__getitem__(index)`` and ``__len__()``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the i-th rows of the given tensors: ``ds[i] == (t[i] for t in tensors)``.

    All tensors must have the same first dimension. NumPy arrays are accepted and wrapped
    without a copy.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        tensors = tuple(t if isinstance(t, Tensor) else _as_tensor(t) for t in tensors)
        n = tensors[0].shape[0] if tensors[0].ndim else None
        if n is None or any(t.ndim == 0 or t.shape[0] != n for t in tensors):
            raise ValueError("Size mismatch between tensors: every tensor needs the same first "
                             f"dimension, got shapes {[tuple(t.shape) for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(_row(t, index) for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


def _as_tensor(x) -> Tensor:
    if isinstance(x, np.ndarray):
        return Tensor._make(x)  # no copy, like torch.from_numpy
    return tensor(x)


def _row(t: Tensor, index) -> Tensor:
    """``t[index]``. A tensor that needs no gradient is indexed on its raw array directly:
    the same values, 20x faster than going through the autograd op (it matters: a loader
    calls this once per sample per epoch)."""
    if t.requires_grad:
        return t[index]
    return Tensor._make(t.array[index, ...])  # ``, ...`` keeps a 0-d array, not a NumPy scalar


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``Subset(ds, idx)[i]`` is
    ``ds[idx[i]]``."""

    def __init__(self, dataset: Dataset, indices):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, idx):
        if isinstance(idx, (list, tuple)):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets, one after the other. ``cumulative_sizes[k]`` is where dataset k ends."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = list(accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1] if self.cumulative_sizes else 0

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        if idx >= len(self):
            raise IndexError(f"index {idx} is out of range for a dataset of {len(self)} samples")
        k = bisect.bisect_right(self.cumulative_sizes, idx)  # the dataset holding sample idx
        start = self.cumulative_sizes[k - 1] if k > 0 else 0
        return self.datasets[k][idx - start]


def random_split(dataset: Dataset, lengths, generator=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random Subsets of the given lengths.

    ``lengths`` are sample counts summing to ``len(dataset)``, or fractions summing to 1
    (``[0.8, 0.2]``); leftover samples from rounding fractions down go one each to the first
    splits, as in PyTorch. ``generator`` is an ``mg.Generator``, a ``numpy.random.Generator`` or an int seed;
    without one the split follows ``mg.manual_seed``.
    """
    lengths = list(lengths)
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(int(math.floor(n * frac)))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              "empty dataset.", stacklevel=2)
        lengths = counts
    if any(int(k) != k or k < 0 for k in lengths):
        raise ValueError(f"lengths must be non-negative sample counts or fractions summing to "
                         f"1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths ({sum(lengths)}) does not equal the length of "
                         f"the input dataset ({n})!")
    order = as_generator(generator).permutation(n).tolist()
    ends = list(accumulate(int(k) for k in lengths))
    return [Subset(dataset, order[end - k:end]) for end, k in zip(ends, map(int, lengths))]


def as_generator(generator=None) -> np.random.Generator:
    """A NumPy generator from ``None`` (minigrad's global one, see ``mg.manual_seed``), an int
    seed, or a generator (returned as is)."""
    if generator is None:
        return default_generator()  # asked each time: mg.manual_seed replaces it
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, Generator):
        return generator._numpy
    if isinstance(generator, (int, np.integer)):
        return np.random.default_rng(int(generator))
    raise TypeError(f"generator must be an mg.Generator, a numpy.random.Generator or an int "
                    f"seed, got "
                    f"{type(generator).__name__}")
