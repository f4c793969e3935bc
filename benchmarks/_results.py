"""Where a benchmark's results go: ``<out>/<machine>/<stem>.json`` and ``<stem>.md``.

Every benchmark writes the numbers it measured as JSON (for scripts and for comparing runs)
and the report a reader looks at as Markdown, side by side in a folder named after the machine
(``_timing.machine_name``), so that runs on different machines never overwrite each other; a
``--quick`` run (a smoke test) adds ``-quick`` to the name, so it never overwrites a full run.
"""

from __future__ import annotations

import json
from pathlib import Path

import _timing


def write(out_root, name: str, data, markdown: str, *, quick: bool = False, indent: int = 1,
          end: str = "", machine: str | None = None) -> Path:
    """Write ``data`` as JSON (``indent``, then ``end``) to ``<stem>.json`` and ``markdown``
    as it is to ``<stem>.md``, in ``<out_root>/<machine>/`` (created if missing; ``machine``
    defaults to this machine's name). ``stem`` is ``name``, or ``<name>-quick`` if ``quick``.
    Returns the folder joined with ``stem``, without a suffix."""
    stem = f"{name}-quick" if quick else name
    folder = Path(out_root) / (machine or _timing.machine_name())
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.json").write_text(json.dumps(data, indent=indent) + end)
    (folder / f"{stem}.md").write_text(markdown)
    return folder / stem
