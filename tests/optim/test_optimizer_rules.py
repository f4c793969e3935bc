"""Optimizer update rules: several steps checked against the equations written out here, and
(when PyTorch is installed) against torch.optim on the same parameters and gradients."""

from __future__ import annotations

import math

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

# ---------------------------------------------------------------------------------------------
# The update equations, written the textbook way (not the way the implementation is written)
# ---------------------------------------------------------------------------------------------

def ref_sgd(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
            maximize=False):
    p, b, out = p.copy(), None, []
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        g = g + weight_decay * p
        if momentum:
            b = g.copy() if t == 1 else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
        out.append(p)
    return out


def ref_adam(p, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             decoupled=False, maximize=False):
    b1, b2 = betas
    p, m, v, vmax, out = p.copy(), 0 * p, 0 * p, 0 * p, []
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if decoupled:
            p = p - lr * weight_decay * p
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        m_hat = m / (1 - b1 ** t)
        v_hat = (vmax if amsgrad else v) / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append((p, m, v, vmax))
    return out


def ref_rmsprop(p, grads, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False, maximize=False):
    p, s, a, b, out = p.copy(), 0 * p, 0 * p, 0 * p, []
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * p
        s = alpha * s + (1 - alpha) * g * g
        if centered:
            a = alpha * a + (1 - alpha) * g
            avg = np.sqrt(s - a * a) + eps
        else:
            avg = np.sqrt(s) + eps
        if momentum > 0:
            b = momentum * b + g / avg
            p = p - lr * b
        else:
            p = p - lr * g / avg
        out.append(p)
    return out


SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.05, momentum=0.8, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.1, momentum=0.5, weight_decay=0.01),
    dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True),
]
ADAM_CASES = [
    dict(lr=0.01),
    dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.02, weight_decay=0.05, amsgrad=True, maximize=True),
]
RMSPROP_CASES = [
    dict(lr=0.01),
    dict(lr=0.01, alpha=0.9, eps=1e-6),
    dict(lr=0.01, momentum=0.9),
    dict(lr=0.01, centered=True),
    dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, maximize=True),
]


@pytest.mark.parametrize("kw", SGD_CASES, ids=str)
def test_sgd_matches_equations(rng, kw):
    assert_follows_reference(rng, lambda ps: optim.SGD(ps, **kw),
                             lambda p0, gs: ref_sgd(p0, gs, **kw), rtol=1e-12, atol=1e-14)


def test_sgd_momentum_buffer_is_the_velocity(rng):
    (p,) = [Parameter(mg.tensor([1.0, -2.0], dtype=mg.float64))]
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    run(opt, [p], [[np.array([1.0, 1.0])], [np.array([2.0, 0.0])]])
    # b1 = g1 = [1, 1];  b2 = 0.9 * b1 + 0.5 * g2 = [1.9, 0.9]
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], [1.9, 0.9])
    np.testing.assert_allclose(p.array, [1.0 - 0.1 * 1 - 0.1 * 1.9, -2.0 - 0.1 - 0.09])


@pytest.mark.parametrize("kw", ADAM_CASES, ids=str)
def test_adam_matches_equations(rng, kw):
    params = make_params(rng)
    start = [p.array.copy() for p in params]
    grads = grad_sequence(rng, params)
    opt = optim.Adam(params, **kw)
    got = run(opt, params, grads)
    for i, p0 in enumerate(start):
        want = ref_adam(p0, [g[i] for g in grads], **kw)
        for t in range(STEPS):
            np.testing.assert_allclose(got[t][i], want[t][0], rtol=1e-11, atol=1e-13)
        state = opt.state[params[i]]
        assert state["step"] == STEPS
        np.testing.assert_allclose(state["exp_avg"], want[-1][1], rtol=1e-12)
        np.testing.assert_allclose(state["exp_avg_sq"], want[-1][2], rtol=1e-12)
        if kw.get("amsgrad"):
            np.testing.assert_allclose(state["max_exp_avg_sq"], want[-1][3], rtol=1e-12)
        else:
            assert "max_exp_avg_sq" not in state


def test_adam_first_step_has_size_lr():
    # bias correction makes the very first step lr * sign(g) (up to eps), whatever |g| is
    p = Parameter(mg.tensor([0.0, 0.0, 0.0], dtype=mg.float64))
    opt = optim.Adam([p], lr=0.1, eps=0.0)
    p.grad = mg.tensor([1e-4, -3.0, 50.0], dtype=mg.float64)
    opt.step()
    np.testing.assert_allclose(p.array, [-0.1, 0.1, -0.1], rtol=1e-12)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adamw_decays_decoupled(rng, amsgrad):
    params = make_params(rng)
    start = [p.array.copy() for p in params]
    grads = grad_sequence(rng, params)
    got = run(optim.AdamW(params, lr=0.01, weight_decay=0.1, amsgrad=amsgrad), params, grads)
    for i, p0 in enumerate(start):
        want = ref_adam(p0, [g[i] for g in grads], lr=0.01, weight_decay=0.1, amsgrad=amsgrad,
                        decoupled=True)
        for t in range(STEPS):
            np.testing.assert_allclose(got[t][i], want[t][0], rtol=1e-11, atol=1e-13)
        # and it differs from Adam's L2 form
        l2 = ref_adam(p0, [g[i] for g in grads], lr=0.01, weight_decay=0.1, amsgrad=amsgrad)
        assert not np.allclose(got[-1][i], l2[-1][0], rtol=1e-9, atol=0)


def test_adamw_with_zero_gradient_only_decays():
    p = Parameter(mg.tensor([2.0, -4.0], dtype=mg.float64))
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = mg.zeros(2, dtype=mg.float64)
    opt.step()
    np.testing.assert_allclose(p.array, [2.0 * 0.95, -4.0 * 0.95])  # p *= 1 - lr * wd


def test_adamw_defaults_and_flag():
    p = Parameter(mg.zeros(2))
    opt = optim.AdamW([p])
    g = opt.param_groups[0]
    assert g["weight_decay"] == 1e-2 and g["decoupled_weight_decay"] is True
    assert isinstance(opt, optim.Adam)
    assert optim.Adam([Parameter(mg.zeros(1))]).param_groups[0]["decoupled_weight_decay"] is False


@pytest.mark.parametrize("kw", RMSPROP_CASES, ids=str)
def test_rmsprop_matches_equations(rng, kw):
    opt, params = assert_follows_reference(
        rng, lambda ps: optim.RMSprop(ps, **kw), lambda p0, gs: ref_rmsprop(p0, gs, **kw),
        rtol=1e-11, atol=1e-13)
    state = opt.state[params[0]]
    assert state["step"] == STEPS
    assert ("grad_avg" in state) == bool(kw.get("centered"))
    assert ("momentum_buffer" in state) == bool(kw.get("momentum"))


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop])
def test_float32_params_stay_float32_and_grads_untouched(rng, cls):
    params = make_params(rng, np.float32)
    grads = grad_sequence(rng, params, steps=2)
    kw = {"momentum": 0.9, "weight_decay": 0.1} if cls in (optim.SGD, optim.RMSprop) else \
        {"weight_decay": 0.1}
    opt = cls(params, lr=0.01, **kw, maximize=True)
    run(opt, params, grads)
    assert_float32_kept(opt, params, grads[-1])


def test_training_a_linear_model_reduces_the_loss(rng):
    X = mg.tensor(rng.standard_normal((64, 3)).astype(np.float32))
    y = X @ mg.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    for cls, kw in [(optim.SGD, dict(lr=0.1, momentum=0.9)), (optim.Adam, dict(lr=0.05)),
                    (optim.AdamW, dict(lr=0.05)), (optim.RMSprop, dict(lr=0.05))]:
        W = Parameter(mg.zeros(3, 1))
        b = Parameter(mg.zeros(1))
        opt = cls([W, b], **kw)
        losses = []
        for _ in range(60):
            opt.zero_grad()
            loss = ((X @ W + b - y) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[-1] < 0.05 * losses[0], (cls.__name__, losses[0], losses[-1])


# ---------------------------------------------------------------------------------------------
# Against PyTorch
# ---------------------------------------------------------------------------------------------

TORCH_CASES = ([("SGD", kw) for kw in SGD_CASES] + [("Adam", kw) for kw in ADAM_CASES]
               + [("AdamW", dict(lr=0.01)), ("AdamW", dict(lr=0.01, weight_decay=0.2,
                                                            amsgrad=True))]
               + [("RMSprop", kw) for kw in RMSPROP_CASES])


@pytest.mark.parametrize("name,kw", TORCH_CASES, ids=lambda v: str(v))
def test_matches_torch_optim(rng, name, kw):
    torch = pytest.importorskip("torch")
    params = make_params(rng)
    tparams = against_torch.copies(torch, params)
    grads = grad_sequence(rng, params)
    mine = getattr(optim, name)(params, **kw)
    theirs = getattr(torch.optim, name)(tparams, **kw)
    against_torch.assert_steps_alike(torch, mine, theirs, params, tparams, grads,
                                     rtol=1e-10, atol=1e-12)
    for p, tp in zip(params, tparams):
        for key, value in theirs.state[tp].items():
            if key == "step":
                assert mine.state[p]["step"] == int(value)
            else:
                np.testing.assert_allclose(mine.state[p][key], value.numpy(), rtol=1e-10,
                                           atol=1e-12)


GROUP_CASES = [("SGD", dict(momentum=0.9)), ("SGD", dict(momentum=0.9, nesterov=True)),
               ("Adam", {}), ("Adam", dict(amsgrad=True)), ("AdamW", {}),
               ("RMSprop", dict(momentum=0.5, centered=True)), ("Adagrad", {}), ("Adadelta", {})]


@pytest.mark.parametrize("name,kw", GROUP_CASES, ids=lambda v: str(v))
def test_groups_with_their_own_lr_and_weight_decay_match_torch(rng, name, kw):
    """Fine-tuning's setup in every optimizer: a "body" group with a small lr and weight decay,
    a "head" group with a larger lr and none, and a scheduler that scales each group's lr
    from its own starting value; parameters, state and lrs follow torch.optim step by step."""
    torch = pytest.importorskip("torch")
    params = make_params(rng)
    tparams = against_torch.copies(torch, params)

    def groups(ps):
        return [{"params": [ps[0]], "lr": 0.02, "weight_decay": 0.1},
                {"params": [ps[1]], "lr": 0.3, "weight_decay": 0.0}]

    mine = getattr(optim, name)(groups(params), lr=1e-3, **kw)
    theirs = getattr(torch.optim, name)(groups(tparams), lr=1e-3, **kw)
    my_schedule = optim.lr_scheduler.CosineAnnealingLR(mine, T_max=4, eta_min=1e-3)
    their_schedule = torch.optim.lr_scheduler.CosineAnnealingLR(theirs, T_max=4, eta_min=1e-3)
    for step_grads in grad_sequence(rng, params):
        for p, tp, g in zip(params, tparams, step_grads):
            p.grad = mg.tensor(g)
            tp.grad = torch.tensor(g)
        mine.step()
        theirs.step()
        my_schedule.step()
        their_schedule.step()
        for p, tp in zip(params, tparams):
            np.testing.assert_allclose(p.array, tp.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(my_schedule.get_last_lr(), their_schedule.get_last_lr(),
                                   rtol=1e-14)
    assert [g["weight_decay"] for g in mine.param_groups] == [0.1, 0.0]
    for p, tp in zip(params, tparams):
        for key, value in theirs.state[tp].items():
            if key != "step":
                np.testing.assert_allclose(mine.state[p][key], value.numpy(), rtol=1e-10,
                                           atol=1e-12)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
                                     ("Adam", dict(lr=0.01, amsgrad=True)),
                                     ("AdamW", dict(lr=0.01, weight_decay=0.1)),
                                     ("RMSprop", dict(lr=0.005, centered=True, momentum=0.9))])
def test_matches_torch_through_backward_float32(rng, name, kw):
    """A float32 model trained with gradients from backward() in both frameworks."""
    torch = pytest.importorskip("torch")
    X = rng.standard_normal((16, 5)).astype(np.float32)
    Y = rng.standard_normal((16, 2)).astype(np.float32)
    W0 = rng.standard_normal((5, 2)).astype(np.float32)
    W, tW = Parameter(mg.tensor(W0)), torch.tensor(W0, requires_grad=True)
    mine, theirs = getattr(optim, name)([W], **kw), getattr(torch.optim, name)([tW], **kw)
    for _ in range(STEPS):
        mine.zero_grad()
        theirs.zero_grad()
        ((mg.tensor(X) @ W - mg.tensor(Y)) ** 2).mean().backward()
        ((torch.tensor(X) @ tW - torch.tensor(Y)) ** 2).mean().backward()
        mine.step()
        theirs.step()
        np.testing.assert_allclose(W.array, tW.detach().numpy(), rtol=2e-5, atol=2e-6)


def test_loads_a_torch_state_dict_and_continues_identically(rng):
    """Same format: torch's Adam state (tensors turned into arrays) loads into ours."""
    torch = pytest.importorskip("torch")
    params = make_params(rng)
    tparams = against_torch.copies(torch, params)
    grads = grad_sequence(rng, params, steps=6)
    theirs = torch.optim.Adam(tparams, lr=0.02, amsgrad=True)
    against_torch.step(torch, theirs, tparams, grads[:3])
    for p, tp in zip(params, tparams):
        p.array[...] = tp.detach().numpy()
    mine = optim.Adam(params, lr=0.5)  # the lr comes from the loaded groups
    mine.load_state_dict(against_torch.state_dict_as_arrays(torch, theirs))
    assert mine.param_groups[0]["lr"] == 0.02 and mine.state[params[0]]["step"] == 3
    against_torch.assert_steps_alike(torch, mine, theirs, params, tparams, grads[3:],
                                     rtol=1e-10, atol=0)


# ---------------------------------------------------------------------------------------------
# GPU (CuPy arrays)
# ---------------------------------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                     ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
                                     ("AdamW", dict(lr=0.01)),
                                     ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5))])
def test_cuda_params_match_cpu(rng, name, kw):
    if not mg.cuda.is_available():
        pytest.skip("no CUDA GPU")
    cpu = make_params(rng)
    gpu = [Parameter(p.detach().to("cuda")) for p in cpu]
    grads = grad_sequence(rng, cpu)
    run(getattr(optim, name)(cpu, **kw), cpu, grads)
    opt = getattr(optim, name)(gpu, **kw)
    for step_grads in grads:
        for p, g in zip(gpu, step_grads):
            p.grad = mg.tensor(g, device="cuda")
        opt.step()
    for c, g in zip(cpu, gpu):
        assert g.device == "cuda"
        for buf in opt.state[g].values():
            assert not isinstance(buf, np.ndarray)  # buffers stay on the GPU
        np.testing.assert_allclose(g.numpy(), c.array, rtol=1e-10, atol=1e-12)
    assert math.isfinite(float(gpu[0].sum().item()))
