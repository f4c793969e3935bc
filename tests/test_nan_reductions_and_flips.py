"""count_nonzero, nansum, nanmean, fliplr, flipud, rot90, ravel, trace and argwhere: values
and dtypes against PyTorch, methods, and errors that name the op. (Gradients are in the
registry, tests/opinfo_more.py; PyTorch's own samples in tests/conformance.)"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def _both(array):
    torch = pytest.importorskip("torch")
    return mg.tensor(array), torch.tensor(array)


def _same(mine, theirs):
    assert tuple(mine.shape) == tuple(theirs.shape)
    assert mine.dtype == np.dtype(str(theirs.dtype).replace("torch.", ""))
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6, equal_nan=True)


def test_count_nonzero_matches_torch():
    values = np.random.default_rng(0).integers(-1, 2, size=(3, 5, 2))
    for dtype in (np.int64, np.float32, np.bool_):
        x, tx = _both(values.astype(dtype))
        for dim in (None, 1, (0, 2), -1):
            _same(mg.count_nonzero(x, dim), tx.count_nonzero(dim))
            _same(x.count_nonzero(dim), tx.count_nonzero(dim))


def test_nansum_nanmean_match_torch():
    values = np.random.default_rng(1).standard_normal((3, 5, 2))
    values[0, 1, 1] = values[2, 0, 0] = np.nan
    values[1, :, 0] = np.nan                    # a slice that is all NaN: nanmean gives NaN
    x, tx = _both(values)
    for dim, keepdim in ((None, False), (1, False), ((0, 2), True), (-1, True)):
        kwargs = {} if dim is None else {"dim": dim, "keepdim": keepdim}
        _same(mg.nansum(x, **kwargs), tx.nansum(**kwargs))
        _same(x.nanmean(**kwargs), tx.nanmean(**kwargs))
    ints, tints = _both(np.arange(6).reshape(2, 3))
    _same(mg.nansum(ints, 1), tints.nansum(1))
    with pytest.raises(RuntimeError, match="nanmean.*int64"):
        mg.nanmean(ints)


def test_nansum_gradient_is_zero_at_nans():
    x = mg.tensor([1.0, np.nan, 2.0], requires_grad=True)
    mg.nanmean(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 0.0, 0.5])


@pytest.mark.parametrize("k", range(-5, 6))
def test_rot90_matches_torch(k):
    x, tx = _both(np.arange(24.0).reshape(2, 3, 4))
    for dims in ((0, 1), (1, 0), (2, 0), (-1, 1)):
        _same(mg.rot90(x, k, dims), tx.rot90(k, dims))
        _same(x.rot90(k, dims), tx.rot90(k, dims))


def test_flips_ravel_trace_argwhere_match_torch():
    x, tx = _both(np.random.default_rng(2).standard_normal((3, 4, 2)).astype(np.float32))
    _same(mg.fliplr(x), tx.fliplr())
    _same(x.flipud(), tx.flipud())
    _same(mg.ravel(x.transpose(0, 2)), tx.transpose(0, 2).ravel())
    _same(mg.ravel(mg.tensor(2.0)), tx.new_tensor(2.0).ravel())
    for shape in ((3, 3), (2, 5), (5, 2)):
        m, tm = _both(np.arange(np.prod(shape)).reshape(shape))
        _same(mg.trace(m), tm.trace())
        _same(m.float().trace(), tm.float().trace())
    b, tb = _both(np.array([[0, 1, 0], [2, 0, 3]]))
    _same(mg.argwhere(b), tb.argwhere())


def test_errors_name_the_op():
    with pytest.raises(RuntimeError, match=r"fliplr: input must be >= 2-d, got shape \(3,\)"):
        mg.fliplr(mg.zeros(3))
    with pytest.raises(RuntimeError, match="flipud: input must be >= 1-d"):
        mg.flipud(mg.tensor(1.0))
    with pytest.raises(RuntimeError, match=r"trace: expected a matrix .*\(2, 2, 2\)"):
        mg.trace(mg.zeros(2, 2, 2))
    with pytest.raises(RuntimeError, match="rot90: the rotation dims must be different"):
        mg.rot90(mg.zeros(2, 3), 1, (1, -1))
    with pytest.raises(RuntimeError, match="rot90: expected exactly 2 rotation dims"):
        mg.rot90(mg.zeros(2, 3, 4), 1, (0, 1, 2))
    with pytest.raises(RuntimeError, match="rot90: expected a tensor of >= 2 dims"):
        mg.rot90(mg.zeros(3))
