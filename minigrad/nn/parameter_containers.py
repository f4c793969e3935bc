"""``ParameterList`` and ``ParameterDict``: containers of parameters a Module can see.

A plain Python list of Parameters assigned to a Module hides them from ``parameters()``,
``state_dict()`` and ``.to()``. These containers are Modules that register each entry as a
parameter of their own, named "0", "1", ... (the list) or by the user's string keys (the
dict), so a model's ``self.scales = ParameterList([...])`` gives state_dict keys
``"scales.0"``, ``"scales.1"``, as in PyTorch. A Tensor that is not yet a Parameter is wrapped in
one (``requires_grad=True``, as PyTorch does); any other object is stored as a plain attribute.
"""

from __future__ import annotations

import operator
from collections import OrderedDict

from ..tensor import Tensor
from .module import Module
from .parameter import Parameter

__all__ = ["ParameterList", "ParameterDict"]


def _as_parameter(value):
    """Tensors become Parameters sharing their memory; other values are kept as they are."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _store(container: Module, name: str, value) -> None:
    """File ``value`` under ``name``: a Parameter in ``_parameters`` (a replaced one keeps its
    place in the state_dict order, as in PyTorch), anything else as a plain attribute."""
    value = _as_parameter(value)
    if isinstance(value, Parameter):
        container.__dict__.pop(name, None)
        container.register_parameter(name, value)
    else:
        container._parameters.pop(name, None)
        object.__setattr__(container, name, value)


def _describe(value, dtype_name: str) -> str:
    """One line of the repr: PyTorch prints a Parameter's dtype and size, not its values."""
    if not isinstance(value, Tensor):
        return f"Object of type: {type(value).__name__}"
    size = "x".join(str(n) for n in value.shape)
    device = f" (GPU {value.device.index or 0})" if value.is_cuda else ""
    kind = "Parameter containing: " if isinstance(value, Parameter) else ""
    return f"{kind}[{dtype_name} of size {size}{device}]"


def _repr_lines(name: str, lines: list[str]) -> str:
    if not lines:
        return name + "()"
    return name + "(\n" + "\n".join("    " + line for line in lines) + "\n)"


class ParameterList(Module):
    """A list of Parameters registered under the names "0", "1", ...

        self.scales = nn.ParameterList([nn.Parameter(mg.ones(4)) for _ in range(3)])
        for s in self.scales: x = x * s
    """

    def __init__(self, values=None):
        super().__init__()
        self.__dict__["_size"] = 0
        if values is not None:
            self.extend(values)

    def _index(self, idx) -> int:
        idx = operator.index(idx)
        if not -len(self) <= idx < len(self):
            raise IndexError(f"ParameterList: index {idx} is out of range for a list of "
                             f"length {len(self)}")
        return idx % len(self)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)([self[i] for i in range(len(self))[idx]])
        return getattr(self, str(self._index(idx)))

    def __setitem__(self, idx, value) -> None:
        _store(self, str(self._index(idx)), value)

    def __len__(self) -> int:
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __iadd__(self, values):
        return self.extend(values)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value) -> ParameterList:
        self.__dict__["_size"] += 1
        _store(self, str(len(self) - 1), value)
        return self

    def extend(self, values) -> ParameterList:
        if isinstance(values, (str, bytes, Tensor)) or not hasattr(values, "__iter__"):
            raise TypeError("ParameterList.extend should be called with an iterable of "
                            f"parameters, but got {type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def __repr__(self):
        lines = [f"({i}): " + _describe(p, str(getattr(p, "dtype", ""))) for i, p in
                 enumerate(self)]
        return _repr_lines(self._get_name(), lines)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """A dict of Parameters (string keys), registered in insertion order.

        self.heads = nn.ParameterDict({"cls": nn.Parameter(mg.zeros(10))})
        logits = features @ self.heads["cls"]
    """

    def __init__(self, parameters=None):
        super().__init__()
        self.__dict__["_keys"] = {}        # insertion-ordered set of the keys
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _check_key(key):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict keys must be strings, got "
                            f"{type(key).__name__} ({key!r})")

    def __getitem__(self, key: str):
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value) -> None:
        self._check_key(key)
        self._keys[key] = None
        _store(self, key, value)

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(list(self._keys))

    def __contains__(self, key) -> bool:
        return key in self._keys

    def __or__(self, other) -> ParameterDict:
        merged = self.copy()
        merged.update(other)
        return merged

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same Parameter objects."""
        return type(self)(OrderedDict(self.items()))

    def keys(self):
        return self._keys.keys()

    def values(self):
        return [self[k] for k in self._keys]

    def items(self):
        return [(k, self[k]) for k in self._keys]

    def get(self, key: str, default=None):
        return self[key] if key in self else default

    def setdefault(self, key: str, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key: str):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        if not self._keys:
            raise KeyError("popitem(): ParameterDict is empty")
        key = next(reversed(list(self._keys)))
        return key, self.pop(key)

    def clear(self) -> None:
        for key in list(self._keys):
            del self[key]

    def fromkeys(self, keys, default=None) -> ParameterDict:
        return type(self)([(k, default) for k in keys])

    def update(self, parameters) -> None:
        """Add (key, value) pairs from a mapping or an iterable of pairs. As in PyTorch, an
        OrderedDict, a ParameterDict or a list of pairs keeps its order, and a plain dict's
        keys are sorted."""
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = list(parameters.items())
        elif hasattr(parameters, "keys"):
            pairs = sorted(parameters.items(), key=lambda pair: pair[0])
        else:
            pairs = []
            for i, pair in enumerate(parameters):
                if not hasattr(pair, "__len__") or len(pair) != 2:
                    raise ValueError(f"ParameterDict.update: element #{i} of the iterable "
                                     f"should be a (key, value) pair, got {pair!r}")
                pairs.append(tuple(pair))
        for key, value in pairs:
            self[key] = value

    def __repr__(self):
        lines = [f"({k}): " + _describe(p, p.type() if isinstance(p, Tensor) else "")
                 for k, p in self.items()]
        return _repr_lines(self._get_name(), lines)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")
