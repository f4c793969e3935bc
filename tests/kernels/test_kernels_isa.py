"""The register tiles follow the CPU Numba compiles for: AVX2 code on an AVX-512 machine.

``NUMBA_CPU_NAME=haswell NUMBA_CPU_FEATURES=+avx2,+fma`` make Numba compile for an AVX2 CPU
(kernels/_cpu_isa.py), and Numba reads them once, when it loads: so a fresh Python process,
with its own empty Numba cache (the cached code of another target must not mix with the
usual cache's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("numba")

# A product and a convolution on the register tiles (conv2d_numba.TILED_MIN_K / _F), with
# partial tiles on every edge, against NumPy; one thread, so that only the serial builds
# compile (a few seconds: everything is compiled afresh).
SCRIPT = """\
import numpy as np
from minigrad import kernels as K
from minigrad.kernels import _cpu_isa, conv2d_numba, gemm_packed_numba as gp

print(_cpu_isa.vector_bits(), gp.tile_width(np.float32, 1000))
rng = np.random.default_rng(0)
a = rng.standard_normal((37, 29), dtype=np.float32)
b = rng.standard_normal((29, 45), dtype=np.float32)
c = gp.gemm_packed(a, gp.pack_rhs(b), 45, build="serial")
truth = a.astype(np.float64) @ b
print(float(np.abs(c - truth).max() / np.abs(truth).max()))
x = rng.standard_normal((2, 9, 5, 7), dtype=np.float32)
w = rng.standard_normal((33, 9, 3, 3), dtype=np.float32)
y = conv2d_numba._correlate_stride1_tiles(x, w, 1, 1, 1, 1)
expected = K.conv2d(x.astype(np.float64), w.astype(np.float64), 1, 1, 1, impl="numpy")
print(float(np.abs(y - expected).max() / np.abs(expected).max()))
"""


def test_avx2_target_gets_avx2_tiles(tmp_path):
    env = dict(os.environ, NUMBA_CPU_NAME="haswell", NUMBA_CPU_FEATURES="+avx2,+fma",
               NUMBA_CACHE_DIR=str(tmp_path / "numba"), MINIGRAD_CACHE_DIR=str(tmp_path),
               NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    first, product_error, conv_error = result.stdout.split("\n")[:3]
    assert first == "256 16"               # 16 ymm registers: 4 x 16 float32, not 4 x 64
    assert float(product_error) < 1e-5
    assert float(conv_error) < 1e-5


# conv2d_numba's register-tile paths with the tile of every vector width (the matmul's are in
# test_kernels_matmul.py): output pixels not a whole number of 4-pixel tiles, filters not a
# whole number of panels. (x shape, w shape, padding, dilation), stride 1.
TILE_CONVS = [
    ((2, 9, 5, 7), (33, 9, 3, 3), 1, 1),              # forward on tiles
    ((2, 35, 6, 5), (9, 35, 3, 3), 1, 1),             # input gradient on tiles
    ((1, 57, 4, 5), (65, 57, 3, 3), 1, 1),            # all three, weight gradient included
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bits", [512, 256, 128])
@pytest.mark.parametrize("case", TILE_CONVS, ids=["forward", "input-grad", "weight-grad"])
def test_conv2d_tiles_of_every_vector_width(case, bits, dtype, monkeypatch, kernel_rng):
    import numpy as np
    from kernel_testing import assert_close, random_array
    from minigrad.kernels import conv2d_numba, gemm_packed_numba

    from minigrad import kernels as K
    monkeypatch.setattr(gemm_packed_numba, "vector_bits", lambda: bits)
    x_shape, w_shape, padding, dilation = case
    x, w = random_array(kernel_rng, x_shape, dtype), random_array(kernel_rng, w_shape, dtype)
    hyper = dict(stride=1, padding=padding, dilation=dilation)
    gy = random_array(kernel_rng, K.conv2d(x, w, **hyper, impl="numpy").shape, dtype)
    terms = w[0].size
    assert (terms >= conv2d_numba.TILED_MIN_K and w.shape[0] >= conv2d_numba.TILED_MIN_F
            or w.shape[0] * 9 >= conv2d_numba.TILED_MIN_K
            and w.shape[1] >= conv2d_numba.TILED_MIN_F)
    for run in (lambda impl: K.conv2d(x, w, **hyper, impl=impl),
                lambda impl: K.conv2d_backward_input(gy, w, x.shape, **hyper, impl=impl),
                lambda impl: K.conv2d_backward_weight(x, gy, w.shape, **hyper, impl=impl)):
        actual, expected = run("numba"), run("numpy")
        assert actual.dtype == np.dtype(dtype)
        assert_close(actual, expected, scale=np.sqrt(terms * gy.size / gy.shape[1]))


# vector_bits's answer kept on disk (one JSON file per probe_key in MINIGRAD_CACHE_DIR): a
# process that finds it there compiles no probe.

@pytest.fixture
def isa_cache(tmp_path, monkeypatch):
    """An empty cache folder, and vector_bits with no answer kept in this process."""
    from minigrad.kernels import _cpu_isa
    monkeypatch.setenv("MINIGRAD_CACHE_DIR", str(tmp_path))
    _cpu_isa.vector_bits.cache_clear()
    yield tmp_path
    _cpu_isa.vector_bits.cache_clear()


def _probe_counting(monkeypatch, answer):
    """Replace the probe by one that counts its calls and returns ``answer()``."""
    from minigrad.kernels import _cpu_isa
    calls = []
    monkeypatch.setattr(_cpu_isa, "_probe", lambda: calls.append(1) or answer())
    return calls


def _probe_failing(monkeypatch):
    from minigrad.kernels import _cpu_isa

    def fail():
        raise AssertionError("the probe ran although the cache holds the answer")
    monkeypatch.setattr(_cpu_isa, "_probe", fail)


def test_vector_bits_cache_hit_compiles_nothing(isa_cache, monkeypatch):
    from minigrad.kernels import _cpu_isa
    bits = _cpu_isa.vector_bits()                      # the real probe, written to the file
    assert bits in (512, 256, 128)
    (path,) = isa_cache.glob("vector-bits-*.json")
    assert json.loads(path.read_text())["vector_bits"] == bits
    _cpu_isa.vector_bits.cache_clear()                 # as a new process would start
    _probe_failing(monkeypatch)
    assert _cpu_isa.vector_bits() == bits


def test_vector_bits_another_target_gets_its_own_entry(isa_cache, monkeypatch):
    from minigrad.kernels import _cpu_isa
    from numba.core import config
    calls = _probe_counting(monkeypatch, lambda: 256 if config.CPU_NAME == "haswell" else 512)
    assert _cpu_isa.vector_bits() == 512
    _cpu_isa.vector_bits.cache_clear()
    monkeypatch.setattr(config, "CPU_NAME", "haswell")          # the AVX2-emulation mode
    monkeypatch.setattr(config, "CPU_FEATURES", "+avx2,+fma")
    assert _cpu_isa.vector_bits() == 256
    assert len(calls) == 2
    assert len(list(isa_cache.glob("vector-bits-*.json"))) == 2
    _cpu_isa.vector_bits.cache_clear()
    monkeypatch.setattr(config, "CPU_NAME", None)                # back to the host: its entry
    monkeypatch.setattr(config, "CPU_FEATURES", None)
    _probe_failing(monkeypatch)
    assert _cpu_isa.vector_bits() == 512


@pytest.mark.parametrize("content", [
    b"{not json", b"\xff\xfe", b"[]", b'{"format": 1, "vector_bits": 256}',
    b'{"format": 99, "key": null, "vector_bits": 256}', b"\x80\x04K\x00.",   # a pickle
    "KEY", "BITS",
])
def test_vector_bits_ignores_an_unusable_cache_file(isa_cache, monkeypatch, content):
    from minigrad.kernels import _cpu_isa
    key = _cpu_isa.probe_key()
    if content == "KEY":                                         # written for another target
        content = json.dumps({"format": 1, "key": dict(key, cpu_name="other"),
                              "vector_bits": 256}).encode()
    elif content == "BITS":                                      # a width there is no tile for
        content = json.dumps({"format": 1, "key": key, "vector_bits": 1024}).encode()
    path = _cpu_isa._cache_file(key)
    path.write_bytes(content)
    calls = _probe_counting(monkeypatch, lambda: 128)
    assert _cpu_isa.vector_bits() == 128
    assert calls == [1]
    assert json.loads(path.read_text()) == {"format": 1, "key": key, "vector_bits": 128}


def test_vector_bits_without_a_writable_cache(isa_cache, monkeypatch):
    from minigrad.kernels import _cpu_isa
    blocker = isa_cache / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("MINIGRAD_CACHE_DIR", str(blocker / "cache"))   # cannot be made
    calls = _probe_counting(monkeypatch, lambda: 256)
    assert _cpu_isa.vector_bits() == 256
    assert calls == [1]


def test_vector_bits_avx2_emulation_has_its_own_entry_across_processes(isa_cache):
    """Fresh processes under NUMBA_CPU_NAME=haswell NUMBA_CPU_FEATURES=+avx2,+fma, with the
    host's entry already in the folder (holding 128, which AVX2 code is not): the first probes
    and writes an entry of its own, the second reads it."""
    from minigrad.kernels import _cpu_isa
    _cpu_isa._write_cached(_cpu_isa._cache_file(_cpu_isa.probe_key()), _cpu_isa.probe_key(),
                           128)
    script = ("import sys\nfrom minigrad.kernels import _cpu_isa\n"
              "if sys.argv[1] == 'cached':\n"
              "    _cpu_isa._probe = lambda: sys.exit('the probe ran')\n"
              "print(_cpu_isa.vector_bits())\n")
    env = dict(os.environ, NUMBA_CPU_NAME="haswell", NUMBA_CPU_FEATURES="+avx2,+fma")
    for mode in ("probe", "cached"):
        result = subprocess.run([sys.executable, "-c", script, mode], capture_output=True,
                                text=True, timeout=120, env=env)
        assert result.returncode == 0, result.stderr[-3000:]
        assert result.stdout.strip() == "256"
    assert len(list(isa_cache.glob("vector-bits-*.json"))) == 2
