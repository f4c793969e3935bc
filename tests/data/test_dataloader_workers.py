"""DataLoader's PyTorch arguments: worker threads (same batches, in order, prefetch bounded,
worker_init_fn and get_worker_info, timeout), samplers, pin_memory, PyTorch's positional order."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import DataLoader, Dataset, TensorDataset, get_worker_info


class Recording(Dataset):
    """Returns i * 10 for index i and remembers which indices were asked for, by which
    thread."""

    def __init__(self, n, delay=0.0):
        self.n, self.delay = n, delay
        self.asked, self.threads, self.infos = [], set(), []
        self.lock = threading.Lock()

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(self.delay)
        with self.lock:
            self.asked.append(i)
            self.threads.add(threading.current_thread().name)
            self.infos.append(get_worker_info())
        return np.float32(i * 10)


def _batches(loader):
    return [b.numpy().tolist() for b in loader]


@pytest.mark.parametrize("shuffle", [False, True])
def test_workers_give_the_same_batches_in_the_same_order(shuffle):
    plain = DataLoader(Recording(23), batch_size=4, shuffle=shuffle, seed=3)
    threaded = DataLoader(Recording(23), batch_size=4, shuffle=shuffle, seed=3, num_workers=3)
    for _ in range(2):                                    # two epochs: new orders, still equal
        assert _batches(threaded) == _batches(plain)


def test_workers_are_threads_with_info_and_init_fn():
    started = []
    ds = Recording(12, delay=0.002)
    loader = DataLoader(ds, batch_size=2, num_workers=2,
                        worker_init_fn=lambda wid: started.append(wid))
    list(loader)
    assert sorted(started) == [0, 1]
    assert all(name.startswith("minigrad-dataloader") for name in ds.threads)
    assert {info.id for info in ds.infos} <= {0, 1}
    assert all(info.num_workers == 2 and info.dataset is ds for info in ds.infos)
    assert get_worker_info() is None


def test_prefetch_is_bounded_by_workers_times_prefetch_factor():
    ds = Recording(40)
    loader = DataLoader(ds, batch_size=1, num_workers=2, prefetch_factor=3)
    it = iter(loader)
    next(it)
    time.sleep(0.1)                           # let the workers run as far ahead as they may
    assert len(ds.asked) <= 2 * 3 + 1
    it.close()


def test_timeout_waiting_for_a_worker_raises():
    loader = DataLoader(Recording(4, delay=0.5), batch_size=1, num_workers=1, timeout=0.05)
    with pytest.raises(RuntimeError, match="timed out after 0.05 seconds"):
        next(iter(loader))


def test_sampler_and_batch_sampler():
    ds = TensorDataset(mg.arange(10))
    by_sampler = DataLoader(ds, batch_size=3, sampler=[9, 1, 4, 4, 0])
    assert [b[0].tolist() for b in by_sampler] == [[9, 1, 4], [4, 0]]
    assert len(by_sampler) == 2
    by_batches = DataLoader(ds, batch_sampler=[[2, 3], [7], [0, 1, 5]])
    assert [b[0].tolist() for b in by_batches] == [[2, 3], [7], [0, 1, 5]]
    assert len(by_batches) == 3


def test_pytorch_positional_order_and_accepted_options():
    ds = TensorDataset(mg.arange(5))
    # dataset, batch_size, shuffle, sampler, batch_sampler, num_workers, collate_fn,
    # pin_memory, drop_last
    loader = DataLoader(ds, 2, False, None, None, 0, None, True, True)
    assert [b[0].tolist() for b in loader] == [[0, 1], [2, 3]]
    DataLoader(ds, batch_size=2, num_workers=1, pin_memory=True, persistent_workers=True,
               multiprocessing_context="spawn", pin_memory_device="cuda")


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(shuffle=True, sampler=[0, 1]), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_size=4, batch_sampler=[[0]]), "batch_sampler option is mutually exclusive"),
    (dict(timeout=-1), "timeout option should be non-negative"),
])
def test_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(TensorDataset(mg.arange(5)), **kwargs)
