"""Tensor methods and operators, each one line pointing at the op that implements it.

``x.exp()`` is ``ops.exp(x)``, ``a + b`` is ``ops.add(a, b)``. Keeping the list here (instead
of in tensor.py) keeps the layering honest: ``tensor.py`` knows nothing about ops, and this
module, one layer up, attaches them.
"""

from __future__ import annotations

from ..tensor import Tensor
from . import activation as A
from . import compare as C
from . import elementwise as E
from . import indexing as I
from . import join as J
from . import matmul as M
from . import movement as V
from . import reduce as R
from . import subscript as S


def _swap(fn):
    return lambda self, other: fn(other, self)


def _inplace_op(name, fn):
    def method(self, other):
        return self._inplace(name, lambda: fn(self, other))
    method.__name__ = name
    return method


def _method_dims(fn):
    """Methods like x.permute(0, 2, 1) take dims as varargs or as one tuple."""
    return lambda self, *dims: fn(self, *dims)


def attach():
    T = Tensor
    # arithmetic operators (scalars on either side)
    T.__add__, T.__radd__ = E.add, _swap(E.add)
    T.__sub__, T.__rsub__ = E.sub, _swap(E.sub)
    T.__mul__, T.__rmul__ = E.mul, _swap(E.mul)
    T.__truediv__, T.__rtruediv__ = E.div, _swap(E.div)
    T.__pow__, T.__rpow__ = E.pow, _swap(E.pow)
    T.__matmul__, T.__rmatmul__ = M.matmul, _swap(M.matmul)
    T.__neg__ = E.neg
    T.__pos__ = lambda self: self
    T.__abs__ = E.abs
    # in place: p -= lr * p.grad changes p itself
    T.__iadd__ = _inplace_op("__iadd__", E.add)
    T.__isub__ = _inplace_op("__isub__", E.sub)
    T.__imul__ = _inplace_op("__imul__", E.mul)
    T.__itruediv__ = _inplace_op("__itruediv__", E.div)
    T.add_ = lambda self, other, alpha=1: self._inplace("add_()", lambda: E.add(self, other,
                                                                               alpha=alpha))
    T.sub_ = lambda self, other, alpha=1: self._inplace("sub_()", lambda: E.sub(self, other,
                                                                               alpha=alpha))
    T.mul_ = _inplace_op("mul_()", E.mul)
    T.div_ = _inplace_op("div_()", E.div)
    T.clamp_ = lambda self, min=None, max=None: self._inplace(
        "clamp_()", lambda: E.clamp(self, min, max))
    T.__setitem__ = S.setitem
    # comparisons (boolean results, no gradient)
    T.__eq__, T.__ne__ = C.eq, C.ne
    T.__lt__, T.__le__, T.__gt__, T.__ge__ = C.lt, C.le, C.gt, C.ge
    T.__and__, T.__or__, T.__xor__, T.__invert__ = (C.logical_and, C.logical_or,
                                                    C.logical_xor, C.logical_not)
    T.eq, T.ne, T.lt, T.le, T.gt, T.ge = C.eq, C.ne, C.lt, C.le, C.gt, C.ge
    T.isnan, T.isinf, T.isfinite = C.isnan, C.isinf, C.isfinite
    T.floor, T.ceil, T.round, T.trunc = C.floor, C.ceil, C.round, C.trunc
    T.logical_not, T.logical_and, T.logical_or = C.logical_not, C.logical_and, C.logical_or
    T.nonzero, T.sort, T.argsort, T.topk = C.nonzero, C.sort, C.argsort, C.topk
    T.allclose, T.equal = C.allclose, C.equal
    # elementwise functions
    for name in ("add", "sub", "mul", "div", "pow", "exp", "log", "sqrt", "rsqrt", "abs",
                 "sin", "cos", "tanh", "sigmoid", "relu", "clamp", "neg", "square",
                 "reciprocal", "log1p", "sign", "maximum", "minimum", "erf"):
        setattr(T, name, getattr(E, name))
    T.clip = E.clamp
    T.subtract, T.multiply, T.divide, T.negative = E.sub, E.mul, E.div, E.neg
    T.where = lambda self, condition, other: E.where(condition, self, other)
    T.masked_fill = S.masked_fill
    T.lerp = E.lerp
    # reductions
    for name in ("sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin",
                 "logsumexp", "prod", "all", "any", "norm"):
        setattr(T, name, getattr(R, name))
    # shapes and indexing
    T.reshape = _method_dims(V.reshape)
    T.view = _method_dims(V.view)
    T.permute = _method_dims(V.permute)
    T.expand = _method_dims(V.expand)
    T.repeat = _method_dims(V.repeat)
    T.transpose, T.t = V.transpose, V.t
    T.swapaxes = T.swapdims = V.transpose
    T.T = property(lambda self: V.permute(self, tuple(reversed(range(self.ndim)))))
    T.mT = property(lambda self: V.transpose(self, -2, -1))
    T.squeeze, T.unsqueeze = V.squeeze, V.unsqueeze
    T.flatten, T.unflatten = V.flatten, V.unflatten
    T.expand_as = lambda self, other: V.expand(self, tuple(other.shape))
    T.view_as = lambda self, other: V.view(self, tuple(other.shape))
    T.reshape_as = lambda self, other: V.reshape(self, tuple(other.shape))
    T.contiguous, T.clone = V.contiguous, V.clone
    T.__getitem__ = S.getitem
    T.gather, T.scatter_add = I.gather, I.scatter_add
    T.split, T.chunk, T.unbind, T.flip = J.split, J.chunk, J.unbind, S.flip
    T.matmul, T.mm, T.bmm, T.dot, T.addmm = M.matmul, M.mm, M.bmm, M.dot, M.addmm
    T.softmax = lambda self, dim, dtype=None: A.softmax(self, dim, dtype=dtype)
    T.log_softmax = lambda self, dim, dtype=None: A.log_softmax(self, dim, dtype=dtype)
    T.__iter__ = lambda self: iter(self.unbind(0)) if self.ndim else _iter0d()


def _iter0d():
    raise TypeError("iteration over a 0-d tensor")


attach()


# ---- more ops (pointwise, scan, indexing, rearrange, linalg, statistics, creation) -----------

def _inplace_method(name, fn):
    """``x.name_(...)``: ``fn(x, ...)`` written into x itself (see ``Tensor._inplace``)."""
    def method(self, *args, **kwargs):
        return self._inplace(f"{name}_()", lambda: fn(self, *args, **kwargs))
    method.__name__ = f"{name}_"
    return method


# pointwise ops that PyTorch has as methods with an in-place form too
_POINTWISE_MORE = ("asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
                   "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "exp2",
                   "frac", "sinc", "deg2rad", "rad2deg", "logit", "hypot", "xlogy",
                   "copysign", "float_power")


def attach_more():
    from . import creation, indexing, linalg, pointwise, rearrange, scan, statistics
    T = Tensor
    for module, names in (
            (pointwise, ("log2", "log10", "log1p", "expm1", "tan", "erfc", "atan2",
                         "remainder", "fmod", "floor_divide", "clamp_min", "clamp_max",
                         "nan_to_num", "addcmul", "addcdiv", *_POINTWISE_MORE,
                         "fmax", "fmin", "logaddexp", "logaddexp2")),
            (scan, ("cumsum", "cumprod")),
            (indexing, ("index_select", "take_along_dim", "masked_select", "narrow", "select",
                        "index_add", "scatter", "scatter_reduce")),
            (rearrange, ("roll", "movedim", "moveaxis", "repeat_interleave", "diagonal",
                         "tril", "triu")),
            (linalg, ("mv", "baddbmm")),
            (statistics, ("median", "unique")),
            (creation, ("new_zeros", "new_ones", "new_full", "new_empty", "new_tensor"))):
        for name in names:
            setattr(T, name, getattr(module, name))
    T.arctan2 = pointwise.atan2
    T.tile = lambda self, *dims: rearrange.tile(self, dims)
    T.__mod__, T.__rmod__ = pointwise.remainder, _swap(pointwise.remainder)
    T.__floordiv__, T.__rfloordiv__ = pointwise.floor_divide, _swap(pointwise.floor_divide)
    for name in ("log2", "log10", "log1p", "expm1", "tan", "erfc", "erf", "atan2", "remainder",
                 "fmod", "floor_divide", "clamp_min", "clamp_max", "nan_to_num", "addcmul",
                 "addcdiv", "cumsum", "cumprod", "index_add", "scatter", "scatter_reduce",
                 "scatter_add", "tril", "triu", "baddbmm"):
        setattr(T, f"{name}_", _inplace_method(name, getattr(T, name)))
    T.arctan2_ = T.atan2_
    for name in _POINTWISE_MORE:
        setattr(T, f"{name}_", _inplace_method(name, getattr(T, name)))


attach_more()


# ---- in-place forms of the common pointwise ops, and questions about layout ----------------

# x.name_(...) is x.name(...) written into x (recorded and version-checked, like add_)
_INPLACE_OF_METHOD = ("exp", "log", "sqrt", "abs", "neg", "pow", "sigmoid", "tanh", "relu",
                      "floor", "ceil", "round", "trunc", "masked_fill", "lerp", "sign",
                      "reciprocal", "rsqrt", "square", "sin", "cos")


def _strides_in_elements(self, dim=None):
    """PyTorch's strides: how many elements to step to move one place along each dim."""
    strides = tuple(s // self.array.itemsize for s in self.array.strides)
    if dim is None:
        return strides
    from .arguments import normalize_dim
    return strides[normalize_dim("stride", dim, self.ndim)]


def attach_inplace_and_queries():
    T = Tensor
    for name in _INPLACE_OF_METHOD:
        setattr(T, f"{name}_", _inplace_method(name, getattr(T, name)))
    T.clip_ = T.clamp_
    T.is_contiguous = lambda self, memory_format=None: bool(self.array.flags.c_contiguous)
    T.stride = _strides_in_elements
    T.ndimension = lambda self: self.ndim
    T.nelement = lambda self: self.numel()
    T.nbytes = property(lambda self: int(self.array.nbytes))
    T.itemsize = property(lambda self: int(self.array.itemsize))
    T.retains_grad = property(lambda self: bool(self._retains_grad))
    T.is_complex = lambda self: self.dtype.kind == "c"
    T.is_cpu = property(lambda self: self.device.type == "cpu")
    T.get_device = lambda self: -1 if self.device.type == "cpu" else (self.device.index or 0)


attach_inplace_and_queries()


def attach_reductions_and_flips():
    from . import indexing, linalg, movement, rearrange, reduce, subscript
    from .compare import argwhere
    T = Tensor
    from . import join
    for module, names in ((reduce, ("count_nonzero", "nansum", "nanmean", "aminmax")),
                          (subscript, ("fliplr", "flipud", "rot90")),
                          (join, ("tensor_split", "hsplit", "vsplit", "dsplit")),
                          (movement, ("ravel",)), (linalg, ("trace", "inner", "kron")),
                          (rearrange, ("diag", "diag_embed", "diagflat")),
                          (indexing, ("take",))):
        for name in names:
            setattr(T, name, getattr(module, name))
    T.argwhere = argwhere


attach_reductions_and_flips()


def _sum_to_size(self, *size):
    """Sum over the dims that ``size`` broadcasts along, to get a tensor of shape ``size``
    (the adjoint of ``expand``): size must expand to this tensor's shape."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(int(s) for s in size)
    if len(size) > self.ndim or any(s not in (1, n) for s, n in
                                    zip(size[::-1], tuple(self.shape)[::-1])):
        raise RuntimeError(f"sum_to_size: size {size} is not expandable to the tensor's size "
                           f"{tuple(self.shape)}")
    return V.sum_to(self, size)


def _fill_diagonal_(self, fill_value, wrap: bool = False):
    """Write ``fill_value`` on the main diagonal, in place: a matrix (with ``wrap``, a tall
    one's diagonal starts again every n + 1 rows, as in NumPy), or a tensor whose dims are
    all equal (elements [i, i, ..., i])."""
    import numpy as np

    from .. import backend
    if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
        raise RuntimeError(f"fill_diagonal_: expected a matrix, or a tensor of at least 2 "
                           f"dims all of equal length, got shape {tuple(self.shape)}")
    on_diagonal = np.zeros(tuple(self.shape), dtype=np.bool_)
    np.fill_diagonal(on_diagonal, True, wrap=wrap)
    mask = Tensor._make(backend.to_device(on_diagonal, self.device))
    # the value in the tensor's dtype (a fill, like fill_: 2.5 into int64 is 2)
    fill = Tensor._make(backend.to_device(np.asarray(fill_value).astype(self.dtype),
                                          self.device))
    return self._inplace("fill_diagonal_()", lambda: E.where(mask, fill, self))


Tensor.sum_to_size = _sum_to_size
Tensor.fill_diagonal_ = _fill_diagonal_


# ---- special functions, with their in-place forms ------------------------------------------

def attach_special():
    from . import special
    T = Tensor
    for name in ("lgamma", "digamma", "erfinv"):
        function = getattr(special, name)
        setattr(T, name, function)
        setattr(T, f"{name}_", _inplace_method(name, function))
    T.polygamma = lambda self, n: special.polygamma(n, self)
    T.polygamma_ = lambda self, n: self._inplace("polygamma_()",
                                                  lambda: special.polygamma(n, self))


attach_special()


# ---- scans and statistics with indices, quantiles, covariance; in-place view changes -------

def _view_inplace(self, op: str, view):
    """``x.unsqueeze_(0)`` and the like: x itself becomes ``view(x)`` (a view of the same
    memory with another shape), keeping the view's place in the graph if it is recorded."""
    self._check_inplace(op)
    result = view(self)
    self.array = result.array
    if result.requires_grad:
        self.grad_fn, self._output_nr = result.grad_fn, result._output_nr
    # the old array is untouched (a graph that saved it can still use it): a fresh version box
    self._version = [self._version[0] + 1]
    return self


def attach_statistics_and_views():
    from . import scan, statistics
    T = Tensor
    for module, names in ((scan, ("cummax", "cummin")),
                          (statistics, ("kthvalue", "mode", "quantile", "nanquantile", "cov",
                                        "corrcoef", "bincount"))):
        for name in names:
            setattr(T, name, getattr(module, name))
    T.squeeze_ = lambda self, dim=None: _view_inplace(self, "squeeze_()",
                                                      lambda x: V.squeeze(x, dim))
    T.unsqueeze_ = lambda self, dim: _view_inplace(self, "unsqueeze_()",
                                                   lambda x: V.unsqueeze(x, dim))
    T.t_ = lambda self: _view_inplace(self, "t_()", V.t)


attach_statistics_and_views()
