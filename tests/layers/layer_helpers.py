"""Shared checks for the layer tests: gradcheck a module, compare a module with PyTorch's."""

from __future__ import annotations

import numpy as np

import minigrad as mg


def flat_tensors(out):
    """(out, (h, c)) -> [out, h, c]: every Tensor in a nested tuple, in order."""
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flat_tensors(o)]
    return [out] if out is not None else []


def leaf(rng, *shape):
    """A float64 input that requires grad."""
    return mg.tensor(rng.uniform(-1.5, 1.5, size=shape), dtype=mg.float64, requires_grad=True)


def _module_as_function(module, inputs, kwargs):
    """(fn, tensors): ``module(*inputs, **kwargs)`` in float64 as a function of every Tensor
    input that requires grad (nested tuples such as LSTM's (h0, c0) included) and every
    parameter, returning its outputs flattened."""
    module.double()
    params = list(module.parameters())
    structure = [flat_tensors(a) if isinstance(a, (tuple, list)) else None for a in inputs]
    flat_in = [t for a in inputs for t in (flat_tensors(a) if isinstance(a, (tuple, list))
                                           else [a])]
    # a tensor passed twice (self-attention: query is key is value) is checked once
    unique = list({id(t): t for t in flat_in}.values())
    slot = [next(i for i, u in enumerate(unique) if u is t) for t in flat_in]

    def rebuild(values):
        it = iter(values[s] for s in slot)
        return [tuple(next(it) for _ in s) if s is not None else next(it) for s in structure]

    def fn(*args):
        outs = module(*rebuild(args[:len(unique)]), **kwargs)
        return tuple(flat_tensors(outs))

    return fn, tuple(unique) + tuple(params)


def module_gradcheck(module, *inputs, **kwargs):
    """Gradcheck ``module(*inputs, **kwargs)`` in float64 with respect to every Tensor input
    that requires grad (nested tuples such as LSTM's (h0, c0) included) and every parameter."""
    fn, tensors = _module_as_function(module, inputs, kwargs)
    assert mg.autograd.gradcheck(fn, tensors)


def module_gradgradcheck(module, *inputs, **kwargs):
    """``module_gradcheck`` for second derivatives (gradgradcheck)."""
    fn, tensors = _module_as_function(module, inputs, kwargs)
    assert mg.autograd.gradgradcheck(fn, tensors)


def load_torch_weights(mm, tm):
    """Copy PyTorch module ``tm``'s weights into minigrad module ``mm`` (both float64 after),
    checking that the state_dict keys and the parameter order agree."""
    tm.double()
    sd = tm.state_dict()
    assert set(sd) == set(mm.state_dict()), set(sd) ^ set(mm.state_dict())
    assert [n for n, _ in tm.named_parameters()] == [n for n, _ in mm.named_parameters()]
    mm.load_state_dict({k: v.numpy() for k, v in sd.items()})
    mm.double()


def compare_with_torch(mm, tm, args, kwargs=None, rng=None, atol=1e-8):
    """Run both modules on the same inputs and compare outputs and gradients.

    ``args``: NumPy float arrays (nested tuples allowed) that become inputs requiring grad;
    the same array object passed twice becomes the same tensor (self-attention).
    ``kwargs``: NumPy arrays or plain values (masks, flags) passed as they are.
    """
    import torch

    rng = rng or np.random.default_rng(0)
    load_torch_weights(mm, tm)
    made = {}

    def convert(a, make):
        if isinstance(a, tuple):
            return tuple(convert(x, make) for x in a)
        if isinstance(a, np.ndarray):
            key = (id(a), make)
            if key not in made:
                made[key] = make(a)
            return made[key]
        return a

    to_mg = lambda a: mg.tensor(a, requires_grad=a.dtype.kind == "f")  # noqa: E731
    to_t = lambda a: torch.tensor(a, requires_grad=a.dtype.kind == "f")  # noqa: E731
    m_args = [convert(a, to_mg) for a in args]
    t_args = [convert(a, to_t) for a in args]
    kwargs = kwargs or {}
    m_kw = {k: mg.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    t_kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}

    m_out, t_out = flat_tensors(mm(*m_args, **m_kw)), flat_tensors(tm(*t_args, **t_kw))
    assert len(m_out) == len(t_out)
    m_loss, t_loss = 0, 0
    for a, b in zip(m_out, t_out):
        assert tuple(a.shape) == tuple(b.shape), (tuple(a.shape), tuple(b.shape))
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=atol, rtol=1e-6)
        g = rng.standard_normal(a.shape)
        m_loss = m_loss + (a * mg.tensor(g)).sum()
        t_loss = t_loss + (b * torch.tensor(g)).sum()
    m_loss.backward()
    t_loss.backward()

    for a, b in zip(flat_tensors(m_args), flat_tensors(t_args)):
        if isinstance(a, mg.Tensor) and a.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=atol, rtol=1e-6)
    m_params = dict(mm.named_parameters())
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(m_params[name].grad.numpy(), p.grad.numpy(), atol=atol,
                                   rtol=1e-6, err_msg=name)
    return m_out


def derivatives_up_to_third(loss, xs, seed=0):
    """[first, second, third] derivatives of the scalar ``loss(*xs)``, each a list of arrays
    (one per x): g1 = d loss/dx, g2 = d<g1, u>/dx, g3 = d<g2, w>/dx for fixed random u, w.
    Each is built with create_graph=True from the one before, so a gradient that depends on
    the inputs in two ways (through the op and through the loss's own gradient) is included."""
    rng = np.random.default_rng(seed)
    found, scalar = [], loss(*xs)
    for _ in range(3):
        grads = mg.autograd.grad(scalar, xs, create_graph=True)
        found.append([g.detach().numpy() for g in grads])
        scalar = sum((g * mg.tensor(rng.standard_normal(g.shape))).sum() for g in grads)
    return found


def assert_first_gradient_is_the_fused_backward(loss, xs, backward_op):
    """With create_graph=True or not, the first gradients are the same numbers, computed by
    the op ``backward_op`` (the fused backward Function), which the gradient's graph shows."""
    plain = mg.autograd.grad(loss(*xs), xs)
    with_graph = mg.autograd.grad(loss(*xs), xs, create_graph=True)
    for a, b in zip(plain, with_graph):
        np.testing.assert_array_equal(a.numpy(), b.detach().numpy())
    assert f"<{backward_op}Backward>" in [repr(g.grad_fn) for g in with_graph]
