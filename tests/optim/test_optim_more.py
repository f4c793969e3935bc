"""Adagrad, Adadelta and LBFGS: the update equations written out, and (when PyTorch is
installed) the same trajectories and state_dicts as torch.optim."""

from __future__ import annotations

import against_torch
import numpy as np
import pytest
from optim_helpers import (
    STEPS,
    assert_float32_kept,
    assert_follows_reference,
    grad_sequence,
    make_params,
    run,
)

import minigrad as mg
from minigrad import optim
from minigrad.nn.parameter import Parameter


def ref_adagrad(p, grads, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                eps=1e-10, maximize=False):
    p, s, out = p.copy(), np.full_like(p, initial_accumulator_value), []
    for t, g in enumerate(grads, start=1):
        g = (-g if maximize else g) + weight_decay * p
        s = s + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
        out.append(p)
    return out


def ref_adadelta(p, grads, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    p, v, u, out = p.copy(), 0 * p, 0 * p, []
    for g in grads:
        g = (-g if maximize else g) + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        dx = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * dx * dx
        p = p - lr * dx
        out.append(p)
    return out


ADAGRAD_CASES = [dict(lr=0.1), dict(lr=0.1, lr_decay=0.3), dict(lr=0.05, weight_decay=0.1),
                 dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6),
                 dict(lr=0.1, lr_decay=0.1, weight_decay=0.2, maximize=True)]
ADADELTA_CASES = [dict(), dict(lr=0.5, rho=0.8), dict(eps=1e-3, weight_decay=0.1),
                  dict(lr=2.0, rho=0.95, weight_decay=0.05, maximize=True)]


@pytest.mark.parametrize("kw", ADAGRAD_CASES, ids=str)
def test_adagrad_matches_equations(rng, kw):
    opt, params = assert_follows_reference(
        rng, lambda ps: optim.Adagrad(ps, **kw), lambda p0, gs: ref_adagrad(p0, gs, **kw),
        rtol=1e-12, atol=1e-14)
    assert opt.state[params[0]]["step"] == STEPS


def test_adagrad_state_exists_before_the_first_step(rng):
    params = make_params(rng)
    opt = optim.Adagrad(params, initial_accumulator_value=0.25)
    state = opt.state_dict()["state"]
    assert sorted(state) == [0, 1]
    assert state[0]["step"] == 0
    np.testing.assert_array_equal(state[0]["sum"], np.full((3, 4), 0.25))


@pytest.mark.parametrize("kw", ADADELTA_CASES, ids=str)
def test_adadelta_matches_equations(rng, kw):
    opt, params = assert_follows_reference(
        rng, lambda ps: optim.Adadelta(ps, **kw), lambda p0, gs: ref_adadelta(p0, gs, **kw),
        rtol=1e-12, atol=1e-14)
    assert sorted(opt.state[params[0]]) == ["acc_delta", "square_avg", "step"]


@pytest.mark.parametrize("cls", [optim.Adagrad, optim.Adadelta])
def test_float32_params_stay_float32(rng, cls):
    params = make_params(rng, np.float32)
    grads = grad_sequence(rng, params, steps=2)
    opt = cls(params, lr=0.1, weight_decay=0.1)
    run(opt, params, grads)
    assert_float32_kept(opt, params, grads[-1])


def test_bad_hyperparameters():
    p = [Parameter(mg.zeros(2))]
    with pytest.raises(ValueError, match="Invalid lr_decay value: -0.1"):
        optim.Adagrad(p, lr_decay=-0.1)
    with pytest.raises(ValueError, match="Invalid initial_accumulator_value value: -1"):
        optim.Adagrad(p, initial_accumulator_value=-1)
    with pytest.raises(ValueError, match="Invalid rho value: 1.5"):
        optim.Adadelta(p, rho=1.5)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.LBFGS(p, lr=-1)
    with pytest.raises(ValueError, match="line_search_fn must be None or 'strong_wolfe'"):
        optim.LBFGS(p, line_search_fn="armijo")
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optim.LBFGS([{"params": p}, {"params": [Parameter(mg.zeros(1))]}])
    with pytest.raises(RuntimeError, match="LBFGS.step needs a closure"):
        optim.LBFGS(p).step()


# ---------------------------------------------------------------------------------------------
# LBFGS
# ---------------------------------------------------------------------------------------------

def _problem(rng, dtype=np.float64):
    """A small non-quadratic least-squares problem: ||A x - b||^2 + 0.1 sum(x^4)."""
    return (rng.standard_normal((7, 5)).astype(dtype), rng.standard_normal(7).astype(dtype),
            rng.standard_normal(5).astype(dtype))


def _closure(lib, opt, x, A, b):
    def closure():
        opt.zero_grad()
        r = lib.tensor(A) @ x - lib.tensor(b)
        loss = (r * r).sum() + 0.1 * (x ** 4).sum()
        loss.backward()
        return loss
    return closure


def test_lbfgs_solves_least_squares_in_one_step(rng):
    A, b, x0 = _problem(rng)
    x = Parameter(mg.tensor(x0))
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe", max_iter=100, tolerance_grad=1e-12,
                      tolerance_change=1e-16)

    def closure():
        opt.zero_grad()
        r = mg.tensor(A) @ x - mg.tensor(b)
        loss = (r * r).sum()
        loss.backward()
        return loss
    opt.step(closure)
    np.testing.assert_allclose(x.array, np.linalg.lstsq(A, b, rcond=None)[0], rtol=1e-7)


LBFGS_CASES = [dict(), dict(line_search_fn="strong_wolfe"),
               dict(history_size=2, max_iter=6), dict(lr=0.5, max_iter=4, max_eval=6),
               dict(line_search_fn="strong_wolfe", history_size=2, max_iter=7),
               dict(line_search_fn="strong_wolfe", tolerance_change=1e-3)]


@pytest.mark.parametrize("kw", LBFGS_CASES, ids=str)
def test_lbfgs_matches_torch(rng, kw):
    torch = pytest.importorskip("torch")
    A, b, x0 = _problem(rng)
    x, tx = Parameter(mg.tensor(x0.copy())), torch.tensor(x0.copy(), requires_grad=True)
    mine, theirs = optim.LBFGS([x], **kw), torch.optim.LBFGS([tx], **kw)
    for _ in range(3):
        lm = mine.step(_closure(mg, mine, x, A, b))
        lt = theirs.step(_closure(torch, theirs, tx, A, b))
        np.testing.assert_allclose(lm.item(), lt.item(), rtol=1e-10)
        np.testing.assert_allclose(x.array, tx.detach().numpy(), rtol=1e-9, atol=1e-12)
    _assert_same_lbfgs_state(mine.state_dict()["state"][0], theirs.state_dict()["state"][0])


def _assert_same_lbfgs_state(mine, theirs):
    assert sorted(mine) == sorted(theirs)
    for key, want in theirs.items():
        got = mine[key]
        if isinstance(want, list):
            assert len(got) == len(want), key
            for a, w in zip(got, want):
                if w is None:
                    assert a is None, key
                else:
                    np.testing.assert_allclose(np.asarray(a), np.asarray(w), rtol=1e-8,
                                               atol=1e-12, err_msg=key)
        else:
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-8, atol=1e-12,
                                       err_msg=key)


def test_lbfgs_two_parameters_and_a_missing_gradient_match_torch(rng):
    torch = pytest.importorskip("torch")
    A, b, _ = _problem(rng)
    w0, c0, unused0 = rng.standard_normal(5), rng.standard_normal(1), rng.standard_normal(3)
    mine_p = [Parameter(mg.tensor(v.copy())) for v in (w0, c0, unused0)]
    torch_p = [torch.tensor(v.copy(), requires_grad=True) for v in (w0, c0, unused0)]

    def closure_for(lib, opt, w, c):
        def closure():
            opt.zero_grad()
            r = lib.tensor(A) @ w + c - lib.tensor(b)
            loss = (r * r).mean() + (w ** 4).sum() * 0.05
            loss.backward()
            return loss
        return closure
    mine = optim.LBFGS(mine_p, line_search_fn="strong_wolfe", history_size=3)
    theirs = torch.optim.LBFGS(torch_p, line_search_fn="strong_wolfe", history_size=3)
    for _ in range(2):
        mine.step(closure_for(mg, mine, *mine_p[:2]))
        theirs.step(closure_for(torch, theirs, *torch_p[:2]))
    for p, tp in zip(mine_p, torch_p):
        np.testing.assert_allclose(p.array, tp.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(mine_p[2].array, unused0)    # no gradient: never moves


def test_lbfgs_loads_a_torch_state_dict_and_continues_identically(rng):
    torch = pytest.importorskip("torch")
    A, b, x0 = _problem(rng)
    tx = torch.tensor(x0.copy(), requires_grad=True)
    kw = dict(line_search_fn="strong_wolfe", history_size=3, max_iter=4)
    theirs = torch.optim.LBFGS([tx], **kw)
    theirs.step(_closure(torch, theirs, tx, A, b))
    x = Parameter(mg.tensor(tx.detach().numpy().copy()))
    mine = optim.LBFGS([x], lr=0.5)            # the hyperparameters come from the loaded groups
    mine.load_state_dict(against_torch.state_dict_as_arrays(torch, theirs))
    assert mine.param_groups[0]["history_size"] == 3
    for _ in range(2):
        mine.step(_closure(mg, mine, x, A, b))
        theirs.step(_closure(torch, theirs, tx, A, b))
    np.testing.assert_allclose(x.array, tx.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_lbfgs_state_survives_save_and_load(rng, tmp_path):
    A, b, x0 = _problem(rng)
    kw = dict(line_search_fn="strong_wolfe", history_size=2, max_iter=3)
    x, y = Parameter(mg.tensor(x0.copy())), Parameter(mg.tensor(x0.copy()))
    first, second = optim.LBFGS([x], **kw), optim.LBFGS([y], **kw)
    first.step(_closure(mg, first, x, A, b))
    second.step(_closure(mg, second, y, A, b))
    mg.save(first.state_dict(), tmp_path / "lbfgs.npz")
    restored = optim.LBFGS([x], **kw)
    restored.load_state_dict(mg.load(tmp_path / "lbfgs.npz"))
    _assert_same_lbfgs_state(restored.state[x], first.state[x])
    restored.step(_closure(mg, restored, x, A, b))
    second.step(_closure(mg, second, y, A, b))
    np.testing.assert_array_equal(x.array, y.array)


def test_lbfgs_loaded_history_is_copied_onto_the_parameters_dtype(rng):
    """State entries that are lists of arrays (the (s, y) history) are cast and copied like
    any other buffer, so later steps never write into the caller's arrays."""
    A, b, x0 = _problem(rng)
    x = Parameter(mg.tensor(x0.copy()))
    opt = optim.LBFGS([x], history_size=3, max_iter=4)
    opt.step(_closure(mg, opt, x, A, b))
    sd = opt.state_dict()
    x32 = Parameter(mg.tensor(x0.astype(np.float32)))
    other = optim.LBFGS([x32], history_size=3, max_iter=4)
    other.load_state_dict(sd)
    history, given = other.state[x32]["old_dirs"], sd["state"][0]["old_dirs"]
    assert len(history) == len(given) > 0
    assert all(h.dtype == np.float32 and h is not g for h, g in zip(history, given))


def test_lbfgs_float32_params_stay_float32(rng):
    A, b, x0 = _problem(rng, np.float32)
    x = Parameter(mg.tensor(x0))
    opt = optim.LBFGS([x], line_search_fn="strong_wolfe")
    loss0 = opt.step(_closure(mg, opt, x, A, b)).item()
    loss1 = opt.step(_closure(mg, opt, x, A, b)).item()
    assert x.dtype == np.float32 and loss1 < loss0
    assert opt.state[x]["d"].dtype == np.float32


@pytest.mark.parametrize("name,kw", [("Adagrad", c) for c in ADAGRAD_CASES]
                         + [("Adadelta", c) for c in ADADELTA_CASES], ids=str)
def test_matches_torch_optim(rng, name, kw):
    torch = pytest.importorskip("torch")
    params = make_params(rng)
    tparams = against_torch.copies(torch, params)
    grads = grad_sequence(rng, params)
    mine, theirs = getattr(optim, name)(params, **kw), getattr(torch.optim, name)(tparams, **kw)
    against_torch.assert_steps_alike(torch, mine, theirs, params, tparams, grads,
                                     rtol=1e-10, atol=1e-12)
    against_torch.assert_state_alike(mine, theirs, params, tparams, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["Adagrad", "Adadelta"])
def test_loads_a_torch_state_dict_and_continues_identically(rng, name):
    torch = pytest.importorskip("torch")
    params = make_params(rng)
    tparams = against_torch.copies(torch, params)
    grads = grad_sequence(rng, params)
    theirs = getattr(torch.optim, name)(tparams, lr=0.3, weight_decay=0.05)
    against_torch.step(torch, theirs, tparams, grads[:3])
    for p, tp in zip(params, tparams):
        p.array[...] = tp.detach().numpy()
    mine = getattr(optim, name)(params)
    mine.load_state_dict(against_torch.state_dict_as_arrays(torch, theirs))
    assert mine.param_groups[0]["lr"] == 0.3 and mine.state[params[0]]["step"] == 3
    against_torch.assert_steps_alike(torch, mine, theirs, params, tparams, grads[3:],
                                     rtol=1e-10, atol=0)


def test_lbfgs_checkpoint_of_other_sizes_is_refused():
    """LBFGS's state is vectors over all parameters at once: a checkpoint of a model with
    other sizes is refused at load time, and the optimizer is left as it was."""
    def trained(n_in):
        model = mg.nn.Linear(n_in, 2)
        opt = mg.optim.LBFGS(model.parameters(), max_iter=3)
        x = mg.randn(6, n_in)

        def closure():
            opt.zero_grad()
            loss = (model(x) ** 2).sum()
            loss.backward()
            return loss
        opt.step(closure)
        return opt
    small, large = trained(3), trained(5)
    before = large.state_dict()
    with pytest.raises(ValueError, match=r"has shape \(8,\) but it must have shape \(12,\)"):
        large.load_state_dict(small.state_dict())
    assert large.state_dict()["state"][0]["d"].shape == before["state"][0]["d"].shape
    large.load_state_dict(trained(5).state_dict())        # same sizes: accepted
