"""Registry entries for the special functions (``ops/special.py``): lgamma, digamma,
polygamma, erfinv. Samples avoid the poles of the gamma family (0, -1, -2, ...) and keep
erfinv's input inside (-1, 1), where finite differences see a smooth function."""

from __future__ import annotations

import numpy as np
from opinfo import Sample, register, t

import minigrad as mg


def _away_from_poles(r, *shape):
    """Values in (-3, 4) at least 0.15 from every integer <= 0."""
    x = r.uniform(-3.0, 4.0, size=shape)
    nearest = np.round(x)
    close = (nearest <= 0) & (np.abs(x - nearest) < 0.15)
    x[close] = nearest[close] + 0.5
    return mg.tensor(x, dtype=mg.float64, requires_grad=True)


register("lgamma", mg.lgamma, lambda r: [Sample(_away_from_poles(r, 3, 4)),
                                         Sample(t(r, 5, positive=True))])
register("digamma", mg.digamma, lambda r: [Sample(_away_from_poles(r, 4, 3)),
                                           Sample(t(r, 2, 3, positive=True))])
register("polygamma", mg.polygamma, lambda r: [
    Sample(0, _away_from_poles(r, 3, 2)),
    Sample(1, _away_from_poles(r, 4)),
    Sample(3, t(r, 2, 3, positive=True))])
register("erfinv", mg.erfinv, lambda r: [Sample(t(r, 3, 4, low=-0.9, high=0.9)),
                                         Sample(t(r, 5, low=0.95, high=0.99))])
