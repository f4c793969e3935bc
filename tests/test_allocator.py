"""minigrad._allocator: glibc's malloc keeps freed arrays for reuse; opt-outs are honoured."""

from __future__ import annotations

import sys

import pytest

from minigrad import _allocator

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")


@linux_only
def test_tuning_is_applied_on_glibc(monkeypatch):
    for name in (_allocator.ENV_VAR, *_allocator._GLIBC_VARS):
        monkeypatch.delenv(name, raising=False)
    import ctypes
    try:
        if not hasattr(ctypes.CDLL(None), "mallopt"):
            pytest.skip("not glibc")
    except OSError:
        pytest.skip("no C library to load")
    assert _allocator.tune_malloc() is True


@pytest.mark.parametrize("value", ["default", "0", "off"])
def test_minigrad_malloc_default_switches_it_off(monkeypatch, value):
    monkeypatch.setenv(_allocator.ENV_VAR, value)
    assert _allocator.tune_malloc() is False


@pytest.mark.parametrize("glibc_var", _allocator._GLIBC_VARS)
def test_the_users_own_glibc_settings_win(monkeypatch, glibc_var):
    monkeypatch.delenv(_allocator.ENV_VAR, raising=False)
    monkeypatch.setenv(glibc_var, "1000000")
    assert _allocator.tune_malloc() is False


@linux_only
def test_import_alone_leaves_malloc_alone_and_the_first_kernel_call_tunes_it():
    """A library changes the process only when it starts doing the work the change is for."""
    import ctypes
    if not hasattr(ctypes.CDLL(None), "mallopt"):
        pytest.skip("not glibc")
    import subprocess
    import textwrap
    code = textwrap.dedent("""
        import os
        for name in ("MINIGRAD_MALLOC", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
            os.environ.pop(name, None)
        import minigrad as mg
        from minigrad import _allocator
        assert _allocator.TUNED is None, _allocator.TUNED
        mg.randn(3, 4) @ mg.randn(4, 5)
        print("tuned after the first kernel call:", _allocator.TUNED)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "tuned after the first kernel call: True" in out.stdout, out.stdout
