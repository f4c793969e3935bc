"""Dataset, TensorDataset, Subset, ConcatDataset, random_split, DataLoader and collation."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def numbered(n, width=3):
    """A TensorDataset whose sample i is (row of i's, i): easy to check what came out."""
    X = np.repeat(np.arange(n, dtype=np.float32)[:, None], width, axis=1)
    return TensorDataset(mg.tensor(X), mg.arange(n))


def ids_of(batches):
    return [int(i) for _, y in batches for i in y.numpy()]


# -- datasets ------------------------------------------------------------------------------------

def test_tensor_dataset_rows():
    ds = numbered(5)
    x, y = ds[3]
    assert len(ds) == 5 and x.shape == (3,) and y.shape == () and y.item() == 3
    assert x.dtype == np.float32 and y.dtype == np.int64
    with pytest.raises(IndexError):
        ds[5]


def test_tensor_dataset_accepts_numpy_without_copy_and_checks_sizes():
    X = np.zeros((4, 2), np.float32)
    ds = TensorDataset(X, np.arange(4))
    X[1] = 7
    assert np.all(ds[1][0].numpy() == 7)
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(mg.zeros(3, 2), mg.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_tensor_dataset_keeps_the_graph_of_tensors_that_require_grad():
    w = mg.ones(4, 2, requires_grad=True)
    (x,) = TensorDataset(w)[1]
    x.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy()[1], [1, 1])


def test_base_dataset_requires_methods():
    with pytest.raises(NotImplementedError):
        Dataset()[0]
    with pytest.raises(NotImplementedError):
        len(Dataset())


def test_subset_and_concat():
    a, b = numbered(4), numbered(3)
    sub = Subset(a, [3, 1])
    assert len(sub) == 2 and sub[0][1].item() == 3 and sub[1][1].item() == 1
    cat = a + b
    assert isinstance(cat, ConcatDataset) and len(cat) == 7
    assert [cat[i][1].item() for i in range(7)] == [0, 1, 2, 3, 0, 1, 2]
    assert cat[-1][1].item() == 2 and cat.cumulative_sizes == [4, 7]
    with pytest.raises(IndexError):
        cat[7]
    with pytest.raises(ValueError):
        cat[-8]
    assert [s[1].item() for s in cat] == [0, 1, 2, 3, 0, 1, 2]  # iteration stops at the end


def test_random_split_counts_and_fractions():
    ds = numbered(10)
    parts = random_split(ds, [7, 3], generator=0)
    seen = sorted(i for p in parts for i in p.indices)
    assert [len(p) for p in parts] == [7, 3] and seen == list(range(10))
    # fractions: floor(10 * .33) = 3 each, the remainder goes one by one to the first splits
    assert [len(p) for p in random_split(ds, [0.34, 0.33, 0.33], generator=0)] == [4, 3, 3]
    with pytest.raises(ValueError, match="does not equal"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="between 0 and 1"):
        random_split(ds, [1.5, -0.5])
    with pytest.warns(UserWarning, match="Length of split at index 2 is 0"):
        random_split(numbered(2), [0.5, 0.5, 0.0], generator=0)


def test_random_split_is_reproducible():
    ds = numbered(20)
    first = [p.indices for p in random_split(ds, [0.5, 0.5], generator=3)]
    assert first == [p.indices for p in random_split(ds, [0.5, 0.5],
                                                      generator=np.random.default_rng(3))]
    assert first != [p.indices for p in random_split(ds, [0.5, 0.5], generator=4)]
    mg.manual_seed(11)
    a = [p.indices for p in random_split(ds, [10, 10])]
    mg.manual_seed(11)
    assert a == [p.indices for p in random_split(ds, [10, 10])]
    with pytest.raises(TypeError, match="generator"):
        random_split(ds, [10, 10], generator="seed")


# -- DataLoader ---------------------------------------------------------------------------------

def test_batches_in_order():
    loader = DataLoader(numbered(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 == len(batches)
    assert [tuple(x.shape) for x, _ in batches] == [(4, 3), (4, 3), (2, 3)]
    assert isinstance(batches[0], list) and batches[0][1].dtype == np.int64
    assert ids_of(batches) == list(range(10))


def test_drop_last():
    loader = DataLoader(numbered(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert ids_of(loader) == list(range(8))


def test_shuffle_sees_every_sample_once_per_epoch_and_reorders():
    loader = DataLoader(numbered(50), batch_size=8, shuffle=True, seed=0)
    epochs = [ids_of(loader) for _ in range(3)]
    for ids in epochs:
        assert sorted(ids) == list(range(50))
    assert epochs[0] != list(range(50)) and epochs[0] != epochs[1]


def test_shuffle_is_reproducible_from_seed():
    def run(seed):
        loader = DataLoader(numbered(30), batch_size=7, shuffle=True, seed=seed)
        return [ids_of(loader) for _ in range(2)]
    assert run(5) == run(5)
    assert run(5) != run(6)


def test_shuffle_follows_manual_seed():
    loader = DataLoader(numbered(30), batch_size=7, shuffle=True)
    mg.manual_seed(123)
    a = [ids_of(loader), ids_of(loader)]
    mg.manual_seed(123)
    assert [ids_of(loader), ids_of(loader)] == a


def test_generator_argument():
    a = ids_of(DataLoader(numbered(20), 5, shuffle=True, generator=np.random.default_rng(9)))
    b = ids_of(DataLoader(numbered(20), 5, shuffle=True, generator=np.random.default_rng(9)))
    assert a == b
    with pytest.raises(ValueError, match="either seed or generator"):
        DataLoader(numbered(3), seed=1, generator=np.random.default_rng(1))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "4"])
def test_invalid_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(numbered(3), batch_size=bad)


def test_batch_size_none_yields_samples():
    loader = DataLoader(TensorDataset(np.arange(6.0).reshape(3, 2)), batch_size=None)
    samples = list(loader)
    assert len(loader) == 3 and samples[2][0].shape == (2,)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(numbered(3), batch_size=None, drop_last=True)


def test_custom_collate_fn():
    loader = DataLoader(numbered(5), batch_size=2, collate_fn=lambda batch: len(batch))
    assert list(loader) == [2, 2, 1]


def test_empty_dataset():
    loader = DataLoader(numbered(0), batch_size=3, shuffle=True)
    assert len(loader) == 0 and list(loader) == []


class Records(Dataset):
    """A dataset of Python values, to exercise default_collate."""

    def __init__(self, make, n=4):
        self.make, self.n = make, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.make(i)


def test_collate_python_numbers_like_pytorch():
    (b,) = DataLoader(Records(lambda i: (i, float(i) / 2, i % 2 == 0, "s%d" % i)), 4)
    ints, floats, bools, strs = b
    assert ints.dtype == np.int64 and floats.dtype == np.float64 and bools.dtype == np.bool_
    assert ints.tolist() == [0, 1, 2, 3] and floats.tolist() == [0, 0.5, 1, 1.5]
    assert strs == ["s0", "s1", "s2", "s3"]


def test_collate_numpy_arrays_and_scalars():
    (b,) = DataLoader(Records(lambda i: {"img": np.full((2, 2), i, np.uint8),
                                         "w": np.float32(i), "y": np.int64(i)}), 4)
    assert set(b) == {"img", "w", "y"}
    assert b["img"].shape == (4, 2, 2) and b["img"].dtype == np.uint8
    assert b["w"].dtype == np.float32 and b["y"].dtype == np.int64


def test_collate_nested_structures():
    Pair = namedtuple("Pair", "a b")
    (b,) = DataLoader(Records(lambda i: {"pair": Pair(mg.ones(3) * i, i),
                                         "seq": [mg.zeros(2), i]}), 4)
    assert isinstance(b["pair"], Pair) and b["pair"].a.shape == (4, 3)
    assert b["pair"].b.tolist() == [0, 1, 2, 3]
    assert b["seq"][0].shape == (4, 2) and b["seq"][1].tolist() == [0, 1, 2, 3]


def test_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([mg.zeros(2), mg.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="dtype object"):
        default_collate([np.array([object()]), np.array([object()])])
    with pytest.raises(TypeError, match="set"):
        default_collate([{1}, {2}])


def test_collate_keeps_the_graph_when_samples_require_grad():
    w = mg.ones(3, requires_grad=True)
    batch = default_collate([w * 1.0, w * 2.0])
    batch.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0, 3.0])


def test_loader_over_subset_from_random_split():
    train, val = random_split(numbered(25), [0.8, 0.2], generator=1)
    xs = list(DataLoader(train, batch_size=6, shuffle=True, seed=2))
    assert sorted(ids_of(xs)) == sorted(train.indices)
    assert len(DataLoader(val, batch_size=6)) == 1


@given(n=st.integers(0, 40), batch_size=st.integers(1, 12), drop_last=st.booleans(),
       shuffle=st.booleans(), seed=st.integers(0, 2**16))
def test_loader_batches_property(n, batch_size, drop_last, shuffle, seed):
    loader = DataLoader(numbered(n, width=2), batch_size=batch_size, shuffle=shuffle,
                        drop_last=drop_last, seed=seed)
    batches = list(loader)
    assert len(batches) == len(loader)
    full, rest = divmod(n, batch_size)
    assert len(loader) == full + (0 if drop_last or rest == 0 else 1)
    sizes = [len(y) for _, y in batches]
    assert all(s == batch_size for s in sizes[:full])
    if not drop_last and rest:
        assert sizes[-1] == rest
    ids = ids_of(batches)
    assert len(set(ids)) == len(ids) == sum(sizes)  # nothing repeats within an epoch
    if not drop_last:
        assert sorted(ids) == list(range(n))
    if not shuffle:
        assert ids == list(range(len(ids)))
    for x, y in batches:
        np.testing.assert_array_equal(x.numpy()[:, 0], y.numpy())  # rows stay with labels
