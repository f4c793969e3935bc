"""A custom ``torch.autograd.Function``: a clamp whose backward passes the gradient straight
through inside the range and blocks it outside (a straight-through estimator, as used for
quantization-aware training). It is checked with ``gradcheck`` in float64, then used inside a
small regression model. Prints ``gradcheck``, ``first_loss`` and ``final_loss`` lines.
"""

import torch
import torch.nn as nn
from torch.autograd import Function, gradcheck

torch.manual_seed(0)


class StraightThroughClamp(Function):
    @staticmethod
    def forward(ctx, input, low, high):
        ctx.save_for_backward(input)
        ctx.low, ctx.high = low, high
        return input.clamp(min=low, max=high)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        inside = (input >= ctx.low) & (input <= ctx.high)
        grad_input = grad_output * inside.to(grad_output.dtype)
        return grad_input, None, None


def st_clamp(x, low=-1.0, high=1.0):
    return StraightThroughClamp.apply(x, low, high)


# gradcheck perturbs each element by 1e-6: keep every point away from the kinks at +-1
x = torch.randn(4, 5, dtype=torch.float64)
x = torch.where(x.abs() > 0.9, x.sign() * 1.5, x * 0.8).requires_grad_()
ok = gradcheck(st_clamp, (x,), eps=1e-6, atol=1e-4)
print(f"gradcheck {ok}")

y = st_clamp(x)
y.sum().backward()
expected = (x.detach().abs() <= 1).to(torch.float64)
grad_matches = torch.equal(x.grad, expected)
print(f"grad_matches {grad_matches}")


class ClampedRegressor(nn.Module):
    """An MLP whose hidden activations are clamped to [-1, 1] by the custom Function."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 32)
        self.out = nn.Linear(32, 1)

    def forward(self, x):
        return self.out(st_clamp(self.hidden(x)))


inputs = torch.randn(256, 3)
targets = (inputs[:, :1] * 0.5 - inputs[:, 1:2].pow(2) * 0.3 + 0.2 * inputs[:, 2:3]).tanh()
model = ClampedRegressor()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
loss_fn = nn.MSELoss()
for step in range(200):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    if step == 0:
        first_loss = loss.item()

print(f"first_loss {first_loss:.4f}")
print(f"final_loss {loss.item():.4f}")
