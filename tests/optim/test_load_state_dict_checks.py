"""``Optimizer.load_state_dict`` refuses a state dict that does not fit the optimizer, and
leaves the optimizer untouched when it does.

The case that matters most: an optimizer checkpoint saved before a layer changed size. Its
buffers have the old shapes; the compiled Adam kernel indexed them by the new parameter's
size and wrote past their ends (the process crashed). PyTorch raises a size mismatch error
at its next step; minigrad refuses the checkpoint when it is loaded.
"""

from __future__ import annotations

import copy
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim


def trained(make, model, steps=2):
    """An optimizer (``make(params)``) over ``model`` after ``steps`` steps: state filled."""
    opt = make(model.named_parameters())
    for _ in range(steps):
        for p in model.parameters():
            p.grad = mg.ones_like(p)
        opt.step()
    return opt


def snapshot(opt):
    """Everything load_state_dict could change: state (deep), groups (deep), group objects."""
    return (copy.deepcopy(opt.state_dict()), copy.deepcopy(opt.param_groups),
            [id(g) for g in opt.param_groups], id(opt.state))


def assert_unchanged(opt, before):
    state_dict, groups, group_ids, state_id = before
    now = opt.state_dict()
    assert [id(g) for g in opt.param_groups] == group_ids and id(opt.state) == state_id
    assert now["param_groups"] == state_dict["param_groups"]
    assert list(now["state"]) == list(state_dict["state"])
    for index, entries in state_dict["state"].items():
        assert set(now["state"][index]) == set(entries)
        for key, value in entries.items():
            np.testing.assert_array_equal(now["state"][index][key], value)
    for group, saved in zip(opt.param_groups, groups):
        assert {k: v for k, v in group.items() if k != "params"} == \
               {k: v for k, v in saved.items() if k != "params"}


MAKERS = {
    "SGD with momentum": (lambda p: optim.SGD(p, lr=0.1, momentum=0.9), "momentum_buffer"),
    "Adam": (lambda p: optim.Adam(p, lr=0.01), "exp_avg"),
    "Adam amsgrad": (lambda p: optim.Adam(p, lr=0.01, amsgrad=True), "exp_avg"),
    "AdamW": (lambda p: optim.AdamW(p, lr=0.01), "exp_avg"),
    "RMSprop centered momentum": (
        lambda p: optim.RMSprop(p, lr=0.01, momentum=0.9, centered=True), "square_avg"),
}


def test_stale_adam_checkpoint_is_refused_and_the_process_survives():
    """The reported crash, in a child process: Adam state of Linear(3, 4) loaded into Adam
    over Linear(5, 4), then a step."""
    script = """
import minigrad as mg
old, new = mg.nn.Linear(3, 4), mg.nn.Linear(5, 4)
saved = mg.optim.Adam(old.parameters())
for p in old.parameters():
    p.grad = mg.ones_like(p)
saved.step()
opt = mg.optim.Adam(new.named_parameters())
try:
    opt.load_state_dict(saved.state_dict())
except ValueError as error:
    print("refused:", error)
for p in new.parameters():
    p.grad = mg.ones_like(p)
opt.step()
print("stepped")
"""
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           timeout=300)
    assert child.returncode == 0, child.stderr[-2000:]
    assert "refused: loaded state dict does not fit parameter 0 ('weight'): its 'exp_avg' " \
           "has shape (4, 3) but the parameter has shape (4, 5)" in child.stdout
    assert "stepped" in child.stdout             # the optimizer still works (fresh state)


@pytest.mark.parametrize("name", list(MAKERS))
def test_checkpoint_of_other_shapes_is_refused(name):
    make, key = MAKERS[name]
    saved = trained(make, mg.nn.Linear(3, 4)).state_dict()
    opt = trained(make, mg.nn.Linear(5, 4))
    before = snapshot(opt)
    with pytest.raises(ValueError, match=rf"does not fit parameter 0 \('weight'\): its "
                                         rf"'{key}' has shape \(4, 3\) but the parameter has "
                                         rf"shape \(4, 5\)"):
        opt.load_state_dict(saved)
    assert_unchanged(opt, before)
    for p in opt.param_groups[0]["params"]:      # and it still steps
        p.grad = mg.ones_like(p)
    opt.step()


def test_a_mismatch_in_the_last_parameter_changes_nothing():
    """Validation runs over every entry before anything is assigned: the first parameter's
    state fits, the bias's does not, and nothing of the file is taken."""
    model = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.Linear(4, 2))
    opt = trained(lambda p: optim.Adam(p, lr=0.01), model)
    before = snapshot(opt)
    bad = copy.deepcopy(opt.state_dict())
    bad["param_groups"][0]["lr"] = 0.5
    bad["state"][3]["exp_avg_sq"] = np.zeros(3, np.float32)           # bias of Linear(4, 2)
    with pytest.raises(ValueError, match=r"parameter 3 \('1\.bias'\): its 'exp_avg_sq' has "
                                         r"shape \(3,\) but the parameter has shape \(2,\)"):
        opt.load_state_dict(bad)
    assert_unchanged(opt, before)
    assert opt.param_groups[0]["lr"] == 0.01


def test_without_names_the_error_gives_the_index():
    saved = trained(lambda p: optim.SGD(p, lr=0.1, momentum=0.9), mg.nn.Linear(3, 4))
    opt = optim.SGD(mg.nn.Linear(5, 4).parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"does not fit parameter 0: its 'momentum_buffer'"):
        opt.load_state_dict(saved.state_dict())


def fresh_adam():
    model = mg.nn.Linear(3, 2)
    return trained(lambda p: optim.Adam(p, lr=0.01), model), model


@pytest.mark.parametrize("edit, message", [
    (lambda sd: sd["param_groups"][0].update(params=[0.0, 1.0]),
     r"param_groups\[0\]\['params'\] must be a list of parameter indices \(ints\)"),
    (lambda sd: sd["param_groups"][0].update(params=[0, 0]),
     r"lists parameter index 0 more than once"),
    (lambda sd: sd["param_groups"][0].update(params="01"),
     r"param_groups\[0\]\['params'\] must be a list"),
    (lambda sd: sd["param_groups"][0].update(lr="fast"),
     r"param_groups\[0\]\['lr'\] must be a real number \(default 0\.01\), got 'fast'"),
    (lambda sd: sd["param_groups"][0].update(betas=(0.9,)),
     r"param_groups\[0\]\['betas'\] must be a tuple of 2 real numbers"),
    (lambda sd: sd["param_groups"][0].update(amsgrad="yes"),
     r"param_groups\[0\]\['amsgrad'\] must be True or False"),
    (lambda sd: sd.update(param_groups=[7]), r"'param_groups' must be a list of dicts"),
    (lambda sd: sd.update(state=[1, 2]), r"'state' must be a dict"),
    (lambda sd: sd["state"].update({"first": {}}), r"keyed by parameter index"),
    (lambda sd: sd["state"].update({0: [1, 2]}),
     r"state of parameter 0 \('weight'\) must be a dict"),
    (lambda sd: sd["state"][0].update(step=-1), r"'step' of parameter 0 \('weight'\) must be a "
                                                r"count \(a whole number >= 0\), got -1"),
    (lambda sd: sd["state"][0].update(step=2.5), r"must be a count"),
    (lambda sd: sd["state"][0].update(step="3"), r"must be a count"),
    (lambda sd: sd["state"][0].update(step=np.array([1, 2])), r"must be a count"),
    (lambda sd: sd["state"][1].update(exp_avg=0.0),
     r"'exp_avg' of parameter 1 \('bias'\) must be an array of the parameter's shape \(2,\), "
     r"got float"),
    (lambda sd: sd["state"][1].update(exp_avg=np.array(["a", "b"])),
     r"'exp_avg' of parameter 1 \('bias'\) must hold numbers"),
    (lambda sd: sd["state"][1].update(exp_avg=np.zeros(3)),
     r"its 'exp_avg' has shape \(3,\) but the parameter has shape \(2,\)"),
    (lambda sd: sd["state"][1].update(other=np.zeros((2, 2))),
     r"its 'other' has shape \(2, 2\)"),
], ids=["float indices", "duplicate indices", "indices a string", "lr a string",
        "betas of one", "amsgrad a string", "groups not dicts", "state a list",
        "state key a word", "entries a list", "negative step", "fractional step",
        "step a string", "step an array of two", "buffer a float", "buffer of strings",
        "buffer of another shape", "another array of another shape"])
def test_malformed_state_dicts_are_refused_and_change_nothing(edit, message):
    opt, _ = fresh_adam()
    before = snapshot(opt)
    bad = copy.deepcopy(opt.state_dict())
    edit(bad)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(bad)
    assert_unchanged(opt, before)


def test_what_pytorch_saves_still_loads():
    """0-d float steps, string keys, extra hyperparameters (foreach, fused, ...), a group
    without a hyperparameter this version has (it keeps the optimizer's own value)."""
    opt, model = fresh_adam()
    sd = copy.deepcopy(opt.state_dict())
    sd["state"] = {str(k): {**v, "step": np.array(float(v["step"]))}
                   for k, v in sd["state"].items()}
    group = sd["param_groups"][0]
    group.update(foreach=None, fused=None, capturable=False, lr=np.float64(0.02))
    del group["decoupled_weight_decay"]
    fresh = optim.Adam(model.parameters(), lr=0.5)
    fresh.load_state_dict(sd)
    assert fresh.state[model.weight]["step"] == 2 and fresh.param_groups[0]["lr"] == 0.02
    assert fresh.param_groups[0]["decoupled_weight_decay"] is False
    model.weight.grad, model.bias.grad = mg.ones_like(model.weight), mg.ones_like(model.bias)
    fresh.step()


def test_missing_or_none_buffers_start_at_zero():
    """A buffer that is None (or absent, as amsgrad's after plain Adam) is created at the next
    step, as on a first step, for every optimizer."""
    opt, model = fresh_adam()
    for make in (lambda p: optim.Adam(p, lr=0.01, amsgrad=True),
                 lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
                 lambda p: optim.SGD(p, lr=0.1, momentum=0.9)):
        other = make(model.parameters())
        other.load_state_dict({"state": {0: {"step": 3, "exp_avg": None,
                                             "momentum_buffer": None}},
                               "param_groups": other.state_dict()["param_groups"]})
        model.weight.grad, model.bias.grad = mg.ones_like(model.weight), mg.ones_like(model.bias)
        other.step()
        for name in other._buffers:
            buffer = other.state[model.weight].get(name)
            assert buffer is None or buffer.shape == (2, 3)
    resumed = optim.Adam(model.parameters(), lr=0.01)
    resumed.load_state_dict(opt.state_dict())
    resumed.param_groups[0]["amsgrad"] = True            # switched on after resuming
    resumed.step()
    assert resumed.state[model.bias]["max_exp_avg_sq"].shape == (2,)
