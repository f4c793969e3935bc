"""batch_norm in training mode runs ``BatchNormalize`` (in-place passes, a backward from two
per-channel sums): the same values and gradients as the general ``Normalize`` it specialises,
to rounding, for every combination of weight and bias, float32 and float64."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.ops.normalization import BatchNormalize, Normalize


def _run(cls, x, w, b, g, axes):
    xt = mg.tensor(x, requires_grad=True)
    wt = None if w is None else mg.tensor(w, requires_grad=True)
    bt = None if b is None else mg.tensor(b, requires_grad=True)
    y, mean, var = cls.apply(xt, wt, bt, axes, 1e-5)
    y.backward(mg.tensor(g))
    grads = [t.grad.array for t in (xt, wt, bt) if t is not None]
    return [y.array, mean.array, var.array] + grads


@pytest.mark.parametrize("dtype, tol", [(np.float32, 2e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("shape", [(5, 3, 7, 3), (3, 6, 5), (7, 2)])
@pytest.mark.parametrize("affine", ["weight+bias", "none", "weight", "bias"])
def test_batch_normalize_matches_normalize(dtype, tol, shape, affine):
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 3 + 50).astype(dtype)   # off-centre: the two-pass mean
    g = rng.standard_normal(shape).astype(dtype)
    channel_shape = (1, shape[1]) + (1,) * (len(shape) - 2)
    w = rng.standard_normal(channel_shape).astype(dtype) if "weight" in affine else None
    b = rng.standard_normal(channel_shape).astype(dtype) if "bias" in affine else None
    axes = (0,) + tuple(range(2, len(shape)))
    expected = _run(Normalize, x, w, b, g, axes)
    got = _run(BatchNormalize, x, w, b, g, axes)
    for e, a in zip(expected, got):
        assert a.dtype == e.dtype and a.shape == e.shape
        np.testing.assert_allclose(a, e, rtol=tol, atol=tol * np.abs(e).max())


def test_batch_norm_training_uses_batch_normalize():
    x = mg.tensor(np.random.default_rng(0).standard_normal((4, 3, 5)), requires_grad=True)
    y = mg.nn.functional.batch_norm(x, None, None, training=True)
    assert y.grad_fn.name == "BatchNormalize"
