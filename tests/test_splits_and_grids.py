"""tensor_split, hsplit/vsplit/dsplit, meshgrid, cartesian_prod, broadcast_tensors and
aminmax against PyTorch; the max/min family over a non-empty dim of a tensor that is empty
elsewhere; errors that name the op."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def _same_pieces(mine, theirs):
    assert len(mine) == len(theirs)
    for m, t in zip(mine, theirs):
        assert tuple(m.shape) == tuple(t.shape)
        np.testing.assert_array_equal(m.detach().numpy(), t.detach().numpy())


@pytest.mark.parametrize("arg", [1, 2, 3, 5, [1, 2], [0, 5], (3, 1), [-1], [2, 2, 7]])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_tensor_split_matches_torch(arg, dim):
    torch = pytest.importorskip("torch")
    a = np.arange(60.0).reshape(3, 5, 4)
    _same_pieces(mg.tensor_split(mg.tensor(a), arg, dim), torch.tensor_split(torch.tensor(a),
                                                                            arg, dim))
    _same_pieces(mg.tensor(a).tensor_split(mg.tensor(np.atleast_1d(arg)) if
                                           isinstance(arg, list) else arg, dim),
                 torch.tensor(a).tensor_split(arg, dim))


def test_h_v_dsplit_match_torch():
    torch = pytest.importorskip("torch")
    a = np.arange(48.0).reshape(2, 4, 6)
    x, tx = mg.tensor(a), torch.tensor(a)
    for name, arg in (("hsplit", 2), ("hsplit", [1, 3]), ("vsplit", 2), ("dsplit", 3),
                      ("dsplit", [5])):
        _same_pieces(getattr(mg, name)(x, arg), getattr(torch, name)(tx, arg))
    _same_pieces(mg.hsplit(mg.arange(6), 3), torch.hsplit(torch.arange(6), 3))
    with pytest.raises(RuntimeError, match="hsplit: attempted to split along dimension 1, "
                                           "but the size of the dimension 4 is not divisible"):
        mg.hsplit(x, 3)
    with pytest.raises(RuntimeError, match=r"dsplit: requires a tensor with at least 3"):
        mg.dsplit(mg.zeros(2, 4), 2)
    with pytest.raises(RuntimeError, match="tensor_split: number of sections must be larger"):
        mg.tensor_split(x, 0)


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_matches_torch(indexing):
    torch = pytest.importorskip("torch")
    inputs = [np.arange(3.0), np.arange(2.0) + 10, np.arange(4.0) - 5]
    for n in (1, 2, 3):
        mine = mg.meshgrid(*[mg.tensor(v) for v in inputs[:n]], indexing=indexing)
        theirs = torch.meshgrid(*[torch.tensor(v) for v in inputs[:n]], indexing=indexing)
        _same_pieces(mine, theirs)
    two = np.array(2.0)
    _same_pieces(mg.meshgrid([mg.tensor(inputs[0]), mg.tensor(two)], indexing=indexing),
                 torch.meshgrid([torch.tensor(inputs[0]), torch.tensor(two)], indexing=indexing))
    with pytest.raises(RuntimeError, match="meshgrid: expects all tensors to have the same "
                                           "dtype, got float64 .* and float32"):
        mg.meshgrid(mg.tensor(inputs[0]), mg.tensor(2.0))
    with pytest.raises(RuntimeError, match="meshgrid: indexing must be 'ij' or 'xy'"):
        mg.meshgrid(mg.zeros(2), indexing="ji")
    with pytest.raises(RuntimeError, match=r"meshgrid: expects 0-D or 1-D .*\(2, 2\)"):
        mg.meshgrid(mg.zeros(2, 2))


def test_cartesian_prod_and_broadcast_tensors_match_torch():
    torch = pytest.importorskip("torch")
    a, b, c = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0]), np.array([6.0, 7.0])
    mine = mg.cartesian_prod(mg.tensor(a), mg.tensor(b), mg.tensor(c))
    theirs = torch.cartesian_prod(torch.tensor(a), torch.tensor(b), torch.tensor(c))
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    shapes = [(3, 1), (4,), (2, 1, 1)]
    _same_pieces(mg.broadcast_tensors(*[mg.zeros(*s) for s in shapes]),
                 torch.broadcast_tensors(*[torch.zeros(*s) for s in shapes]))
    with pytest.raises(RuntimeError, match=r"broadcast_tensors: shapes \[\(3,\), \(4,\)\]"):
        mg.broadcast_tensors(mg.zeros(3), mg.zeros(4))
    with pytest.raises(RuntimeError, match="cartesian_prod: expects 1-D tensors"):
        mg.cartesian_prod(mg.zeros(2, 2))


def test_aminmax_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((3, 4, 2))
    for kwargs in ({}, {"dim": 1}, {"dim": -1, "keepdim": True}):
        mine, theirs = mg.aminmax(mg.tensor(a), **kwargs), torch.aminmax(torch.tensor(a),
                                                                        **kwargs)
        _same_pieces([mine.min, mine.max], [theirs.min, theirs.max])
    with pytest.raises(RuntimeError, match="aminmax: cannot compute aminmax over an empty"):
        mg.aminmax(mg.zeros(0, 3))


@pytest.mark.parametrize("op", ["amin", "amax", "argmax", "argmin"])
def test_reducing_a_nonempty_dim_of_a_tensor_empty_elsewhere(op):
    """Reducing dim 0 (size 5) of a (5, 0, 5) tensor: an empty (0, 5) result, as in PyTorch;
    only a reduced empty dim is an error."""
    torch = pytest.importorskip("torch")
    x = mg.zeros(5, 0, 5, requires_grad=op.startswith("am"))
    assert tuple(getattr(mg, op)(x, 0).shape) == tuple(getattr(torch, op)(
        torch.zeros(5, 0, 5), 0).shape) == (0, 5)
    with pytest.raises(IndexError, match=f"{op}\\(\\): expected a non-empty dimension 1"):
        getattr(mg, op)(x, 1)


def test_max_min_with_dim_of_a_tensor_empty_elsewhere():
    x = mg.zeros(5, 0, 5)
    assert tuple(mg.max(x, 0).values.shape) == (0, 5)
    assert tuple(mg.min(x, 2).indices.shape) == (5, 0)
