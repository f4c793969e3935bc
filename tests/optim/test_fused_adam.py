"""The compiled one-pass Adam step gives exactly the numbers of the NumPy formulas."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.optim import _fused_adam

pytest.importorskip("numba")


def run_adam(p0, grads, fused, monkeypatch, **options):
    if not fused:
        monkeypatch.setattr(_fused_adam, "can_fuse", lambda *arrays: False)
    p = mg.tensor(p0.copy(), requires_grad=True)
    opt = (mg.optim.AdamW if options.pop("adamw", False) else mg.optim.Adam)([p], **options)
    for g in grads:
        p.grad = mg.tensor(g.copy())
        opt.step()
    monkeypatch.undo()
    return p.detach().numpy(), opt.state[p]["exp_avg"], opt.state[p]["exp_avg_sq"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [dict(lr=1e-2), dict(lr=3e-3, weight_decay=0.1),
                                     dict(lr=1e-3, adamw=True, weight_decay=0.05),
                                     dict(lr=1e-2, maximize=True, betas=(0.8, 0.99))])
def test_fused_step_is_bitwise_the_numpy_step(dtype, options, monkeypatch):
    rng = np.random.default_rng(11)
    p0 = rng.standard_normal((7, 13)).astype(dtype)
    grads = [rng.standard_normal((7, 13)).astype(dtype) for _ in range(4)]
    fused = run_adam(p0, grads, True, monkeypatch, **dict(options))
    plain = run_adam(p0, grads, False, monkeypatch, **dict(options))
    for a, b in zip(fused, plain):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)


def test_only_contiguous_numpy_float_arrays_are_fused():
    a = np.zeros((3, 4), np.float32)
    assert _fused_adam.can_fuse(a, a, a, a)
    assert not _fused_adam.can_fuse(a, a.T, a, a)                    # not C-contiguous
    assert not _fused_adam.can_fuse(a, a.astype(np.float64), a, a)   # mixed dtypes
    assert not _fused_adam.can_fuse(a.astype(np.int64), a, a, a)
