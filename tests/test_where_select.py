"""where / masked_fill with one number on either side (copied array + ``copyto``) gives
NumPy's ``where`` exactly: shapes broadcast by the condition, NaN and inf, dtypes, gradients."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("cond_shape, array_shape", [((3, 5), (3, 5)), ((2, 3, 5), (3, 5)),
                                                     ((1, 5), (4, 3, 5)), ((), (2, 3))])
@pytest.mark.parametrize("number_first", [True, False])
def test_where_with_one_number_matches_numpy(dtype, cond_shape, array_shape, number_first):
    rng = np.random.default_rng(3)
    a = (rng.standard_normal(array_shape) * 5).astype(dtype)
    if dtype != np.int64:
        a.flat[:2] = [np.nan, np.inf][:a.size]
    cond = rng.random(cond_shape) < 0.5
    number = -np.inf if dtype != np.int64 else -7
    args = (number, mg.tensor(a)) if number_first else (mg.tensor(a), number)
    out = mg.where(mg.tensor(cond), *args).numpy()
    expected = np.where(cond, *((number, a) if number_first else (a, number)))
    assert out.dtype == dtype and out.shape == expected.shape and out.flags.c_contiguous
    np.testing.assert_array_equal(out, expected.astype(dtype))


def test_masked_fill_gradient():
    rng = np.random.default_rng(4)
    x = mg.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    mask = mg.tensor(rng.random((3, 4)) < 0.4)
    assert mg.autograd.gradcheck(lambda t: t.masked_fill(mask, 2.5), (x,))
    assert mg.autograd.gradgradcheck(lambda t: t.masked_fill(mask, 2.5) * t, (x,))
