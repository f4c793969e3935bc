"""Statistics: var_mean/std_mean, median, unique and searchsorted.

``median`` has a gradient, to the element(s) it picked, like ``max``. ``unique`` and
``searchsorted`` return indices and counts, which have none (PyTorch defines no gradient for
them either), so they work on arrays and hand back plain tensors.
"""

from __future__ import annotations

import collections
import math

import numpy as np

from .. import backend
from ..autograd.function import ArrayFunction
from ..tensor import Tensor
from .arguments import normalize_dim
from .indexing import gather
from .matmul import matmul
from .movement import reshape
from .reduce import mean, std, var

MedianResult = collections.namedtuple("median", ["values", "indices"])


def _dim_or_unbiased(dim, unbiased):
    """``var_mean(x, True)`` is PyTorch's (input, unbiased) overload: a bool is not a dim."""
    if isinstance(dim, (bool, np.bool_)):
        return None, bool(dim)
    return dim, unbiased


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,  # noqa: A002
             correction=None):
    """(variance, mean) over ``dim`` in one call; correction 1 (N - 1) by default."""
    dim, unbiased = _dim_or_unbiased(dim, unbiased)
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,  # noqa: A002
             correction=None):
    """(standard deviation, mean) over ``dim`` in one call; correction 1 by default."""
    dim, unbiased = _dim_or_unbiased(dim, unbiased)
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


# ---------------------------------------------------------------------------------------------
# median
# ---------------------------------------------------------------------------------------------

class MedianAll(ArrayFunction):
    """y = the lower median of all elements: the ((n - 1) // 2)-th smallest (NaN if any is).

    dy/dx: g shared evenly among the elements equal to y, as PyTorch does for median().
    """

    @staticmethod
    def forward(ctx, x):
        xp = backend.array_module(x)
        flat = x.reshape(-1)
        if flat.size == 0 or bool(xp.isnan(flat).any()):
            y = xp.asarray(np.nan, dtype=x.dtype)
        else:
            k = (flat.size - 1) // 2
            y = xp.partition(flat, k)[k].reshape(())
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        xp = backend.array_module(x.array)
        picked = (x.array == y.array) | (xp.isnan(x.array) & xp.isnan(y.array))
        share = picked / max(int(picked.sum()), 1)
        return g * Tensor._make(share.astype(g.dtype))


def _median_indices(x, d: int):
    """Index along ``d`` of each slice's lower median (of its first NaN if it has one)."""
    xp = backend.array_module(x)
    k = (x.shape[d] - 1) // 2
    order = xp.argsort(x, axis=d, kind="stable")
    idx = xp.take(order, [k], axis=d)
    nan = xp.isnan(x) if x.dtype.kind == "f" else None
    if nan is not None and bool(nan.any()):
        first_nan = xp.expand_dims(xp.argmax(nan, axis=d), d)
        idx = xp.where(nan.any(axis=d, keepdims=True), first_nan, idx)
    return idx.astype(np.int64)


def _check_nonempty(op: str, input: Tensor, d: int) -> None:
    if input.shape[d] == 0:
        raise IndexError(f"{op}(): expected reduction dim {d} to have non-zero size "
                         f"(shape {tuple(input.shape)})")


def median(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A002 - PyTorch's names
    """``median(x)``: the lower median of all elements. ``median(x, dim)``: the named tuple
    (values, indices) of each slice's lower median along ``dim``, like ``max(x, dim)``; the
    values' gradient goes to the picked element."""
    if dim is None:
        if keepdim:
            raise TypeError("median(): keepdim needs dim")
        return MedianAll.apply(input)
    d = normalize_dim("median", dim, input.ndim)
    if input.ndim == 0:
        return MedianResult(input.clone(), Tensor._make(np.asarray(0, dtype=np.int64)))
    _check_nonempty("median", input, d)
    return _picked(input, d, _median_indices(input.array, d), keepdim, MedianResult)


# ---------------------------------------------------------------------------------------------
# unique and searchsorted (no gradient)
# ---------------------------------------------------------------------------------------------

def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim=None):
    """The distinct elements in ascending order (``sorted=False`` also sorts, a valid order),
    or the distinct slices along ``dim``; optionally the inverse (where each input element
    went: ``output[inverse]`` is the input) and the counts."""
    xp = backend.array_module(input.array)
    if dim is None:
        values, inverse, counts = xp.unique(input.array.reshape(-1), return_inverse=True,
                                            return_counts=True)
        inverse = inverse.reshape(input.shape)
    else:
        d = normalize_dim("unique", dim, input.ndim)
        values, inverse, counts = xp.unique(input.array, return_inverse=True,
                                            return_counts=True, axis=d)
        inverse = inverse.reshape(-1)
    out = [Tensor._make(values)]
    if return_inverse:
        out.append(Tensor._make(inverse.astype(np.int64)))
    if return_counts:
        out.append(Tensor._make(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def searchsorted(sorted_sequence: Tensor, values, *, out_int32: bool = False,
                 right: bool = False, side=None, sorter=None) -> Tensor:
    """For each value, the index where it would be inserted into ``sorted_sequence`` (along
    its last dim) to keep it sorted: before equal elements (``side='left'``, the default) or
    after them (``right=True`` / ``side='right'``). An N-D sequence searches each row for the
    values of the same row."""
    op = "searchsorted"
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"{op}: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise RuntimeError(f"{op}: side and right can't be set to opposites, got side of "
                               "left while right was True")
        right = side == "right"
    seq = sorted_sequence.array
    xp = backend.array_module(seq)
    if sorter is not None:
        order = sorter.array if isinstance(sorter, Tensor) else xp.asarray(sorter)
        if tuple(order.shape) != tuple(seq.shape):
            raise RuntimeError(f"{op}: sorter {tuple(order.shape)} must have the shape of the "
                               f"sorted sequence {tuple(seq.shape)}")
        seq = xp.take_along_axis(seq, order, axis=-1)
    scalar = not isinstance(values, Tensor)
    vals = xp.asarray(values) if scalar else values.array
    if seq.ndim == 0:
        raise RuntimeError(f"{op}: the sorted sequence must have at least 1 dimension")
    if seq.ndim > 1 and (scalar or tuple(seq.shape[:-1]) != tuple(vals.shape[:-1])):
        raise RuntimeError(f"{op}: a sorted sequence of shape {tuple(seq.shape)} needs values "
                           f"whose leading dims match its own ({tuple(seq.shape[:-1])}), got "
                           f"{'a number' if scalar else tuple(vals.shape)}")
    how = "right" if right else "left"
    if seq.ndim == 1:
        out = xp.searchsorted(seq, vals, side=how)
    else:
        n_rows = math.prod(seq.shape[:-1])        # not reshape(-1, ...): rows may be empty
        rows = seq.reshape(n_rows, seq.shape[-1])
        row_values = vals.reshape(n_rows, vals.shape[-1])
        out = xp.zeros(vals.shape, dtype=np.int64).reshape(n_rows, vals.shape[-1])
        for i, (r, v) in enumerate(zip(rows, row_values)):
            out[i] = xp.searchsorted(r, v, side=how)
        out = out.reshape(vals.shape)
    return Tensor._make(xp.asarray(out, dtype=np.int32 if out_int32 else np.int64))


# ---------------------------------------------------------------------------------------------
# kthvalue, mode: an element of each slice, with its index (the value's gradient goes there)
# ---------------------------------------------------------------------------------------------

KthvalueResult = collections.namedtuple("kthvalue", ["values", "indices"])
ModeResult = collections.namedtuple("mode", ["values", "indices"])


def _picked(input: Tensor, d: int, idx, keepdim: bool, result):
    """(input at ``idx`` (keepdim-shaped indices along d), idx), keepdim or not."""
    values = gather(input, d, idx)
    if not keepdim:
        shape = tuple(s for i, s in enumerate(input.shape) if i != d)
        values, idx = reshape(values, shape), idx.reshape(shape)
    return result(values, Tensor._make(idx))


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):  # noqa: A002
    """(values, indices): the k-th smallest element (k = 1 is the minimum) of each slice along
    ``dim``; NaN counts as larger than every number."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"kthvalue(): k must be an int, got {type(k).__name__}")
    d = normalize_dim("kthvalue", dim, input.ndim)
    size = input.shape[d] if input.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}: "
                           f"k = {k}, but the dimension has size {size}")
    if input.ndim == 0:
        return KthvalueResult(input.clone(), Tensor._make(np.asarray(0, dtype=np.int64)))
    xp = backend.array_module(input.array)
    idx = xp.take(xp.argsort(input.array, axis=d, kind="stable"), [k - 1], axis=d)
    return _picked(input, d, idx.astype(np.int64), keepdim, KthvalueResult)


def _mode_indices(rows):
    """For each row of a 2-D array: the last index of its most frequent value (the smallest
    such value on ties; NaNs count as one value). Vectorised over rows: sort each row (a stable
    sort keeps equal values in their original order), measure the runs of equal values, and
    take the end of the first longest run: the original index stored there is the value's
    last occurrence."""
    n = rows.shape[1]
    order = np.argsort(rows, axis=1, kind="stable")
    s = np.take_along_axis(rows, order, axis=1)
    same = s[:, 1:] == s[:, :-1]
    if s.dtype.kind in "fc":
        same |= np.isnan(s[:, 1:]) & np.isnan(s[:, :-1])
    starts_run = np.concatenate([np.ones((len(s), 1), bool), ~same], axis=1)
    ends_run = np.concatenate([~same, np.ones((len(s), 1), bool)], axis=1)
    positions = np.arange(n)
    run_start = np.maximum.accumulate(np.where(starts_run, positions, 0), axis=1)
    run_length_at_end = np.where(ends_run, positions - run_start + 1, 0)
    winner = np.argmax(run_length_at_end, axis=1)     # the first longest run: smallest value
    return order[np.arange(len(s)), winner]


def mode(input: Tensor, dim: int = -1, keepdim: bool = False):  # noqa: A002
    """(values, indices): the most frequent value of each slice along ``dim`` (the smallest
    one on ties) and the index of its last occurrence, as in PyTorch."""
    d = normalize_dim("mode", dim, input.ndim)
    if input.ndim == 0:
        return ModeResult(input.clone(), Tensor._make(np.asarray(0, dtype=np.int64)))
    _check_nonempty("mode", input, d)
    rows = np.moveaxis(backend.to_device(input.array, backend.Device("cpu")), d, -1)
    idx = _mode_indices(rows.reshape(-1, rows.shape[-1])).astype(np.int64)
    idx = np.expand_dims(idx.reshape(rows.shape[:-1]), d)
    return _picked(input, d, backend.to_device(idx, input.device), keepdim, ModeResult)


# ---------------------------------------------------------------------------------------------
# quantile, nanquantile
# ---------------------------------------------------------------------------------------------

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_q(op: str, q, input: Tensor):
    """q as a float64 array (0-D or 1-D) in [0, 1], and whether it was a scalar."""
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor, got shape "
                               f"{tuple(q.shape)}")
        if q.dtype != input.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor, got "
                               f"q {q.dtype} and input {input.dtype}")
        values = backend.to_device(q.array, backend.Device("cpu")).astype(np.float64)
        scalar = False
    else:
        values = np.asarray(q, dtype=np.float64)
        scalar = values.ndim == 0
    if values.ndim > 1:
        raise RuntimeError(f"{op}() q must be a scalar or 1D tensor, got shape {values.shape}")
    if ((values < 0) | (values > 1) | np.isnan(values)).any():
        bad = values[(values < 0) | (values > 1) | np.isnan(values)].reshape(-1)[0]
        raise RuntimeError(f"{op}() q values must be in the range [0, 1], but got {bad}")
    return values, scalar


def _quantile(op: str, input: Tensor, q, dim, keepdim: bool, interpolation: str,
              ignore_nan: bool) -> Tensor:
    from .elementwise import where
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): expected a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype, got "
                           f"{input.dtype}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{op}() interpolation must be one of {', '.join(_INTERPOLATIONS)}."
                           f" Got {interpolation!r}")
    qs, scalar_q = _quantile_q(op, q, input)
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else normalize_dim(op, dim, input.ndim)
    if x.ndim == 0:
        x = x.reshape(1)
    if x.shape[d] == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty (shape "
                           f"{tuple(input.shape)})")
    xp = backend.array_module(x.array)
    x = x.movedim(d, -1)                                      # slices along the last dim
    order = xp.argsort(x.array, axis=-1, kind="stable")       # NaN sorts last
    ordered = gather(x, -1, order)
    nan = xp.isnan(x.array)
    n = x.shape[-1]
    valid = (n - nan.sum(axis=-1, keepdims=True)) if ignore_nan else xp.full(
        x.shape[:-1] + (1,), n)
    # rank of each quantile in each slice: q * (valid - 1), along a new leading q dim
    qs_dev = backend.to_device(qs.reshape(-1, *([1] * x.ndim)), x.device)
    rank = qs_dev * (valid - 1)
    if interpolation == "lower":
        rank = xp.floor(rank)
    elif interpolation == "higher":
        rank = xp.ceil(rank)
    elif interpolation == "nearest":
        rank = xp.round(rank)                                 # half to even, as PyTorch
    below = xp.clip(xp.floor(rank), 0, n - 1).astype(np.int64)
    above = xp.clip(xp.ceil(rank), 0, n - 1).astype(np.int64)
    stacked = ordered.unsqueeze(0).expand(qs.size, *ordered.shape)
    low = gather(stacked, -1, below)
    high = gather(stacked, -1, above)
    if interpolation == "midpoint":
        out = low + (high - low) * 0.5
    elif interpolation == "linear":
        # the weight rank - floor(rank), written with q itself when q is a tensor: the
        # result's gradient then reaches q, as in PyTorch
        q_t = q if isinstance(q, Tensor) else Tensor._make(qs_dev.astype(x.dtype))
        q_t = q_t.reshape(-1, *([1] * x.ndim))
        valid_t = Tensor._make((valid - 1).astype(x.dtype))
        weight = q_t * valid_t - Tensor._make(xp.floor(rank).astype(x.dtype))
        out = low + (high - low) * weight                     # weight 0: exactly low
    else:                           # lower, higher, nearest: the rank is a whole number
        out = low
    # quantile: a slice with a NaN gives NaN; nanquantile: a slice of only NaN does
    undefined = (nan.all(axis=-1, keepdims=True) if ignore_nan
                 else nan.any(axis=-1, keepdims=True))
    if bool(undefined.any()):
        out = where(Tensor._make(xp.broadcast_to(undefined, out.shape)),
                    Tensor._make(xp.asarray(np.nan, dtype=x.dtype)), out)
    out = out.squeeze(-1)                                     # (len(q), *other dims)
    if keepdim and input.ndim:
        if dim is None:
            out = out.reshape(qs.size, *([1] * input.ndim))
        else:
            out = out.unsqueeze(d + 1)
    return out[0] if scalar_q else out


def quantile(input: Tensor, q, dim=None, keepdim: bool = False, *,  # noqa: A002
             interpolation: str = "linear") -> Tensor:
    """The q-th quantiles of each slice along ``dim`` (of all elements if None): the value at
    rank q * (n - 1) of the sorted slice, between two ranks ``interpolation`` decides
    ("linear", "lower", "higher", "midpoint", "nearest"). q a number, or a 1-D tensor (its
    dim then comes first in the output). A slice with a NaN gives NaN."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(input: Tensor, q, dim=None, keepdim: bool = False, *,  # noqa: A002
                interpolation: str = "linear") -> Tensor:
    """``quantile`` of the non-NaN elements of each slice (NaN only for a slice of NaNs)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, ignore_nan=True)


# ---------------------------------------------------------------------------------------------
# cov, corrcoef, bincount
# ---------------------------------------------------------------------------------------------

def _cov_weights(op: str, weights, n: int, integral: bool, name: str):
    if weights is None:
        return None
    if not isinstance(weights, Tensor) or weights.ndim > 1 or weights.numel() != n:
        shape = tuple(weights.shape) if isinstance(weights, Tensor) else type(weights).__name__
        raise RuntimeError(f"{op}(): expected {name} to be a 1-D tensor with {n} elements "
                           f"(one per observation), got {shape}")
    if integral and weights.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): expected {name} to have integral dtype, got "
                           f"{weights.dtype}")
    if not integral and weights.dtype.kind != "f":
        raise RuntimeError(f"{op}(): expected {name} to have floating point dtype, got "
                           f"{weights.dtype}")
    if bool((weights.array < 0).any()):
        raise RuntimeError(f"{op}(): {name} cannot be negative")
    return weights.reshape(-1)


def cov(input: Tensor, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:  # noqa: A002
    """The covariance matrix of the variables in the rows of ``input`` (a 1-D input is one
    variable), observations in the columns, optionally weighted by frequency (``fweights``,
    integers) and importance (``aweights``). ``correction`` = 1 divides by N - 1."""
    op = "cov"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): expected a Tensor, got {type(input).__name__}")
    if input.ndim > 2:
        raise RuntimeError(f"{op}(): expected input to have two or fewer dimensions but got "
                           f"an input with {input.ndim} dimensions")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    if x.dtype.kind in "biu":
        x = x.to(backend.DEFAULT_FLOAT)
    n = x.shape[1]
    fw = _cov_weights(op, fweights, n, True, "fweights")
    aw = _cov_weights(op, aweights, n, False, "aweights")
    # in the weights' own dtype (float32 aweights stay float32), as PyTorch computes them
    w = None if fw is None and aw is None else (
        fw if aw is None else aw if fw is None else fw * aw)
    # the weights are tensors all the way (aweights has a gradient, as in PyTorch)
    if w is None:
        mean = x.mean(1, keepdim=True)
        norm = Tensor._make(np.asarray(n - correction, x.dtype))
    else:
        w_sum = w.sum()
        mean = (x * w).sum(1, keepdim=True) / w_sum
        if w_sum.item() == 0:
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
        norm = w_sum - correction if aw is None or correction == 0 else \
            w_sum - correction * (w * aw).sum() / w_sum
    # norm <= 0 (too few observations): PyTorch divides by 0, giving inf or NaN
    from .elementwise import clamp
    norm = clamp(norm, min=0)
    centred = x - mean
    weighted = centred if w is None else centred * w
    c = matmul(centred, weighted.mT) / norm
    return c.reshape(()) if c.shape[0] == 1 else c      # one variable: a number


def corrcoef(input: Tensor) -> Tensor:  # noqa: A002
    """Pearson's correlation coefficients of the rows of ``input``: cov / (std_i std_j),
    clamped to [-1, 1]."""
    from .elementwise import clamp, sqrt
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal()
    stddev = sqrt(d)
    c = c / stddev.unsqueeze(1)
    c = c / stddev.unsqueeze(0)
    return clamp(c, -1, 1)


def bincount(input: Tensor, weights=None, minlength: int = 0) -> Tensor:  # noqa: A002
    """How many times each value 0, 1, ..., max(input) occurs in a 1-D tensor of non-negative
    integers (at least ``minlength`` bins); with ``weights``, the sum of the weights instead.
    No gradient (as in PyTorch)."""
    if not isinstance(input, Tensor) or input.ndim != 1 or input.dtype.kind not in "iu" or (
            input.numel() and bool((input.array < 0).any())):
        what = (f"a {input.ndim}-D {input.dtype} tensor" if isinstance(input, Tensor)
                else type(input).__name__)
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got "
                           f"{what}")
    if minlength < 0:
        raise RuntimeError(f"bincount(): minlength should be >= 0, got {minlength}")
    xp = backend.array_module(input.array)
    if weights is None:
        return Tensor._make(xp.bincount(input.array, minlength=minlength).astype(np.int64))
    if not isinstance(weights, Tensor) or tuple(weights.shape) != tuple(input.shape):
        shape = tuple(weights.shape) if isinstance(weights, Tensor) else type(weights).__name__
        raise RuntimeError(f"bincount(): weights should have the input's shape "
                           f"{tuple(input.shape)}, got {shape}")
    out_dtype = weights.dtype if weights.dtype.kind == "f" else np.float64
    counts = xp.bincount(input.array, weights=weights.array.astype(np.float64),
                         minlength=minlength)
    return Tensor._make(counts.astype(out_dtype))
