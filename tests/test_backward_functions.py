"""Fused gradients that are Functions of their own (docs/design.md, "A backward is a Function
too"): softmax's, log_softmax's, GELU's, the norms' and cumprod's.

* Each backward Function is checked as an op in its own right: gradcheck of it is the op's
  second derivative, gradgradcheck of it the third.
* One path: the first gradient is the same number whether or not a graph is built for it
  (``create_graph``), in float32 too, where two formulas would round differently.
* The norms' backward returns only the gradients asked for: every subset of (x, weight,
  bias) that requires grad gets correct first and second derivatives.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.ops.activation import GeluBackward, LogSoftmaxBackward, SoftmaxBackward
from minigrad.ops.normalization import BatchNormBackward, NormalizeBackward
from minigrad.ops.scan import CumProdBackward


def _leaf(rng, *shape, dtype=np.float64):
    return mg.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)


def _with_zeros(rng, shape, where):
    a = rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    for position in where:
        a[position] = 0.0
    return mg.tensor(a, requires_grad=True)


# ---------------------------------------------------------------------------------------------
# The backward Functions as ops: their first and second derivatives (the op's second and third)
# ---------------------------------------------------------------------------------------------

def _softmax_backward(g, x):
    return SoftmaxBackward.apply(g, F.softmax(x, dim=1), 1)


def _log_softmax_backward(g, x):
    return LogSoftmaxBackward.apply(g, F.log_softmax(x, dim=0), 0)


def _gelu_backward(approximate):
    def fn(g, x):
        return GeluBackward.apply(g, x, approximate)
    return fn


def _layer_norm_backward(g, x, w):
    # (gx, gw, gb) of layer_norm over the last two dims; the statistics recomputed from x
    return NormalizeBackward.apply(g, x, w, (1, 2), 1e-3, (3, 5), (True, True, True), None)


def _batch_norm_backward(g, x, w):
    # batch norm of (N, C, L): statistics over (0, 2), weight and bias of shape (1, C, 1)
    return NormalizeBackward.apply(g, x, w, (0, 2), 1e-5, (1, 3, 1), (True, True, True), None)


def _batch_norm_fused_backward(g, x, w):
    # batch_norm's own backward (two per-channel sums) on an (N, C, H, W) input
    return BatchNormBackward.apply(g, x, w, (0, 2, 3), 1e-5, (1, 3, 1, 1), (True, True, True),
                                   None)


def _cumprod_backward(dim):
    def fn(g, x):
        return CumProdBackward.apply(g, x, mg.cumprod(x, dim), dim)
    return fn


def _cases():
    rng = np.random.default_rng(7)
    return [
        ("softmax", _softmax_backward, (_leaf(rng, 3, 5), _leaf(rng, 3, 5))),
        ("log_softmax", _log_softmax_backward, (_leaf(rng, 4, 3), _leaf(rng, 4, 3))),
        ("gelu", _gelu_backward("none"), (_leaf(rng, 3, 7), _leaf(rng, 3, 7))),
        ("gelu tanh", _gelu_backward("tanh"), (_leaf(rng, 7, 3), _leaf(rng, 7, 3))),
        ("layer_norm", _layer_norm_backward,
         (_leaf(rng, 2, 3, 5), _leaf(rng, 2, 3, 5), _leaf(rng, 3, 5))),
        ("batch_norm", _batch_norm_backward,
         (_leaf(rng, 4, 3, 2), _leaf(rng, 4, 3, 2), _leaf(rng, 1, 3, 1))),
        ("batch_norm 2d", _batch_norm_fused_backward,
         (_leaf(rng, 3, 3, 2, 3), _leaf(rng, 3, 3, 2, 3), _leaf(rng, 1, 3, 1, 1))),
        ("cumprod", _cumprod_backward(1),
         (_leaf(rng, 2, 5), mg.tensor(rng.uniform(0.5, 1.5, (2, 5)), requires_grad=True))),
        ("cumprod with zeros", _cumprod_backward(0),
         (_leaf(rng, 5, 2), _with_zeros(rng, (5, 2), [(1, 0), (3, 0), (0, 1)]))),
    ]


CASES = _cases()


@pytest.mark.parametrize("name, fn, inputs", CASES, ids=[c[0] for c in CASES])
def test_backward_function_gradcheck(name, fn, inputs):
    assert mg.autograd.gradcheck(fn, inputs)


@pytest.mark.parametrize("name, fn, inputs", CASES, ids=[c[0] for c in CASES])
def test_backward_function_gradgradcheck(name, fn, inputs):
    assert mg.autograd.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("name, call", [
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (3, 5), w, b)),
    ("layer_norm without affine", lambda x, w, b: F.layer_norm(x, (5,))),
    ("group_norm", lambda x, w, b: F.group_norm(x, 3, None, None)),
])
def test_layer_norm_runs_the_fused_row_kernels(name, call, monkeypatch):
    """Norms over trailing dims take kernels.layer_norm and its backward, and their first
    and second derivatives (float64) still check."""
    from minigrad.ops import kernel_calls
    calls = []
    for op in ("layer_norm", "layer_norm_backward"):
        original = getattr(kernel_calls, op)
        monkeypatch.setattr(kernel_calls, op,
                            lambda *a, _op=op, _f=original: calls.append(_op) or _f(*a))
    rng = np.random.default_rng(5)
    inputs = (_leaf(rng, 2, 3, 5), _leaf(rng, 3, 5), _leaf(rng, 3, 5))
    assert mg.autograd.gradcheck(call, inputs)
    assert mg.autograd.gradgradcheck(call, inputs)
    assert {"layer_norm", "layer_norm_backward"} <= set(calls), name


# ---------------------------------------------------------------------------------------------
# One path: the first gradient does not depend on create_graph
# ---------------------------------------------------------------------------------------------

def _first_gradients(fn, inputs, g, create_graph):
    out = fn(*inputs)
    return [t.array for t in mg.autograd.grad(out, inputs, g, create_graph=create_graph)]


def _float32_cases():
    rng = np.random.default_rng(3)
    x32 = _leaf(rng, 6, 9, dtype=np.float32)
    w32, b32 = _leaf(rng, 9, dtype=np.float32), _leaf(rng, 9, dtype=np.float32)
    c32 = _leaf(rng, 3, 4, 5, dtype=np.float32)
    wc, bc = _leaf(rng, 4, dtype=np.float32), _leaf(rng, 4, dtype=np.float32)
    zeros = _with_zeros(rng, (3, 9), [(0, 2), (1, 5), (1, 7), (2, 0)])
    return [
        ("softmax", lambda x: F.softmax(x, dim=-1), (x32,)),
        ("log_softmax", lambda x: F.log_softmax(x, dim=1), (x32,)),
        ("gelu", lambda x: F.gelu(x), (x32,)),
        ("gelu tanh", lambda x: F.gelu(x, approximate="tanh"), (x32,)),
        ("layer_norm", lambda x, w, b: F.layer_norm(x, (9,), w, b), (x32, w32, b32)),
        ("batch_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         (c32, wc, bc)),
        ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), (c32, wc, bc)),
        ("cumprod with zeros", lambda x: mg.cumprod(x, 1), (zeros,)),
    ]


FLOAT32_CASES = _float32_cases()


@pytest.mark.parametrize("name, fn, inputs", FLOAT32_CASES, ids=[c[0] for c in FLOAT32_CASES])
def test_first_gradient_is_the_same_with_and_without_create_graph(name, fn, inputs):
    out = fn(*inputs)
    rng = np.random.default_rng(11)
    g = mg.tensor(rng.standard_normal(tuple(out.shape)).astype(out.dtype))
    plain = _first_gradients(fn, inputs, g, create_graph=False)
    graphed = _first_gradients(fn, inputs, g, create_graph=True)
    for a, b in zip(plain, graphed):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# The norms' backward, for every subset of (x, weight, bias) that requires grad
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("grad_of", ["x", "weight", "bias", "x+weight", "weight+bias", "x+bias"])
def test_layer_norm_derivatives_for_each_subset_of_inputs(grad_of):
    rng = np.random.default_rng(5)
    x, w, b = _leaf(rng, 3, 5), _leaf(rng, 5), _leaf(rng, 5)
    wanted = grad_of.split("+")
    for name, t in (("x", x), ("weight", w), ("bias", b)):
        t.requires_grad = name in wanted
    inputs = [t for name, t in (("x", x), ("weight", w), ("bias", b)) if name in wanted]

    def fn(*vs):
        args = {"x": x, "weight": w, "bias": b}
        args.update(zip(wanted, vs))
        # squared: the bias alone has a second derivative only through the square
        return F.layer_norm(args["x"], (5,), args["weight"], args["bias"]) ** 2

    assert mg.autograd.gradcheck(fn, inputs)
    assert mg.autograd.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("grad_of", ["x", "weight", "bias", "x+weight", "weight+bias", "x+bias"])
def test_batch_norm_derivatives_for_each_subset_of_inputs(grad_of):
    rng = np.random.default_rng(6)
    x, w, b = _leaf(rng, 3, 2, 3, 2), _leaf(rng, 2), _leaf(rng, 2)
    wanted = grad_of.split("+")
    for name, t in (("x", x), ("weight", w), ("bias", b)):
        t.requires_grad = name in wanted
    inputs = [t for name, t in (("x", x), ("weight", w), ("bias", b)) if name in wanted]

    def fn(*vs):
        args = {"x": x, "weight": w, "bias": b}
        args.update(zip(wanted, vs))
        return F.batch_norm(args["x"], None, None, args["weight"], args["bias"],
                            training=True) ** 2

    assert mg.autograd.gradcheck(fn, inputs)
    assert mg.autograd.gradgradcheck(fn, inputs)
