"""The optimizer tests that compare with torch.optim: torch copies of the parameters, both
optimizers fed the same gradients side by side, their states compared, and torch's state_dict
in the form minigrad's optimizers load. Every function takes the imported ``torch`` module (the
tests import it with ``pytest.importorskip``)."""

from __future__ import annotations

import numpy as np

import minigrad as mg


def copies(torch, params):
    """A torch leaf (requires_grad) with the values of each parameter."""
    return [torch.tensor(p.array.copy(), requires_grad=True) for p in params]


def step(torch, opt, tparams, grads):
    """Feed a torch optimizer the given gradients, one list per step."""
    for step_grads in grads:
        for tp, g in zip(tparams, step_grads):
            tp.grad = torch.tensor(g)
        opt.step()


def assert_steps_alike(torch, mine, theirs, params, tparams, grads, rtol, atol):
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


def assert_state_alike(mine, theirs, params, tparams, rtol, atol):
    """Each parameter's state holds the keys of its torch copy's state, with the same values
    (torch keeps tensors, or plain numbers for some scalars)."""
    for p, tp in zip(params, tparams):
        assert sorted(mine.state[p]) == sorted(theirs.state[tp])
        for key, value in theirs.state[tp].items():
            want = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
            np.testing.assert_allclose(np.asarray(mine.state[p][key]), want, rtol=rtol,
                                       atol=atol, err_msg=key)


def state_dict_as_arrays(torch, opt):
    """A torch optimizer's state_dict with every tensor in it (also inside lists: LBFGS's
    history) turned into a NumPy array: the form minigrad's optimizers load."""
    def to_numpy(v):
        if isinstance(v, list):
            return [to_numpy(a) for a in v]
        return v.numpy() if isinstance(v, torch.Tensor) else v

    sd = opt.state_dict()
    return {"state": {i: {k: to_numpy(v) for k, v in s.items()} for i, s in sd["state"].items()},
            "param_groups": sd["param_groups"]}
