"""What each rank runs in the distributed tests: ``mpiexec -n P python dist_worker.py SCENARIO OUT``.

One mpiexec start (process start-up and imports) costs about a second, so the ``train``
scenario checks everything that passes in one run and writes its findings to
``OUT/rank{r}.pkl``; the error scenarios are separate runs that are expected to fail.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from datetime import timedelta

import numpy as np

import minigrad as mg
import minigrad.distributed as dist
from minigrad import nn

IN, HIDDEN, OUT_DIM = 5, 7, 3
LOCAL_BATCH, STEPS = 3, 3


def make_model(seed):
    mg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(IN, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, HIDDEN),
                          nn.Tanh(), nn.Linear(HIDDEN, OUT_DIM)).double()
    model.register_buffer("scale", mg.tensor(np.full(2, float(seed))))
    return model


def global_batches(world):
    """The same data on every rank: STEPS batches of world * LOCAL_BATCH rows."""
    rng = np.random.default_rng(123)
    return [(rng.standard_normal((world * LOCAL_BATCH, IN)),
             rng.standard_normal((world * LOCAL_BATCH, OUT_DIM))) for _ in range(STEPS)]


def mse(model, x, y):
    return ((model(mg.tensor(x)) - mg.tensor(y)) ** 2).mean()


def params_of(model):
    return {n: p.array.copy() for n, p in model.named_parameters()}


def fortran_ordered(grad):
    """The same gradient in column-major memory: a ``.grad`` MPI cannot reduce in place."""
    return mg.Tensor._make(np.asfortranarray(grad.array))


def train_ddp(rank, world, bucket_cap_mb, strided_grads=False, as_view=False,
              set_to_none=True):
    """STEPS SGD steps of DDP, each rank on its slice of the global batch; ``strided_grads``
    makes every weight's ``.grad`` non-contiguous (the values are unchanged); ``as_view`` is
    gradient_as_bucket_view, ``set_to_none`` zero_grad's argument."""
    module = make_model(seed=rank + 1)
    if strided_grads:
        for p in module.parameters():
            if p.ndim == 2:
                p.register_hook(fortran_ordered)
    model = nn.parallel.DistributedDataParallel(module, bucket_cap_mb=bucket_cap_mb,
                                                gradient_as_bucket_view=as_view)
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    mine = slice(rank * LOCAL_BATCH, (rank + 1) * LOCAL_BATCH)
    for x, y in global_batches(world):
        opt.zero_grad(set_to_none=set_to_none)
        mse(model, x[mine], y[mine]).backward()
        opt.step()
    return model


def grads_are_bucket_views(model):
    """For each parameter: whether its ``.grad`` is its slot of the bucket buffer, checked by
    writing into the gradient and reading the bucket (the gradients are restored after)."""
    found = {}
    for bucket in model._buckets:
        for i, (name, p) in enumerate(zip(bucket.names, bucket.params)):
            if p.grad is None:
                found[name] = False
                continue
            saved = p.grad.array.copy()
            p.grad.array[...] = 7.5
            found[name] = bool((bucket.slot(i) == 7.5).all())
            p.grad.array[...] = saved
    return found


def view_mode(rank, world):
    """gradient_as_bucket_view=True: the trained weights (with both zero_grad modes), whether
    the gradients are bucket views after training, after zero_grad(set_to_none=True) and after
    the next backward, and the same in the default mode."""
    found = {}
    for cap in (25, 1e-4):
        for set_to_none in (False, True):
            model = train_ddp(rank, world, cap, as_view=True, set_to_none=set_to_none)
            found["params", cap, set_to_none] = params_of(model.module)
            found["views", cap, set_to_none] = grads_are_bucket_views(model)
        model.zero_grad(set_to_none=True)
        found["grads_after_set_to_none", cap] = [p.grad for p in model.parameters()]
        x, y = global_batches(world)[0]
        mse(model, x, y).backward()
        found["views_after_next_backward", cap] = grads_are_bucket_views(model)
        found["default_views", cap] = grads_are_bucket_views(train_ddp(rank, world, cap))
    return found


def train_single(world):
    """The same steps on one process over the whole batch, from rank 0's initial weights."""
    model = make_model(seed=1)
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in global_batches(world):
        opt.zero_grad()
        mse(model, x, y).backward()
        opt.step()
    return params_of(model)


def accumulate_with_no_sync(rank, world, as_view=False, bucket_cap_mb=1e-4):
    """Three micro-batches per rank, two under no_sync: the gradient of one step. With
    ``as_view``, a first step makes the gradients bucket views, zero_grad(set_to_none=False)
    keeps them, and the micro-batches accumulate into the buckets; also returned then:
    whether the gradients were views during no_sync."""
    model = nn.parallel.DistributedDataParallel(make_model(seed=rank + 1),
                                                bucket_cap_mb=bucket_cap_mb,
                                                gradient_as_bucket_view=as_view)
    x, y = global_batches(3 * world)[0]
    if as_view:
        mse(model, x, y).backward()
        model.zero_grad(set_to_none=False)
    micro = [slice((3 * rank + k) * LOCAL_BATCH, (3 * rank + k + 1) * LOCAL_BATCH)
             for k in range(3)]
    with model.no_sync():
        for s in micro[:2]:
            (mse(model, x[s], y[s]) / 3).backward()
    local_only = {n: p.grad.array.copy() for n, p in model.module.named_parameters()}
    views_in_no_sync = grads_are_bucket_views(model)
    (mse(model, x[micro[2]], y[micro[2]]) / 3).backward()
    reference = make_model(seed=1)
    mse(reference, x, y).backward()
    return ({n: p.grad.array.copy() for n, p in model.module.named_parameters()},
            {n: p.grad.array.copy() for n, p in reference.named_parameters()}, local_only,
            views_in_no_sync)


def sampler_shares(rank, world, n=11, epochs=2):
    sampler = mg.data.DistributedSampler(list(range(n)), shuffle=True, seed=5)
    shares = []
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        loader = mg.data.DataLoader(mg.data.TensorDataset(mg.arange(n)), batch_size=2,
                                    sampler=sampler)
        shares.append([int(v) for (batch,) in loader for v in batch.array])
    everyone = [None] * world
    dist.all_gather_object(everyone, shares)
    return everyone


class WithUnusedLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.used = nn.Linear(IN, OUT_DIM)
        self.unused = nn.Linear(IN, 2)

    def forward(self, x):
        return self.used(x)


def unused_parameter_error():
    """A parameter without a gradient: a second backward, and the next forward, say so."""
    model = nn.parallel.DistributedDataParallel(WithUnusedLayer(), bucket_cap_mb=1e-4)
    x = mg.ones(2, IN)
    model(x).sum().backward()
    messages = []
    for again in (lambda: model.module(x).sum().backward(), lambda: model(x)):
        try:
            again()
            messages.append(None)
        except RuntimeError as e:
            messages.append(str(e))
    return messages


def collectives(rank, world):
    found = {}
    t = mg.tensor(np.arange(4.0) * (rank + 1))
    dist.all_reduce(t)
    found["sum"] = t.array.copy()
    t = mg.tensor(np.arange(4.0) * (rank + 1))
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    found["avg"] = t.array.copy()
    t = mg.tensor(np.array([rank, -rank], dtype=np.float64))
    work = dist.all_reduce(t, op=dist.ReduceOp.MAX, async_op=True)
    work.wait()
    found["max"] = t.array.copy()
    t = mg.tensor(np.full((2, 3), float(rank))).t()          # not contiguous
    dist.broadcast(t, src=world - 1)
    found["broadcast"] = t.array.copy()
    outs = [mg.zeros(2, dtype=mg.int64) for _ in range(world)]
    dist.all_gather(outs, mg.tensor([rank, 10 * rank]))
    found["all_gather"] = [o.array.copy() for o in outs]
    dist.barrier()
    return found


def scenario_train(rank, world, out):
    results = {"world": world, "rank": rank}
    results["collectives"] = collectives(rank, world)
    for cap in (25, 1e-4):                 # one bucket; one bucket per parameter
        model = train_ddp(rank, world, cap)
        results[f"ddp_cap{cap}"] = params_of(model.module)
        results["buffer"] = model.module.scale.array.copy()
        results["state_dict_keys"] = list(model.state_dict())
        results["n_buckets", cap] = len(model._buckets)
        results["lone_flat_used", cap] = any(b.flat.any() for b in model._buckets
                                             if len(b.params) == 1)
    strided = train_ddp(rank, world, 1e-4, strided_grads=True)
    results["ddp_strided_grads"] = params_of(strided.module)
    results["strided_grads_seen"] = not strided.module[0].weight.grad.array.flags.c_contiguous
    results["single"] = train_single(world)
    results["no_sync"] = accumulate_with_no_sync(rank, world)
    results["no_sync_view"] = {cap: accumulate_with_no_sync(rank, world, True, cap)
                               for cap in (25, 1e-4)}
    results["view_mode"] = view_mode(rank, world)
    results["sampler"] = sampler_shares(rank, world)
    results["unused_error"] = unused_parameter_error()
    with open(os.path.join(out, f"rank{rank}.pkl"), "wb") as f:
        pickle.dump(results, f)


def agreed_choices():
    """This rank's autotuner decisions: {(op, shape class): implementation}."""
    from minigrad.kernels import autotune
    return {(op, autotune._tuple(cls)): impl
            for op, entries in autotune.export_decisions().items() for cls, impl, *_ in entries}


def seed_disagreement(rank, cls):
    """Rank 0 decides "numpy" for the matmul shape class ``cls``, every other rank "numba"."""
    from minigrad.kernels import autotune
    impl = "numpy" if rank == 0 else "numba"
    autotune.adopt_decisions({"matmul": [[list(cls), impl, {impl: 1e-3}, "measured"]]},
                             source="the test")


FIRST, LATER = ("d", 7, 7, 7), ("d", 12, 12, 12)    # matmul classes the ranks disagree on


def scenario_kernel_choices(rank, world, out):
    """Autotuning on, a kernel-choice cache per rank; the ranks disagree on FIRST before the
    first step and on LATER after it. Written: the choices after one step without and with
    DDP's kernel-choice broadcast, after a second step, and the weights after three steps
    beside one process's on the whole batch."""
    from minigrad.kernels import autotune
    os.environ[autotune.ENV_VAR] = "1"
    os.environ[autotune.CACHE_DIR_VAR] = os.path.join(out, f"cache-rank{rank}")
    autotune.forget()
    rng = np.random.default_rng(7)
    batches = [(rng.standard_normal((world * 64, 64)), rng.standard_normal((world * 64, 32)))
               for _ in range(3)]
    mine = slice(rank * 64, (rank + 1) * 64)

    def build():
        mg.manual_seed(3)
        return nn.Sequential(nn.Linear(64, 96), nn.ReLU(), nn.Linear(96, 32)).double()

    def step(model, opt, x, y):
        opt.zero_grad()
        mse(model, x, y).backward()
        opt.step()

    found = {}
    seed_disagreement(rank, FIRST)
    off = nn.parallel.DistributedDataParallel(build(), sync_kernel_choices=False)
    step(off, mg.optim.SGD(off.parameters(), lr=0.05), *(b[mine] for b in batches[0]))
    found["without_broadcast"] = agreed_choices()
    model = nn.parallel.DistributedDataParallel(build())
    opt = mg.optim.SGD(model.parameters(), lr=0.05)
    step(model, opt, *(b[mine] for b in batches[0]))
    found["after_first_step"] = agreed_choices()
    found["sources"] = sorted({c.source for classes in autotune.choices().values()
                               for c in classes.values()})
    seed_disagreement(rank, LATER)
    step(model, opt, *(b[mine] for b in batches[1]))
    found["after_second_step"] = agreed_choices()
    step(model, opt, *(b[mine] for b in batches[2]))
    found["ddp"] = params_of(model.module)
    if rank == 0:
        single = build()
        single_opt = mg.optim.SGD(single.parameters(), lr=0.05)
        for x, y in batches:
            step(single, single_opt, x, y)
        found["single"] = params_of(single)
    with open(os.path.join(out, f"rank{rank}.pkl"), "wb") as f:
        pickle.dump(found, f)


def scenario_stuck(rank, world, out):
    """Rank 1 never reaches the all-reduce; the others must time out and name it."""
    t = mg.ones(3)
    dist.all_reduce(t)                     # everyone is alive here
    if rank == 1:
        time.sleep(120)
    dist.all_reduce(t)


def scenario_dies(rank, world, out):
    """Rank 1 dies before the all-reduce."""
    if rank == 1:
        os._exit(3)
    dist.all_reduce(mg.ones(3))


def scenario_mismatch(rank, world, out):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6 if rank == 0 else 5), nn.Linear(6 if rank == 0 else 5, 2))
    nn.parallel.DistributedDataParallel(model)


def main():
    scenario, out = sys.argv[1], sys.argv[2]
    timeout = timedelta(seconds=float(os.environ.get("DIST_TEST_TIMEOUT", "60")))
    dist.init_process_group(backend="mpi", timeout=timeout)
    globals()[f"scenario_{scenario}"](dist.get_rank(), dist.get_world_size(), out)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
