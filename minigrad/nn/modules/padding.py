"""Padding layers: ``ZeroPad``, ``ConstantPad``, ``ReflectionPad``, ``ReplicationPad`` and
``CircularPad`` in 1, 2 and 3 dimensions, each a Module around ``F.pad`` (``ops/padding.py``).

``padding`` is one int (the same on every side) or PyTorch's tuple: (left, right) for 1-D,
(left, right, top, bottom) for 2-D, then (front, back) for 3-D; negative entries crop.
"""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from ..module import Module

__all__ = [f"{kind}Pad{n}d" for kind in ("Zero", "Constant", "Reflection", "Replication",
                                         "Circular") for n in (1, 2, 3)]


def _sides(name: str, padding, n_dims: int) -> tuple:
    """``padding`` as a tuple of 2 * n_dims ints."""
    if isinstance(padding, int):
        return (padding,) * (2 * n_dims)
    padding = tuple(padding)
    if len(padding) != 2 * n_dims or not all(isinstance(p, int) for p in padding):
        raise ValueError(f"{name}: padding must be an int or {2 * n_dims} ints (two per padded "
                         f"dimension), got {padding}")
    return padding


class _PadNd(Module):
    mode: str = "constant"
    n_dims: int = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _sides(type(self).__name__, padding, self.n_dims)

    def _check_input(self, input: Tensor) -> None:  # noqa: A002
        batched = self.n_dims + 2
        if input.ndim not in (batched - 1, batched):
            raise ValueError(f"{type(self).__name__}: expected {batched - 1}D or {batched}D "
                             f"input (got {input.ndim}D input of shape {tuple(input.shape)})")

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input(input)
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float):
        super().__init__(padding)
        self.value = value

    def _check_input(self, input: Tensor) -> None:  # noqa: A002
        """Constant padding takes any rank that has the padded dimensions (F.pad checks)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dimension with ``value``."""
    n_dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dimensions with ``value``."""
    n_dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dimensions with ``value``."""
    n_dims = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dimension with zeros."""
    n_dims = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last two dimensions with zeros."""
    n_dims = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last three dimensions with zeros."""
    n_dims = 3


class ReflectionPad1d(_PadNd):
    """Mirror the input at its edges, without repeating the edge (padding < size)."""
    mode, n_dims = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Mirror the input at its edges in the last two dimensions."""
    mode, n_dims = "reflect", 2


class ReflectionPad3d(_PadNd):
    """Mirror the input at its edges in the last three dimensions."""
    mode, n_dims = "reflect", 3


class ReplicationPad1d(_PadNd):
    """Repeat the edge values."""
    mode, n_dims = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Repeat the edge values in the last two dimensions."""
    mode, n_dims = "replicate", 2


class ReplicationPad3d(_PadNd):
    """Repeat the edge values in the last three dimensions."""
    mode, n_dims = "replicate", 3


class CircularPad1d(_PadNd):
    """Wrap around: the left pad is the right end of the input, and so on."""
    mode, n_dims = "circular", 1


class CircularPad2d(_PadNd):
    """Wrap around in the last two dimensions."""
    mode, n_dims = "circular", 2


class CircularPad3d(_PadNd):
    """Wrap around in the last three dimensions."""
    mode, n_dims = "circular", 3
