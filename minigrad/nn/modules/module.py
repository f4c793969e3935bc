"""Where PyTorch keeps ``Module`` and the global module hooks: ``torch.nn.modules.module``.

The code lives in ``minigrad/nn/module.py`` and ``minigrad/nn/hooks.py``; this file gives it
PyTorch's import path, so ``nn.modules.module.register_module_forward_hook(...)`` runs as is.
"""

from ..hooks import (  # noqa: F401
    RemovableHandle,
    register_module_forward_hook,
    register_module_forward_pre_hook,
    register_module_full_backward_hook,
    register_module_full_backward_pre_hook,
)
from ..module import Module  # noqa: F401
