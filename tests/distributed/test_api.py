"""The parts of minigrad.distributed that run in one process, without MPI: errors before
init_process_group, the nccl refusal, DistributedSampler against PyTorch's, the launcher's
command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

import minigrad as mg
import minigrad.distributed as dist
from minigrad.distributed import run as launcher


@pytest.mark.parametrize("call, name", [
    (lambda: dist.get_rank(), "get_rank"),
    (lambda: dist.get_world_size(), "get_world_size"),
    (lambda: dist.all_reduce(mg.ones(3)), "all_reduce"),
    (lambda: dist.broadcast(mg.ones(3), 0), "broadcast"),
    (lambda: dist.all_gather([mg.ones(3)], mg.ones(3)), "all_gather"),
    (lambda: dist.barrier(), "barrier"),
    (lambda: dist.destroy_process_group(), "destroy_process_group"),
    (lambda: mg.nn.parallel.DistributedDataParallel(mg.nn.Linear(2, 3)),
     "DistributedDataParallel"),
])
def test_use_before_init_names_the_call(call, name):
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match=f"^{name}: the default process group has not been "
                                           "initialized; call .*init_process_group"):
        call()


def test_sampler_without_a_group_asks_for_init_or_arguments():
    with pytest.raises(RuntimeError, match="DistributedSampler: .*init_process_group"):
        mg.data.DistributedSampler(range(5))


def test_nccl_without_a_gpu_says_what_is_missing():
    if mg.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match=r"backend='nccl'\) needs a CUDA GPU "
                                           r"\(mg.cuda.is_available\(\) is False\)"):
        dist.init_process_group(backend="nccl")
    assert not dist.is_initialized()


def test_unknown_backend_and_bad_timeout():
    with pytest.raises(ValueError, match="backend 'gloo' is not supported"):
        dist.init_process_group(backend="gloo")
    with pytest.raises(ValueError, match="timeout must be a positive datetime.timedelta"):
        dist.init_process_group(timeout=30)
    assert not dist.is_initialized()


@pytest.mark.parametrize("n, replicas", [(7, 3), (10, 2), (2, 5), (12, 4), (1, 1)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_deals_like_pytorch(n, replicas, drop_last):
    torch_data = pytest.importorskip("torch.utils.data")
    for rank in range(replicas):
        ours = mg.data.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                          drop_last=drop_last)
        theirs = torch_data.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                               drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs)


def test_sampler_shuffles_per_epoch_and_covers_everything():
    n, replicas = 23, 3
    samplers = [mg.data.DistributedSampler(range(n), replicas, r, seed=4) for r in range(3)]
    epochs = []
    for epoch in range(2):
        for s in samplers:
            s.set_epoch(epoch)
        shares = [list(s) for s in samplers]
        assert set(i for s in shares for i in s) == set(range(n))
        assert sum(len(s) for s in shares) == 24                   # one index repeated
        epochs.append(shares)
    assert epochs[0] != epochs[1]


def test_sampler_rejects_a_bad_rank():
    with pytest.raises(ValueError, match=r"invalid rank 3, rank should be in the interval "
                                         r"\[0, 2\]"):
        mg.data.DistributedSampler(range(5), num_replicas=3, rank=3)


def test_launcher_command_and_thread_settings(monkeypatch):
    seen = {}

    def fake_run(command, env=None, **kwargs):
        if "--version" in command:
            return subprocess.CompletedProcess(command, 0, "HYDRA build details", "")
        seen["command"], seen["env"] = command, env
        return subprocess.CompletedProcess(command, 0)
    monkeypatch.setattr(launcher, "find_mpiexec", lambda: "/x/mpiexec")
    monkeypatch.setattr(launcher.subprocess, "run", fake_run)
    for name in launcher.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")       # the user's own setting is kept
    assert launcher.main(["--nproc-per-node", "3", "train.py", "--lr", "0.1"]) == 0
    assert seen["command"] == ["/x/mpiexec", "-n", "3", sys.executable, "train.py", "--lr",
                               "0.1"]
    # every pool a rank may load, NumPy's OpenBLAS before minigrad's kernels included
    for name in ("NUMBA_NUM_THREADS", "MINIGRAD_BLAS_THREADS", "OPENBLAS_NUM_THREADS",
                 "MKL_NUM_THREADS"):
        assert seen["env"][name] == "1", name
    assert seen["env"]["OMP_NUM_THREADS"] == "3"
    launcher.main(["-n", "2", "--threads", "2", "--bind-to", "core", "t.py"])
    assert seen["command"] == ["/x/mpiexec", "-n", "2", "-bind-to", "core", sys.executable,
                               "t.py"]
    assert {seen["env"][name] for name in launcher.THREAD_VARIABLES} == {"2"}
    with pytest.raises(SystemExit):
        launcher.main(["-n", "2", "--threads", "0", "t.py"])


def test_launcher_passes_openmpi_its_root_flags(monkeypatch):
    monkeypatch.setattr(launcher, "find_mpiexec", lambda: "/x/mpiexec")
    monkeypatch.setattr(launcher, "is_openmpi", lambda path: True)
    monkeypatch.setattr(launcher.os, "geteuid", lambda: 0)
    command = launcher.mpiexec_command(4, ["t.py"], oversubscribe=True)
    assert command[:5] == ["/x/mpiexec", "-n", "4", "--allow-run-as-root", "--oversubscribe"]
    command = launcher.mpiexec_command(2, ["t.py"], bind_to="core")
    assert command[3:6] == ["--allow-run-as-root", "--bind-to", "core"]
