"""Registry entries for the scans, index ops, rearranging ops, more pointwise functions,
statistics and ``mg.linalg`` (``ops/scan.py``, ``indexing.py``, ``rearrange.py``,
``pointwise.py``, ``statistics.py``, ``linalg.py``).

Samples keep away from kinks and jumps (clamp bounds, remainder's wrap, ties of max/median),
so that finite differences see a smooth function; zeros are put in on purpose where the
gradient must handle them (cumprod, prod, scatter_reduce with "prod").
"""

from __future__ import annotations

import numpy as np
from opinfo import Sample, register, t

import minigrad as mg


def _leaf(array):
    """A float64 leaf with exactly these values (t() draws random ones)."""
    return mg.tensor(np.asarray(array, dtype=np.float64), dtype=mg.float64, requires_grad=True)


def _with_zeros(r, *shape, where):
    x = r.uniform(0.5, 1.5, size=shape) * r.choice([-1.0, 1.0], size=shape)
    for position in where:
        x[position] = 0.0
    return _leaf(x)


def _index(array):
    return mg.tensor(np.asarray(array, dtype=np.int64))


def _distinct_rows(r, n_index, size, cols):
    """An index (n_index, cols) whose every column holds distinct rows < size (no position is
    written twice, so scatter's overwrite has a derivative everywhere)."""
    return _index(np.stack([r.permutation(size)[:n_index] for _ in range(cols)], axis=1))


# ---- scans and products ---------------------------------------------------------------------
register("cumsum", mg.cumsum, lambda r: [Sample(t(r, 3, 4, 5), 1), Sample(t(r, 5), -1),
                                         Sample(t(r, 2, 3), dim=0)])
register("cumprod", mg.cumprod, lambda r: [
    Sample(t(r, 3, 5, positive=True), 1),
    Sample(t(r, 4, 3, away_from=0.0), -2),
    Sample(_with_zeros(r, 2, 6, where=[(0, 2), (1, 0), (1, 4)]), 1, desc="a zero per row"),
    Sample(_with_zeros(r, 5, 2, where=[(1, 0), (3, 0), (4, 1)]), 0, desc="two zeros in a column"),
    Sample(_with_zeros(r, 2, 4, 3, where=[(0, 1, 2), (1, 0, 0), (1, 3, 0)]), 1,
           desc="3-D, zeros along the middle dim")])
register("prod_zeros", mg.prod, lambda r: [
    Sample(_with_zeros(r, 3, 4, where=[(0, 1), (2, 0), (2, 3)]), 1, desc="one and two zeros"),
    Sample(_with_zeros(r, 2, 3, where=[(1, 2)]), desc="all elements"),
    Sample(_with_zeros(r, 4, 2, where=[(3, 1)]), 0, keepdim=True)])

# ---- reading at indices -----------------------------------------------------------------------
register("index_select", mg.index_select, lambda r: [
    Sample(t(r, 3, 4, 2), 1, _index([3, 0, 3])),
    Sample(t(r, 5, 2), -2, _index([4, 1]))])
register("take_along_dim", mg.take_along_dim, lambda r: [
    Sample(t(r, 3, 4), _index(r.integers(0, 4, (3, 2))), 1),
    Sample(t(r, 3, 1, 4), _index(r.integers(0, 3, (2, 3, 1))), 0, desc="broadcast"),
    Sample(t(r, 2, 3), _index([[5, 0], [2, 2]]), desc="flattened")])
register("masked_select", mg.masked_select, lambda r: [
    Sample(t(r, 3, 4), mg.tensor(r.random((3, 4)) > 0.4)),
    Sample(t(r, 4), mg.tensor(r.random((2, 4)) > 0.4), desc="broadcast input")])
register("narrow", mg.narrow, lambda r: [Sample(t(r, 3, 5), 1, 1, 3),
                                         Sample(t(r, 4, 2), 0, -3, 2)])
register("select", mg.select, lambda r: [Sample(t(r, 3, 5), 1, -2), Sample(t(r, 4, 2, 3), 0, 3)])

# ---- writing at indices -----------------------------------------------------------------------
register("index_add", mg.index_add, lambda r: [
    Sample(t(r, 3, 4), 1, _index([0, 3, 0]), t(r, 3, 3), desc="repeated index"),
    Sample(t(r, 4, 2), -2, _index([2]), t(r, 1, 2), alpha=-1.5)])
register("scatter", mg.scatter, lambda r: [
    Sample(t(r, 4, 3), 0, _distinct_rows(r, 2, 4, 3), t(r, 2, 3)),
    Sample(t(r, 3, 5), 1, _index([[4, 0], [1, 2]]), t(r, 3, 3), desc="src larger than index"),
    Sample(t(r, 3, 4), 1, _index([[0], [3], [2]]), value=0.5, desc="value")])


def _scatter_reduce_samples(reduce):
    def samples(r):
        index = _index(r.integers(0, 4, (3, 5)))
        out = [Sample(t(r, 3, 4), 1, index, t(r, 3, 5), reduce, include_self=include)
               for include in (True, False)]
        out.append(Sample(t(r, 5, 2), -2, _index(r.integers(0, 5, (3, 1))), t(r, 4, 2), reduce,
                          desc="dim 0, index smaller than x and src"))
        return out
    return samples


for _reduce in ("sum", "mean", "amax", "amin", "prod"):
    register(f"scatter_reduce_{_reduce}", mg.scatter_reduce, _scatter_reduce_samples(_reduce),
             covers=("scatter_reduce",))
register("scatter_reduce_prod_zeros", mg.scatter_reduce, lambda r: [
    Sample(_with_zeros(r, 2, 3, where=[(0, 1)]), 1, _index([[1, 1, 2, 0], [0, 2, 2, 1]]),
           _with_zeros(r, 2, 4, where=[(0, 2), (1, 1)]), "prod",
           desc="a zero in self, one zero per position in src")])

# ---- rearranging ------------------------------------------------------------------------------
register("roll", mg.roll, lambda r: [Sample(t(r, 3, 4), 1, 1),
                                     Sample(t(r, 2, 3, 4), (2, -1), (0, -1)),
                                     Sample(t(r, 2, 3), 4, desc="flattened")])
register("movedim", mg.movedim, lambda r: [Sample(t(r, 2, 3, 4), 0, -1),
                                           Sample(t(r, 2, 3, 4), (0, 1), (2, 0))],
         covers=("moveaxis",))
register("tile", mg.tile, lambda r: [Sample(t(r, 2, 3), (2,)), Sample(t(r, 3), (2, 1, 2))])
register("repeat_interleave", mg.repeat_interleave, lambda r: [
    Sample(t(r, 3, 2), 2, dim=0), Sample(t(r, 2, 3), _index([1, 0, 3]), dim=-1),
    Sample(t(r, 2, 2), 3, desc="flattened")])
register("hstack", lambda a, b: mg.hstack([a, b]), lambda r: [
    Sample(t(r, 3, 2), t(r, 3, 1)), Sample(t(r, 2), t(r, 3), desc="1-D")])
register("vstack", lambda a, b: mg.vstack([a, b]), lambda r: [
    Sample(t(r, 2, 3), t(r, 3)), Sample(t(r, 1, 2), t(r, 2, 2))])
register("diagonal", mg.diagonal, lambda r: [
    Sample(t(r, 3, 4)), Sample(t(r, 3, 4), 1), Sample(t(r, 2, 3, 4), -1, 2, 0),
    Sample(t(r, 3, 2, 3), offset=0, dim1=-1, dim2=0)])
register("tril", mg.tril, lambda r: [Sample(t(r, 3, 4)), Sample(t(r, 2, 4, 3), -1)])
register("triu", mg.triu, lambda r: [Sample(t(r, 4, 3)), Sample(t(r, 2, 3, 4), diagonal=2)])

# ---- pointwise --------------------------------------------------------------------------------
register("log2", mg.log2, lambda r: [Sample(t(r, 3, 4, positive=True))])
register("log10", mg.log10, lambda r: [Sample(t(r, 3, 4, positive=True))])
register("expm1", mg.expm1, lambda r: [Sample(t(r, 3, 4))])
register("tan", mg.tan, lambda r: [Sample(t(r, 3, 4, low=-1.2, high=1.2))])
register("erfc", mg.erfc, lambda r: [Sample(t(r, 3, 4))])
register("atan2", mg.atan2, lambda r: [
    Sample(t(r, 3, 4, away_from=0.0), t(r, 4, away_from=0.0)),
    Sample(t(r, 2, 1, away_from=0.0), t(r, 3, away_from=0.0), desc="broadcast both"),
    Sample(t(r, 3, away_from=0.0), 0.7, desc="tensor, python scalar")], covers=("arctan2",))


def _away_from_jumps(r, *shape, divisor):
    """Dividends whose quotient by ``divisor`` stays 0.2 away from an integer: remainder and
    fmod jump there."""
    q = r.integers(-3, 3, size=shape) + r.uniform(0.2, 0.8, size=shape)
    return _leaf(q * divisor)


register("remainder", mg.remainder, lambda r: [
    Sample(_away_from_jumps(r, 3, 4, divisor=1.5), _leaf(np.full(4, 1.5))),
    Sample(_away_from_jumps(r, 2, 3, divisor=-0.7), -0.7, desc="negative python divisor")])
register("fmod", mg.fmod, lambda r: [
    Sample(_away_from_jumps(r, 3, 4, divisor=1.5), _leaf(np.full((3, 1), 1.5))),
    Sample(_away_from_jumps(r, 5, divisor=0.8), 0.8)])
register("clamp_min", mg.clamp_min, lambda r: [
    Sample(t(r, 3, 4, away_from=0.2), 0.2),
    Sample(t(r, 3, 4, away_from=0.0), _leaf(np.zeros(4) + 0.0), desc="tensor bound")])
register("clamp_max", mg.clamp_max, lambda r: [Sample(t(r, 3, 4, away_from=-0.3), -0.3)])


def _clamp_tensor_bound(r):
    x = t(r, 3, 4)
    bound = _leaf(x.detach().numpy() + r.choice([-0.5, 0.5], size=(3, 4)))
    return [Sample(x, bound, desc="tensor bound, no ties")]


register("clamp_min_tensor", mg.clamp_min, _clamp_tensor_bound, covers=("clamp_min",))
register("clamp_max_tensor", mg.clamp_max, _clamp_tensor_bound, covers=("clamp_max",))
register("nan_to_num", mg.nan_to_num, lambda r: [
    Sample(_leaf([[0.5, np.nan, -1.0], [np.inf, 2.0, -np.inf]])),
    Sample(_leaf([np.nan, 1.0, np.inf]), nan=2.0, posinf=3.0, neginf=-3.0)])
register("addcmul", mg.addcmul, lambda r: [Sample(t(r, 3, 4), t(r, 4), t(r, 3, 1), value=-0.5),
                                           Sample(t(r, 2), t(r, 2), t(r, 2))])
register("addcdiv", mg.addcdiv, lambda r: [
    Sample(t(r, 3, 4), t(r, 4), t(r, 3, 1, positive=True), value=2.0)])

# ---- products ---------------------------------------------------------------------------------
register("mv", mg.mv, lambda r: [Sample(t(r, 3, 4), t(r, 4))])
register("baddbmm", mg.baddbmm, lambda r: [
    Sample(t(r, 2, 3, 2), t(r, 2, 3, 4), t(r, 2, 4, 2)),
    Sample(t(r, 2), t(r, 3, 2, 4), t(r, 3, 4, 2), beta=0.5, alpha=-2.0, desc="broadcast input")])
register("einsum", mg.einsum, lambda r: [
    Sample("ij,jk->ik", t(r, 2, 3), t(r, 3, 4), desc="matmul"),
    Sample("bij,bjk", t(r, 2, 2, 3), t(r, 2, 3, 2), desc="batched, implicit output"),
    Sample("ii->i", t(r, 3, 3), desc="diagonal"),
    Sample("ii", t(r, 3, 3), desc="trace"),
    Sample("i,j->ji", t(r, 3), t(r, 2), desc="outer"),
    Sample("ijk,j->i", t(r, 2, 3, 2), t(r, 3), desc="k summed in one operand"),
    Sample("...ij,...jk->...ik", t(r, 2, 1, 2, 3), t(r, 3, 3, 2), desc="ellipsis broadcast"),
    Sample("ij,j->i", t(r, 2, 3), t(r, 1), desc="size-1 broadcast of a letter"),
    Sample("ab,bc,cd->ad", t(r, 2, 3), t(r, 3, 2), t(r, 2, 2), desc="three operands")])

# ---- statistics -------------------------------------------------------------------------------
register("var_mean", mg.var_mean, lambda r: [Sample(t(r, 3, 4), 1),
                                             Sample(t(r, 2, 3, 2), (0, 2), correction=0,
                                                    keepdim=True)])
register("std_mean", mg.std_mean, lambda r: [Sample(t(r, 3, 4), -1), Sample(t(r, 5))])
register("median", lambda x, *a, **k: mg.median(x, *a, **k)[0] if a or k else mg.median(x),
         lambda r: [Sample(t(r, 3, 5)), Sample(t(r, 4)), Sample(t(r, 3, 4), 1),
                    Sample(t(r, 3, 4), 0, keepdim=True)])

# ---- mg.linalg --------------------------------------------------------------------------------
register("linalg.vector_norm", mg.linalg.vector_norm, lambda r: [
    Sample(t(r, 3, 4)),
    Sample(t(r, 3, 4, away_from=0.0), 1, dim=1),
    Sample(t(r, 2, 3, 2, away_from=0.0), 3, dim=(0, 2), keepdim=True),
    Sample(t(r, 3, 4, positive=True), 0.5, dim=-1),
    Sample(t(r, 3, 4), float("inf"), dim=0),
    Sample(t(r, 3, 4), -float("inf"), dim=1)])
register("linalg.matrix_norm", mg.linalg.matrix_norm, lambda r: [
    Sample(t(r, 3, 4)), Sample(t(r, 2, 3, 4, away_from=0.0), 1),
    Sample(t(r, 3, 4, away_from=0.0), float("inf"), dim=(1, 0), keepdim=True),
    Sample(t(r, 3, 4), "nuc"), Sample(t(r, 2, 4, 3), 2), Sample(t(r, 2, 3, 4), -2),
    Sample(t(r, 3, 2, 4), "nuc", dim=(2, 0), keepdim=True)])
register("linalg.norm", mg.linalg.norm, lambda r: [
    Sample(t(r, 2, 3, 2)), Sample(t(r, 3, 4), "fro"), Sample(t(r, 4, away_from=0.0), 1),
    Sample(t(r, 3, 4, away_from=0.0), -1, dim=(0, 1)), Sample(t(r, 3, 4), 3, dim=1),
    Sample(t(r, 4, 3), "nuc"), Sample(t(r, 2, 3, 4), 2, dim=(1, 2))])


def _svd_invariants(A, full_matrices=True):
    """The functions of an SVD that do not depend on the signs LAPACK picks for the singular
    vectors: S, U Vh, |U| and |Vh| (their first k vectors; the rest of a full U has no
    gradient), as PyTorch's OpInfo samples check it."""
    U, S, Vh = mg.linalg.svd(A, full_matrices=full_matrices)
    k = S.shape[-1]
    U, Vh = U[..., :k], Vh[..., :k, :]
    return S, U @ Vh, U.abs(), Vh.abs()


register("linalg.svd", _svd_invariants, lambda r: [
    Sample(t(r, 3, 5)), Sample(t(r, 5, 3)), Sample(t(r, 4, 4), full_matrices=False),
    Sample(t(r, 2, 4, 3), full_matrices=False), Sample(t(r, 2, 3, 4))])
register("linalg.svdvals", mg.linalg.svdvals, lambda r: [
    Sample(t(r, 3, 5)), Sample(t(r, 5, 3)), Sample(t(r, 2, 2, 3))])

# ---- NaN-skipping reductions, flips and rotations, ravel, trace -------------------------------


def _with_nan(r, *shape):
    x = r.uniform(-2, 2, size=shape)
    x.flat[r.choice(x.size, size=2, replace=False)] = np.nan
    return _leaf(x)


register("nansum", mg.nansum, lambda r: [
    Sample(_with_nan(r, 3, 4)), Sample(_with_nan(r, 3, 4), 1),
    Sample(_with_nan(r, 2, 3, 2), (0, 2), keepdim=True)])
register("nanmean", mg.nanmean, lambda r: [
    Sample(_with_nan(r, 3, 4)), Sample(_with_nan(r, 3, 5), 1),
    Sample(_with_nan(r, 2, 3, 2), (0, 2), keepdim=True)])
register("fliplr", mg.fliplr, lambda r: [Sample(t(r, 3, 4)), Sample(t(r, 2, 3, 2))])
register("flipud", mg.flipud, lambda r: [Sample(t(r, 5)), Sample(t(r, 3, 4))])
register("rot90", mg.rot90, lambda r: [
    Sample(t(r, 3, 4)), Sample(t(r, 3, 4), 2), Sample(t(r, 2, 3, 4), -1, (2, 0)),
    Sample(t(r, 2, 3), 4)])
register("ravel", mg.ravel, lambda r: [Sample(t(r, 3, 4).transpose(0, 1)), Sample(t(r))])
register("trace", mg.trace, lambda r: [Sample(t(r, 3, 3)), Sample(t(r, 2, 5)),
                                       Sample(t(r, 4, 3))])

# ---- splits, grids, broadcasting of several tensors, aminmax ----------------------------------
register("tensor_split", mg.tensor_split, lambda r: [
    Sample(t(r, 7, 3), 3), Sample(t(r, 3, 6), [1, 4], dim=1),
    Sample(t(r, 2, 5), [4, 2, -1], dim=-1, desc="decreasing and negative indices")])
register("hsplit", mg.hsplit, lambda r: [Sample(t(r, 3, 6), 3), Sample(t(r, 6), [2])])
register("vsplit", mg.vsplit, lambda r: [Sample(t(r, 4, 3), 2), Sample(t(r, 4, 3), [1, 3])])
register("dsplit", mg.dsplit, lambda r: [Sample(t(r, 2, 3, 4), 2)])
register("broadcast_tensors", mg.broadcast_tensors, lambda r: [
    Sample(t(r, 3, 1), t(r, 4), t(r, 2, 1, 1))])
register("meshgrid", mg.meshgrid, lambda r: [
    Sample(t(r, 3), t(r, 2), indexing="ij"), Sample(t(r, 3), t(r, 2), t(r, 4), indexing="xy"),
    Sample(t(r), t(r, 2), desc="a 0-d input")])
register("cartesian_prod", mg.cartesian_prod, lambda r: [Sample(t(r, 3), t(r, 2), t(r, 2)),
                                                          Sample(t(r, 4))])


def _distinct(r, *shape):
    """Distinct values: amin and amax have no ties, so finite differences see one winner."""
    return _leaf(r.permutation(np.prod(shape)).reshape(shape) * 0.3 + r.uniform(0, 0.1, shape))


register("aminmax", mg.aminmax, lambda r: [
    Sample(_distinct(r, 3, 4)), Sample(_distinct(r, 3, 4), dim=1),
    Sample(_distinct(r, 2, 3, 2), dim=0, keepdim=True)])

# ---- diagonal matrices, take, inner, kron -----------------------------------------------------
register("diag_embed", mg.diag_embed, lambda r: [
    Sample(t(r, 3)), Sample(t(r, 2, 3), 1), Sample(t(r, 2, 3), -2, 0, 2),
    Sample(t(r, 2, 2, 3), 1, 3, 1)])
register("diagflat", mg.diagflat, lambda r: [Sample(t(r, 2, 2)), Sample(t(r, 3), -1)])
register("diag", mg.diag, lambda r: [Sample(t(r, 3)), Sample(t(r, 3), 2), Sample(t(r, 3, 4)),
                                     Sample(t(r, 4, 3), -1)])
register("take", mg.take, lambda r: [
    Sample(t(r, 3, 4), mg.tensor([[0, 11], [-1, 5], [5, 2]])), Sample(t(r, 5), mg.tensor(3))])
register("inner", mg.inner, lambda r: [Sample(t(r, 3), t(r, 3)), Sample(t(r, 2, 3), t(r, 4, 3)),
                                       Sample(t(r), t(r, 2, 3), desc="0-d operand")])
register("kron", mg.kron, lambda r: [Sample(t(r, 2, 3), t(r, 3, 2)), Sample(t(r, 2), t(r, 2, 3)),
                                     Sample(t(r, 2, 1, 2), t(r, 2, 2))])
