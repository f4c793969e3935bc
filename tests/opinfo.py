"""The op registry (after PyTorch's OpInfo): every differentiable op, registered once.

Each entry names a public op and gives sample inputs (odd shapes, broadcasting, edge values).
``test_registry.py`` runs gradcheck (and gradgradcheck where ``gradgrad=True``) over every
sample of every entry, and fails if a public differentiable op has no entry. Coverage is then
mechanical, not remembered.

To register an op, in one of the ``opinfo_*.py`` files::

    register("exp", lambda x: mg.exp(x), samples=lambda rng: [Sample(t(rng, 3, 5))])

Sample inputs are float64 Tensors with requires_grad=True (use ``t(rng, *shape)``); other
arguments (ints, index tensors, flags) go in ``args``/``kwargs`` as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

import minigrad as mg


@dataclass
class Sample:
    args: tuple
    kwargs: dict = field(default_factory=dict)
    desc: str = ""

    def __init__(self, *args, desc: str = "", **kwargs):
        self.args, self.kwargs, self.desc = args, kwargs, desc


@dataclass
class OpInfo:
    name: str                                   # public name: "exp", "nn.functional.conv2d"
    fn: Callable[..., Any]                      # called as fn(*sample.args, **sample.kwargs)
    samples: Callable[[np.random.Generator], list]
    gradgrad: bool = True                       # also run gradgradcheck
    atol: float = 1e-5
    rtol: float = 1e-3
    covers: tuple = ()                          # other public names this entry also exercises


REGISTRY: list[OpInfo] = []


def register(name, fn, samples, gradgrad=True, atol=1e-5, rtol=1e-3, covers=()):
    REGISTRY.append(OpInfo(name, fn, samples, gradgrad, atol, rtol, tuple(covers)))


def t(rng: np.random.Generator, *shape, low=-2.0, high=2.0, positive=False, away_from=None):
    """A random float64 leaf tensor that requires grad.

    ``positive`` draws from [0.5, 2]; ``away_from=v`` keeps samples at least 0.1 from v (for
    kinks such as relu at 0, abs at 0), so finite differences never straddle a kink.
    """
    if positive:
        x = rng.uniform(0.5, 2.0, size=shape)
    else:
        x = rng.uniform(low, high, size=shape)
    if away_from is not None:
        close = np.abs(x - away_from) < 0.1
        x[close] = away_from + np.where(x[close] >= away_from, 0.1, -0.1) + \
            np.sign(x[close] - away_from + 1e-12) * 0.05
    return mg.tensor(x, dtype=mg.float64, requires_grad=True)


def all_entries():
    """Import every registry file and return the list of entries."""
    import importlib
    import pathlib

    here = pathlib.Path(__file__).parent
    for path in sorted(here.glob("opinfo_*.py")):
        importlib.import_module(path.stem)
    return REGISTRY
