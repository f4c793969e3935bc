"""Registry entries for ``mg.linalg``'s inverse, solve and determinants (``ops/linalg.py``).
Matrices are kept well conditioned (a random matrix plus 3 I) so that finite differences are
accurate; a singular det has its own test in test_linalg_solve_det.py."""

from __future__ import annotations

import numpy as np
from opinfo import Sample, register

import minigrad as mg


def _matrix(r, *shape):
    n = shape[-1]
    a = r.uniform(-1.0, 1.0, size=shape) + 3.0 * np.eye(n)
    return mg.tensor(a, dtype=mg.float64, requires_grad=True)


def _rhs(r, *shape):
    return mg.tensor(r.uniform(-1.0, 1.0, size=shape), dtype=mg.float64, requires_grad=True)


register("linalg.inv", mg.linalg.inv, lambda r: [Sample(_matrix(r, 3, 3)),
                                                 Sample(_matrix(r, 2, 4, 4))])
register("linalg.det", mg.linalg.det, lambda r: [Sample(_matrix(r, 3, 3)),
                                                 Sample(_matrix(r, 2, 1, 2, 2)),
                                                 Sample(-_matrix(r, 3, 3).detach().requires_grad_(),
                                                        desc="negative determinant")])
register("linalg.slogdet", lambda a: mg.linalg.slogdet(a).logabsdet,
         lambda r: [Sample(_matrix(r, 3, 3)), Sample(-_matrix(r, 2, 4, 4).detach()
                                                     .requires_grad_())])
register("linalg.solve", mg.linalg.solve, lambda r: [
    Sample(_matrix(r, 3, 3), _rhs(r, 3, 2)),
    Sample(_matrix(r, 3, 3), _rhs(r, 3), desc="a vector"),
    Sample(_matrix(r, 2, 3, 3), _rhs(r, 2, 3), desc="a batch of vectors"),
    Sample(_matrix(r, 2, 1, 3, 3), _rhs(r, 4, 3, 1), desc="batch dims broadcast"),
    Sample(_matrix(r, 3, 3), _rhs(r, 2, 3), left=False, desc="X A = B")])
