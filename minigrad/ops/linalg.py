"""Linear algebra: einsum, tensordot, mv, baddbmm, and ``mg.linalg``: svd, svdvals, the norms, inv,
solve, det and slogdet.

``einsum`` is one ``ArrayFunction`` for every contraction: C = einsum("ij,jk->ik", A, B) sums
A_ij B_jk over the letters missing from the output. Its gradient for one operand is another
einsum: the output gradient contracted with the other operands, written with the operand's
own letters as output ("ik,jk->ij" for A). That works when each letter of the operand also
appears in the output or in another operand, and no letter repeats inside an operand, so
``einsum`` first rewrites the equation into that form with differentiable ops: a repeated
letter ("ii->i") takes the diagonal, a letter found in one operand only is summed away.

``Svd`` is NumPy's (LAPACK's) decomposition with PyTorch's gradient; the nuclear norm and the
matrix 2-norms are the sum, max and min of the singular values (``svdvals``).

``Inv``, ``Solve``, ``Det`` and ``Slogdet`` call LAPACK (through NumPy or CuPy); their
gradients are written with ``inv``/``solve``/``matmul`` again, so they are differentiable twice.

The vector norm is ``reduce.Norm``, the op behind ``Tensor.norm`` too: its gradient is written
by hand because the obvious compositions have a NaN gradient at 0 (sqrt'(0) is infinite),
where PyTorch returns 0.
"""

from __future__ import annotations

import collections
import string

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from .arguments import normalize_dim
from .matmul import matmul
from .movement import expand, sum_to
from .rearrange import diagonal, movedim
from .reduce import Norm, _axes, amax, amin
from .reduce import sum as sum_

# ---------------------------------------------------------------------------------------------
# einsum
# ---------------------------------------------------------------------------------------------


class Einsum(ArrayFunction):
    """y = einsum(terms -> out)(x_0, x_1, ...), with no letter repeated inside a term and every
    letter of a term present in ``out`` or another term (``einsum`` prepares that).

    dx_k = einsum(out, terms without k -> term k)(g, other operands), then summed (or
    broadcast) where x_k had size 1 against a longer dimension of the same letter.
    """

    @staticmethod
    def forward(ctx, *operands, terms, out):
        ctx.terms, ctx.out = terms, out
        ctx.save_for_backward(*operands)
        xp = backend.array_module(*operands)
        return xp.einsum(",".join(terms) + "->" + out, *operands, optimize=len(operands) > 1)

    @staticmethod
    def backward(ctx, g):
        operands = ctx.saved_tensors
        grads = []
        for k, need in enumerate(ctx.needs_input_grad):
            if not need:
                grads.append(None)
                continue
            others = [(t, x) for j, (t, x) in enumerate(zip(ctx.terms, operands)) if j != k]
            equation = ",".join([ctx.out] + [t for t, _ in others]) + "->" + ctx.terms[k]
            grad = einsum(equation, g, *[x for _, x in others])
            grads.append(_fit_to(grad, tuple(operands[k].shape)))
        return tuple(grads)


def _fit_to(grad: Tensor, shape) -> Tensor:
    """Sum dims where the operand had size 1 (it was broadcast), expand dims where the
    gradient has size 1 and the operand does not (another operand broadcast there)."""
    if tuple(grad.shape) == shape:
        return grad
    grad = sum_to(grad, tuple(1 if s == 1 else g for s, g in zip(shape, grad.shape)))
    return expand(grad, shape)


def _parse_einsum(equation: str, shapes):
    """The equation with the ellipsis spelled out in spare letters: (terms, out)."""
    equation = equation.replace(" ", "")
    lhs, arrow, out = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"einsum(): the equation {equation!r} has {len(terms)} operand "
                           f"term(s) but {len(shapes)} operand(s) were given")
    for term in terms + ([out] if arrow else []):
        letters = term.replace("...", "")
        if term.count("...") > 1 or any(c not in string.ascii_letters for c in letters):
            raise RuntimeError(f"einsum(): invalid subscript {term!r} in {equation!r}: use "
                               "letters a-z, A-Z and at most one '...'")
    spare = [c for c in string.ascii_letters if c not in equation]
    ellipsis_dims = 0
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        n_letters = len(term.replace("...", ""))
        if ("..." in term and n_letters > len(shape)) or \
                ("..." not in term and n_letters != len(shape)):
            raise RuntimeError(f"einsum(): the subscripts {term!r} of operand {i} do not match "
                               f"its {len(shape)} dimensions (shape {tuple(shape)})")
        if "..." in term:
            ellipsis_dims = max(ellipsis_dims, len(shape) - n_letters)
    ell = "".join(spare[:ellipsis_dims])
    # an operand's '...' covers its dims without a letter; they align with ell from the right
    terms = [t.replace("...", ell[ellipsis_dims - (len(s) - len(t.replace("...", ""))):])
             for t, s in zip(terms, shapes)]
    if arrow:
        out = out.replace("...", ell)
        for c in out:
            if out.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once "
                                   "in the output")
            if not any(c in t for t in terms):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   "equation for any input operand")
    else:
        letters = "".join(terms)
        out = ell + "".join(sorted(c for c in set(letters)
                                   if letters.count(c) == 1 and c not in ell))
    return terms, out


def _letter_sizes(terms, shapes):
    """Each letter's size; sizes of one letter must agree or be 1 (broadcast)."""
    sizes = {}
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        for c, s in zip(term, shape):
            known = sizes.get(c, 1)
            if s != 1 and known != 1 and s != known:
                raise RuntimeError(f"einsum(): subscript {c} has size {s} for operand {i} "
                                   f"which does not broadcast with previously seen size {known}")
            sizes[c] = max(known, s) if s != 1 else known
    return sizes


def _take_repeated_diagonals(x: Tensor, term: str):
    """"ii" -> the diagonal, as letter i: no letter repeats in the returned term."""
    from .rearrange import diagonal
    while len(set(term)) != len(term):
        c = next(c for c in term if term.count(c) > 1)
        d1 = term.index(c)
        d2 = term.index(c, d1 + 1)
        if x.shape[d1] != x.shape[d2]:
            raise RuntimeError(f"einsum(): subscript {c} is repeated for an operand but the "
                               f"sizes don't match, {x.shape[d1]} != {x.shape[d2]}")
        x = diagonal(x, 0, d1, d2)                   # the diagonal becomes the last dim
        term = term[:d1] + term[d1 + 1:d2] + term[d2 + 1:] + c
    return x, term


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation: ``einsum("bij,bjk->bik", a, b)`` is a batched matmul. Letters
    missing from the output are summed; '...' stands for leading broadcast dims. The operands
    may also be passed as one list."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    for i, x in enumerate(operands):
        if not isinstance(x, Tensor):
            raise TypeError(f"einsum(): operand {i} is a {type(x).__name__}, expected a Tensor")
    terms, out = _parse_einsum(equation, [tuple(x.shape) for x in operands])
    _letter_sizes(terms, [tuple(x.shape) for x in operands])
    dtype = operands[0].dtype
    for x in operands[1:]:
        dtype = backend.promote_types(dtype, x.dtype)
    xs = []
    new_terms = []
    for k, (x, term) in enumerate(zip(operands, terms)):
        x, term = _take_repeated_diagonals(x if x.dtype == dtype else x.to(dtype), term)
        # a letter nowhere else is summed before the product (it would have no source in
        # the gradient's einsum)
        elsewhere = out + "".join(t for j, t in enumerate(terms) if j != k)
        lonely = tuple(i for i, c in enumerate(term) if c not in elsewhere)
        if lonely:
            x = sum_(x, dim=lonely)
            term = "".join(c for i, c in enumerate(term) if i not in lonely)
        xs.append(x)
        new_terms.append(term)
    return Einsum.apply(*xs, terms=tuple(new_terms), out=out)


# ---------------------------------------------------------------------------------------------
# Products with checks: mv, baddbmm
# ---------------------------------------------------------------------------------------------

def mv(input: Tensor, vec: Tensor) -> Tensor:  # noqa: A002 - PyTorch's names
    """Matrix (n, m) times vector (m,): a vector (n,)."""
    if input.ndim != 2 or vec.ndim != 1 or input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"mv: expected a matrix (n, m) and a vector (m,), got shapes "
                           f"{tuple(input.shape)} and {tuple(vec.shape)}")
    return matmul(input, vec)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """beta * input + alpha * (batch1 @ batch2) for batches of matrices (b, n, m) @ (b, m, p);
    input broadcasts to (b, n, p). With beta = 0, input is ignored (its NaNs too)."""
    if batch1.ndim != 3 or batch2.ndim != 3:
        raise RuntimeError(f"baddbmm: batch1 and batch2 must be 3-D, got shapes "
                           f"{tuple(batch1.shape)} and {tuple(batch2.shape)}")
    b, n, m = batch1.shape
    if batch2.shape[0] != b or batch2.shape[1] != m:
        raise RuntimeError(f"baddbmm: batch1 {tuple(batch1.shape)} and batch2 "
                           f"{tuple(batch2.shape)} don't multiply: expected batch2 of shape "
                           f"({b}, {m}, p)")
    out_shape = (b, n, batch2.shape[2])
    try:
        if np.broadcast_shapes(tuple(input.shape), out_shape) != out_shape:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"baddbmm: input of shape {tuple(input.shape)} can't be broadcast "
                           f"to the product's shape {out_shape}") from None
    product = matmul(batch1, batch2)
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return product
    return product + (input if beta == 1 else input * beta)


# ---------------------------------------------------------------------------------------------
# Singular value decomposition
# ---------------------------------------------------------------------------------------------

SvdResult = collections.namedtuple("linalg_svd", ["U", "S", "Vh"])


class Svd(ArrayFunction):
    """A = U diag(S) Vh for each matrix of A (..., m, n); k = min(m, n) singular values S, in
    descending order; U (..., m, k) and Vh (..., k, n), or square with ``full_matrices``.

    Each singular vector is defined only up to its sign (and a repeated singular value only
    up to a rotation of its vectors), so only functions of the output that do not depend on
    that choice (S, U Vh, |U|) have a gradient that means anything. PyTorch's formula, with
    E_ij = s_j^2 - s_i^2 (i != j), skew(X) = X - X^T and V = Vh^T:

        inner = (skew(U^T gU) S + S skew(Vh gVh^T)) / E + diag(gS)           (k x k)
        gA = U inner Vh + (I - U U^T) gU S^-1 Vh      (the second term when m > n)
                        + U S^-1 gVh (I - V V^T)      (when m < n)

    With gU and gVh both absent (``svdvals``, the norms) it is U diag(gS) Vh, defined for
    every A; otherwise 1 / E needs distinct singular values (and the S^-1 terms a full rank).
    The extra columns of a full U (rows of Vh) get no gradient, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, a, full_matrices):
        u, s, vh = _lapack_svd(a, full_matrices=full_matrices)
        # unused outputs reach backward as None, not zeros: with only S used (svdvals) the
        # gradient is then U diag(gS) Vh, defined even at repeated singular values
        ctx.materialize_grads = False
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, g_u, g_s, g_vh):
        u, s, vh = ctx.saved_tensors
        k = s.shape[-1]
        if u.shape[-1] != k:                # full_matrices: only the first k vectors count
            u, g_u = u[..., :k], None if g_u is None else g_u[..., :k]
        if vh.shape[-2] != k:
            vh, g_vh = vh[..., :k, :], None if g_vh is None else g_vh[..., :k, :]
        return _svd_backward(g_u, g_s, g_vh, u, s, vh), None


def _svd_backward(g_u, g_s, g_vh, u, s, vh):
    """The gradient of A from those of its reduced SVD (Tensor ops: differentiable again)."""
    m, n = u.shape[-2], vh.shape[-1]
    if g_u is None and g_vh is None:
        return matmul(u * g_s.unsqueeze(-2), vh) if g_s is not None else None
    s_row, s_col = s.unsqueeze(-2), s.unsqueeze(-1)
    s2 = s * s
    eye = Tensor._make(backend.array_module(s.array).eye(s.shape[-1], dtype=s.dtype))
    # E_ij = s_j^2 - s_i^2 off the diagonal; 1 on it, where the skew matrices are 0 anyway
    e = s2.unsqueeze(-2) - s2.unsqueeze(-1) + eye
    inner = 0
    if g_u is not None:
        uhgu = matmul(u.mT, g_u)
        inner = (uhgu - uhgu.mT) * s_row
    if g_vh is not None:
        vhgv = matmul(vh, g_vh.mT)
        inner = inner + s_col * (vhgv - vhgv.mT)
    inner = inner / e
    if g_s is not None:
        inner = inner + g_s.unsqueeze(-1) * eye
    if m > n and g_u is not None:           # U is not square: the part of gU outside its span
        g_u_sinv = g_u / s_row
        left = matmul(u, inner) + g_u_sinv - matmul(u, matmul(u.mT, g_u_sinv))
        return matmul(left, vh)
    if m < n and g_vh is not None:          # the same for Vh
        sinv_g_vh = g_vh / s_col
        right = matmul(inner, vh) + sinv_g_vh - matmul(matmul(sinv_g_vh, vh.mT), vh)
        return matmul(u, right)
    return matmul(matmul(u, inner), vh)


def _lapack_svd(a, **kwargs):
    """NumPy's (or CuPy's) SVD, with PyTorch's error where LAPACK gives up (a NaN in A)."""
    try:
        return backend.array_module(a).linalg.svd(a, **kwargs)
    except np.linalg.LinAlgError:
        raise RuntimeError("linalg.svd: The algorithm failed to converge because the input "
                           "matrix contained non-finite values.") from None


def _check_matrices(op: str, A: Tensor) -> None:  # noqa: N803
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions, got "
                           f"shape {tuple(A.shape)}")
    if A.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: expected a floating point tensor as input, got {A.dtype}")
    if A.dtype.itemsize < 4:
        raise RuntimeError(f"{op}: LAPACK takes float32 and float64, got {A.dtype}; convert "
                           "with A.float() first")


def svd(A: Tensor, full_matrices: bool = True, *, driver=None) -> SvdResult:  # noqa: N803
    """``linalg.svd``: (U, S, Vh) with A = U diag(S) Vh, batched over leading dims. See
    ``Svd`` for which functions of the result have a well-defined gradient."""
    _check_matrices("linalg.svd", A)
    if driver is not None:
        raise RuntimeError("linalg.svd: driver= chooses a cuSOLVER algorithm (CUDA only); "
                           "leave it None")
    return SvdResult(*Svd.apply(A, bool(full_matrices)))


def svdvals(A: Tensor, *, driver=None) -> Tensor:  # noqa: N803
    """``linalg.svdvals``: the singular values of each matrix, in descending order. Its
    gradient U diag(gS) Vh is defined for every A (repeated singular values included)."""
    _check_matrices("linalg.svdvals", A)
    if driver is not None:
        raise RuntimeError("linalg.svdvals: driver= chooses a cuSOLVER algorithm (CUDA "
                           "only); leave it None")
    if A.requires_grad and is_grad_enabled():
        return Svd.apply(A, False)[1]       # U and Vh are what its backward needs
    return Tensor._make(_lapack_svd(A.array, compute_uv=False))


# ---------------------------------------------------------------------------------------------
# Norms
# ---------------------------------------------------------------------------------------------

def _norm_input(op: str, x: Tensor, dtype) -> Tensor:
    if dtype is not None:
        x = x.to(backend.resolve_dtype(dtype))
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: expected a floating point tensor as input, got {x.dtype}")
    return x


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """The ``ord``-norm of x over ``dim`` (all elements when None): (sum |x|^ord)^(1/ord);
    ord = inf: max |x|, -inf: min |x|, 0: number of nonzeros."""
    op = "linalg.vector_norm"
    x = _norm_input(op, x, dtype)
    if isinstance(ord, str) or not np.isscalar(ord):
        raise RuntimeError(f"{op}: ord must be a number, got {ord!r} (use linalg.matrix_norm "
                           "for 'fro' and 'nuc')")
    axes = _axes(dim, x.ndim, op) if x.ndim else ()
    if ord in (np.inf, -np.inf) and any(x.shape[a] == 0 for a in axes):
        raise RuntimeError(f"{op}: cannot compute the {ord} norm over an empty dimension "
                           f"(shape {tuple(x.shape)})")
    return Norm.apply(x, float(ord), axes, keepdim)   # the op behind Tensor.norm too


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None):  # noqa: N803, A002
    """Norm of the matrices over the two dims ``dim``: 'fro' (sqrt of the sum of squares),
    'nuc' (sum of the singular values), 2 / -2 (largest / smallest singular value),
    1 / -1 (max / min column sum of |A|), inf / -inf (max / min row sum of |A|)."""
    op = "linalg.matrix_norm"
    A = _norm_input(op, A, dtype)  # noqa: N806
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions, got "
                           f"shape {tuple(A.shape)}")
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if len(dims) != 2:
        raise RuntimeError(f"{op}: dim must be a 2-tuple, got {dim!r}")
    d0, d1 = (normalize_dim(op, d, A.ndim) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"{op}: dims must be different, got {dim!r}")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        return _singular_value_norm(A, ord, d0, d1, keepdim)
    if ord not in (1, -1, np.inf, -np.inf):
        raise RuntimeError(f"{op}: Order {ord} not supported.")
    # 1-norms sum down the columns (over rows, d0), inf-norms along the rows (over d1)
    summed, over = (d0, d1) if ord in (1, -1) else (d1, d0)
    sums = sum_(A.abs(), dim=summed, keepdim=True)
    pick = amax if ord in (1, np.inf) else amin
    result = pick(sums, dim=over, keepdim=True)
    return result if keepdim else result.squeeze((d0, d1))


def _singular_value_norm(A: Tensor, ord, d0: int, d1: int, keepdim: bool) -> Tensor:  # noqa: N803, A002
    """'nuc', 2 or -2: the sum, max or min of the singular values of the matrices over dims
    (d0, d1) (moved last, in that order, for svdvals)."""
    S = svdvals(movedim(A, (d0, d1), (-2, -1)))  # noqa: N806
    if ord == "nuc":
        result = sum_(S, dim=-1)
    else:
        result = (amax if ord == 2 else amin)(S, dim=-1)
    if keepdim:
        for d in sorted((d0, d1)):
            result = result.unsqueeze(d)
    return result


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: N803, A002
    """``linalg.norm``: a vector norm when ``dim`` is one dim (or A is 1-D), a matrix norm when
    ``dim`` is two dims (or A is 2-D); with neither ord nor dim, the 2-norm of all elements."""
    op = "linalg.norm"
    if dim is not None:
        dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
        if len(dims) == 1:
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f"{op}: dim must be one or two dims, got {dim!r}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(f"{op}: If dim is not specified but ord is, the input must be 1D or "
                       f"2D. Got {A.ndim}D.")


def trace(input: Tensor) -> Tensor:  # noqa: A002
    """The sum of the main diagonal of a matrix (2-D only, as in PyTorch); integer and bool
    matrices sum to int64, like ``sum``.   d trace / dA = I (where the diagonal runs)."""
    if not isinstance(input, Tensor) or input.ndim != 2:
        shape = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
        raise RuntimeError(f"trace: expected a matrix (a 2-D tensor), got {shape}")
    return sum_(diagonal(input))


def inner(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """Sum over the last dims: out[i..., j...] = sum_k a[i..., k] b[j..., k] (shape
    a.shape[:-1] + b.shape[:-1]); a 0-d operand multiplies instead."""
    from .elementwise import mul
    if input.ndim == 0 or other.ndim == 0:
        return mul(input, other)
    k, k_other = input.shape[-1], other.shape[-1]
    if k != k_other:
        raise RuntimeError(f"inner: the last dims must match, got shapes {tuple(input.shape)} "
                           f"and {tuple(other.shape)}")
    a = input.reshape(-1, k)
    b = other.reshape(-1, k)
    return matmul(a, b.transpose(0, 1)).reshape(tuple(input.shape[:-1]) +
                                                  tuple(other.shape[:-1]))


def kron(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """The Kronecker product: block (i, j, ...) of the output is a[i, j, ...] * b. With the
    operands' ranks padded with leading 1s to be equal, a[i] b[j] lands at i * b_shape + j:
    an outer product with the dims interleaved (a0, b0, a1, b1, ...), then merged."""
    from .elementwise import mul
    ndim = max(input.ndim, other.ndim)
    a_shape = (1,) * (ndim - input.ndim) + tuple(input.shape)
    b_shape = (1,) * (ndim - other.ndim) + tuple(other.shape)
    a = input.reshape(tuple(s for n in a_shape for s in (n, 1)))
    b = other.reshape(tuple(s for n in b_shape for s in (1, n)))
    return mul(a, b).reshape(tuple(x * y for x, y in zip(a_shape, b_shape)))


# ---------------------------------------------------------------------------------------------
# Inverse, solve, determinants
# ---------------------------------------------------------------------------------------------

def _check_square(op: str, A: Tensor) -> None:  # noqa: N803
    _check_matrices(op, A)
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices (shape {tuple(A.shape)})")


def _lapack(op: str, fn, *arrays):
    """``fn(*arrays)`` (a NumPy/CuPy linalg routine), with an error naming ``op`` where LAPACK
    finds a matrix singular."""
    try:
        return fn(*arrays)
    except np.linalg.LinAlgError:
        raise RuntimeError(f"{op}: the input matrix is singular (an exact zero pivot in its LU "
                           "factorization), so it has no inverse; a matrix of shape "
                           f"{tuple(arrays[0].shape)}") from None


class Inv(ArrayFunction):
    """Y = A^-1.   dY = -Y dA Y, so gA = -Y^T gY Y^T."""

    @staticmethod
    def forward(ctx, a):
        y = _lapack("linalg.inv", backend.array_module(a).linalg.inv, a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return -matmul(matmul(y.mT, g), y.mT)


class Solve(ArrayFunction):
    """X = A^-1 B (A (..., n, n), B (..., n, k), batch dims broadcast).

    From A X = B: dX = A^-1 (dB - dA X), so gB = A^-T gX (one more solve) and gA = -gB X^T.
    """

    @staticmethod
    def forward(ctx, a, b):
        xp = backend.array_module(a, b)
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a_full = xp.broadcast_to(a, batch + a.shape[-2:])
        b_full = xp.broadcast_to(b, batch + b.shape[-2:])
        x = _lapack("linalg.solve", xp.linalg.solve, a_full, b_full)
        ctx.save_for_backward(a, x)
        ctx.shapes = a.shape, b.shape
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        g_b = Solve.apply(a.mT, g)
        g_a = -matmul(g_b, x.mT)
        return sum_to(g_a, a_shape), sum_to(g_b, b_shape)


class Det(ArrayFunction):
    """d = det(A).   dd/dA = adj(A)^T, which is d A^-T for an invertible A.

    A singular A has d = 0 but a non-zero gradient whenever its rank is n - 1: the adjugate,
    computed from the SVD A = U S Vh as det(U) det(Vh) Vh^T diag(prod_{j != i} s_j) U^T. That
    case is differentiated once only (its second derivative raises).
    """

    @staticmethod
    def forward(ctx, a):
        d = backend.array_module(a).linalg.det(a)
        ctx.save_for_backward(a, d)
        return d

    @staticmethod
    def backward(ctx, g):
        a, d = ctx.saved_tensors
        if bool((d.array != 0).all()):
            return (g * d)[..., None, None] * Inv.apply(a).mT
        return g[..., None, None] * AdjugateTransposed.apply(a)


class AdjugateTransposed(ArrayFunction):
    """adj(A)^T from the SVD (valid for singular A too); not differentiable again."""

    @staticmethod
    def forward(ctx, a):
        xp = backend.array_module(a)
        u, s, vh = _lapack_svd(a)
        n = s.shape[-1]
        others = xp.stack([xp.prod(xp.delete(s, i, axis=-1), axis=-1) for i in range(n)],
                          axis=-1)                                   # prod_{j != i} s_j
        sign = xp.linalg.det(u) * xp.linalg.det(vh)
        adj = (vh.swapaxes(-1, -2) * others[..., None, :]) @ u.swapaxes(-1, -2)
        return (sign[..., None, None] * adj).swapaxes(-1, -2)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("linalg.det: the second derivative at a singular matrix is not "
                           "implemented (the first derivative, the adjugate, is)")


class Slogdet(ArrayFunction):
    """(sign, log |det A|).   d log|det A| / dA = A^-T; the sign (+-1, or 0) is piecewise
    constant: its gradient is zero."""

    @staticmethod
    def forward(ctx, a):
        sign, logabsdet = backend.array_module(a).linalg.slogdet(a)
        ctx.save_for_backward(a)
        return sign, logabsdet     # both in the graph, as in PyTorch; sign's gradient is 0

    @staticmethod
    def backward(ctx, g_sign, g_logabsdet):
        (a,) = ctx.saved_tensors
        return g_logabsdet[..., None, None] * Inv.apply(a).mT


SlogdetResult = collections.namedtuple("slogdet", ["sign", "logabsdet"])


def inv(A: Tensor) -> Tensor:  # noqa: N803 - PyTorch's names
    """``linalg.inv``: the inverse of each square matrix of A (..., n, n); a singular one is an
    error."""
    _check_square("linalg.inv", A)
    return Inv.apply(A)


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:  # noqa: N803
    """``linalg.solve``: X with A X = B (``left=False``: X A = B). B is (..., n, k), or a
    vector (..., n) when B is 1-D or has A's batch shape; batch dims broadcast."""
    _check_square("linalg.solve", A)
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.solve: B must be a Tensor, got {type(B).__name__}")
    if B.dtype != A.dtype:
        raise RuntimeError(f"linalg.solve: expected A and B to have the same dtype, but got "
                           f"A of dtype {A.dtype} and B of dtype {B.dtype}")
    vector = B.ndim == 1 or (left and B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    if vector:
        B = B.unsqueeze(-1) if left else B.unsqueeze(-2)
    n = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(f"linalg.solve: incompatible shapes of A {tuple(A.shape)} and B "
                           f"{tuple(B.shape)}: B needs {n} "
                           f"{'rows' if left else 'columns'}")
    X = Solve.apply(A, B) if left else Solve.apply(A.mT, B.mT).mT
    return X.squeeze(-1 if left else -2) if vector else X


def det(A: Tensor) -> Tensor:  # noqa: N803
    """``linalg.det``: the determinant of each square matrix of A (..., n, n)."""
    _check_square("linalg.det", A)
    return Det.apply(A)


def slogdet(A: Tensor) -> SlogdetResult:  # noqa: N803
    """``linalg.slogdet``: (sign, log |det A|) of each square matrix, without the overflow of
    det itself; the sign's gradient is zero."""
    _check_square("linalg.slogdet", A)
    return SlogdetResult(*Slogdet.apply(A))


# ---------------------------------------------------------------------------------------------
# tensordot
# ---------------------------------------------------------------------------------------------

def _tensordot_dims(a: Tensor, b: Tensor, dims):
    """(dims of a, dims of b) to contract, from PyTorch's forms of ``dims``."""
    op = "tensordot"
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        if dims < 0:
            raise RuntimeError(f"{op} expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"{op} expects dims < ndim_a or ndim_b, but got dims={dims}")
        return list(range(a.ndim - dims, a.ndim)), list(range(dims))
    if not isinstance(dims, (list, tuple)) or len(dims) != 2:
        raise RuntimeError(f"{op} expects dims to be an int or a pair of lists of dims, got "
                           f"{dims!r}")
    if any(not isinstance(d, (list, tuple)) for d in dims):
        raise TypeError(f"{op}: dims must be an int or a pair of lists of dims, got {dims!r}")
    dims_a, dims_b = (list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError(f"both dimension lists should have same length, got {dims_a} and "
                           f"{dims_b}")
    dims_a = [normalize_dim(op, d, a.ndim) for d in dims_a]
    dims_b = [normalize_dim(op, d, b.ndim) for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db] and 1 not in (a.shape[da], b.shape[db]):
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[da]} in dim {da} and second has size {b.shape[db]} "
                               f"in dim {db}")
    return dims_a, dims_b


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Sum of products over the dims ``dims`` pairs up (an int n: the last n of a with the
    first n of b). The result has a's remaining dims, then b's. One matrix product: a's kept
    dims become rows, the contracted ones columns (b the other way round)."""
    dims_a, dims_b = _tensordot_dims(a, b, dims)
    for da, db in zip(dims_a, dims_b):     # a contracted dim of size 1 against size k: PyTorch
        if a.shape[da] == 1 and b.shape[db] != 1:      # sums the other side over its k
            b = b.sum(db, keepdim=True)
        elif b.shape[db] == 1 and a.shape[da] != 1:
            a = a.sum(da, keepdim=True)
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    shape_a = [a.shape[d] for d in free_a]
    shape_b = [b.shape[d] for d in free_b]
    inner = int(np.prod([a.shape[d] for d in dims_a], dtype=np.int64))
    left = a.permute(*free_a, *dims_a).reshape(int(np.prod(shape_a, dtype=np.int64)), inner)
    right = b.permute(*dims_b, *free_b).reshape(inner, int(np.prod(shape_b, dtype=np.int64)))
    return matmul(left, right).reshape(*shape_a, *shape_b)
