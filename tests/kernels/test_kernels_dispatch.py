"""The dispatcher: available(), default_impl(), use(), MINIGRAD_KERNELS, impl=, and the errors
for an implementation that cannot run on the given arrays."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from minigrad.kernels import _device, dispatch

from minigrad import kernels as K

X = np.ones((2, 3), np.float32)


@pytest.fixture(autouse=True)
def no_forcing_from_the_environment(monkeypatch):
    monkeypatch.delenv(dispatch.ENV_VAR, raising=False)


@pytest.fixture
def pretend_cupy(monkeypatch):
    """Arrays of this ndarray subclass count as CuPy arrays on a GPU (no CuPy needed)."""

    class FakeCupyArray(np.ndarray):
        pass

    monkeypatch.setattr(_device, "is_cupy_array", lambda a: isinstance(a, FakeCupyArray))
    return lambda a: np.asarray(a).view(FakeCupyArray)


# ---------------------------------------------------------------------------------------------
# available / default_impl
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", K.OPS)
def test_available_always_has_numpy_and_lists_cuda_only_when_usable(op):
    impls = K.available(op)
    assert impls[0] == "numpy" and set(impls) <= set(K.IMPLEMENTATIONS)
    can_run_cuda = _device.cuda_simulator_enabled() or _device.real_gpu_available()
    assert ("cuda" in impls) == (can_run_cuda and dispatch.numba_installed())


def test_available_cuda_under_the_simulator(monkeypatch):
    monkeypatch.setattr(_device, "cuda_simulator_enabled", lambda: True)
    assert "cuda" in K.available("softmax")


@pytest.mark.parametrize("op", K.OPS)
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_default_impl_is_a_known_implementation(op, device):
    impl = K.default_impl(op, device)
    assert impl in K.IMPLEMENTATIONS
    if device == "cpu":
        assert impl != "cuda"


def test_unknown_names_are_rejected():
    with pytest.raises(ValueError, match="unknown kernel op 'matmull'"):
        K.available("matmull")
    with pytest.raises(ValueError, match="device must be 'cpu' or 'cuda'"):
        K.default_impl("matmul", "tpu")
    with pytest.raises(ValueError, match=r"unknown kernel implementation 'blas' \(from impl="):
        K.matmul(X, X.T, impl="blas")
    with pytest.raises(ValueError, match="unknown kernel implementation 'fast'"):
        with K.use("fast"):
            pass


def test_numpy_arrays_get_the_cpu_default_even_under_the_simulator(monkeypatch):
    monkeypatch.setattr(_device, "cuda_simulator_enabled", lambda: True)
    for op in K.OPS:
        assert dispatch.choose_impl(op, (X,)) == K.default_impl(op, "cpu", X.size)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_products_take_numpy_on_the_cpu(dtype, kernel_rng):
    """Below MIN_WORK input elements the default rule gives matmul to NumPy (its BLAS call
    costs a few microseconds, the packed Numba product several times that); other ops, larger
    products and the GPU keep their default."""
    from minigrad.kernels import autotune
    a = kernel_rng.standard_normal((5, 7)).astype(dtype)
    b = kernel_rng.standard_normal((7, 3)).astype(dtype)
    assert K.default_impl("matmul", "cpu", a.size + b.size) == "numpy"
    assert dispatch.choose_impl("matmul", (a, b)) == "numpy"
    k = autotune.MIN_WORK // 2 - 1                         # (1, k) @ (k, 1): just below
    assert dispatch.choose_impl("matmul", (np.ones((1, k), dtype), np.ones((k, 1), dtype))) \
        == "numpy"
    assert K.default_impl("matmul", "cpu", autotune.MIN_WORK) == K.default_impl("matmul", "cpu")
    assert K.default_impl("matmul", "cuda", 4) == "numpy"
    assert K.default_impl("softmax", "cpu", 4) == K.default_impl("softmax", "cpu")
    np.testing.assert_allclose(K.matmul(a, b), a @ b, rtol=1e-5)


def test_cupy_arrays_get_the_gpu_default(pretend_cupy):
    assert dispatch.choose_impl("softmax", (pretend_cupy(X),)) == K.default_impl("softmax", "cuda")


# ---------------------------------------------------------------------------------------------
# Forcing: impl= > use() > MINIGRAD_KERNELS > default
# ---------------------------------------------------------------------------------------------

def test_use_forces_nests_and_restores():
    assert dispatch.choose_impl("softmax", (X,)) == K.default_impl("softmax", "cpu")
    with K.use("numpy"):
        assert dispatch.choose_impl("softmax", (X,)) == "numpy"
        with K.use("numba"):
            assert dispatch.choose_impl("softmax", (X,)) == "numba"
            with K.use(None):                       # automatic choice again
                assert dispatch.choose_impl("softmax", (X,)) == K.default_impl("softmax", "cpu")
        assert dispatch.choose_impl("softmax", (X,)) == "numpy"
    assert dispatch.choose_impl("softmax", (X,)) == K.default_impl("softmax", "cpu")


def test_use_is_per_thread():
    seen = []
    with K.use("numpy"):
        worker = threading.Thread(target=lambda: seen.append(dispatch.choose_impl("matmul", (X,))))
        worker.start()
        worker.join()
    assert seen == [K.default_impl("matmul", "cpu", X.size)]


def test_environment_variable_forces_and_is_read_at_each_call(monkeypatch):
    monkeypatch.setenv("MINIGRAD_KERNELS", "numba")
    assert dispatch.choose_impl("matmul", (X,)) == "numba"
    monkeypatch.setenv("MINIGRAD_KERNELS", "numpy")
    assert dispatch.choose_impl("softmax", (X,)) == "numpy"
    monkeypatch.setenv("MINIGRAD_KERNELS", "auto")
    assert dispatch.choose_impl("softmax", (X,)) == K.default_impl("softmax", "cpu")
    monkeypatch.setenv("MINIGRAD_KERNELS", "gpu")
    with pytest.raises(ValueError, match="'gpu' .*MINIGRAD_KERNELS=gpu"):
        K.softmax(X)


def test_precedence(monkeypatch):
    monkeypatch.setenv("MINIGRAD_KERNELS", "numba")
    with K.use("numpy"):
        assert dispatch.choose_impl("softmax", (X,)) == "numpy"          # use() beats env
        assert dispatch.choose_impl("softmax", (X,), "numba") == "numba"  # impl= beats use()


def test_the_forced_implementation_really_runs():
    K.softmax(X, impl="numba")
    assert "minigrad.kernels.softmax_numba" in sys.modules


# ---------------------------------------------------------------------------------------------
# Implementations that cannot run on the given arrays: clear errors, never silent fallbacks
# ---------------------------------------------------------------------------------------------

def test_numba_on_gpu_arrays_is_an_error(pretend_cupy):
    with pytest.raises(ValueError, match=r"kernels.softmax: implementation 'numba' \(from "
                                         r"impl='numba'\) runs on the CPU only"):
        K.softmax(pretend_cupy(X), impl="numba")
    with K.use("numba"):
        with pytest.raises(ValueError, match=r"from kernels.use\('numba'\)"):
            K.matmul(pretend_cupy(X), pretend_cupy(X.T))


def test_cuda_on_numpy_arrays_without_simulator_is_an_error(monkeypatch):
    monkeypatch.setattr(_device, "cuda_simulator_enabled", lambda: False)
    monkeypatch.setattr(_device, "real_gpu_available", lambda: False)
    with pytest.raises(ValueError, match="needs CuPy arrays on a GPU.*NUMBA_ENABLE_CUDASIM=1"):
        K.matmul(X, X.T, impl="cuda")


def test_cuda_on_gpu_arrays_under_the_simulator_is_an_error(monkeypatch, pretend_cupy):
    monkeypatch.setattr(_device, "cuda_simulator_enabled", lambda: True)
    with pytest.raises(ValueError, match="simulator .* runs on NumPy arrays"):
        K.softmax(pretend_cupy(X), impl="cuda")


def test_mixed_devices_and_non_arrays(pretend_cupy):
    with pytest.raises(ValueError, match="kernels.matmul: arguments live on different devices"):
        K.matmul(X, pretend_cupy(X.T))
    with pytest.raises(TypeError, match="kernels.conv2d: expected numpy.ndarray or cupy.ndarray"):
        K.conv2d(X, [[1.0]])


# ---------------------------------------------------------------------------------------------
# Import: nothing is compiled, and Numba is not imported, by `import minigrad`
# ---------------------------------------------------------------------------------------------

def test_import_is_lazy():
    """In a fresh process: ``import minigrad`` (which imports minigrad.kernels) loads no
    implementation module and not Numba; the first kernel call loads them."""
    script = (
        "import sys\n"
        "import minigrad as mg\n"
        "def loaded():\n"
        "    return sorted(m for m in sys.modules if m.startswith('minigrad.kernels.')\n"
        "                  and m.rsplit('_', 1)[-1] in ('numba', 'cuda'))\n"
        "print('minigrad.kernels' in sys.modules, 'numba' in sys.modules, loaded())\n"
        "with mg.kernels.use('numba'):\n"
        "    mg.randn(3, 4) @ mg.randn(4, 5)\n"
        "print('numba' in sys.modules, loaded())\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=Path(__file__).parent, timeout=300)
    assert result.returncode == 0, result.stderr
    at_import, after_call = result.stdout.splitlines()
    assert at_import == "True False []", at_import
    assert after_call.startswith("True [") and "matmul_numba" in after_call, after_call


def test_small_work_runs_the_serial_build_and_restores_the_choice():
    pytest.importorskip("numba")
    from minigrad.kernels._threads import SMALL_WORK, serial_requested, threads_for

    assert not serial_requested()
    with threads_for(SMALL_WORK - 1):
        assert serial_requested()
        with threads_for(SMALL_WORK):           # nested: the inner call decides, then restores
            assert not serial_requested()
        assert serial_requested()
    assert not serial_requested()


def test_call_sized_decides_like_threads_for_and_restores(monkeypatch):
    pytest.importorskip("numba")
    from minigrad.kernels import _threads

    monkeypatch.setattr(_threads._load, "threads", lambda: 2)
    seen = []

    def record():
        seen.append(_threads.serial_requested())
        return len(seen)

    assert _threads.call_sized(_threads.SMALL_WORK - 1, record, ()) == 1
    with _threads.threads_for(1):
        _threads.call_sized(_threads.SMALL_WORK, record, ())
        assert _threads.serial_requested()              # restored after the call
    monkeypatch.setattr(_threads._load, "threads", lambda: 1)
    _threads.call_sized(_threads.SMALL_WORK, record, ())     # one free core: serial
    assert seen == [True, False, True]

    def fail():
        raise RuntimeError("kernel failed")
    with pytest.raises(RuntimeError, match="kernel failed"):
        _threads.call_sized(1, fail, ())
    assert not _threads.serial_requested()


def test_small_call_runs_serial_build_and_large_call_the_parallel_one(monkeypatch):
    pytest.importorskip("numba")
    from minigrad.kernels import softmax_numba

    kernel = softmax_numba.softmax_rows
    calls = []
    for name in ("serial", "parallel"):
        build = getattr(kernel, name)
        monkeypatch.setattr(kernel, name,
                            lambda *a, build=build, name=name: (calls.append(name), build(*a)))
    K.softmax(np.ones((3, 7)), impl="numba")
    K.softmax(np.ones((300, 700)), impl="numba")
    assert calls == ["serial", "parallel"]


def test_environment_variable_set_through_os_environ_is_seen_at_once(monkeypatch):
    """The variable is read from ``os.environ``'s own dict: setting, changing and deleting it
    through ``os.environ`` takes effect at the next call."""
    import os
    os.environ[dispatch.ENV_VAR] = "numpy"
    try:
        assert dispatch.choose_impl("softmax", (X,)) == "numpy"
        os.environ[dispatch.ENV_VAR] = " numba "
        assert dispatch.choose_impl("softmax", (X,)) == "numba"
    finally:
        del os.environ[dispatch.ENV_VAR]
    assert dispatch.choose_impl("softmax", (X,)) == K.default_impl("softmax", "cpu")
    assert dispatch._env_setting() is None
