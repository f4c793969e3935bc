"""Registry entries for cummax/cummin (``ops/scan.py``), kthvalue, mode, quantile,
nanquantile, cov and corrcoef (``ops/statistics.py``), cdist (``ops/distance.py``) and
tensordot (``ops/linalg.py``).

The picking ops (cummax, kthvalue, mode, quantile's "lower"/"nearest") are smooth only away
from ties, so their samples draw distinct values (random floats); mode's samples have all
values distinct, where the mode is the smallest value (repeated values, where a small change
moves the mode to another copy, are tested by value in test_statistics_more.py)."""

from __future__ import annotations

import numpy as np
from opinfo import Sample, register, t

import minigrad as mg


def _with_nans(r, *shape, where):
    x = r.uniform(-2.0, 2.0, size=shape)
    for position in where:
        x[position] = np.nan
    return mg.tensor(x, dtype=mg.float64, requires_grad=True)


def _q(values):
    return mg.tensor(np.asarray(values, dtype=np.float64))


register("cummax", lambda x, d: mg.cummax(x, d).values, lambda r: [
    Sample(t(r, 3, 5), 1), Sample(t(r, 6), 0), Sample(t(r, 2, 3, 4), -3)])
register("cummin", lambda x, d: mg.cummin(x, d).values, lambda r: [
    Sample(t(r, 4, 3), 0), Sample(t(r, 2, 5), -1)])
register("kthvalue", lambda x, *a, **k: mg.kthvalue(x, *a, **k).values, lambda r: [
    Sample(t(r, 3, 5), 2), Sample(t(r, 4, 3), 4, 0, keepdim=True), Sample(t(r, 6), 6)])
register("mode", lambda x, *a, **k: mg.mode(x, *a, **k).values, lambda r: [
    Sample(t(r, 3, 5)), Sample(t(r, 4, 3), 0, keepdim=True)])
register("quantile", mg.quantile, lambda r: [
    Sample(t(r, 3, 5), 0.3),
    Sample(t(r, 4, 3), _q([0.1, 0.5, 0.95]), 0, keepdim=True),
    Sample(t(r, 7), _q([0.25, 0.8]), interpolation="midpoint"),
    Sample(t(r, 2, 6), 0.4, 1, interpolation="lower"),
    Sample(t(r, 2, 6), 0.4, 1, interpolation="higher"),
    Sample(t(r, 3, 4), 0.7, 1, interpolation="nearest")])
register("nanquantile", mg.nanquantile, lambda r: [
    Sample(_with_nans(r, 3, 6, where=[(0, 1), (2, 2), (2, 5)]), 0.35, 1),
    Sample(_with_nans(r, 5, 2, where=[(4, 0)]), _q([0.2, 0.9]), 0)])
register("cov", mg.cov, lambda r: [
    Sample(t(r, 3, 6)), Sample(t(r, 7), desc="one variable"),
    Sample(t(r, 2, 5), correction=0),
    Sample(t(r, 3, 5), fweights=mg.tensor([1, 3, 0, 2, 1]),
           aweights=mg.tensor(r.uniform(0.2, 1.0, 5)), desc="weighted")])
register("corrcoef", mg.corrcoef, lambda r: [Sample(t(r, 3, 6)), Sample(t(r, 2, 4))])
register("cdist", mg.cdist, lambda r: [
    Sample(t(r, 4, 3), t(r, 5, 3)), Sample(t(r, 2, 3, 2), t(r, 4, 2), p=1.0),
    Sample(t(r, 3, 4), t(r, 2, 4), p=3.0), Sample(t(r, 3, 2), t(r, 2, 2), p=float("inf")),
    Sample(t(r, 2, 3), t(r, 3, 3), p=0.7)])
register("tensordot", mg.tensordot, lambda r: [
    Sample(t(r, 3, 4, 5), t(r, 4, 5, 2)), Sample(t(r, 3, 4), t(r, 4, 2), 1),
    Sample(t(r, 2, 3, 4), t(r, 4, 3, 5), ([1, 2], [1, 0])), Sample(t(r, 2, 3), t(r, 4), 0)])
