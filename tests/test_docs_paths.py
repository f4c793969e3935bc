"""Every repository path that the docs, the README and the code's docstrings and comments name
exists: a reader who follows ``kernels/matmul_numba.py`` or ``docs/design.md`` finds it.

A path is a word that starts with one of the repository's top-level folders and a slash
(``minigrad/ops/conv.py``, ``benchmarks/results/``); names with wildcards or placeholders
(``kernels/*_numba.py``, ``<name>``) are patterns, not paths, and are skipped, and so are the
folders that runs create and .gitignore lists (``notebooks/executed/``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOP = ("minigrad", "kernels", "docs", "tests", "benchmarks", "notebooks", ".ci")
PATH = re.compile(r"(?<![\w./-])((?:%s)/[\w./-]*)" % "|".join(re.escape(t) for t in TOP))


def _texts():
    yield from [ROOT / "README.md", ROOT / "Makefile", ROOT / "pyproject.toml"]
    yield from sorted((ROOT / "docs").glob("*.md"))
    for folder in ("minigrad", "kernels", "benchmarks", "notebooks", "tests"):
        yield from sorted((ROOT / folder).rglob("*.py"))
    yield from sorted((ROOT / "notebooks").glob("*.ipynb"))


def _named_paths(text: str):
    for match in PATH.finditer(text):
        path = match.group(1).rstrip(".,:;)")
        end = match.end(1)
        if any(ch in text[end:end + 1] for ch in "*<{"):   # a pattern such as kernels/*_x.py
            continue
        yield path


def _generated_folders():
    """Folders that runs create and git ignores (notebooks/executed/, ...): named, not stored."""
    lines = (ROOT / ".gitignore").read_text().splitlines()
    return tuple(line.strip().rstrip("/") for line in lines
                 if line.strip().endswith("/") and "/" in line.strip().rstrip("/"))


def _missing():
    generated = _generated_folders()
    missing = []
    for source in _texts():
        text = source.read_text(encoding="utf-8")
        for path in sorted(set(_named_paths(text))):
            if path.rstrip("/").startswith(generated):
                continue
            if not (ROOT / path).exists():
                missing.append(f"{source.relative_to(ROOT)} names {path}")
    return missing


def test_every_named_repository_path_exists():
    missing = _missing()
    assert not missing, "paths named but not in the repository:\n" + "\n".join(missing)


def test_no_text_cites_a_design_file_outside_the_repository():
    citing = [str(p.relative_to(ROOT)) for p in _texts()
              if "DESIGN.md" in p.read_text(encoding="utf-8") and p != Path(__file__)]
    assert not citing, f"these cite a DESIGN.md that is not in the repository: {citing}"


@pytest.mark.parametrize("text, expected", [
    ("see `kernels/matmul_numba.py`.", ["kernels/matmul_numba.py"]),
    ("(docs/design.md, \"One thread pool\")", ["docs/design.md"]),
    ("kernels/*_numba.py and notebooks/<name>", []),
    ("minigrad.kernels and xkernels/y", []),
])
def test_path_finder(text, expected):
    assert list(_named_paths(text)) == expected
