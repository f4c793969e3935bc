"""Reference solutions for the exercises of Chapter 3. Try them yourself first."""

import numpy as np

import minigrad as mg
from minigrad.data import Dataset


# Exercise 1
def accuracy(logits, targets):
    return (logits.argmax(dim=1) == targets).float().mean().item()


# Exercise 2: logsumexp(z_n) - z_{n, y_n}, averaged; gather picks z_{n, y_n} from each row
def cross_entropy(logits, targets):
    picked = logits.gather(1, targets.unsqueeze(1)).squeeze(1)
    return (logits.logsumexp(dim=1) - picked).mean()


# Exercise 3: the pair (i, j) becomes the single index n_classes * i + j of a flat histogram
def confusion_matrix(y_true, y_pred, n_classes):
    counts = np.bincount(n_classes * y_true + y_pred, minlength=n_classes ** 2)
    return counts.reshape(n_classes, n_classes)


# Exercise 4
class NoisyDigits(Dataset):
    """(x + Gaussian noise, y): fresh noise on every access, from the dataset's own generator."""

    def __init__(self, X, y, std=0.3, seed=0):
        self.X, self.y, self.std = np.asarray(X, dtype=np.float32), np.asarray(y), std
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        noise = self.rng.normal(0.0, self.std, size=self.X[i].shape).astype(np.float32)
        return mg.tensor(self.X[i] + noise), int(self.y[i])
