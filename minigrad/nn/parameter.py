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


class Buffer(Tensor):
    """A tensor that a Module registers as a buffer when it is assigned as an attribute
    (``self.running_mean = Buffer(mg.zeros(4))``): state that is not learned, moved by
    ``.to()`` and saved in ``state_dict()`` unless ``persistent=False``. The same as
    ``register_buffer(name, tensor, persistent)``. It shares the memory of ``data``."""

    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent: bool = True):
        if data is None:
            from ..tensor import empty
            data = empty(0)
        source = data if isinstance(data, Tensor) else Tensor(data)
        Tensor.__init__(self, source.array, requires_grad=source.requires_grad,
                        dtype=source.array.dtype)
        self.array = source.array            # share memory, as torch.nn.Buffer(t) does
        self.persistent = persistent
