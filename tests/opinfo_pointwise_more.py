"""Registry entries for the inverse trigonometric and hyperbolic functions, exp2, frac, sinc,
deg2rad/rad2deg, logit and the functions of two variables hypot, logaddexp(2), xlogy, copysign,
fmax/fmin and float_power (``ops/pointwise.py``).

Samples stay inside each function's domain (acosh: x > 1; asin, atanh: |x| < 1; logit:
0 < p < 1) and away from its kinks (frac's jumps at integers, copysign's at 0, the ties of
fmax/fmin), so that finite differences see a smooth function.
"""

from __future__ import annotations

import numpy as np
from opinfo import Sample, register, t

import minigrad as mg


def _leaf(array):
    return mg.tensor(np.asarray(array, dtype=np.float64), dtype=mg.float64, requires_grad=True)


def _inside(r, *shape, low, high):
    return _leaf(r.uniform(low, high, size=shape))


register("asin", mg.asin, lambda r: [Sample(_inside(r, 3, 5, low=-0.9, high=0.9))],
         covers=("arcsin",))
register("acos", mg.acos, lambda r: [Sample(_inside(r, 3, 5, low=-0.9, high=0.9))],
         covers=("arccos",))
register("atan", mg.atan, lambda r: [Sample(t(r, 3, 5, low=-3, high=3))], covers=("arctan",))
register("sinh", mg.sinh, lambda r: [Sample(t(r, 3, 5))])
register("cosh", mg.cosh, lambda r: [Sample(t(r, 3, 5))])
register("asinh", mg.asinh, lambda r: [Sample(t(r, 3, 5, low=-3, high=3))], covers=("arcsinh",))
register("acosh", mg.acosh, lambda r: [Sample(_inside(r, 3, 5, low=1.2, high=4.0))],
         covers=("arccosh",))
register("atanh", mg.atanh, lambda r: [Sample(_inside(r, 3, 5, low=-0.9, high=0.9))],
         covers=("arctanh",))
register("exp2", mg.exp2, lambda r: [Sample(t(r, 3, 5))])
register("frac", mg.frac, lambda r: [
    Sample(_leaf(r.integers(-3, 3, size=(3, 5)) + r.uniform(0.1, 0.9, size=(3, 5))))])
register("sinc", mg.sinc, lambda r: [Sample(t(r, 3, 5, away_from=0.0))])
# at exactly 0 the second derivative is PyTorch's 0, not the limit -pi^2/3: first only
register("sinc_at_zero", mg.sinc, lambda r: [Sample(_leaf([0.0, 0.5, -1.5]))], gradgrad=False,
         covers=("sinc",))
register("deg2rad", mg.deg2rad, lambda r: [Sample(t(r, 3, 5, low=-200, high=200))])
register("rad2deg", mg.rad2deg, lambda r: [Sample(t(r, 3, 5))])
register("logit", mg.logit, lambda r: [
    Sample(_inside(r, 3, 5, low=0.05, high=0.95)),
    Sample(_leaf([0.3, 0.6, 0.001, 0.999]), eps=0.01, desc="clamped to [eps, 1 - eps]")])

register("hypot", mg.hypot, lambda r: [
    Sample(t(r, 3, 4, away_from=0.0), t(r, 4, away_from=0.0)),
    Sample(t(r, 2, 1, away_from=0.0), 0.7, desc="tensor, python scalar")])
register("logaddexp", mg.logaddexp, lambda r: [
    Sample(t(r, 3, 4), t(r, 4)), Sample(t(r, 2, 1) * 300, t(r, 3) * 300, desc="no overflow")])
register("logaddexp2", mg.logaddexp2, lambda r: [Sample(t(r, 3, 4), t(r, 3, 1))])
register("xlogy", mg.xlogy, lambda r: [
    Sample(t(r, 3, 4), t(r, 4, positive=True)),
    Sample(_leaf([0.0, 1.5, -2.0]), t(r, 3, positive=True), desc="x = 0 counts as 0"),
    Sample(2.5, t(r, 3, positive=True), desc="python scalar x")])
register("copysign", mg.copysign, lambda r: [
    Sample(t(r, 3, 4, away_from=0.0), t(r, 4, away_from=0.0)),
    Sample(t(r, 3, away_from=0.0), -1.0, desc="python scalar sign")])


def _no_ties(r, *shape):
    a = t(r, *shape)
    b = _leaf(a.detach().numpy() + r.choice([-0.5, 0.5], size=shape))
    return a, b


register("fmax", mg.fmax, lambda r: [Sample(*_no_ties(r, 3, 4))])
register("fmin", mg.fmin, lambda r: [Sample(*_no_ties(r, 3, 4))])
register("float_power", mg.float_power, lambda r: [
    Sample(t(r, 3, 4, positive=True), t(r, 4)),
    Sample(t(r, 3, 4), 2, desc="integer exponent"),
    Sample(2.0, t(r, 3), desc="python scalar base")])
