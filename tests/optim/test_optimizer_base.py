"""The Optimizer base class: param groups, zero_grad, step/closure, state_dict, errors."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.nn.parameter import Parameter


def params2(dtype=np.float64):
    return [Parameter(mg.tensor(np.arange(6.0).reshape(2, 3).astype(dtype))),
            Parameter(mg.tensor(np.array([1.0, -1.0]).astype(dtype)))]


def set_grads(params, value=1.0):
    for p in params:
        p.grad = mg.full(tuple(p.shape), value, dtype=p.dtype)


# -- construction and groups ------------------------------------------------------------------

def test_param_groups_get_defaults_and_own_values():
    a, b = params2()
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    g0, g1 = opt.param_groups
    assert g0["params"] == [a] and g0["lr"] == 0.1 and g0["momentum"] == 0
    assert g1["params"][0] is b and g1["lr"] == 0.5 and g1["momentum"] == 0.9
    set_grads([a, b])
    opt.step()
    np.testing.assert_allclose(a.array, np.arange(6.0).reshape(2, 3) - 0.1)
    np.testing.assert_allclose(b.array, [0.5, -1.5])


def test_generator_of_parameters_is_accepted():
    a, b = params2()
    opt = optim.Adam(p for p in [a, b])
    assert opt.param_groups[0]["params"] == [a, b]


def test_named_parameters_keep_their_names():
    a, b = params2()
    opt = optim.SGD([("w", a), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


def test_add_param_group():
    a, b = params2()
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": [b], "lr": 0.01})
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.01
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="must be a dict"):
        opt.add_param_group([b])


@pytest.mark.parametrize("bad,err,match", [
    (lambda a: a, TypeError, "iterable of Tensors or dicts"),
    (lambda a: [], ValueError, "empty parameter list"),
    (lambda a: {a}, TypeError, "ordered collections"),
    (lambda a: [a, np.zeros(3)], TypeError, "can only optimize Tensors"),
    (lambda a: [a * 2], ValueError, "non-leaf"),
])
def test_bad_params(bad, err, match):
    a = params2()[0]
    with pytest.raises(err, match=match):
        optim.SGD(bad(a), lr=0.1)


def test_duplicate_parameter_warns():
    a = params2()[0]
    with pytest.warns(UserWarning, match="duplicate"):
        optim.SGD([a, a], lr=0.1)


@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=-1),
    lambda p: optim.SGD(p, momentum=-0.1),
    lambda p: optim.SGD(p, weight_decay=-1),
    lambda p: optim.SGD(p, lr=0.1, nesterov=True),
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
    lambda p: optim.Adam(p, lr=-1),
    lambda p: optim.Adam(p, betas=(1.0, 0.999)),
    lambda p: optim.Adam(p, betas=(0.9, -0.1)),
    lambda p: optim.Adam(p, eps=-1),
    lambda p: optim.AdamW(p, weight_decay=-1),
    lambda p: optim.RMSprop(p, alpha=-1),
    lambda p: optim.RMSprop(p, momentum=-1),
])
def test_invalid_hyperparameters(make):
    with pytest.raises(ValueError):
        make(params2())


def test_defaults_match_pytorch():
    p = params2()
    assert optim.SGD(p).defaults["lr"] == 1e-3
    assert optim.Adam(p).defaults["betas"] == (0.9, 0.999)
    assert optim.RMSprop(p).defaults["lr"] == 1e-2 and optim.RMSprop(p).defaults["alpha"] == 0.99


# -- zero_grad and step --------------------------------------------------------------------------

def test_zero_grad_set_to_none_and_to_zero():
    a, b = params2()
    opt = optim.SGD([a, b], lr=0.1)
    set_grads([a, b], 3.0)
    g = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is g and np.all(a.grad.array == 0)  # the same tensor, zeroed in place
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_zero_grad_detaches_a_grad_with_graph():
    x = Parameter(mg.tensor([1.0, 2.0]))
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    optim.SGD([x], lr=0.1).zero_grad(set_to_none=False)
    assert not x.grad.requires_grad and x.grad.grad_fn is None and np.all(x.grad.array == 0)


def test_step_skips_parameters_without_grad():
    a, b = params2()
    before = b.array.copy()
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = mg.ones(2, 3, dtype=mg.float64)
    opt.step()
    np.testing.assert_array_equal(b.array, before)
    assert b not in opt.state and opt.state[a]["step"] == 1


def test_step_updates_in_place_and_bumps_the_version():
    a = params2()[0]
    buffer = a.array
    version = a._version[0]
    set_grads([a])
    optim.SGD([a], lr=0.1).step()
    assert a.array is buffer  # the same array: views and references see the update
    assert a._version[0] == version + 1


def test_step_runs_without_recording_and_closure_with():
    a = Parameter(mg.tensor([3.0]))
    opt = optim.SGD([a], lr=0.25)
    seen = []

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        seen.append(mg.is_grad_enabled())
        loss.backward()
        return loss

    with mg.no_grad():
        loss = opt.step(closure)
    assert seen == [True] and loss.item() == 9.0
    np.testing.assert_allclose(a.array, [3.0 - 0.25 * 6.0])
    assert a.grad_fn is None and a.is_leaf
    assert opt.step() is None


def test_zero_step_size_leaves_params():
    a = params2()[0]
    before = a.array.copy()
    set_grads([a])
    optim.Adam([a], lr=0.0).step()
    np.testing.assert_array_equal(a.array, before)


def test_repr_lists_groups():
    text = repr(optim.SGD(params2(), lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


# -- state_dict -----------------------------------------------------------------------------------

def train(opt, params, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        for p in params:
            p.grad = mg.tensor(rng.standard_normal(p.shape))
        opt.step()


def test_state_dict_format_is_pytorchs():
    a, b = params2()
    c = Parameter(mg.zeros(4, dtype=mg.float64))
    opt = optim.SGD([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1, momentum=0.9)
    train(opt, [a, b, c], 1, 0)
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == [0, 1, 2]
    assert set(sd["state"][2]) == {"momentum_buffer"}
    assert sd["param_groups"][0]["params"] == [0, 1]
    assert sd["param_groups"][1]["params"] == [2] and sd["param_groups"][1]["lr"] == 0.5
    assert "params" in sd["param_groups"][0] and "momentum" in sd["param_groups"][0]


def test_sgd_without_momentum_has_no_state():
    a, b = params2()
    opt = optim.SGD([a, b], lr=0.1)
    train(opt, [a, b], 2, 0)
    assert opt.state_dict()["state"] == {}


@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    lambda p: optim.Adam(p, lr=0.01, amsgrad=True),
    lambda p: optim.AdamW(p, lr=0.01),
    lambda p: optim.RMSprop(p, lr=0.01, centered=True, momentum=0.9),
])
def test_load_state_dict_resumes_exactly(make):
    params = params2()
    opt = make(params)
    train(opt, params, 3, seed=0)
    sd = copy.deepcopy(opt.state_dict())
    snapshot = [p.array.copy() for p in params]
    train(opt, params, 3, seed=1)
    expected = [p.array.copy() for p in params]

    fresh = params2()
    for p, s in zip(fresh, snapshot):
        p.array[...] = s
    opt2 = make(fresh)
    opt2.load_state_dict(sd)
    train(opt2, fresh, 3, seed=1)
    for p, e in zip(fresh, expected):
        np.testing.assert_array_equal(p.array, e)


def test_load_state_dict_copies_and_casts_buffers():
    a = Parameter(mg.zeros(3))  # float32
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    given = np.array([1.0, 2.0, 3.0])  # float64
    opt.load_state_dict({"state": {0: {"momentum_buffer": given}},
                         "param_groups": [{"lr": 0.2, "momentum": 0.9, "dampening": 0,
                                           "weight_decay": 0, "nesterov": False,
                                           "maximize": False, "params": [0]}]})
    buf = opt.state[a]["momentum_buffer"]
    assert buf.dtype == np.float32 and buf is not given
    assert opt.param_groups[0]["lr"] == 0.2 and opt.param_groups[0]["params"][0] is a
    a.grad = mg.ones(3)
    opt.step()
    np.testing.assert_array_equal(given, [1.0, 2.0, 3.0])  # the caller's array is untouched


def test_load_state_dict_accepts_tensors_and_string_keys():
    a = Parameter(mg.zeros(2, dtype=mg.float64))
    opt = optim.Adam([a])
    sd = optim.Adam([a]).state_dict()
    sd["state"] = {"0": {"step": np.array(4.0), "exp_avg": mg.ones(2),
                         "exp_avg_sq": mg.ones(2)}}
    opt.load_state_dict(sd)
    assert opt.state[a]["step"] == 4 and isinstance(opt.state[a]["exp_avg"], np.ndarray)


def test_load_state_dict_errors():
    a, b = params2()
    opt = optim.SGD([a, b], lr=0.1)
    two_groups = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        opt.load_state_dict(two_groups)
    one_param = optim.SGD([a], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(one_param)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"params": []})
    bad = opt.state_dict()
    bad["state"] = {7: {"momentum_buffer": np.zeros(2)}}
    with pytest.raises(ValueError, match="parameter 7"):
        opt.load_state_dict(bad)


def test_adamw_stays_decoupled_after_loading_adam_state():
    a = params2()[0]
    adam_sd = optim.Adam([a], lr=0.1).state_dict()
    opt = optim.AdamW([a])
    opt.load_state_dict(adam_sd)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


def test_lr_edit_in_group_takes_effect():
    a = Parameter(mg.tensor([1.0], dtype=mg.float64))
    opt = optim.SGD([a], lr=0.1)
    opt.param_groups[0]["lr"] = 0.5
    a.grad = mg.tensor([1.0], dtype=mg.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
    np.testing.assert_allclose(a.array, [0.5])
