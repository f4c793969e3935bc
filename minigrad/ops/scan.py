"""Scans (running sums and products along a dimension) and the product reduction.

    cumsum:  y_j = x_0 + x_1 + ... + x_j
    cumprod: y_j = x_0 * x_1 * ... * x_j

Every input x_k influences every output y_j with j >= k, so a scan's gradient runs the other
way: a *reverse* running sum of the output gradient. For cumsum that is all there is. For
cumprod, dy_j/dx_k = prod_{i <= j, i != k} x_i, which is y_j / x_k while x_k != 0; zeros in
the input need more care (see ``CumProdBackward``), and so does ``prod`` (see ``Prod``).

``cummax``/``cummin`` return the running extreme and the index it came from; the values are
then a ``gather`` of the input at those indices, which gives them their gradient.
"""

from __future__ import annotations

import collections

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from .arguments import EVERY_DIM, normalize_dim, refuse_none_dim
from .elementwise import where
from .join import cat
from .movement import expand, reshape, unsqueeze
from .subscript import flip


def _scan_input(x: Tensor, dtype, op: str) -> Tensor:
    """Cast to ``dtype`` if given; bools and integers otherwise scan in int64, as in PyTorch."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if dtype is not None:
        return x.to(backend.resolve_dtype(dtype))
    if x.dtype.kind in "biu" and x.dtype != np.int64:
        return x.to(np.int64)
    return x


def _reverse_cumsum(g: Tensor, dim: int) -> Tensor:
    """r_k = g_k + g_{k+1} + ... + g_{n-1} along ``dim``: a cumsum run backwards."""
    return flip(cumsum(flip(g, dim), dim), dim)


class CumSum(ArrayFunction):
    """y_j = sum_{i <= j} x_i along ``dim``.   dx_k = sum_{j >= k} g_j (reverse cumsum of g)."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return backend.array_module(x).cumsum(x, axis=dim) if x.ndim else x.copy()

    @staticmethod
    def backward(ctx, g):
        return (_reverse_cumsum(g, ctx.dim) if g.ndim else g), None


class CumProd(ArrayFunction):
    """y_j = prod_{i <= j} x_i along ``dim``.

    dx_k = sum_{j >= k} g_j * prod_{i <= j, i != k} x_i: ``CumProdBackward``, a Function of
    its own (array code forward, exact at zeros; a backward of its own for second derivatives).
    """

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        y = backend.array_module(x).cumprod(x, axis=dim) if x.ndim else x.copy()
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        if x.ndim == 0 or x.shape[ctx.dim] == 1:            # y = x
            return g, None
        return CumProdBackward.apply(g, x, y, ctx.dim), None


class CumProdBackward(ArrayFunction):
    """gx_k = sum_{j >= k} g_j C[k, j],  C[k, j] = prod_{i <= j, i != k} x_i: cumprod's
    gradient, from its input x and output y.

    Forward, on arrays. Without zeros in x, C[k, j] = y_j / x_k, so gx is a reverse cumsum of
    g * y divided by x. A zero breaks the division; then ``_cumprod_grad_with_zeros`` (O(n)).

    Backward, for an incoming gradient h of gx. <h, gx> = sum_j g_j T_j with
    T_j = sum_{k <= j} h_k C[k, j], how y_j moves when x moves along h. Without zeros, using
    gx = reverse_cumsum(g * y) / x with y an input of its own (y's gradient flows on into
    cumprod's node, which turns it into one for x):

        dg = y * cumsum(h / x),   dy = g * cumsum(h / x),   dx = -h * gx / x

    With zeros, for every k at once: row k of an (n, n) matrix R is x with x_k replaced by h_k,
    so cumprod(R)[k, j] = h_k C[k, j] for j >= k (O(n^2) memory, only here):

        dg_j = sum_{k <= j} cumprod(R)[k, j]                       (= T_j)
        dx_i = sum_{k != i} dR[k, i],   dR = cumprod's gradient at R for U[k, j] = g_j (j >= k)

    dR is this Function again, so every order of derivative stays exact at zeros.
    """

    @staticmethod
    def forward(ctx, g, x, y, dim):
        xp = backend.array_module(x)
        ctx.dim = dim
        ctx.has_zeros = bool(xp.any(x == 0))
        if ctx.has_zeros:
            gx = _cumprod_grad_with_zeros(g, x, y, dim)
        else:
            gx = _reverse_cumsum_array(g * y, dim) / x
        ctx.save_for_backward(g, x, y, gx)
        return gx

    @staticmethod
    def backward(ctx, h):
        g, x, y, gx = ctx.saved_tensors
        dim = ctx.dim
        need_g, need_x, need_y = ctx.needs_input_grad[:3]
        if not ctx.has_zeros:
            moved = cumsum(h / x, dim)
            return ((y * moved if need_g else None), (-h * gx / x if need_x else None),
                    (g * moved if need_y else None), None)
        dg, dx = _cumprod_second_derivative(g, x, h, dim, need_x)
        return (dg if need_g else None), dx, None, None


def _reverse_cumsum_array(a, dim):
    """r_k = a_k + a_{k+1} + ... along ``dim`` of an array."""
    xp = backend.array_module(a)
    return xp.flip(xp.cumsum(xp.flip(a, dim), axis=dim), dim)


def _cumprod_grad_with_zeros(g, x, y, dim):
    """cumprod's gradient (arrays) when x has zeros, in O(n) per slice.

    Let z be the first zero of a slice. For k < z the division formula holds (x_k != 0, and
    y_j = 0 for j >= z as it should be). For k > z every product contains x_z = 0: dx_k = 0. At
    k = z: dx_z = (prod_{i < z} x_i) * sum_{j >= z} g_j prod_{z < i <= j} x_i, two cumprods.
    """
    xp = backend.array_module(x)
    zeros_seen = xp.cumsum(x == 0, axis=dim)
    before = zeros_seen == 0                                      # k < z
    at_first_zero = (zeros_seen == 1) & (x == 0)                  # k == z
    after = (zeros_seen >= 1) & ~at_first_zero                    # k > z
    grad_before = _reverse_cumsum_array(g * y, dim) / xp.where(before, x, 1.0)
    # at k = z: prod_{i < z} x_i is y_before[z] (x_z itself replaced by 1)
    y_before = xp.cumprod(xp.where(before, x, 1.0), axis=dim)
    from_zero = xp.cumprod(xp.where(after, x, 1.0), axis=dim)    # prod_{z < i <= j} x_i
    tail = xp.where(zeros_seen >= 1, g * from_zero, 0.0).sum(axis=dim, keepdims=True)
    return xp.where(before, grad_before, 0.0) + xp.where(at_first_zero, y_before * tail, 0.0)


def _cumprod_second_derivative(g: Tensor, x: Tensor, h: Tensor, dim: int, need_x: bool):
    """(dg, dx) of ``CumProdBackward`` at an x with zeros, through the (n, n) matrix R whose
    row k is x with x_k replaced by h_k (see its docstring). dx is None unless ``need_x``."""
    n = x.shape[dim]
    xm, gm, hm = x.movedim(dim, -1), g.movedim(dim, -1), h.movedim(dim, -1)
    xp = backend.array_module(x.array)
    diagonal = Tensor._make(xp.eye(n, dtype=bool))               # [k, i]: i == k
    upper = Tensor._make(xp.triu(xp.ones((n, n), dtype=bool)))   # [k, j]: j >= k
    square = tuple(xm.shape[:-1]) + (n, n)
    rows = where(diagonal, expand(unsqueeze(hm, -1), square), expand(unsqueeze(xm, -2), square))
    products = cumprod(rows, -1)                 # [k, j]: h_k C[k, j] for j >= k
    dg = where(upper, products, 0.0).sum(-2).movedim(-1, dim)
    if not need_x:
        return dg, None
    upstream = where(upper, expand(unsqueeze(gm, -2), square), 0.0)
    d_rows = CumProdBackward.apply(upstream, rows, products, -1)
    dx = where(diagonal, 0.0, d_rows).sum(-2).movedim(-1, dim)
    return dg, dx


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:  # noqa: A002 - PyTorch's names
    """Running sum along ``dim``: y_j = x_0 + ... + x_j."""
    x = _scan_input(input, dtype, "cumsum")
    return CumSum.apply(x, normalize_dim("cumsum", dim, x.ndim))


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:  # noqa: A002
    """Running product along ``dim``: y_j = x_0 * ... * x_j (gradient exact at zeros)."""
    x = _scan_input(input, dtype, "cumprod")
    return CumProd.apply(x, normalize_dim("cumprod", dim, x.ndim))


# ---------------------------------------------------------------------------------------------
# cummax, cummin: running extremes and where they were found
# ---------------------------------------------------------------------------------------------

CummaxResult = collections.namedtuple("cummax", ["values", "indices"])
CumminResult = collections.namedtuple("cummin", ["values", "indices"])


def _running_extreme_indices(x, dim: int, accumulate):
    """Index along ``dim`` of the element each running max (``accumulate`` =
    ``maximum.accumulate``) or min came from: the latest one equal to it, as in PyTorch; a
    NaN, once met, is the extreme from there on (the latest NaN)."""
    xp = backend.array_module(x)
    running = accumulate(x, axis=dim)
    came_from_here = x == running
    if x.dtype.kind in "fc":
        came_from_here |= xp.isnan(x) & xp.isnan(running)
    shape = [1] * x.ndim
    shape[dim] = x.shape[dim]
    positions = xp.arange(x.shape[dim], dtype=np.int64).reshape(shape)
    # the running extreme only changes where it came from the current element, so the
    # latest such position so far is where the current extreme came from
    return xp.maximum.accumulate(xp.where(came_from_here, positions, 0), axis=dim)


def _cumulative_extreme(op: str, x: Tensor, dim, result, accumulate):
    from .indexing import gather
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    d = normalize_dim(op, dim, x.ndim)
    if x.ndim == 0:
        return result(x.clone(), Tensor._make(backend.array_module(x.array).zeros((), np.int64)))
    if x.dtype.kind == "c":
        raise RuntimeError(f"{op}: complex inputs have no order, got {x.dtype}")
    indices = _running_extreme_indices(x.array, d, accumulate)
    # the values are the input at those indices: gather gives them their gradient
    return result(gather(x, d, indices), Tensor._make(indices))


def cummax(input: Tensor, dim: int) -> CummaxResult:  # noqa: A002
    """(values, indices): the running maximum along ``dim`` and where each came from (the
    latest position on ties; NaN propagates). The values' gradient goes to that element."""
    xp = backend.array_module(input.array) if isinstance(input, Tensor) else np
    return _cumulative_extreme("cummax", input, dim, CummaxResult, xp.maximum.accumulate)


def cummin(input: Tensor, dim: int) -> CumminResult:  # noqa: A002
    """(values, indices): the running minimum along ``dim``; see ``cummax``."""
    xp = backend.array_module(input.array) if isinstance(input, Tensor) else np
    return _cumulative_extreme("cummin", input, dim, CumminResult, xp.minimum.accumulate)


# ---------------------------------------------------------------------------------------------
# prod: the product reduction, with a gradient that is exact at zeros
# ---------------------------------------------------------------------------------------------

class Prod(ArrayFunction):
    """y = prod_i x_i along ``dim``.

    dy/dx_k = prod_{i != k} x_i = (prod_{i < k} x_i) * (prod_{i > k} x_i): an exclusive
    cumprod from the front times one from the back. No division, so zeros are no special
    case, and both factors are cumprods, so the gradient can be differentiated again.
    """

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        ctx.dim, ctx.keepdim = dim, keepdim
        ctx.save_for_backward(x)
        return backend.array_module(x).prod(x, axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        dim = ctx.dim
        if not ctx.keepdim:
            g = unsqueeze(g, dim)
        n = x.shape[dim]
        if n == 0:
            return g.expand(tuple(x.shape)) * 0, None, None
        ones = Tensor._make(backend.array_module(x.array).ones(
            tuple(x.shape[:dim]) + (1,) + tuple(x.shape[dim + 1:]), dtype=x.dtype))
        before = cumprod(cat([ones, x.narrow(dim, 0, n - 1)], dim), dim)
        after = flip(cumprod(cat([ones, flip(x, dim).narrow(dim, 0, n - 1)], dim), dim), dim)
        return g * before * after, None, None


def prod(input: Tensor, dim=EVERY_DIM, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """Product of all elements, or along one ``dim`` (``keepdim`` keeps it as size 1)."""
    x = _scan_input(input, dtype, "prod")
    refuse_none_dim("prod", dim)
    if dim is EVERY_DIM:
        return Prod.apply(reshape(x, (-1,)), 0, False)
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod: dim must be one int (prod reduces one dim or all), got {dim!r}")
    d = normalize_dim("prod", dim, x.ndim)
    if x.ndim == 0:
        return x.clone()
    return Prod.apply(x, d, keepdim)
