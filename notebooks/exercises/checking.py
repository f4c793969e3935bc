"""What every exercise check uses.

A check is a function, registered with ``@exercise(number, title, answer)``, that receives the
student's code (``answer`` names it: the function or class the stub defines), runs it on test
cases of its own, and either returns a one-line summary of what passed or raises
``ExerciseFailed`` with a message that says what is wrong. The decorator adds the rest:

* it prints ``Exercise N: <summary>`` when everything passed, and returns True;
* when the student's code still raises the stub's ``NotImplementedError("Exercise N: ...")``
  it prints that the exercise is not done yet (what to fill in, where the solution is) and
  returns False, so a chapter still runs top to bottom before anyone has tried the exercises;
* it puts ``Exercise N (title):`` in front of every failure message.

Checks call the student's code through ``attempt`` (so an error inside it is reported as
"your f(x) raised ...", and the stub is recognised) and compare results with
``assert_close`` (which names the first differing entry and both values).
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np

import minigrad as mg


class ExerciseFailed(AssertionError):
    """A check found a wrong answer; the message says what is wrong."""


class StubNotFilled(Exception):
    """The student's code still raises the stub's ``NotImplementedError("Exercise N: ...")``."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: where it is, what the student writes, and the check (already wrapped)."""

    chapter: int
    number: int
    title: str
    answer: str            # the name the stub defines, e.g. "newton" or "SiLU"
    check: Callable


# (chapter, number) -> Exercise; a dict, so that reloading a checks module replaces its entries
REGISTRY: dict[tuple[int, int], Exercise] = {}


def exercise(number: int, title: str, answer: str):
    """Register the decorated check as exercise ``number`` of the chapter its module is for
    (``checks_ch03`` -> chapter 3) and wrap it as described in the module docstring."""

    def decorate(check):
        chapter = int(check.__module__.rsplit("_ch", 1)[1])
        solutions = f"notebooks/exercises/solutions_ch{chapter:02d}.py"

        @functools.wraps(check)
        def run(*args, **kwargs):
            __tracebackhide__ = True          # IPython and pytest: show the message, not us
            try:
                summary = check(*args, **kwargs)
            except StubNotFilled as stub:
                todo = str(stub).split(":", 1)[-1].strip()     # the stub's "Exercise N: ..."
                print(f"Exercise {number} ({title}) is not done yet: the stub still raises "
                      f"NotImplementedError ({todo}). Replace its body with your code and run "
                      f"both cells again. (Stuck? See {solutions}.)")
                return False
            except ExerciseFailed as failure:
                failure.args = (f"Exercise {number} ({title}): {failure}",)
                raise
            print(f"Exercise {number}: {summary}")
            return True

        REGISTRY[chapter, number] = Exercise(chapter, number, title, answer, run)
        return run

    return decorate


def attempt(call: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, where ``fn`` is (or runs) the student's code.

    ``call`` describes the call for messages, e.g. ``"newton(f, 2.0)"``. The stub's
    NotImplementedError becomes ``StubNotFilled``; any other error becomes ``ExerciseFailed``
    naming the call, with the original error chained (its traceback shows the line); a failed
    assertion (``gradcheck``'s ``GradcheckError``) becomes "<call> failed: <its message>"."""
    __tracebackhide__ = True
    try:
        return fn(*args, **kwargs)
    except ExerciseFailed:
        raise
    except NotImplementedError as err:
        if str(err).startswith("Exercise"):
            raise StubNotFilled(str(err)) from None
        raise ExerciseFailed(f"{call} raised NotImplementedError: {err}") from err
    except AssertionError as err:             # e.g. a GradcheckError: its message says it all
        raise ExerciseFailed(f"{call} failed: {err}") from err
    except Exception as err:
        raise ExerciseFailed(f"{call} raised {type(err).__name__}: {err}") from err


@contextlib.contextmanager
def seeded(seed: int = 0):
    """Draw minigrad's random numbers (randn, layer initialisation) from ``seed`` inside the
    block, and give the chapter its own random stream back afterwards: a check must neither
    depend on nor change the random numbers of the cells around it."""
    generator = mg.default_generator()
    saved = generator.bit_generator.state
    generator.bit_generator.state = np.random.default_rng(seed).bit_generator.state
    try:
        yield
    finally:
        generator.bit_generator.state = saved


def fail(message: str):
    """Raise ``ExerciseFailed(message)``."""
    __tracebackhide__ = True
    raise ExerciseFailed(message)


def to_array(value, what: str) -> np.ndarray:
    """``value`` (a Tensor, an array, a number, a list) as a float64 NumPy array."""
    __tracebackhide__ = True
    if value is None:
        fail(f"{what} is None: did you forget a `return`?")
    if hasattr(value, "detach") and hasattr(value, "numpy"):      # a minigrad Tensor
        value = value.detach().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(f"{what} should be numbers (an array, a Tensor or a float), "
             f"got {type(value).__name__}: {value!r:.80}")


def fmt(x) -> str:
    """A number the way a message shows it: 6 significant digits."""
    return f"{x:.6g}" if isinstance(x, (float, np.floating)) else str(x)


def assert_close(what: str, got, expected, rtol: float = 1e-7, atol: float = 1e-10,
                 hint: str = ""):
    """Fail unless ``got`` matches ``expected`` entry by entry (same shape, within tolerance).

    The message names the first entry that differs and both values, says how many entries
    differ, and recognises a few common slips: a flipped sign, a constant factor, a transpose.
    ``what`` starts the message ("your gradient", "logistic_grad(w, x, y)").
    """
    __tracebackhide__ = True
    got_a = to_array(got, what)
    exp_a = np.asarray(expected, dtype=np.float64)
    if got_a.shape != exp_a.shape:
        extra = ""
        if got_a.ndim == 2 and got_a.shape == exp_a.shape[::-1]:
            extra = " (transposed?)"
        elif got_a.size == exp_a.size:
            extra = " (the same number of entries: a reshape or a missing squeeze?)"
        fail(f"{what} has shape {got_a.shape}, expected {exp_a.shape}{extra}.{_with(hint)}")
    bad = ~np.isclose(got_a, exp_a, rtol=rtol, atol=atol)
    if not bad.any():
        return
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    where = f" at [{', '.join(map(str, idx))}]" if idx else ""
    count = f" ({int(bad.sum())} of {bad.size} entries differ)" if bad.size > 1 else ""
    fail(f"{what} differs{where}: expected {fmt(exp_a[idx])}, got {fmt(got_a[idx])}{count}."
         f"{_diagnose(got_a, exp_a, rtol, atol)}{_with(hint)}")


def _with(hint: str) -> str:
    return f" {hint}" if hint else ""


def _diagnose(got: np.ndarray, exp: np.ndarray, rtol: float, atol: float) -> str:
    """A guess at what went wrong, when the mismatch has a simple pattern."""
    if np.isnan(got).any() and not np.isnan(exp).any():
        return " Your result contains nan: an overflow, or 0/0?"
    close = functools.partial(np.allclose, rtol=max(rtol, 1e-6), atol=max(atol, 1e-9))
    if np.any(exp != 0) and close(got, -exp):
        return " The sign is flipped" + (" everywhere." if got.size > 1 else ".")
    if got.ndim == 2 and got.shape[0] == got.shape[1] and close(got.T, exp):
        return " It is the transpose of the expected matrix."
    nonzero = np.abs(exp) > 1e-12
    if got.size > 1 and nonzero.any() and np.all(np.isfinite(got)):
        ratio = got[nonzero] / exp[nonzero]
        if np.ptp(ratio) < 1e-6 * max(1.0, abs(ratio[0])) and close(got[~nonzero], 0):
            return f" Every entry is {fmt(float(ratio[0]))} times the expected one: a factor?"
    return ""


def loaded_checks() -> list[Exercise]:
    """Every registered exercise, chapter by chapter (imports all ``checks_chNN`` modules)."""
    import importlib
    from pathlib import Path

    for path in sorted(Path(__file__).parent.glob("checks_ch*.py")):
        importlib.import_module(f"{__package__}.{path.stem}")
    return [REGISTRY[key] for key in sorted(REGISTRY)]


__all__ = ["ExerciseFailed", "Exercise", "REGISTRY", "exercise", "attempt", "seeded", "fail",
           "to_array", "fmt", "assert_close", "loaded_checks"]
