"""What the optimizer tests share: parameters, a fixed sequence of gradients, and a loop that
feeds them to an optimizer and records the parameters after each step; and for the tests that
compare with torch.optim, torch copies of the parameters, the steps of both optimizers side by
side, and torch's state_dict in the form minigrad's optimizers load."""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad.nn.parameter import Parameter

STEPS = 6


def make_params(rng, dtype=np.float64):
    return [Parameter(mg.tensor(rng.standard_normal(s).astype(dtype))) for s in [(3, 4), (4,)]]


def grad_sequence(rng, params, steps=STEPS):
    return [[rng.standard_normal(p.shape).astype(p.dtype) for p in params] for _ in range(steps)]


def run(opt, params, grads):
    """Feed the given gradients, one list per step; return the parameters after each step."""
    history = []
    for step_grads in grads:
        opt.zero_grad()
        for p, g in zip(params, step_grads):
            p.grad = mg.tensor(g)
        opt.step()
        history.append([p.array.copy() for p in params])
    return history


def assert_follows_reference(rng, make_optimizer, reference, rtol, atol):
    """Run ``make_optimizer(params)`` on a fixed sequence of gradients: after every step each
    parameter must equal ``reference(p0, its gradients)[step]``, the update written out from
    the equations. Returns (optimizer, params) for checks of the state."""
    params = make_params(rng)
    start = [p.array.copy() for p in params]
    grads = grad_sequence(rng, params)
    opt = make_optimizer(params)
    got = run(opt, params, grads)
    for i, p0 in enumerate(start):
        want = reference(p0, [g[i] for g in grads])
        for t in range(len(grads)):
            np.testing.assert_allclose(got[t][i], want[t], rtol=rtol, atol=atol)
    return opt, params


# ---------------------------------------------------------------------------------------------
# Side by side with torch.optim
# ---------------------------------------------------------------------------------------------

def torch_copies(torch, params):
    """A torch leaf (requires_grad) with the values of each parameter."""
    return [torch.tensor(p.array.copy(), requires_grad=True) for p in params]


def step_torch(torch, opt, tparams, grads):
    """Feed a torch optimizer the given gradients, one list per step."""
    for step_grads in grads:
        for tp, g in zip(tparams, step_grads):
            tp.grad = torch.tensor(g)
        opt.step()


def assert_steps_like_torch(torch, mine, theirs, params, tparams, grads, rtol, atol):
    """Feed both optimizers the same gradients, one list per step: after every step each
    parameter must equal its torch copy."""
    for t, step_grads in enumerate(grads):
        for p, tp, g in zip(params, tparams, step_grads):
            p.grad, tp.grad = mg.tensor(g), torch.tensor(g)
        mine.step()
        theirs.step()
        for p, tp in zip(params, tparams):
            np.testing.assert_allclose(p.array, tp.detach().numpy(), rtol=rtol, atol=atol,
                                       err_msg=f"step {t + 1}")


def assert_state_like_torch(mine, theirs, params, tparams, rtol, atol):
    """Each parameter's state holds the keys of its torch copy's state, with the same values
    (torch keeps tensors, or plain numbers for some scalars)."""
    for p, tp in zip(params, tparams):
        assert sorted(mine.state[p]) == sorted(theirs.state[tp])
        for key, value in theirs.state[tp].items():
            want = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
            np.testing.assert_allclose(np.asarray(mine.state[p][key]), want, rtol=rtol,
                                       atol=atol, err_msg=key)


def torch_state_dict_as_arrays(torch, opt):
    """A torch optimizer's state_dict with every tensor in it (also inside lists: LBFGS's
    history) turned into a NumPy array: the form minigrad's optimizers load."""
    def to_numpy(v):
        if isinstance(v, list):
            return [to_numpy(a) for a in v]
        return v.numpy() if isinstance(v, torch.Tensor) else v

    sd = opt.state_dict()
    return {"state": {i: {k: to_numpy(v) for k, v in s.items()} for i, s in sd["state"].items()},
            "param_groups": sd["param_groups"]}
