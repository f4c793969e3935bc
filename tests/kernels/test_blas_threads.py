"""NumPy's BLAS runs on one thread beside minigrad's Numba pool (kernels/_blas_threads.py)."""

import os
import subprocess
import sys

import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")

from minigrad.kernels import _blas_threads  # noqa: E402

PROBE = (
    "import numpy as np, threadpoolctl\n"
    "import minigrad as mg\n"
    "mg.kernels.softmax(np.random.rand(33, 7).astype(np.float32), impl='numba')\n"
    "blas = [i for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas']\n"
    "numpys = [i for i in blas if 'numpy' in i['filepath']] or blas   # NumPy's own, in a wheel\n"
    "print(max(i['num_threads'] for i in numpys))\n"
)


def _blas_threads_in_child(setting):
    env = dict(os.environ)
    env.pop(_blas_threads.ENV_VAR, None)
    if setting is not None:
        env[_blas_threads.ENV_VAR] = setting
    env.setdefault("OPENBLAS_NUM_THREADS", "2")     # a pool to limit, even on a 1-core runner
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.split()[-1])


def _has_blas_library():
    return any(i["user_api"] == "blas" for i in threadpoolctl.threadpool_info())


@pytest.mark.skipif(not _has_blas_library(), reason="NumPy is built without a BLAS library")
def test_loading_the_numba_kernels_leaves_numpy_one_blas_thread():
    assert _blas_threads_in_child(None) == 1
    assert _blas_threads_in_child("2") == 2
    assert _blas_threads_in_child("keep") == 2      # OPENBLAS_NUM_THREADS=2, untouched


@pytest.mark.parametrize("text, threads", [("1", 1), (" 3 ", 3), ("keep", None), ("KEEP", None)])
def test_the_setting_is_read(text, threads):
    assert _blas_threads.requested_threads(text) == threads


@pytest.mark.parametrize("text", ["0", "-2", "two", "", "1.5"])
def test_a_bad_setting_names_the_variable(text):
    with pytest.raises(ValueError, match="MINIGRAD_BLAS_THREADS=.*'keep' or a whole number"):
        _blas_threads.requested_threads(text)
