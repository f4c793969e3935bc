"""``mg.nn``: layers, containers, losses, initialisers and gradient utilities.

    import minigrad as mg
    from minigrad import nn
    import minigrad.nn.functional as F

    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    loss = F.cross_entropy(model(x), y)

Layout: ``module.py`` (Module and the containers), ``parameter.py``,
``parameter_containers.py`` (ParameterList, ParameterDict), ``modules/`` (one file
per family of layers), ``functional.py`` (the same layers as functions), ``init.py``,
``utils.py``. Names, arguments, defaults and state_dict keys are PyTorch's.
"""

from . import functional, init, parallel, utils  # noqa: F401
from .module import Module, ModuleDict, ModuleList, Sequential  # noqa: F401
from .modules import *  # noqa: F401,F403
from .parameter import Buffer, Parameter  # noqa: F401
from .parameter_containers import ParameterDict, ParameterList  # noqa: F401
