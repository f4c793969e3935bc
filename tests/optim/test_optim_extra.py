"""NAdam, RAdam, Adamax, Rprop and ASGD: the same trajectories, state and state_dicts as
torch.optim, step by step on the same parameters and gradients; argument and load checks."""

from __future__ import annotations

import against_torch
import numpy as np
import pytest
from optim_helpers import grad_sequence, make_params, run

import minigrad as mg
from minigrad import optim

STEPS = 8

CASES = [
    ("NAdam", dict()), ("NAdam", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("NAdam", dict(lr=0.02, momentum_decay=0.1, eps=1e-3)),
    ("RAdam", dict(lr=0.05)),
    ("RAdam", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1)),    # rho_t > 5 from step 6
    ("RAdam", dict(lr=0.05, betas=(0.5, 0.6), weight_decay=0.2, decoupled_weight_decay=True,
                   maximize=True)),
    ("Adamax", dict()), ("Adamax", dict(lr=0.1, betas=(0.7, 0.9), weight_decay=0.1)),
    ("Adamax", dict(lr=0.1, eps=0.5, maximize=True)),
    ("Rprop", dict()), ("Rprop", dict(lr=0.1, etas=(0.3, 1.7), step_sizes=(0.05, 0.2))),
    ("Rprop", dict(lr=0.1, maximize=True)),
    ("ASGD", dict()), ("ASGD", dict(lr=0.1, lambd=0.05, alpha=0.5, t0=3, weight_decay=0.1)),
    ("ASGD", dict(lr=0.1, t0=0, maximize=True)),
]


@pytest.fixture
def torch64():
    """torch with float64 as the default dtype: the 0-d state PyTorch keeps in the default
    dtype (ASGD's eta and mu, NAdam's mu_product) is then float64, like minigrad's floats."""
    torch = pytest.importorskip("torch")
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(before)


def _sign_flipping_grads(rng, params, steps=STEPS):
    """Gradients whose signs flip in about half the coordinates from step to step (Rprop's
    three cases: same sign, flipped, zero)."""
    grads = grad_sequence(rng, params, steps)
    for step in grads[::3]:
        for g in step:
            g.flat[::4] = 0.0
    return grads


@pytest.mark.parametrize("name,kw", CASES, ids=str)
def test_matches_torch_step_by_step(rng, torch64, name, kw):
    torch = torch64
    params = make_params(rng)
    tparams = against_torch.copies(torch, params)
    grads = _sign_flipping_grads(rng, params)
    mine, theirs = getattr(optim, name)(params, **kw), getattr(torch.optim, name)(tparams, **kw)
    against_torch.assert_steps_alike(torch, mine, theirs, params, tparams, grads,
                                     rtol=1e-10, atol=1e-12)
    against_torch.assert_state_alike(mine, theirs, params, tparams, rtol=1e-10, atol=1e-12)
    ours_groups = mine.state_dict()["param_groups"]
    for ours, theirs_group in zip(ours_groups, theirs.state_dict()["param_groups"]):
        for key, value in ours.items():
            assert theirs_group[key] == value, key


@pytest.mark.parametrize("name,kw", [CASES[1], CASES[5], CASES[8], CASES[11], CASES[14]],
                         ids=str)
def test_loads_a_torch_state_dict_and_continues_identically(rng, torch64, name, kw):
    torch = torch64
    params = make_params(rng)
    tparams = against_torch.copies(torch, params)
    grads = _sign_flipping_grads(rng, params)
    theirs = getattr(torch.optim, name)(tparams, **kw)
    against_torch.step(torch, theirs, tparams, grads[:4])
    for p, tp in zip(params, tparams):
        p.array[...] = tp.detach().numpy()
    mine = getattr(optim, name)(params)
    mine.load_state_dict(against_torch.state_dict_as_arrays(torch, theirs))
    assert mine.state[params[0]]["step"] == 4
    against_torch.assert_steps_alike(torch, mine, theirs, params, tparams, grads[4:],
                                     rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,kw", CASES[::3], ids=str)
def test_state_dict_round_trip_continues_identically(rng, name, kw):
    params, twins = make_params(rng), None
    twins = [mg.nn.Parameter(mg.tensor(p.array.copy())) for p in params]
    grads = _sign_flipping_grads(rng, params)
    first = getattr(optim, name)(params, **kw)
    run(first, params, grads[:3])
    run(getattr(optim, name)(twins, **kw), twins, grads[:3])   # the same three steps
    resumed = getattr(optim, name)(twins, **kw)
    resumed.load_state_dict(first.state_dict())
    run(first, params, grads[3:])
    run(resumed, twins, grads[3:])
    for p, q in zip(params, twins):
        np.testing.assert_array_equal(p.array, q.array)


@pytest.mark.parametrize("name", ["NAdam", "RAdam", "Adamax", "Rprop", "ASGD"])
def test_load_refuses_state_of_another_shape(rng, name):
    params = make_params(rng)
    opt = getattr(optim, name)(params)
    run(opt, params, grad_sequence(rng, params, 2))
    sd = opt.state_dict()
    buffer = next(k for k in opt._buffers if k in sd["state"][1])
    sd["state"][1][buffer] = np.zeros(5)
    other = getattr(optim, name)(params)
    with pytest.raises(ValueError, match=rf"'{buffer}' has shape \(5,\) but the parameter "
                                         r"has shape \(4,\)"):
        other.load_state_dict(sd)
    assert not other.state                       # a refused dict changes nothing


@pytest.mark.parametrize("name,key", [("ASGD", "eta"), ("NAdam", "mu_product")])
def test_load_refuses_a_scalar_state_that_is_not_a_number(rng, name, key):
    params = make_params(rng)
    opt = getattr(optim, name)(params)
    run(opt, params, grad_sequence(rng, params, 1))
    sd = opt.state_dict()
    sd["state"][0][key] = "fast"
    with pytest.raises(ValueError, match=f"'{key}' of .* must be a number"):
        getattr(optim, name)(params).load_state_dict(sd)


@pytest.mark.parametrize("name,kw,message", [
    ("NAdam", dict(momentum_decay=-1), "Invalid momentum_decay value: -1"),
    ("NAdam", dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    ("RAdam", dict(eps=-1), "Invalid epsilon value: -1"),
    ("Adamax", dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    ("Rprop", dict(etas=(1.1, 1.2)), "Invalid eta values: 1.1, 1.2"),
    ("ASGD", dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    ("ASGD", dict(lr=-1), "Invalid learning rate: -1"),
])
def test_bad_arguments_are_refused(rng, name, kw, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        getattr(optim, name)(make_params(rng), **kw)


@pytest.mark.parametrize("name", ["NAdam", "RAdam", "Adamax", "Rprop", "ASGD"])
def test_float32_params_stay_float32(rng, name):
    params = make_params(rng, np.float32)
    grads = grad_sequence(rng, params, steps=3)
    opt = getattr(optim, name)(params, lr=0.1)
    run(opt, params, grads)
    for p, g in zip(params, grads[-1]):
        assert p.dtype == np.float32
        np.testing.assert_array_equal(p.grad.array, g)       # the optimizer never writes p.grad
        for key in opt._buffers:
            assert opt.state[p][key].dtype == np.float32, key
