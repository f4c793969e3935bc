"""Switching graph recording on and off: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

Recording the graph costs memory (every op keeps what its backward needs). Evaluation loops and
optimizer updates don't need it, so they run under ``with mg.no_grad():``. The engine itself
runs a backward pass under ``set_grad_enabled(create_graph)``: that one switch is what makes
gradients differentiable (``create_graph=True``) or cheap (the default).

The switches belong to the thread that sets them, as in PyTorch: one thread evaluating under
``no_grad`` (or running ``optimizer.step()``, or a backward pass) does not stop another thread's
forward pass from recording its graph. A new thread starts with recording on and anomaly
detection off, whatever the thread that started it had.
"""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    """The engine's switches, one set per thread (``threading.local``: the class attributes
    are each thread's starting values; an assignment changes the calling thread's copy only)."""

    enabled = True
    inference = False  # inside inference_mode (recording is off there too)
    anomaly = False
    backward_node = None  # the node whose backward is running (named in anomaly errors)


STATE = _State()


def is_grad_enabled() -> bool:
    return STATE.enabled


class _GradModeContext:
    """Sets grad mode to ``self.mode`` inside a ``with`` block or a decorated function."""

    mode = True

    def __enter__(self):
        self.prev = STATE.enabled
        STATE.enabled = self.mode
        return self

    def __exit__(self, *exc):
        STATE.enabled = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._fresh():
                return fn(*args, **kwargs)
        return wrapper

    def _fresh(self):
        return type(self)()


class no_grad(_GradModeContext):
    """Don't record operations: ``with mg.no_grad(): ...`` or ``@mg.no_grad()``."""

    mode = False


class enable_grad(_GradModeContext):
    """Record operations again inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_GradModeContext):
    """Set recording to ``mode``: as a context manager, a decorator, or a plain call
    (``mg.set_grad_enabled(False)`` switches it off until switched back), like PyTorch."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self.prev = STATE.enabled
        STATE.enabled = self.mode

    def __enter__(self):
        STATE.enabled = self.mode  # prev was taken in __init__, before the switch
        return self

    def __call__(self, fn):
        STATE.enabled = self.prev  # used as a decorator: the call above was not meant for now
        return super().__call__(fn)

    def _fresh(self):
        return set_grad_enabled(self.mode)  # its __init__ switches the mode, __exit__ restores


class inference_mode:
    """``no_grad`` that also says so: ``mg.is_inference_mode_enabled()`` is True inside.

    ``with mg.inference_mode():``, ``@mg.inference_mode()`` or ``@mg.inference_mode``;
    ``inference_mode(False)``
    leaves both switches as they are, as in PyTorch. Tensors made inside are marked as
    inference tensors (``t.is_inference()``), as in PyTorch, where the mark also skips their
    version counters; minigrad only records it.
    """

    def __new__(cls, mode=True):
        if callable(mode):              # used bare as a decorator: @mg.inference_mode
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def __enter__(self):
        self.prev = STATE.enabled, STATE.inference
        if self.mode:
            STATE.enabled, STATE.inference = False, True
        return self

    def __exit__(self, *exc):
        STATE.enabled, STATE.inference = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(self.mode):
                return fn(*args, **kwargs)
        return wrapper


def is_inference_mode_enabled() -> bool:
    return STATE.inference


class detect_anomaly:
    """Raise as soon as an op produces NaN or Inf, forward or backward, naming that op.

    Slow (every op's output is checked), so only for debugging. In backward the error also shows
    where the op was created in forward, which is usually where the bug is.
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self.prev = STATE.anomaly
        STATE.anomaly = self.check_nan
        return self

    def __exit__(self, *exc):
        STATE.anomaly = self.prev
        return False


def is_anomaly_enabled() -> bool:
    return STATE.anomaly
