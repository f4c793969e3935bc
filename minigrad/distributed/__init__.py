"""``mg.distributed``: several processes training one model (PyTorch's ``torch.distributed``).

    # train.py, started with  python -m minigrad.distributed.run -n 2 train.py
    import minigrad.distributed as dist
    dist.init_process_group(backend="mpi")
    model = mg.nn.parallel.DistributedDataParallel(model)
    sampler = mg.data.DistributedSampler(dataset)          # each rank gets its own share
    ...
    dist.destroy_process_group()

``process_group.py`` holds the group and the collectives (all_reduce, broadcast, all_gather,
barrier), run through MPI (mpi4py); ``run.py`` is the launcher. docs/distributed.md explains
how data-parallel training is built from them.
"""

from .process_group import (  # noqa: F401
    DistBackendError,
    ReduceOp,
    Work,
    all_gather,
    all_gather_object,
    all_reduce,
    barrier,
    broadcast,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
)

__all__ = [
    "DistBackendError", "ReduceOp", "Work", "all_gather", "all_gather_object", "all_reduce", "barrier", "broadcast",
    "destroy_process_group", "get_backend", "get_rank", "get_world_size", "init_process_group",
    "is_available", "is_initialized",
]
