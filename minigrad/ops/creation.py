"""New tensors shaped or typed after an existing one: ``x.new_zeros(3, 4)``, ``empty_like(x)``.

``x.new_*`` make a tensor of the given size with x's dtype and device (unless told
otherwise): code that builds a buffer inside a model then follows the model to float64 or to
the GPU without naming either. ``empty`` is ``zeros`` here: a NumPy array is always
initialised, and zeros is the safe choice for uninitialised memory.
"""

from __future__ import annotations

from ..tensor import Tensor, full, tensor, zeros, zeros_like


def _size(size):
    """new_zeros(2, 3) and new_zeros((2, 3)) both mean shape (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(int(s) for s in size[0])
    return tuple(int(s) for s in size)


def _like(self: Tensor, dtype, device):
    return (self.dtype if dtype is None else dtype), (self.device if device is None else device)


def new_zeros(self: Tensor, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
    dtype, device = _like(self, dtype, device)
    return zeros(_size(size), dtype=dtype, device=device, requires_grad=requires_grad)


def new_empty(self: Tensor, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return new_zeros(self, *size, dtype=dtype, device=device, requires_grad=requires_grad)


def new_ones(self: Tensor, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return new_full(self, _size(size), 1, dtype=dtype, device=device,
                    requires_grad=requires_grad)


def new_full(self: Tensor, size, fill_value, *, dtype=None, device=None,
             requires_grad=False) -> Tensor:
    dtype, device = _like(self, dtype, device)
    return full(_size((size,)), fill_value, dtype=dtype, device=device,
                requires_grad=requires_grad)


def new_tensor(self: Tensor, data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A copy of ``data`` with self's dtype and device by default (as in PyTorch)."""
    dtype, device = _like(self, dtype, device)
    return tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    """A tensor of input's shape, dtype and device (filled with zeros, see the module)."""
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


def zero_(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's argument name
    """``mg.zero_(x)``: fills x with zeros in place and returns it (same as ``x.zero_()``)."""
    return input.zero_()
