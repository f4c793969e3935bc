"""A tutorial-style training loop: pick a device, build a DataLoader over generated data,
train a small MLP, measure test accuracy, save the weights and load them into a fresh model.

Run it as ``python classifier_training.py``; it prints ``first_loss``, ``final_loss``,
``test_accuracy`` and ``reload_matches`` lines that tests/programs/test_programs.py reads.
"""

import os
import sys
import tempfile

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

device = (
    "cuda"
    if torch.cuda.is_available()
    else "mps"
    if torch.backends.mps.is_available()
    else "cpu"
)
print(f"Using {device} device")


def make_rings(n):
    """Three classes of 2-d points on concentric noisy rings: not linearly separable."""
    labels = torch.randint(0, 3, (n,))
    radius = 1.0 + labels.float() + 0.15 * torch.randn(n)
    angle = 2 * 3.141592653589793 * torch.rand(n)
    points = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    return points, labels


train_x, train_y = make_rings(512)
test_x, test_y = make_rings(256)
train_loader = DataLoader(TensorDataset(train_x, train_y), batch_size=64, shuffle=True)
test_loader = DataLoader(TensorDataset(test_x, test_y), batch_size=128)


class RingClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.stack = nn.Sequential(
            nn.Linear(2, 64),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Linear(64, 64),
            nn.ReLU(),
            nn.Linear(64, 3),
        )

    def forward(self, x):
        return self.stack(self.flatten(x))


def train_one_epoch(dataloader, model, loss_fn, optimizer):
    model.train()
    total, batches = 0.0, 0
    for X, y in dataloader:
        X, y = X.to(device), y.to(device)
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        total += loss.item()
        batches += 1
    return total / batches


def evaluate(dataloader, model, loss_fn):
    model.eval()
    size = len(dataloader.dataset)
    test_loss, correct = 0.0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    return test_loss / len(dataloader), correct / size


model = RingClassifier().to(device)
print(model)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

epochs = 8
losses = []
for t in range(epochs):
    losses.append(train_one_epoch(train_loader, model, loss_fn, optimizer))
    test_loss, accuracy = evaluate(test_loader, model, loss_fn)
    print(f"Epoch {t + 1:2d}: train loss {losses[-1]:>7f}, test loss {test_loss:>7f}, "
          f"accuracy {100 * accuracy:>0.1f}%")

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "model.pth")
    torch.save(model.state_dict(), path)
    reloaded = RingClassifier().to(device)
    reloaded.load_state_dict(torch.load(path, weights_only=True))

reloaded.eval()
with torch.no_grad():
    same = torch.equal(model(test_x.to(device)), reloaded(test_x.to(device)))
    probabilities = F.softmax(reloaded(test_x[:4].to(device)), dim=1)
print("first predictions:", probabilities.argmax(dim=1).tolist(), "labels:", test_y[:4].tolist())

print(f"first_loss {losses[0]:.4f}")
print(f"final_loss {losses[-1]:.4f}")
print(f"test_accuracy {accuracy:.4f}")
print(f"reload_matches {same}")
sys.exit(0 if same else 1)
