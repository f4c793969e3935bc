"""Optimizers and learning-rate schedulers, with PyTorch's names, arguments and update rules.

    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = mg.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    for epoch in range(100):
        for x, y in loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        sched.step()

One concept per module: ``optimizer.py`` (the base class: groups, state, checkpoints),
``sgd.py``, ``adam.py`` (Adam and the update AdamW shares), ``adamw.py``, ``rmsprop.py``,
``adagrad.py``, ``adadelta.py``, ``adamax.py``, ``nadam.py``, ``radam.py``, ``rprop.py``,
``asgd.py``, ``lbfgs.py`` (a quasi-Newton method whose ``step`` takes a
closure), ``lr_scheduler.py``.
"""

from . import lr_scheduler
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]

# More optimizers, one file each
from .adadelta import Adadelta  # noqa: E402
from .adagrad import Adagrad  # noqa: E402
from .adamax import Adamax  # noqa: E402
from .asgd import ASGD  # noqa: E402
from .lbfgs import LBFGS  # noqa: E402
from .nadam import NAdam  # noqa: E402
from .radam import RAdam  # noqa: E402
from .rprop import Rprop  # noqa: E402

__all__ += ["Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD", "LBFGS"]
