"""``mg.nn.parallel``: training one model on several processes (see docs/distributed.md)."""

from .distributed import DistributedDataParallel  # noqa: F401

__all__ = ["DistributedDataParallel"]
