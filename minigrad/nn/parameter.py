"""``Parameter``: a Tensor that a Module registers as learnable."""

from __future__ import annotations

from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor with ``requires_grad=True`` that ``Module`` collects in ``parameters()``.

    Assigning one as a Module attribute (``self.weight = Parameter(...)``) is what registers it.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            from ..tensor import zeros
            data = zeros(0)
        array = data.array if isinstance(data, Tensor) else Tensor(data).array
        Tensor.__init__(self, array, requires_grad=requires_grad, dtype=array.dtype)
        if isinstance(data, Tensor):
            self.array = data.array  # share memory, as torch.nn.Parameter(t) does

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__  # print(p) shows "Parameter containing:" too, as in PyTorch
