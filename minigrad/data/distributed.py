"""``DistributedSampler``: each rank of a process group reads its own share of a dataset."""

from __future__ import annotations

import math

import numpy as np


class DistributedSampler:
    """The indices of rank ``rank``'s share of ``dataset``, for ``DataLoader(sampler=...)``.

    Each epoch the indices 0 .. len(dataset)-1 are shuffled (with ``seed + epoch``, the same
    on every rank, so the shares don't overlap) and dealt out like cards: rank r gets positions
    r, r + num_replicas, r + 2*num_replicas, ... Every rank must get the same number of
    samples (each step all-reduces once per rank), so when the dataset doesn't divide evenly
    the list is padded by repeating its first indices (``drop_last=False``) or its tail is
    dropped (``drop_last=True``), as PyTorch does. Call ``set_epoch(epoch)`` at the start of
    every epoch, or every epoch gets the same order.
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        if num_replicas is None or rank is None:
            from .. import distributed as dist
            if not dist.is_initialized():
                raise RuntimeError(
                    "DistributedSampler: num_replicas and rank default to the process "
                    "group's, but it has not been initialized: call "
                    "minigrad.distributed.init_process_group() first or pass both")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be >= 1, got "
                             f"{num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank}, rank should be in the "
                             f"interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last = shuffle, seed, drop_last
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n).tolist()
        else:
            order = list(range(n))
        if self.drop_last:
            order = order[:self.total_size]
        else:
            padding = self.total_size - len(order)
            order += (order * math.ceil(padding / len(order)))[:padding] if padding else []
        share = order[self.rank:self.total_size:self.num_replicas]
        assert len(share) == self.num_samples
        return iter(share)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch`` for the next shuffle (all ranks must pass the same value)."""
        self.epoch = epoch

    def __repr__(self):
        return (f"DistributedSampler(num_replicas={self.num_replicas}, rank={self.rank}, "
                f"shuffle={self.shuffle}, seed={self.seed}, drop_last={self.drop_last})")
