"""Numba's disk cache, kept in step with the kernels' sources.

``@njit(cache=True)`` stores each compiled function next to its source (``__pycache__/*.nbi``
index and ``*.nbc`` machine code) and reuses it while *that function's own file* is unchanged.
It does not look at the files of the functions it calls: a driver in gemm_packed_numba.py
compiled against the register tiles of an older _gemm_tiles.py keeps the old tiles inlined,
and a caller whose Python side changed its arguments can then hand the old machine code
arrays it does not expect. After a ``git pull`` that changed one kernel file this showed up as
a segmentation fault in the LSTM kernel.

So the whole kernel cache is one unit: a stamp file in the cache folder holds a hash of every
kernel source file, and when the sources differ from the stamp, every cached kernel of this
package is removed once (the next calls compile again, a few seconds) and the stamp is
rewritten. Only Numba's cache folder for this package is touched, never other projects'.

Which folder Numba uses is decided by its cache locators (in-tree ``__pycache__``, or a
user-wide folder when the package is installed read-only, or ``NUMBA_CACHE_DIR``); this module
asks the same locators. They are internal to Numba, so any failure here leaves the cache as it
is rather than stopping the import.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from pathlib import Path

STAMP_NAME = "minigrad-kernel-sources.txt"
_HERE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=None)
def sources_digest(sources: Path = _HERE) -> str:
    """A hash of every ``*.py`` file in ``sources`` (this package: ~1 ms, once per process)."""
    digest = hashlib.sha256()
    for path in sorted(Path(sources).glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def numba_cache_folder() -> Path | None:
    """The folder where Numba caches the functions defined in this package, found the way
    Numba finds it (the first locator that accepts the file and can create its folder)."""
    from numba.core import caching, config

    def probe():                                   # any function of a file in this folder
        pass

    source = str(_HERE / "_numba_cpu.py")
    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl  # name by version
    locators = impl._locator_classes
    if getattr(config, "CACHE_LOCATOR_CLASSES", None):
        return None                                # a user's own locator list: not ours to read
    for cls in locators:
        locator = cls.from_function(probe, source)
        if locator is None:
            continue
        try:
            locator.ensure_cache_path()
        except OSError:
            continue
        return Path(locator.get_cache_path())
    return None


def kernel_sources_digest() -> str:
    """A hash of every source file of this package."""
    return sources_digest(_HERE)


def clear_if_stale(folder: Path | None = None, sources: Path = _HERE) -> bool:
    """Remove the functions cached in ``folder`` (default: Numba's folder for this package)
    when they were compiled from other sources than those now in ``sources``; True if it
    removed anything."""
    with contextlib.suppress(Exception):          # never let cache upkeep stop an import
        folder = folder if folder is not None else numba_cache_folder()
        if folder is None or not folder.is_dir():
            return False
        stamp = folder / STAMP_NAME
        digest = sources_digest(Path(sources))
        with contextlib.suppress(OSError):
            if stamp.read_text() == digest:
                return False
        removed = False
        for cached in [*folder.glob("*.nbi"), *folder.glob("*.nbc")]:
            with contextlib.suppress(OSError):
                cached.unlink()
                removed = True
        with contextlib.suppress(OSError):
            stamp.write_text(digest)
        return removed
    return False
