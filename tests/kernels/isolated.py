"""Run kernel calls in a separate Python process, so that a crash is a test failure.

A compiled kernel that reads or writes past the end of an array does not raise: it corrupts
memory, and the process may die (SIGSEGV, or glibc's abort on a corrupted heap) and take the
whole test run with it. Hostile inputs are therefore called here, in a child process:

    outcomes = run_isolated({"name": "K.matmul(np.ones((2, 3)), np.ones((4, 5)))", ...})
    outcomes["name"]   # Outcome("raised", "ValueError", "kernels.matmul: ..."), or
                       # Outcome("returned", None, repr of the value), or
                       # Outcome("crashed", None, "exit status -11 ...")

Every snippet is a Python expression evaluated after ``PREAMBLE``; one process runs the
snippets one after another, and if it dies inside one, a new process resumes after it, so
each snippet gets its own outcome. Corrupted memory does not always crash at once: if the
process dies between snippets or at exit, each snippet is run again alone, to tell which one
did it. Imported as ``from isolated import ...`` (pytest puts this directory on sys.path, as
for kernel_testing.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import NamedTuple

PREAMBLE = """\
import numpy as np
from minigrad import kernels as K
"""

# The child reads the snippets as JSON from stdin and writes one JSON line per snippet,
# flushing before each call so that the parent knows which one was running if it dies.
_RUNNER = """\
import json, sys
snippets = json.loads(sys.stdin.read())
namespace = {}
exec(PREAMBLE, namespace)
for name, code in snippets:
    print(json.dumps(["start", name]), flush=True)
    try:
        value = eval(code, namespace)
    except Exception as error:
        print(json.dumps(["raised", name, type(error).__name__, str(error)]), flush=True)
    else:
        print(json.dumps(["returned", name, None, repr(value)]), flush=True)
"""


class Outcome(NamedTuple):
    kind: str                 # "raised", "returned" or "crashed"
    exception: str | None     # the exception's class name when kind == "raised"
    text: str                 # its message, the value's repr, or how the process died


def run_isolated(snippets: dict[str, str], preamble: str = PREAMBLE,
                 timeout: float = 300) -> dict[str, Outcome]:
    """The outcome of every snippet (an expression), each evaluated in a child process."""
    outcomes: dict[str, Outcome] = {}
    remaining = list(snippets.items())
    while remaining:
        found, running, status, stderr = _run_in_child(remaining, preamble, timeout)
        if running is not None:              # the process died inside this snippet
            found[running] = Outcome("crashed", None, f"exit status {status}; stderr ends "
                                                      f"with: {stderr[-600:]}")
        elif status != 0:
            # It died between snippets or at exit: memory that one snippet corrupted made a
            # later free or allocation fail. Run each snippet alone to tell which.
            if len(remaining) == 1:
                name = remaining[0][0]
                found[name] = Outcome("crashed", None, f"exit status {status} after "
                                                       f"{found.get(name)}; stderr ends with: "
                                                       f"{stderr[-600:]}")
            else:
                for item in remaining:
                    outcomes.update(run_isolated(dict([item]), preamble, timeout))
                return outcomes
        outcomes.update(found)
        remaining = [(name, code) for name, code in remaining if name not in outcomes]
    return outcomes


def _run_in_child(snippets, preamble, timeout):
    """(outcomes reported, the snippet running when the child stopped or None, exit status,
    stderr) of one child process running ``snippets`` in order."""
    child = subprocess.run(
        [sys.executable, "-c", f"PREAMBLE = {preamble!r}\n" + _RUNNER],
        input=json.dumps(snippets), capture_output=True, text=True, timeout=timeout)
    found, running = {}, None
    for line in child.stdout.splitlines():
        kind, name, *rest = json.loads(line)
        if kind == "start":
            running = name
        else:
            found[name] = Outcome(kind, rest[0], rest[1])
            running = None
    return found, running, child.returncode, child.stderr
