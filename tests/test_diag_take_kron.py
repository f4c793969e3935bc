"""diag, diag_embed, diagflat, take, inner and kron against PyTorch (values, shapes, dtypes,
methods) and their errors. (Gradients are in the registry, tests/opinfo_more.py.)"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def _same(mine, theirs):
    assert tuple(mine.shape) == tuple(theirs.shape)
    assert mine.dtype == np.dtype(str(theirs.dtype).replace("torch.", ""))
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("offset", [-3, -1, 0, 2])
def test_diag_family_matches_torch(offset):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    x, tx = mg.tensor(a), torch.tensor(a)
    for d1, d2 in ((-2, -1), (0, 2), (3, 1), (1, 0)):
        _same(mg.diag_embed(x, offset, d1, d2), torch.diag_embed(tx, offset, d1, d2))
    _same(x.diagflat(offset), tx.diagflat(offset))
    _same(mg.diag(x[0, 0], offset), torch.diag(tx[0, 0], offset))
    _same(x[0].diag(offset), tx[0].diag(offset))
    ints = np.arange(4)
    _same(mg.diag(mg.tensor(ints), offset), torch.diag(torch.tensor(ints), offset))


def test_diag_embed_keeps_inf_and_nan_on_the_diagonal():
    out = mg.diag_embed(mg.tensor([np.inf, np.nan, 1.0]))
    off_diagonal = out.numpy()[~np.eye(3, dtype=bool)]
    assert (off_diagonal == 0).all()


def test_take_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.arange(12.0).reshape(3, 4)
    index = np.array([[0, -1, 7], [11, -12, 3]])
    _same(mg.take(mg.tensor(a), mg.tensor(index)), torch.take(torch.tensor(a),
                                                               torch.tensor(index)))
    _same(mg.tensor(a).take(mg.tensor(5)), torch.tensor(a).take(torch.tensor(5)))
    with pytest.raises(IndexError, match="take: index 12 is out of bounds"):
        mg.take(mg.tensor(a), mg.tensor([12]))
    with pytest.raises(IndexError, match="take: index -13 is out of bounds"):
        mg.take(mg.tensor(a), mg.tensor([-13]))
    with pytest.raises(RuntimeError, match="take: expected an int64 or int32 index"):
        mg.take(mg.tensor(a), mg.tensor([1.0]))


def test_inner_and_kron_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    for sa, sb in (((3,), (3,)), ((2, 3), (4, 3)), ((), (2, 3)), ((2, 1, 3), (3,))):
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        _same(mg.inner(mg.tensor(a), mg.tensor(b)), torch.inner(torch.tensor(a),
                                                                 torch.tensor(b)))
    for sa, sb in (((3,), (2,)), ((2, 3), (4, 1)), ((2,), (2, 3)), ((2, 1, 3), (3, 2)),
                   ((), (2,))):
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        _same(mg.tensor(a).kron(mg.tensor(b)), torch.tensor(a).kron(torch.tensor(b)))
    ints = np.arange(4).reshape(2, 2)
    _same(mg.kron(mg.tensor(ints), mg.tensor(ints)), torch.kron(torch.tensor(ints),
                                                                torch.tensor(ints)))
    with pytest.raises(RuntimeError, match=r"inner: the last dims must match, got shapes "
                                           r"\(2, 3\) and \(4,\)"):
        mg.inner(mg.zeros(2, 3), mg.zeros(4))


def test_diag_errors_name_the_op():
    with pytest.raises(RuntimeError, match=r"diag: expected a 1-D or 2-D tensor, got shape "
                                           r"\(2, 2, 2\)"):
        mg.diag(mg.zeros(2, 2, 2))
    with pytest.raises(RuntimeError, match="diag_embed: diagonal dimensions cannot be "
                                           "identical"):
        mg.diag_embed(mg.zeros(3), 0, 0, -2)
