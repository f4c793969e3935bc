"""lgamma, digamma, polygamma and erfinv against PyTorch, the standard library and SciPy."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg

RNG = np.random.default_rng(7)
# a spread of magnitudes and signs, near (not on) the poles at 0, -1, -2, ...
GAMMA_POINTS = np.concatenate([
    RNG.uniform(-20, 20, 200), RNG.uniform(0, 1e-3, 10), 10.0 ** RNG.uniform(-8, 6, 40),
    -np.arange(1, 8) + 1e-6, -np.arange(1, 8) - 0.5, [1.0, 2.0, 10.0, 0.5, 1e17, 3e17]])
SPECIAL_VALUES = np.array([0.0, -0.0, -1.0, -4.0, np.inf, -np.inf, np.nan])
ERFINV_POINTS = np.concatenate([RNG.uniform(-1, 1, 300), [0.0, -0.0, 0.7, -0.7, 0.7000001],
                                1 - 10.0 ** -RNG.uniform(1, 15, 30),
                                -(1 - 10.0 ** -RNG.uniform(1, 15, 30))])


def _torch():
    return pytest.importorskip("torch")


def _values(fn, x):
    with np.errstate(all="ignore"):
        return fn(mg.tensor(x)).array


@pytest.mark.parametrize("name", ["lgamma", "digamma", "erfinv"])
def test_float64_matches_torch_to_1e_13(name):
    torch = _torch()
    points = ERFINV_POINTS if name == "erfinv" else GAMMA_POINTS
    points = np.concatenate([points, SPECIAL_VALUES, [1.5, -1.5]])
    ours = _values(getattr(mg, name), points)
    theirs = getattr(torch, name)(torch.tensor(points)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=0, equal_nan=True)
    numbers = ~np.isnan(theirs)
    np.testing.assert_array_equal(np.signbit(ours[numbers]), np.signbit(theirs[numbers]))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7])
def test_polygamma_float64_matches_torch(n):
    """PyTorch's trigamma (n = 1) is a short series good to ~5e-10 relative (ours: the zeta
    form, as for n >= 2, good to ~1e-15; see test_digamma_polygamma_erfinv_match_scipy); at
    its poles it returns 1/sin(pi x)^2 of a rounded pi x (6.6e32 at x = -1) where we give
    inf, and for n >= 2 NaN at +inf where we give the limit, 0."""
    torch = _torch()
    special = (np.array([0.0, -0.0, -1.0, -4.0, -np.inf, np.nan]) if n > 1
               else np.array([0.0, -0.0, np.nan]))
    points = np.concatenate([GAMMA_POINTS[:250], special])
    ours = _values(lambda x: mg.polygamma(n, x), points)
    theirs = torch.polygamma(n, torch.tensor(points)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12 if n > 1 else 1e-9, atol=0,
                               equal_nan=True)
    if n == 1:
        assert np.isposinf(_values(lambda x: mg.polygamma(1, x), [-1.0, -4.0])).all()
    # the limit at +inf (PyTorch: 0 for n = 1, NaN for n >= 2)
    assert _values(lambda x: mg.polygamma(n, x), [np.inf])[0] == 0.0


@pytest.mark.parametrize("name", ["lgamma", "digamma", "erfinv"])
def test_float32_matches_torch(name):
    torch = _torch()
    points = (ERFINV_POINTS[:300] if name == "erfinv" else GAMMA_POINTS[:250]).astype(np.float32)
    ours = _values(getattr(mg, name), points)
    assert ours.dtype == np.float32
    theirs = getattr(torch, name)(torch.tensor(points)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=2e-6, atol=1e-6)


def test_lgamma_is_the_standard_librarys():
    points = GAMMA_POINTS[np.abs(GAMMA_POINTS) < 1e300]
    expected = np.array([math.lgamma(v) for v in points])
    # equal to the last bits, but near its zeros (x = 1, 2) relative error means little
    np.testing.assert_allclose(_values(mg.lgamma, points), expected, rtol=1e-14, atol=1e-15)


def test_digamma_polygamma_erfinv_match_scipy():
    special = pytest.importorskip("scipy.special")
    x = GAMMA_POINTS
    np.testing.assert_allclose(_values(mg.digamma, x), special.digamma(x), rtol=1e-12,
                               atol=1e-13)
    for n in (1, 2, 5):
        np.testing.assert_allclose(_values(lambda v, n=n: mg.polygamma(n, v), x),
                                   special.polygamma(n, x), rtol=1e-12)
    y = ERFINV_POINTS
    np.testing.assert_allclose(_values(mg.erfinv, y), special.erfinv(y), rtol=1e-13)


def test_identities():
    """digamma(x + 1) = digamma(x) + 1/x; erf(erfinv(y)) = y; lgamma(n) = log((n - 1)!)."""
    x = RNG.uniform(0.1, 30, 50)
    np.testing.assert_allclose(_values(mg.digamma, x + 1), _values(mg.digamma, x) + 1 / x,
                               rtol=1e-13, atol=1e-14)
    y = RNG.uniform(-0.99, 0.99, 50)
    np.testing.assert_allclose(_values(mg.erf, _values(mg.erfinv, y)), y, rtol=1e-15,
                               atol=1e-16)
    n = np.arange(1, 30, dtype=np.float64)
    np.testing.assert_allclose(_values(mg.lgamma, n),
                               [math.log(math.factorial(int(k) - 1)) for k in n], rtol=1e-14)


@pytest.mark.parametrize("name", ["lgamma", "digamma", "erfinv", "polygamma"])
def test_gradients_match_torch(name):
    torch = _torch()
    points = (RNG.uniform(-0.95, 0.95, 7) if name == "erfinv"
              else np.array([-2.5, -0.3, 0.2, 1.0, 3.7, 12.0, 40.0]))

    def call(module, x):
        return module.polygamma(2, x) if name == "polygamma" else getattr(module, name)(x)

    x = mg.tensor(points, requires_grad=True)
    (gx,) = mg.autograd.grad(call(mg, x).sum(), [x], create_graph=True)
    (ggx,) = mg.autograd.grad(gx.sum(), [x])
    xt = torch.tensor(points, requires_grad=True)
    (gt,) = torch.autograd.grad(call(torch, xt).sum(), [xt], create_graph=True)
    (ggt,) = torch.autograd.grad(gt.sum(), [xt])
    # PyTorch's trigamma (digamma's derivative, lgamma's second) is good to ~5e-10 only
    np.testing.assert_allclose(gx.array, gt.detach().numpy(),
                               rtol=1e-9 if name == "digamma" else 1e-12)
    np.testing.assert_allclose(ggx.array, ggt.numpy(), rtol=1e-9)


def test_methods_in_place_forms_and_integer_inputs():
    x = mg.tensor([0.25, 1.5, 4.0], dtype=mg.float64)
    for name in ("lgamma", "digamma", "erfinv"):
        inputs = x / 5 if name == "erfinv" else x
        expected = getattr(mg, name)(inputs)
        assert mg.equal(getattr(inputs, name)(), expected)
        copy = inputs.clone()
        assert getattr(copy, f"{name}_")() is copy and mg.equal(copy, expected)
    assert mg.equal(x.polygamma(2), mg.polygamma(2, x))
    copy = x.clone()
    copy.polygamma_(1)
    assert mg.equal(copy, mg.polygamma(1, x))
    whole = mg.lgamma(mg.tensor([1, 2, 5]))
    assert whole.dtype == mg.get_default_dtype()
    np.testing.assert_allclose(whole.array, [0.0, 0.0, math.log(24)], atol=1e-6)


@pytest.mark.filterwarnings("error")
def test_poles_give_inf_and_nan_without_warnings():
    poles = mg.tensor([0.0, -1.0, -3.0], dtype=mg.float64)
    assert np.isposinf(mg.lgamma(poles).array).all()
    assert np.isnan(mg.digamma(poles).array[1:]).all()
    assert np.isposinf(mg.polygamma(1, poles).array).all()
    assert np.isnan(mg.erfinv(mg.tensor([1.5, -2.0])).array).all()


def test_bad_arguments():
    x = mg.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="negative n"):
        mg.polygamma(-1, x)
    with pytest.raises(TypeError, match="n must be an int"):
        mg.polygamma(1.5, x)
    with pytest.raises(TypeError, match="lgamma"):
        mg.lgamma([1.0, 2.0])
    with pytest.raises(TypeError, match="erfinv"):
        mg.erfinv(0.5)
