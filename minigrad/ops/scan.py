"""Scans (running sums and products along a dimension) and the product reduction.

    cumsum:  y_j = x_0 + x_1 + ... + x_j
    cumprod: y_j = x_0 * x_1 * ... * x_j

Every input x_k influences every output y_j with j >= k, so a scan's gradient runs the other
way: a *reverse* running sum of the output gradient. For cumsum that is all there is. For
cumprod, dy_j/dx_k = prod_{i <= j, i != k} x_i, which is y_j / x_k while x_k != 0; zeros in
the input need more care (see ``CumProd``), and so does ``prod`` (see ``Prod``).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..autograd.grad_mode import is_grad_enabled
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

    dx_k = sum_{j >= k} g_j * prod_{i <= j, i != k} x_i.

    Without zeros in x that is sum_{j >= k} g_j y_j / x_k: a reverse cumsum of g * y, divided
    by x. A zero at position z breaks the division, so then (as PyTorch does):

    * to be differentiated again (``create_graph=True``): the formula as written, for every k
      at once: C[k, j] = prod_{i <= j, i != k} x_i is the cumprod of x with x_k replaced by 1,
      an (n, n) matrix per slice (O(n^2) memory, only on this path);
    * otherwise, O(n) per slice (see ``_cumprod_grad_with_zeros``).
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
        dim = ctx.dim
        if x.ndim == 0 or x.shape[dim] == 1:
            return g, None
        if not bool(backend.array_module(x.array).any(x.array == 0)):
            return _reverse_cumsum(g * y, dim) / x, None
        if is_grad_enabled():
            return _cumprod_grad_quadratic(g, x, dim), None
        return _cumprod_grad_with_zeros(g, x, y, dim), None


def _cumprod_grad_quadratic(g: Tensor, x: Tensor, dim: int) -> Tensor:
    """dx_k = sum_{j >= k} g_j C[k, j] with C[k, j] = prod_{i <= j, i != k} x_i (exact at
    zeros, and differentiable: built from cumprod itself)."""
    n = x.shape[dim]
    xm, gm = x.movedim(dim, -1), g.movedim(dim, -1)
    xp = backend.array_module(x.array)
    diagonal = Tensor._make(xp.eye(n, dtype=bool))               # [k, i]: i == k
    upper = Tensor._make(xp.triu(xp.ones((n, n), dtype=bool)))   # [k, j]: j >= k
    rows = expand(unsqueeze(xm, -2), tuple(xm.shape[:-1]) + (n, n))  # rows[..., k, i] = x_i
    c = cumprod(where(diagonal, 1.0, rows), -1)
    gx = (where(upper, c * unsqueeze(gm, -2), 0.0)).sum(-1)
    return gx.movedim(-1, dim)


def _cumprod_grad_with_zeros(g: Tensor, x: Tensor, y: Tensor, dim: int) -> Tensor:
    """The same gradient in O(n), for a backward that will not be differentiated again.

    Let z be the first zero of a slice. For k < z the division formula holds (x_k != 0, and
    y_j = 0 for j >= z as it should be). For k > z every product contains x_z = 0: dx_k = 0. At k = z:
    dx_z = (prod_{i < z} x_i) * sum_{j >= z} g_j prod_{z < i <= j} x_i, two cumprods.
    """
    zeros_seen = cumsum((x == 0).to(np.int64), dim)
    before = zeros_seen == 0                                      # k < z
    at_first_zero = (zeros_seen == 1) & (x == 0)                  # k == z
    after = (zeros_seen >= 1) & ~at_first_zero                    # k > z
    grad_before = _reverse_cumsum(g * y, dim) / where(before, x, 1.0)
    # at k = z: prod_{i < z} x_i is y_before[z] (x_z itself replaced by 1)
    y_before = cumprod(where(before, x, 1.0), dim)
    from_zero = cumprod(where(after, x, 1.0), dim)               # prod_{z < i <= j} x_i
    tail = where(zeros_seen >= 1, g * from_zero, 0.0).sum(dim, keepdim=True)
    return where(before, grad_before, 0.0) + where(at_first_zero, y_before * tail, 0.0)


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:  # noqa: A002 - PyTorch's names
    """Running sum along ``dim``: y_j = x_0 + ... + x_j."""
    x = _scan_input(input, dtype, "cumsum")
    return CumSum.apply(x, normalize_dim("cumsum", dim, x.ndim))


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:  # noqa: A002
    """Running product along ``dim``: y_j = x_0 * ... * x_j (gradient exact at zeros)."""
    x = _scan_input(input, dtype, "cumprod")
    return CumProd.apply(x, normalize_dim("cumprod", dim, x.ndim))


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
