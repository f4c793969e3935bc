"""A stand-in ``torch`` package that is minigrad under PyTorch's import paths.

tests/programs/test_programs.py puts the folder above this one first on ``sys.path`` and runs
an unmodified PyTorch program: ``import torch`` then finds this file. It only re-exports
minigrad; it adds no behaviour of its own. The one name it has to build is ``torch.utils``,
which minigrad spells ``minigrad.data``.
"""

import sys
import types

import minigrad
import minigrad.autograd
import minigrad.autograd.function
import minigrad.data
import minigrad.nn
import minigrad.nn.functional
import minigrad.optim
from minigrad import *  # noqa: F401,F403

# ``import torch.nn.functional as F`` looks each dotted name up in sys.modules
sys.modules[__name__ + ".nn"] = minigrad.nn
sys.modules[__name__ + ".nn.functional"] = minigrad.nn.functional
sys.modules[__name__ + ".optim"] = minigrad.optim
sys.modules[__name__ + ".autograd"] = minigrad.autograd
sys.modules[__name__ + ".autograd.function"] = minigrad.autograd.function

# torch.utils.data is minigrad.data
utils = types.ModuleType(__name__ + ".utils")
utils.data = minigrad.data
sys.modules[__name__ + ".utils"] = utils
sys.modules[__name__ + ".utils.data"] = minigrad.data
