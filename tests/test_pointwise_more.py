"""The inverse trigonometric and hyperbolic functions, exp2, frac, sinc, deg2rad/rad2deg, logit,
hypot, logaddexp(2), xlogy, copysign, fmax/fmin and float_power: values, dtypes and
gradients against PyTorch at the edges, methods and in-place forms, and clear errors.
(Gradients on smooth random inputs are in the registry, tests/opinfo_pointwise_more.py.)"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

UNARY = ["asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "exp2", "frac",
         "sinc", "deg2rad", "rad2deg", "logit"]
BINARY = ["hypot", "logaddexp", "logaddexp2", "xlogy", "copysign", "fmax", "fmin",
          "float_power"]
ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
           "arccosh": "acosh", "arctanh": "atanh"}


def _pair(values, dtype=np.float64):
    torch = pytest.importorskip("torch")
    array = np.asarray(values, dtype=dtype)
    return (mg.tensor(array, requires_grad=True),
            torch.tensor(array, requires_grad=True))


def _assert_matches(mine, theirs):
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-6,
                               atol=1e-12, equal_nan=True)
    assert mine.dtype == np.dtype(str(theirs.dtype).replace("torch.", ""))


# edge values: the ends of each domain, 0, +-inf, nan, and odd sizes
EDGES = [0.0, -0.0, 0.5, -0.75, 1.0, -1.0, 1.5, 3.25, -7.0, np.inf, -np.inf, np.nan]


@pytest.mark.parametrize("name", UNARY)
def test_unary_values_and_gradients_at_the_edges_match_torch(name):
    torch = pytest.importorskip("torch")
    x, tx = _pair(EDGES)
    y, ty = getattr(mg, name)(x), getattr(torch, name)(tx)
    _assert_matches(y, ty)
    w = np.linspace(-1, 1, len(EDGES))
    (y * mg.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    _assert_matches(x.grad, tx.grad)


@pytest.mark.parametrize("name", BINARY)
def test_binary_values_and_gradients_at_the_edges_match_torch(name):
    torch = pytest.importorskip("torch")
    a_values = np.array(EDGES)
    b_values = np.array([1.0, 2.0, 0.0, -0.0, 1.0, np.nan, 0.25, -3.0, 4.0, 1.0, 2.0, 0.5])
    a, ta = _pair(a_values)
    b, tb = _pair(b_values[::-1].copy())
    y, ty = getattr(mg, name)(a, b), getattr(torch, name)(ta, tb)
    _assert_matches(y, ty)
    finite = np.isfinite(ty.detach().numpy())       # skip nan/inf outputs: their gradients
    w = np.where(finite, np.linspace(-1, 1, len(EDGES)), 0.0)   # are conventions
    (y * mg.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    _assert_matches(a.grad, ta.grad)
    grad_b, torch_grad_b = b.grad, tb.grad
    if name == "float_power":
        # mg.pow's d/db at a < 0 is 0 where PyTorch's is NaN (ops/elementwise.py, Pow)
        keep = a_values[::-1] >= 0
        grad_b, torch_grad_b = grad_b[mg.tensor(keep)], torch_grad_b[torch.tensor(keep)]
    _assert_matches(grad_b, torch_grad_b)


@pytest.mark.parametrize("name", UNARY + BINARY)
def test_integer_inputs_and_dtypes_follow_torch(name):
    torch = pytest.importorskip("torch")
    values = np.array([[1, 2, 3], [0, 4, 1]], dtype=np.int64)
    mine_args = [mg.tensor(values)] * (2 if name in BINARY else 1)
    torch_args = [torch.tensor(values)] * (2 if name in BINARY else 1)
    try:
        expected = getattr(torch, name)(*torch_args)
    except RuntimeError:
        with pytest.raises((RuntimeError, TypeError), match=name):
            getattr(mg, name)(*mine_args)
        return
    _assert_matches(getattr(mg, name)(*mine_args), expected)


def test_float32_stays_float32_and_float_power_is_float64():
    x = mg.rand(3, 2) + 0.1
    for name in UNARY:
        assert getattr(mg, name)(x).dtype == mg.float32, name
    for name in BINARY:
        expected = mg.float64 if name == "float_power" else mg.float32
        assert getattr(mg, name)(x, x).dtype == expected, name


def test_aliases_are_the_same_functions():
    for alias, name in ALIASES.items():
        assert getattr(mg, alias) is getattr(mg, name)
        x = mg.rand(4) * 0.5
        np.testing.assert_array_equal(getattr(x, alias)().numpy(), getattr(x, name)().numpy())


@pytest.mark.parametrize("name", UNARY + BINARY)
def test_methods_and_inplace_forms(name):
    x = mg.rand(2, 3, dtype=mg.float64) * 0.8 + 0.1
    args = (x.detach() * 0.5,) if name in BINARY else ()
    expected = getattr(mg, name)(x, *args)
    np.testing.assert_array_equal(getattr(x, name)(*args).numpy(), expected.numpy())
    if name in ("logaddexp", "logaddexp2", "fmax", "fmin"):
        return                                      # PyTorch has no in-place form of these
    leaf = mg.tensor(x.numpy(), requires_grad=True)
    y = leaf * 1.0
    version = y._version[0]
    assert getattr(y, name + "_")(*args) is y
    np.testing.assert_allclose(y.detach().numpy(), expected.numpy())
    assert y._version[0] > version
    y.sum().backward()                              # recorded: the gradient goes through
    assert leaf.grad is not None


def test_python_scalar_operands():
    x = mg.tensor([0.5, 2.0, 0.0], dtype=mg.float64)
    np.testing.assert_allclose(mg.xlogy(2.0, x).numpy(), 2.0 * np.log(x.numpy()))
    np.testing.assert_allclose(mg.hypot(x, 1.5).numpy(), np.hypot(x.numpy(), 1.5))
    np.testing.assert_allclose(mg.float_power(2, x).numpy(), 2.0 ** x.numpy())
    assert mg.copysign(x, -1.0).numpy().tolist() == [-0.5, -2.0, -0.0]


@pytest.mark.parametrize("shape", [(), (3, 5)])
def test_xlogy_with_a_python_number_keeps_the_tensors_dtype(shape):
    """xlogy(float32 tensor, 3.3) is float32, as in PyTorch: the number's log must not
    widen it (a 0-d tensor included)."""
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(5).uniform(-2, 2, shape).astype(np.float32)
    values.reshape(-1)[:1] = 0.0
    for other in (3.3, 0.0, -1.5, float("nan")):
        mine, theirs = mg.xlogy(mg.tensor(values), other), torch.xlogy(torch.tensor(values), other)
        _assert_matches(mine, theirs)


def test_errors_name_the_op():
    with pytest.raises(TypeError, match="frac: expected a floating-point Tensor, got int64"):
        mg.frac(mg.tensor([1, 2]))
    with pytest.raises(TypeError, match="hypot: expected at least one Tensor"):
        mg.hypot(1.0, 2.0)
    with pytest.raises(TypeError, match="asin"):
        mg.asin([0.5])
    with pytest.raises(RuntimeError, match=r"xlogy.*\(3,\).*\(4,\)"):
        mg.xlogy(mg.rand(3), mg.rand(4))


def test_logaddexp_does_not_overflow():
    big = mg.tensor([1000.0, -1000.0], dtype=mg.float64)
    np.testing.assert_allclose(mg.logaddexp(big, big).numpy(), [1000.0 + np.log(2), -1000.0 +
                                                                np.log(2)])


def test_logit_eps_clamps_and_stops_the_gradient_outside():
    p = mg.tensor([0.0, 0.5, 1.0], dtype=mg.float64, requires_grad=True)
    y = mg.logit(p, eps=0.1)
    np.testing.assert_allclose(y.detach().numpy(), [np.log(1 / 9), 0.0, np.log(9)])
    y.sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), [0.0, 4.0, 0.0])
