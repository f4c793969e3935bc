"""The Numba disk cache of the kernels is dropped as a whole when any kernel source changes
(kernels/_numba_cache.py): Numba itself only watches a function's own file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from minigrad.kernels import _numba_cache

CALLEE = "from numba import njit\n\n@njit(cache=True)\ndef value():\n    return {}\n"
CALLER = textwrap.dedent("""
    from numba import njit
    from callee import value

    @njit(cache=True)
    def twice():
        return 2 * value()
""")
RUN = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, {package!r})
    if {clear}:
        from minigrad.kernels._numba_cache import clear_if_stale
        clear_if_stale(Path({package!r}) / "__pycache__", sources=Path({package!r}))
    from caller import twice
    print(twice())
""")


def _run(package: Path, clear: bool) -> int:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    code = RUN.format(package=str(package), clear=clear)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120, check=True)
    return int(out.stdout.split()[-1])


def _two_file_package(tmp_path: Path) -> Path:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "callee.py").write_text(CALLEE.format(1))
    (package / "caller.py").write_text(CALLER)
    return package


def test_numba_alone_reuses_a_caller_compiled_against_an_old_callee(tmp_path):
    """The failure the stamp exists for: Numba's own cache answers from the old callee."""
    package = _two_file_package(tmp_path)
    assert _run(package, clear=False) == 2
    (package / "callee.py").write_text(CALLEE.format(5))
    if _run(package, clear=False) == 10:
        pytest.skip("this Numba recompiles callers of a changed callee itself")
    assert _run(package, clear=False) == 2            # stale: 2 * the old value


def test_a_changed_source_file_drops_the_whole_cache(tmp_path):
    package = _two_file_package(tmp_path)
    assert _run(package, clear=True) == 2
    assert _run(package, clear=True) == 2             # unchanged sources: the cache is kept
    (package / "callee.py").write_text(CALLEE.format(5))
    assert _run(package, clear=True) == 10


def test_clear_if_stale_removes_only_numba_files_and_only_once(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    for name in ("a.f-1.py312.nbi", "a.f-1.py312.0.nbc", "notes.txt"):
        (cache / name).write_text("x")
    assert _numba_cache.clear_if_stale(cache) is True
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        ["notes.txt", _numba_cache.STAMP_NAME])
    (cache / "b.g-2.py312.nbi").write_text("x")       # compiled from the current sources
    assert _numba_cache.clear_if_stale(cache) is False
    assert (cache / "b.g-2.py312.nbi").exists()


def test_the_folder_is_where_numba_caches_the_kernels():
    import numpy as np
    from minigrad.kernels import softmax_numba
    softmax_numba.softmax(np.ones((3, 5), np.float32))
    folder = _numba_cache.numba_cache_folder()
    assert folder is not None
    assert any(p.name.startswith("softmax_numba.") for p in folder.glob("*.nbi"))
    assert (folder / _numba_cache.STAMP_NAME).read_text() == _numba_cache.kernel_sources_digest()
