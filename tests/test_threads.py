"""Python threads: each thread has its own grad mode and anomaly mode, and two threads
training at once get exactly the numbers they get one after the other.

The first tests hold one thread inside a mode while another works (events make the
interleaving certain, so they fail every time the state is shared). The training test runs
in a subprocess, once per Numba threading layer: on the workqueue layer a second thread
launching a parallel kernel aborts the process, which must show up as a failed test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import minigrad as mg


def _hold_in_other_thread(mode_factory):
    """Start a thread that enters ``mode_factory()`` and stays inside until released."""
    entered, release = threading.Event(), threading.Event()
    failures = []

    def hold():
        try:
            with mode_factory():
                entered.set()
                release.wait(timeout=30)
        except BaseException as exc:        # reported by the caller, not lost in the thread
            failures.append(exc)
            entered.set()

    thread = threading.Thread(target=hold)
    thread.start()
    assert entered.wait(timeout=30)

    def finish():
        release.set()
        thread.join(timeout=30)
        assert not failures, failures
    return finish


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    finish = _hold_in_other_thread(mg.no_grad)
    try:
        x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
        assert mg.is_grad_enabled()
        y = (x * x).sum()
        assert y.requires_grad and y.grad_fn is not None
        y.backward()
        np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])
    finally:
        finish()


def test_no_grad_in_this_thread_does_not_start_recording_elsewhere():
    seen = {}

    def other():
        x = mg.tensor([1.0], requires_grad=True)
        seen["enabled"] = mg.is_grad_enabled()
        seen["records"] = (x * 2).requires_grad

    with mg.no_grad():
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert not mg.is_grad_enabled()
    assert seen == {"enabled": True, "records": True}


def test_set_grad_enabled_call_is_per_thread():
    finish = _hold_in_other_thread(lambda: mg.set_grad_enabled(False))
    try:
        assert mg.is_grad_enabled()
    finally:
        finish()
    assert mg.is_grad_enabled()


def test_backward_in_one_thread_does_not_switch_recording_off_in_another():
    """The engine runs backward under set_grad_enabled(create_graph=False)."""
    inside, release = threading.Event(), threading.Event()

    class Wait(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            inside.set()
            release.wait(timeout=30)
            return g

    a = mg.tensor([1.0], requires_grad=True)
    out = Wait.apply(a).sum()
    thread = threading.Thread(target=out.backward)
    thread.start()
    try:
        assert inside.wait(timeout=30)
        x = mg.tensor([3.0], requires_grad=True)
        assert (x * x).grad_fn is not None
    finally:
        release.set()
        thread.join(timeout=30)
    np.testing.assert_array_equal(a.grad.numpy(), [1.0])


def test_anomaly_mode_is_per_thread():
    finish = _hold_in_other_thread(mg.autograd.detect_anomaly)
    try:
        assert not mg.autograd.is_anomaly_enabled()
        x = mg.tensor([0.0, 1.0], requires_grad=True)
        y = x.log()                       # -inf: an error only under detect_anomaly
        assert np.isneginf(y.detach().numpy()[0])
    finally:
        finish()
    with mg.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="detect_anomaly"):
            mg.tensor([0.0, 1.0], requires_grad=True).log()


TRAIN_TWO_THREADS = textwrap.dedent("""
    import sys, threading
    import numpy as np
    import minigrad as mg
    from minigrad import nn
    import minigrad.nn.functional as F

    sys.setswitchinterval(1e-5)     # switch threads as often as Python can: many interleavings

    def model_and_data(kind, seed):
        rng = np.random.default_rng(seed)
        if kind == "mlp":
            model = nn.Sequential(nn.Linear(64, 160), nn.ReLU(), nn.Linear(160, 7))
            x = rng.standard_normal((96, 64))
        elif kind == "cnn":
            model = nn.Sequential(nn.Conv2d(3, 12, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Flatten(), nn.Linear(12 * 8 * 8, 7))
            x = rng.standard_normal((24, 3, 16, 16))
        else:
            model = nn.LSTM(16, 48, batch_first=True)
            x = rng.standard_normal((40, 9, 16))
        weights = {k: 0.2 * rng.standard_normal(v.shape).astype(np.float32)
                   for k, v in model.state_dict().items()}
        model.load_state_dict(weights)
        return model, mg.tensor(x.astype(np.float32)), mg.tensor(rng.integers(0, 7, len(x)))

    def train(kind, seed, out):
        model, x, y = model_and_data(kind, seed)
        opt = mg.optim.AdamW(model.parameters(), lr=1e-2)
        losses = []
        for _ in range(12):
            opt.zero_grad()
            h = model(x)
            logits = h[0][:, -1, :7] if kind == "lstm" else h
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            with mg.no_grad():       # evaluation between steps, as training loops do
                model(x)
            losses.append(loss.item())
        out[(kind, seed)] = (losses, {k: v.numpy().copy() for k, v in model.state_dict().items()})

    jobs = [("mlp", 1), ("cnn", 2), ("lstm", 3), ("mlp", 4)]
    alone = {}
    for job in jobs:
        train(*job, alone)
    together = {}
    threads = [threading.Thread(target=train, args=(*job, together)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for job in jobs:
        assert together[job][0] == alone[job][0], (job, alone[job][0], together[job][0])
        for name, value in alone[job][1].items():
            assert np.array_equal(value, together[job][1][name]), (job, name)
    print("same results", len(jobs))
""")


@pytest.mark.parametrize("layer", ["default", "workqueue"])
def test_threads_training_at_once_match_training_one_after_another(layer):
    env = dict(os.environ)
    env["MINIGRAD_THREADS"] = "fixed"      # the parallel builds run however busy the machine is
    if layer != "default":
        env["NUMBA_THREADING_LAYER"] = layer
    proc = subprocess.run([sys.executable, "-c", TRAIN_TWO_THREADS], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.returncode, proc.stdout[-2000:], proc.stderr[-4000:])
    assert "same results 4" in proc.stdout
