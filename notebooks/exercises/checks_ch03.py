"""Checks for the exercises of Chapter 3 (an MLP and the training loop)."""

from __future__ import annotations

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.data import DataLoader

from .checking import assert_close, attempt, exercise, fail, fmt, to_array


# -- Exercise 1 -------------------------------------------------------------------------------
@exercise(1, "accuracy", "accuracy")
def accuracy(accuracy):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((37, 5))
    targets = rng.integers(0, 5, 37)
    expected = float(np.mean(logits.argmax(axis=1) == targets))
    for call, args, want in [
            ("accuracy(logits, targets) on 37 random rows", (logits, targets), expected),
            ("accuracy([[0, 1], [2, 1]], [1, 1])", ([[0.0, 1.0], [2.0, 1.0]], [1, 1]), 0.5)]:
        got = attempt(call, accuracy, mg.tensor(args[0]), mg.tensor(args[1]))
        if not isinstance(got, float):
            fail(f"{call} returned a {type(got).__name__}; expected a Python float "
                 "(a 0-d Tensor becomes one with .item()).")
        assert_close(call, got, want, rtol=1e-6,
                     hint="(accuracy = fraction of rows whose largest logit is the target)")
    return "accuracy() returns the fraction of correct predictions as a float"


# -- Exercise 2 -------------------------------------------------------------------------------
@exercise(2, "cross-entropy from its definition", "cross_entropy")
def cross_entropy(cross_entropy):
    rng = np.random.default_rng(0)
    z = mg.tensor(rng.standard_normal((8, 10)), requires_grad=True)
    t = mg.tensor(rng.integers(0, 10, 8))
    call = "cross_entropy(logits, targets)"
    loss = attempt(call, cross_entropy, z, t)
    if not isinstance(loss, mg.Tensor) or loss.shape != ():
        fail(f"{call} should return a 0-d Tensor (the mean loss), got "
             f"{type(loss).__name__} of shape {getattr(loss, 'shape', '?')}.")
    if loss.grad_fn is None:
        fail(f"{call} returned a Tensor without a graph (grad_fn is None): compute it with "
             "minigrad ops on `logits`, without .numpy() or .item(), so that it can be "
             "differentiated.")
    expected = F.cross_entropy(z, t).item()
    sum_not_mean = abs(loss.item() - len(t) * expected) < 1e-9 * len(t) * expected
    assert_close(f"the value of {call}", loss, expected, rtol=1e-10,
                 hint=f"That is {len(t)} times the expected value: the sum over the batch "
                      "instead of the mean?" if sum_not_mean else "")
    (grad,) = attempt(f"the gradient of {call}", mg.autograd.grad, loss, z)
    expected = (F.softmax(z, dim=1) - F.one_hot(t, 10)).detach().numpy() / 8
    assert_close("the gradient of your loss with respect to the logits", grad, expected,
                 rtol=1e-9, atol=1e-12, hint="(it should be (softmax - one-hot) / N)")
    return "cross_entropy matches F.cross_entropy; its gradient is (softmax - one-hot) / N"


# -- Exercise 3 -------------------------------------------------------------------------------
@exercise(3, "the confusion matrix", "confusion_matrix")
def confusion_matrix(confusion_matrix):
    rng = np.random.default_rng(2)
    y_true = rng.integers(0, 5, 200)
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, 5, 200))
    y_pred[y_pred == 4] = 3                     # class 4 is never predicted: column 4 is zeros
    expected = np.zeros((6, 6), dtype=int)      # 6 classes: class 5 never occurs at all
    np.add.at(expected, (y_true, y_pred), 1)
    call = "confusion_matrix(y_true, y_pred, n_classes=6)"
    got = attempt(call, confusion_matrix, y_true.copy(), y_pred.copy(), 6)
    got_a = to_array(got, call)
    if got_a.shape != (6, 6):
        fail(f"{call} has shape {got_a.shape}, expected (6, 6): a row and a column for every "
             "class, including classes that never occur (np.bincount's minlength).")
    if np.array_equal(got_a, expected.T) and not np.array_equal(got_a, expected):
        fail(f"{call} is the transpose of the expected matrix: rows are true classes, "
             "columns predicted classes (C[i, j] = images of class i predicted as j).")
    assert_close(call, got_a, expected, rtol=0, atol=0)
    return "confusion_matrix matches the counts, rows = true class, columns = prediction"


# -- Exercise 4 -------------------------------------------------------------------------------
@exercise(4, "a Dataset with augmentation", "NoisyDigits")
def noisy_digits(NoisyDigits):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 64)).astype(np.float32)
    y = rng.integers(0, 10, 500)
    ds = attempt("NoisyDigits(X, y, std=0.3)", NoisyDigits, X, y, std=0.3)
    n = attempt("len(NoisyDigits(X, y))", len, ds)
    if n != len(X):
        fail(f"len(dataset) is {n}, expected {len(X)} (one sample per row of X).")
    first = attempt("dataset[0]", ds.__getitem__, 0)
    if not isinstance(first, tuple) or len(first) != 2:
        fail(f"dataset[0] should be a pair (image, label), got {type(first).__name__}.")
    image, label = first
    image = to_array(image, "the image dataset[0] returns")
    if image.shape != (64,):
        fail(f"the image dataset[0] returns has shape {image.shape}, expected (64,).")
    label = to_array(label, "the label dataset[0] returns")
    if label.shape != () or label != y[0]:
        fail(f"the label dataset[0] returns is {label}, expected {y[0]} (y[0]).")
    again = to_array(attempt("dataset[0]", ds.__getitem__, 0)[0], "dataset[0]")
    if np.allclose(image, again):
        fail("dataset[0] returned the same image twice: draw fresh noise on every access, "
             "in __getitem__ (not once in __init__).")
    noise = np.stack([to_array(attempt(f"dataset[{i}]", ds.__getitem__, i)[0], "an image") - X[i]
                      for i in range(len(X))])
    if not (abs(noise.mean()) <= 0.01 and abs(noise.std() - 0.3) <= 0.01):   # (nan fails too)
        fail(f"the noise added to the images has mean {fmt(noise.mean())} and standard "
             f"deviation {fmt(noise.std())}; expected mean 0 and std 0.3 (the `std` argument).")
    xb, yb = attempt("next(iter(DataLoader(dataset, batch_size=32)))",
                     lambda: next(iter(DataLoader(ds, batch_size=32))))
    if tuple(xb.shape) != (32, 64) or tuple(yb.shape) != (32,):
        fail(f"a DataLoader batch of 32 has shapes {tuple(xb.shape)} and {tuple(yb.shape)}, "
             "expected (32, 64) and (32,).")
    return f"NoisyDigits works with DataLoader; noise std {noise.std():.3f}"


__all__ = ["accuracy", "cross_entropy", "confusion_matrix", "noisy_digits"]
