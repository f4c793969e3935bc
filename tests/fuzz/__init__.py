"""Fuzz tests: minigrad's public ops, modules and kernels on random and hostile arguments.

    .venv/bin/python -m pytest tests/fuzz -q                # about a minute on 2 cores
    MINIGRAD_FUZZ_EXAMPLES=500 MINIGRAD_FUZZ_RANDOM=1 ...   # hunt for bugs locally

The property
------------
Every call, with random shapes (zero-size dims and 0-d tensors included), dtypes (float32,
float64, int64, bool, float16 for some), layouts (transposed, step-sliced and expanded views)
and now and then a bad argument (dim out of range, wrong type, negative size, float where an
int is expected, shapes that do not match), must either

* match PyTorch 2.13: same structure, shapes, dtypes, values (tolerances by dtype) and, for
  float inputs that require grad, the same gradients of a random-weighted sum of the outputs
  (these comparisons need the torch extra and are skipped without it); or
* raise one of minigrad's clear errors: a TypeError, ValueError, IndexError, RuntimeError or
  NotImplementedError (exactly, not a subclass such as NumPy's AxisError) raised in
  minigrad's code, whose message names the op and is not NumPy's or Numba's own
  (``errors.assert_clear_error`` is the one definition);

and never warn (a NumPy RuntimeWarning fails the case), crash or hang. PyTorch refusing a call
that minigrad answers is a failure too (a silent wrong answer). The kernels
(``minigrad.kernels``) run in a child process so that a segfault is a failed test, not a dead
test run, and must agree across implementations and with PyTorch.

The files
---------
``op_table.py``        THE table of fuzzed ops (one row per op)
``arguments.py``       argument builders for the rows; ``strategies.py`` their building blocks
``harness.py``         cases, running them on both libraries, comparing (``check``)
``errors.py``          what a clear error is
``known_failures.py``  THE table of known failures (id -> reason, repro, what it explains)
``kernel_*.py``        kernel cases, the child process, and judging its outcomes
``test_ops.py``, ``test_kernels.py``, ``test_known_failures.py``, ``test_errors.py``

Adding an op
------------
Add one row to ``OPS`` in ``op_table.py``: ``Op("name", lambda L, *args, **kw: ..., builder)``
where ``L`` is ``minigrad`` or ``torch`` (the same call serves both) and ``builder`` is one of
``arguments.py`` (``A.unary()``, ``A.binary()``, ``A.reduction(...)``...) or a new function
``draw -> (args, kwargs)`` written there. Give ``names=`` if the op's errors may name it
otherwise. Run ``pytest tests/fuzz -k name``.

When the suite fails
--------------------
A failure prints the case (``op(arguments)``, runnable by hand) and what went wrong. Fix
minigrad, or, if the bug belongs to someone else's work, add an entry to ``known_failures.py``
with a minimal repro. When a fix lands, its entry's strict xfail in ``test_known_failures.py``
fails ("XPASS(strict)"): delete the entry.

Deterministic: hypothesis runs derandomized with a fixed number of examples (``profile.py``),
the kernel cases come from a seeded generator, so CI sees the same cases on every run.
"""
