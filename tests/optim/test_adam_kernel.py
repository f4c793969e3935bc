"""Adam's update runs through ``kernels.adam_step``: every implementation gives the same
numbers through the optimizer, the dispatcher's choice (``MINIGRAD_KERNELS``, ``use``) is
obeyed, and parameters the kernels do not take directly (float16, non-contiguous, a gradient
of another dtype) still train."""

from __future__ import annotations

import numpy as np
import pytest
from minigrad.kernels import dispatch, registry

import minigrad as mg
from minigrad import kernels as K

IMPLS = [impl for impl in ("numpy", "numba") if impl in K.available("adam_step")]


def run_adam(p0, grads, impl, **options):
    """(p, exp_avg, exp_avg_sq, max_exp_avg_sq or None) after one step per gradient."""
    p = mg.tensor(p0.copy(), requires_grad=True)
    opt = (mg.optim.AdamW if options.pop("adamw", False) else mg.optim.Adam)([p], **options)
    with K.use(impl):
        for g in grads:
            p.grad = mg.tensor(g.copy())
            opt.step()
    state = opt.state[p]
    return (p.detach().numpy(), state["exp_avg"], state["exp_avg_sq"],
            state.get("max_exp_avg_sq"))


@pytest.mark.skipif("numba" not in IMPLS, reason="needs Numba")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [dict(lr=1e-2), dict(lr=3e-3, weight_decay=0.1),
                                     dict(lr=1e-3, adamw=True, weight_decay=0.05),
                                     dict(lr=1e-2, maximize=True, betas=(0.8, 0.99)),
                                     dict(lr=1e-2, amsgrad=True, weight_decay=0.01)])
def test_numba_step_is_bitwise_the_numpy_step(dtype, options):
    rng = np.random.default_rng(11)
    p0 = rng.standard_normal((7, 13)).astype(dtype)
    grads = [rng.standard_normal((7, 13)).astype(dtype) for _ in range(4)]
    numba = run_adam(p0, grads, "numba", **dict(options))
    reference = run_adam(p0, grads, "numpy", **dict(options))
    for a, b in zip(numba, reference):
        if b is None:
            assert a is None
            continue
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)


@pytest.fixture
def calls(monkeypatch):
    """Which implementations' adam_step ran: a list of "numpy" / "numba" (the functions in
    the registry's table are wrapped)."""
    seen = []
    for name in IMPLS:
        original = registry.kernel("adam_step", name)
        monkeypatch.setitem(registry._loaded, ("adam_step", name),
                            lambda *args, original=original, name=name:
                            (seen.append(name), original(*args))[1])
    monkeypatch.delenv(dispatch.ENV_VAR, raising=False)
    return seen


def one_adam_step():
    p = mg.nn.Parameter(mg.randn(3, 5))
    p.grad = mg.randn(3, 5)
    mg.optim.Adam([p], lr=0.1).step()
    return p


def test_minigrad_kernels_numpy_forces_the_numpy_adam(calls, monkeypatch):
    monkeypatch.setenv(dispatch.ENV_VAR, "numpy")
    p = one_adam_step()
    assert dispatch.choose_impl("adam_step", (p.array,)) == "numpy"
    assert calls == ["numpy"]


@pytest.mark.skipif("numba" not in IMPLS, reason="needs Numba")
def test_the_cpu_default_and_use_pick_numba(calls):
    one_adam_step()
    assert calls == ["numba"]
    with K.use("numpy"):
        one_adam_step()
    assert calls == ["numba", "numpy"]


@pytest.mark.parametrize("impl", IMPLS)
def test_non_contiguous_parameter(impl):
    """A parameter that is a transposed view trains like its contiguous copy."""
    rng = np.random.default_rng(3)
    data = rng.standard_normal((5, 4)).astype(np.float32)
    grads = [rng.standard_normal((4, 5)).astype(np.float32) for _ in range(3)]
    view = mg.tensor(data.T, requires_grad=True)
    assert not view.array.flags.c_contiguous
    opt = mg.optim.Adam([view], lr=0.05, amsgrad=True)
    with K.use(impl):
        for g in grads:
            view.grad = mg.tensor(g)
            opt.step()
    expected = run_adam(np.ascontiguousarray(data.T), grads, impl, lr=0.05, amsgrad=True)[0]
    np.testing.assert_array_equal(view.detach().numpy(), expected)


def test_float16_parameter_runs_the_reference_formulas():
    """float16 is not a kernel dtype: the reference runs directly, in float16."""
    rng = np.random.default_rng(5)
    p16 = mg.tensor(rng.standard_normal(6).astype(np.float16), requires_grad=True)
    p32 = mg.tensor(p16.detach().numpy().astype(np.float32), requires_grad=True)
    opt16, opt32 = mg.optim.Adam([p16], lr=0.1), mg.optim.Adam([p32], lr=0.1)
    for _ in range(3):
        g = rng.standard_normal(6)
        p16.grad, p32.grad = mg.tensor(g.astype(np.float16)), mg.tensor(g.astype(np.float32))
        opt16.step()
        opt32.step()
    assert p16.dtype == mg.float16 and opt16.state[p16]["exp_avg"].dtype == np.float16
    np.testing.assert_allclose(p16.detach().numpy(), p32.detach().numpy(), rtol=0, atol=5e-3)


@pytest.mark.parametrize("impl", IMPLS)
def test_gradient_of_another_dtype_is_cast_to_the_parameters(impl):
    rng = np.random.default_rng(9)
    data = rng.standard_normal((3, 4)).astype(np.float32)
    g = rng.standard_normal((3, 4))
    mixed = mg.tensor(data, requires_grad=True)
    mixed.grad = mg.tensor(g)                                          # float64
    opt = mg.optim.Adam([mixed], lr=0.1)
    with K.use(impl):
        opt.step()
    expected = run_adam(data, [g.astype(np.float32)], impl, lr=0.1)[0]
    assert mixed.dtype == mg.float32
    np.testing.assert_array_equal(mixed.detach().numpy(), expected)
