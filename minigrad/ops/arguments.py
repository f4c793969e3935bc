"""Checking the arguments many ops share: dims, tuples of ints, index ranges.

One helper per kind of argument, so that every op reports a bad one with the same message
(PyTorch's wording, prefixed with the op's name): ``sum``, ``softmax``, ``cat`` and
``transpose`` all say "dimension out of range (expected to be in range of [-2, 1], but got 2)"
for dim=2 on a 2-D tensor, and ``conv2d``, ``max_pool2d`` and ``nn.Conv2d`` all refuse
``stride=1.5`` instead of truncating it to 1.
"""

from __future__ import annotations

import operator

import numpy as np


def as_int(op: str, name: str, value) -> int:
    """``value`` as a Python int; floats (even 2.0), bools and strings are refused, as PyTorch
    refuses them (a float size is almost always a bug: 7 / 2 where 7 // 2 was meant)."""
    if type(value) is int:          # the usual case, answered at once (a bool is not an int here)
        return value
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be an int, got a bool ({value})")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__} "
                        f"{value!r}") from None


def normalize_dim(op: str, dim, ndim: int) -> int:
    """A dim in [-ndim, ndim) as an index in [0, ndim).

    A 0-d tensor accepts dim 0 and -1 (PyTorch treats it as having one dimension of size 1
    here); the result is then 0, and the caller decides what that means (a reduction of a 0-d
    tensor reduces nothing).
    """
    d = as_int(op, "dim", dim)
    span = max(ndim, 1)
    if not -span <= d < span:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of "
                         f"[{-span}, {span - 1}], but got {d})")
    return d % span if ndim else 0


class _Omitted:
    """The default of a ``dim`` that PyTorch lets you omit but not pass as None (max, min,
    prod: ``x.max()`` reduces everything, ``x.max(dim=None)`` is a TypeError)."""

    def __repr__(self):
        return "<every dim>"


EVERY_DIM = _Omitted()


def refuse_none_dim(op: str, dim) -> None:
    """A TypeError for ``dim=None`` given explicitly where PyTorch wants an int."""
    if dim is None:
        raise TypeError(f"{op}(): dim must be an int, got None (omit dim to reduce every "
                        "element)")


def normalize_dims(op: str, dim, ndim: int) -> tuple:
    """``dim`` as a sorted tuple of axes: None (or ()) is every axis, an int is one axis, a
    tuple or list is several (each at most once). A 0-d tensor has no axes: ()."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    if type(dim) is int and -ndim <= dim < ndim:    # one dim in range: nothing else to check
        return (dim % ndim,)
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = [normalize_dim(op, d, ndim) for d in dims]
    if len(set(axes)) != len(axes):
        repeated = next(a for a in axes if axes.count(a) > 1)
        raise RuntimeError(f"{op}: dim {repeated} appears multiple times in the list of dims "
                           f"{tuple(dims)}")
    return tuple(sorted(axes)) if ndim else ()


def int_tuple(op: str, name: str, value, n: int) -> tuple:
    """``3`` -> ``(3, 3)``; ``(1, 2)`` stays: how PyTorch reads kernel_size, stride, padding,
    dilation and output_padding. Every entry must be an int: ``stride=1.5`` raises a
    TypeError naming the op and the value, never a silent ``int(1.5) = 1``."""
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got "
                             f"{tuple(value)!r}")
        try:
            return tuple(as_int(op, name, v) for v in value)
        except TypeError:
            bad = next(v for v in value if isinstance(v, (bool, np.bool_)) or
                       not hasattr(v, "__index__"))
            raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got "
                            f"{type(bad).__name__} {bad!r} in {tuple(value)!r}") from None
    try:
        return (as_int(op, name, value),) * n
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got "
                        f"{type(value).__name__} {value!r}") from None


def check_index_range(op: str, index, dim: int, size: int) -> None:
    """Every entry of the integer array ``index`` must lie in [0, size) (PyTorch's gather and
    scatter take no negative indices); else PyTorch's message naming the first bad one."""
    if index.size == 0:
        return
    bad = (index < 0) | (index >= size)
    if bool(bad.any()):
        first = int(index[bad].reshape(-1)[0])
        raise RuntimeError(f"{op}: index {first} is out of bounds for dimension {dim} with "
                           f"size {size}")
