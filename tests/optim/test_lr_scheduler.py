"""Learning-rate schedulers: sequences checked against their formulas and against torch's."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.nn.parameter import Parameter
from minigrad.optim import lr_scheduler as S
from minigrad.serialization import load, save


def make_opt(lrs=(0.1,)):
    groups = [{"params": [Parameter(mg.zeros(2))], "lr": lr} for lr in lrs]
    opt = optim.SGD(groups, lr=lrs[0])
    opt._step_count = 1  # as if optimizer.step() ran: no order warning in these tests
    return opt


def lr_sequence(sched, steps, metrics=None):
    out = [sched.get_last_lr()]
    for i in range(steps):
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        out.append(list(sched.get_last_lr()))
    return out


# -- closed forms, by hand ----------------------------------------------------------------------

def test_step_lr():
    seq = lr_sequence(S.StepLR(make_opt(), step_size=3, gamma=0.5), 7)
    want = [0.1 * 0.5 ** (e // 3) for e in range(8)]
    np.testing.assert_allclose([s[0] for s in seq], want, rtol=1e-15)


def test_multistep_lr_counts_repeated_milestones():
    seq = lr_sequence(S.MultiStepLR(make_opt(), milestones=[2, 4, 4], gamma=0.1), 5)
    np.testing.assert_allclose([s[0] for s in seq], [0.1, 0.1, 0.01, 0.01, 1e-4, 1e-4])


def test_exponential_lr():
    seq = lr_sequence(S.ExponentialLR(make_opt(), gamma=0.9), 5)
    np.testing.assert_allclose([s[0] for s in seq], [0.1 * 0.9 ** e for e in range(6)])


def test_cosine_annealing_follows_the_closed_form():
    T, lo = 10, 0.001
    seq = lr_sequence(S.CosineAnnealingLR(make_opt(), T_max=T, eta_min=lo), 2 * T)
    want = [lo + (0.1 - lo) * (1 + math.cos(math.pi * e / T)) / 2 for e in range(2 * T + 1)]
    np.testing.assert_allclose([s[0] for s in seq], want, rtol=1e-12, atol=1e-15)
    assert seq[T][0] == pytest.approx(lo)


def test_linear_warmup():
    seq = lr_sequence(S.LinearLR(make_opt(), start_factor=0.25, total_iters=4), 6)
    want = [0.1 * (0.25 + 0.75 * min(e, 4) / 4) for e in range(7)]
    np.testing.assert_allclose([s[0] for s in seq], want, rtol=1e-12)


def test_lambda_lr_per_group():
    opt = make_opt((0.1, 1.0))
    sched = S.LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: 0.5 ** e])
    seq = lr_sequence(sched, 3)
    assert seq == [[0.1, 1.0], [0.05, 0.5], [0.1 / 3, 0.25], [0.025, 0.125]]
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas"):
        S.LambdaLR(opt, [lambda e: 1.0])


def test_sequential_warmup_then_cosine():
    opt = make_opt()
    warm = S.LinearLR(opt, start_factor=0.1, total_iters=3)
    cos = S.CosineAnnealingLR(opt, T_max=5)
    seq = [s[0] for s in lr_sequence(S.SequentialLR(opt, [warm, cos], milestones=[3]), 8)]
    want = [0.1 * (0.1 + 0.9 * e / 3) for e in range(3)]
    want += [0.1 * (1 + math.cos(math.pi * e / 5)) / 2 for e in range(6)]
    np.testing.assert_allclose(seq, want, rtol=1e-12, atol=1e-15)


def test_sequential_lr_validates():
    opt, other = make_opt(), make_opt()
    a, b = S.StepLR(opt, 2), S.StepLR(opt, 3)
    with pytest.raises(ValueError, match="one more scheduler than milestones"):
        S.SequentialLR(opt, [a, b], milestones=[1, 2])
    with pytest.raises(ValueError, match="same optimizer"):
        S.SequentialLR(opt, [a, S.StepLR(other, 2)], milestones=[2])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        S.SequentialLR(opt, [a, S.ReduceLROnPlateau(opt)], milestones=[2])
    with pytest.raises(ValueError, match="at least one"):
        S.SequentialLR(opt, [], milestones=[])


def test_reduce_on_plateau_patience_and_cooldown():
    opt = make_opt()
    sched = S.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=0.02)
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]
    seq = [s[0] for s in lr_sequence(sched, len(metrics), metrics)]
    # best 0.9 at epoch 2; bad epochs 3, 4 -> halve at 4; cooldown 5; bad 6, 7 -> halve at 7;
    # then min_lr stops it at 0.02
    assert seq == [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025]
    assert sched.best == 0.9


def test_reduce_on_plateau_max_mode_abs_threshold():
    opt = make_opt()
    sched = S.ReduceLROnPlateau(opt, mode="max", patience=0, threshold=0.1,
                                threshold_mode="abs")
    sched.step(0.5)
    sched.step(0.55)  # not better by more than 0.1: reduce (patience 0)
    assert sched.get_last_lr() == [pytest.approx(0.01)]
    sched.step(0.7)
    assert sched.get_last_lr() == [pytest.approx(0.01)] and sched.best == 0.7
    sched.step(mg.tensor(0.75))  # a one-element tensor works as the metric
    assert sched.num_bad_epochs == 0


def test_reduce_on_plateau_validates():
    with pytest.raises(ValueError, match="Factor"):
        S.ReduceLROnPlateau(make_opt(), factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        S.ReduceLROnPlateau(make_opt(), mode="up")
    with pytest.raises(ValueError, match="threshold mode"):
        S.ReduceLROnPlateau(make_opt(), threshold_mode="pct")
    with pytest.raises(ValueError, match="min_lrs"):
        S.ReduceLROnPlateau(make_opt((0.1, 0.2)), min_lr=[0.0])


def test_scheduler_sets_initial_lr_and_base_lrs():
    opt = make_opt((0.1, 0.2))
    sched = S.StepLR(opt, 2)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.2] == sched.base_lrs
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(make_opt(), 2, last_epoch=4)
    with pytest.raises(TypeError, match="not an Optimizer"):
        S.StepLR(object(), 2)


def test_warns_when_stepped_before_the_optimizer():
    opt = make_opt()
    opt._step_count = 0
    sched = S.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_no_warning_in_the_right_order():
    p = Parameter(mg.zeros(1))
    opt = optim.SGD([p], lr=0.1)
    sched = S.ExponentialLR(opt, 0.5)
    p.grad = mg.ones(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == 0.05


def test_step_with_epoch_uses_closed_form_and_warns():
    sched = S.StepLR(make_opt(), step_size=2, gamma=0.5)
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(5)
    assert sched.get_last_lr() == [0.1 * 0.25]


# -- state_dict ---------------------------------------------------------------------------------

FACTORIES = {
    "step": lambda o: S.StepLR(o, step_size=2, gamma=0.5),
    "multistep": lambda o: S.MultiStepLR(o, milestones=[2, 5, 5], gamma=0.5),
    "exp": lambda o: S.ExponentialLR(o, gamma=0.9),
    "cosine": lambda o: S.CosineAnnealingLR(o, T_max=6, eta_min=0.01),
    "linear": lambda o: S.LinearLR(o, start_factor=0.2, total_iters=4),
    "lambda": lambda o: S.LambdaLR(o, lambda e: 0.9 ** e),
    "sequential": lambda o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.1, total_iters=3), S.CosineAnnealingLR(o, T_max=6)],
        milestones=[3]),
}


@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("through_file", [False, True])
def test_state_dict_resumes_the_schedule(name, through_file, tmp_path):
    make = FACTORIES[name]
    opt = make_opt((0.1, 0.3))
    sched = make(opt)
    lr_sequence(sched, 4)
    sd, opt_sd = sched.state_dict(), opt.state_dict()
    assert "optimizer" not in sd
    rest = lr_sequence(sched, 5)[1:]
    if through_file:
        save({"sched": sd, "opt": opt_sd}, tmp_path / "ck.npz")
        loaded = load(tmp_path / "ck.npz")
        sd, opt_sd = loaded["sched"], loaded["opt"]

    opt2 = make_opt((0.5, 0.5))
    sched2 = make(opt2)  # build the scheduler, then load the optimizer, then the scheduler
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sd)
    np.testing.assert_allclose(lr_sequence(sched2, 5)[1:], rest, rtol=1e-15)


def test_reduce_on_plateau_state_dict(tmp_path):
    opt = make_opt()
    sched = S.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    lr_sequence(sched, 3, [1.0, 2.0, 2.0])
    save(sched.state_dict(), tmp_path / "s.npz")
    sched2 = S.ReduceLROnPlateau(make_opt(), mode="max")
    sched2.load_state_dict(load(tmp_path / "s.npz"))
    assert sched2.mode == "min" and sched2.best == 1.0 and sched2.mode_worse == math.inf
    assert sched2.num_bad_epochs == sched.num_bad_epochs


class Decay:
    """A callable object: LambdaLR saves its __dict__ (functions are never saved)."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate ** epoch


def test_lambda_lr_saves_callable_objects_not_functions():
    opt = make_opt((0.1, 0.1))
    sd = S.LambdaLR(opt, [Decay(0.5), lambda e: 1.0]).state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.5}, None]
    fresh = S.LambdaLR(make_opt((0.1, 0.1)), [Decay(0.9), lambda e: 1.0])
    fresh.load_state_dict(sd)
    assert fresh.lr_lambdas[0].rate == 0.5


# -- against PyTorch ----------------------------------------------------------------------------

TORCH_CASES = {
    "StepLR": (lambda m, o: m.StepLR(o, step_size=3, gamma=0.3), None),
    "MultiStepLR": (lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5, 11], gamma=0.4), None),
    "ExponentialLR": (lambda m, o: m.ExponentialLR(o, gamma=0.93), None),
    "CosineAnnealingLR": (lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=1e-3), None),
    "LinearLR": (lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.8, total_iters=6),
                 None),
    "LambdaLR": (lambda m, o: m.LambdaLR(o, lambda e: 1.0 / (1 + 0.3 * e)), None),
    "SequentialLR": (lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.05, total_iters=4),
            m.CosineAnnealingLR(o, T_max=10, eta_min=1e-4)], milestones=[4]), None),
    "SequentialLR3": (lambda m, o: m.SequentialLR(
        o, [m.LambdaLR(o, lambda e: 0.5 if e < 2 else 1.0), m.ExponentialLR(o, gamma=0.9),
            m.StepLR(o, step_size=2)], milestones=[3, 8]), None),
    "ReduceLROnPlateau": (
        lambda m, o: m.ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=1,
                                         min_lr=[1e-3, 1e-2], threshold=0.01),
        [1.0, 0.9, 0.95, 0.91, 0.92, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.7,
         0.8, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
}


@pytest.mark.parametrize("name", TORCH_CASES)
def test_matches_torch_schedulers(name):
    torch = pytest.importorskip("torch")
    make, metrics = TORCH_CASES[name]
    tp = [torch.zeros(1, requires_grad=True) for _ in range(2)]
    topt = torch.optim.SGD([{"params": [tp[0]], "lr": 0.1}, {"params": [tp[1]], "lr": 0.02}],
                           lr=0.1)
    opt = make_opt((0.1, 0.02))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns: no optimizer.step() in this test
        theirs = make(torch.optim.lr_scheduler, topt)
        mine = make(S, opt)
        steps = len(metrics) if metrics else 25
        want = lr_sequence(theirs, steps, metrics)
    got = lr_sequence(mine, steps, metrics)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-18)
