"""ConstantLR, PolynomialLR, MultiplicativeLR, CosineAnnealingWarmRestarts, OneCycleLR,
CyclicLR and ChainedScheduler: learning rates (and cycled momenta) step by step against
torch's, state_dict round trips, and the argument checks."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.nn.parameter import Parameter
from minigrad.optim import lr_scheduler as S

LRS = (0.1, 0.02)


def _optimizer(lib, kind):
    """Two groups (lr 0.1 and 0.02) of one parameter each, for minigrad or torch."""
    if lib is mg:
        params = [Parameter(mg.zeros(2)) for _ in LRS]
        module = optim
    else:
        params = [lib.zeros(2, requires_grad=True) for _ in LRS]
        module = lib.optim
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, LRS)]
    if kind == "adam":
        return module.Adam(groups, lr=LRS[0])
    return module.SGD(groups, lr=LRS[0], momentum=0.9)


def _trace(opt, sched, steps, epochs=None):
    """(lr, momentum) of every group after construction and after each step."""
    def now():
        return [(g["lr"], g["betas"][0] if "betas" in g else g["momentum"])
                for g in opt.param_groups]
    out = [now()]
    for i in range(steps):
        if epochs is None:
            sched.step()
        else:
            sched.step(epochs[i])
        out.append(now())
    return np.array(out)


CASES = {
    "ConstantLR": (lambda S, o: S.ConstantLR(o, factor=0.3, total_iters=4), "sgd", 9),
    "PolynomialLR": (lambda S, o: S.PolynomialLR(o, total_iters=7, power=2.5), "sgd", 10),
    "MultiplicativeLR": (lambda S, o: S.MultiplicativeLR(
        o, [lambda e: 0.9, lambda e: 1.0 - 0.01 * e]), "sgd", 9),
    "WarmRestarts": (lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=3, eta_min=1e-3),
                     "sgd", 11),
    "WarmRestarts-Tmult": (lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2),
                           "sgd", 16),
    "OneCycle-cos": (lambda S, o: S.OneCycleLR(o, max_lr=[1.0, 0.4], total_steps=17),
                     "sgd", 17),
    "OneCycle-linear-adam": (lambda S, o: S.OneCycleLR(
        o, max_lr=0.5, epochs=3, steps_per_epoch=5, pct_start=0.4, anneal_strategy="linear",
        base_momentum=0.7, max_momentum=0.9, div_factor=10.0, final_div_factor=100.0),
        "adam", 15),
    "OneCycle-three-phase": (lambda S, o: S.OneCycleLR(o, max_lr=1.0, total_steps=20,
                                                       three_phase=True), "sgd", 20),
    "OneCycle-no-momentum": (lambda S, o: S.OneCycleLR(o, max_lr=1.0, total_steps=9,
                                                       cycle_momentum=False), "sgd", 9),
    "Cyclic-triangular": (lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.05],
                                                  step_size_up=3, step_size_down=5), "sgd", 20),
    "Cyclic-triangular2-adam": (lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1,
                                                        step_size_up=2, mode="triangular2"),
                                "adam", 17),
    "Cyclic-exp-range": (lambda S, o: S.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1,
                                                 step_size_up=3, mode="exp_range", gamma=0.9,
                                                 base_momentum=0.5, max_momentum=0.95),
                         "sgd", 17),
    "Cyclic-scale-fn": (lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2,
                                                scale_fn=lambda x: 1 / (1 + x),
                                                scale_mode="iterations",
                                                cycle_momentum=False), "sgd", 12),
    "Chained": (lambda S, o: S.ChainedScheduler([S.ConstantLR(o, factor=0.5, total_iters=3),
                                                 S.ExponentialLR(o, gamma=0.8)]), "sgd", 8),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch_step_by_step(name):
    torch = pytest.importorskip("torch")
    make, kind, steps = CASES[name]
    topt, opt = _optimizer(torch, kind), _optimizer(mg, kind)
    opt._step_count = 1                    # as if optimizer.step() ran: no order warning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")    # torch warns: no optimizer.step() in this test
        want = _trace(topt, make(torch.optim.lr_scheduler, topt), steps)
    got = _trace(opt, make(S, opt), steps)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-16)


def test_warm_restarts_fractional_epochs_match_torch():
    torch = pytest.importorskip("torch")
    epochs = [0.5, 1.25, 2.0, 2.75, 3.5, 6.1, 6.9, 13.0, 1.0]
    traces = []
    for lib, module in ((torch, torch.optim.lr_scheduler), (mg, S)):
        opt = _optimizer(lib, "sgd")
        opt._step_count = 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched = module.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.001)
            traces.append(_trace(opt, sched, len(epochs), epochs))
    np.testing.assert_allclose(traces[1], traces[0], rtol=1e-13)


def test_warm_restarts_closed_form():
    opt = _optimizer(mg, "sgd")
    opt._step_count = 1
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=4, eta_min=0.0)
    lrs = _trace(opt, sched, 9)[:, 0, 0]
    want = [0.1 * (1 + math.cos(math.pi * (e % 4) / 4)) / 2 for e in range(10)]
    np.testing.assert_allclose(lrs, want, rtol=1e-14)


@pytest.mark.parametrize("name", ["PolynomialLR", "OneCycle-linear-adam", "Cyclic-exp-range",
                                  "WarmRestarts-Tmult", "Chained"])
def test_state_dict_round_trip_resumes_the_schedule(name):
    make, kind, steps = CASES[name]
    opt = _optimizer(mg, kind)
    opt._step_count = 1
    sched = make(S, opt)
    for _ in range(steps // 2):
        sched.step()
    saved = copy.deepcopy(sched.state_dict())
    rest = _trace(opt, sched, steps - steps // 2)

    twin = _optimizer(mg, kind)
    twin._step_count = 1
    resumed = make(S, twin)
    resumed.load_state_dict(saved)
    for group, lr_momentum in zip(twin.param_groups, rest[0]):
        group["lr"] = lr_momentum[0]           # the optimizer's own state comes from its file
        if "betas" in group:
            group["betas"] = (lr_momentum[1], group["betas"][1])
        else:
            group["momentum"] = lr_momentum[1]
    np.testing.assert_allclose(_trace(twin, resumed, steps - steps // 2), rest, rtol=1e-14)


def test_one_cycle_refuses_stepping_past_total_steps():
    opt = _optimizer(mg, "sgd")
    opt._step_count = 1
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of "
                                         "total steps is 3"):
        sched.step()


@pytest.mark.parametrize("make,error,message", [
    (lambda o: S.OneCycleLR(o, max_lr=1.0), ValueError, "either total_steps OR"),
    (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=0), ValueError,
     "positive integer total_steps"),
    (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=5, pct_start=1), ValueError,
     "float between 0 and 1 pct_start"),
    (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=5, anneal_strategy="exp"), ValueError,
     "anneal_strategy must be one of"),
    (lambda o: S.OneCycleLR(o, max_lr=[1.0], total_steps=5), ValueError,
     "max_lr must have the same length as optimizer.param_groups"),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, mode="sawtooth"), ValueError, "mode is invalid"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "positive integer T_0"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5), ValueError,
     "integer T_mult >= 1"),
    (lambda o: S.ConstantLR(o, factor=1.5), ValueError, "between 0 and 1"),
    (lambda o: S.MultiplicativeLR(o, 0.9), TypeError, "lr_lambda should be a function"),
    (lambda o: S.ChainedScheduler([]), ValueError, "at least one scheduler"),
    (lambda o: S.ChainedScheduler([S.ExponentialLR(o, 0.9),
                                   S.ExponentialLR(_optimizer(mg, "sgd"), 0.9)]),
     ValueError, "same optimizer"),
    (lambda o: S.ChainedScheduler([S.ReduceLROnPlateau(o)]), ValueError,
     "does not support `ReduceLROnPlateau`"),
    (lambda o: S.ChainedScheduler([object()]), TypeError, "should have `optimizer`"),
    (lambda o: S.SequentialLR(o, [], []), ValueError, "at least one scheduler"),
    (lambda o: S.SequentialLR(o, [S.ReduceLROnPlateau(o)], []), ValueError,
     "does not support `ReduceLROnPlateau`"),
    (lambda o: S.SequentialLR(o, [S.ExponentialLR(_optimizer(mg, "sgd"), 0.9)], []),
     ValueError, "same optimizer"),
    (lambda o: S.SequentialLR(o, [object()], []), TypeError, "should have `optimizer`"),
])
def test_bad_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make(_optimizer(mg, "sgd"))


def test_cycle_momentum_needs_momentum_or_betas():
    opt = optim.Adagrad([Parameter(mg.zeros(2))], lr=0.1)
    for make in (lambda: S.OneCycleLR(opt, max_lr=1.0, total_steps=4),
                 lambda: S.CyclicLR(opt, 0.01, 0.1)):
        with pytest.raises(ValueError, match="must support momentum or beta1"):
            make()
    S.CyclicLR(opt, 0.01, 0.1, cycle_momentum=False)          # without cycling: accepted
