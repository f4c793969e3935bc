"""micrograd-style checks of autograd on scalar expressions, against hand-derived numbers.

Each check builds a small expression, calls ``.backward()`` (or ``torch.autograd.grad``) and
compares the gradients with values worked out on paper. Prints one ``ok <name>`` line per
check and ``all_checks_passed True`` at the end; a failed check raises.
"""

import math

import torch

# hand-derived numbers are compared to 1e-6: work in double precision throughout
torch.set_default_dtype(torch.float64)


def number(v):
    return v.item() if torch.is_tensor(v) else float(v)


def close(a, b, tol=1e-6):
    return abs(number(a) - number(b)) <= tol * max(1.0, abs(number(b)))


def check(name, condition):
    if not condition:
        raise AssertionError(f"check failed: {name}")
    print(f"ok {name}")


# 1. a micrograd-style expression: d = a*b + b**3, e = relu(d) + d*c, out = e / 2
a = torch.tensor(-4.0, requires_grad=True)
b = torch.tensor(2.0, requires_grad=True)
c = torch.tensor(3.0, requires_grad=True)
d = a * b + b ** 3                      # -8 + 8 = 0
d.retain_grad()
e = d.relu() + d * c                    # relu(0) = 0, so e = 0
out = e / 2 + a.tanh()
out.backward()
# d out/d d = (relu'(0) + c) / 2 = 3/2 (PyTorch's relu'(0) is 0)
check("retain_grad on a non-leaf", close(d.grad, 1.5))
check("grad of a", close(a.grad, 1.5 * b.item() + (1 - math.tanh(-4.0) ** 2)))
check("grad of b", close(b.grad, 1.5 * (a.item() + 3 * b.item() ** 2)))
check("grad of c", close(c.grad, d.item() / 2))
check("out value", close(out.data.item(), math.tanh(-4.0)))

# 2. gradients accumulate across backward calls until zeroed
x = torch.tensor(1.5).requires_grad_()
(x * x).backward()
(3 * x).backward()
check("accumulation 2x + 3", close(x.grad, 2 * 1.5 + 3))
x.grad.zero_()
(x.exp()).backward()
check("after zero_", close(x.grad, math.exp(1.5)))

# 3. detach cuts the graph: y = x * detach(x) has dy/dx = detach(x)
x = torch.tensor(2.0, requires_grad=True)
y = x * x.detach()
y.backward()
check("detach stops the gradient", close(x.grad, 2.0))
check("detached tensor needs no grad", not x.detach().requires_grad)

# 4. higher order: f = x**3 sin(x); f' and f'' by create_graph=True
x = torch.tensor(0.7, requires_grad=True)
f = x ** 3 * torch.sin(x)
(df,) = torch.autograd.grad(f, x, create_graph=True)
(d2f,) = torch.autograd.grad(df, x)
v = 0.7
check("first derivative", close(df, 3 * v**2 * math.sin(v) + v**3 * math.cos(v)))
check("second derivative",
      close(d2f, 6 * v * math.sin(v) + 6 * v**2 * math.cos(v) - v**3 * math.sin(v)))

# 5. backward through the gradient itself: g = |grad of sum(w*w*z)|^2, d g / d w
w = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
z = torch.tensor([0.5, 1.0, 2.0])
(gw,) = torch.autograd.grad((w * w * z).sum(), w, create_graph=True)   # gw = 2 w z
penalty = (gw ** 2).sum()                                              # 4 sum(w^2 z^2)
penalty.backward()
check("gradient penalty", torch.allclose(w.grad, 8 * w.detach() * z ** 2))

# 6. requires_grad_ on a tensor built without it, and no_grad blocks recording
t = torch.ones(3)
check("starts without grad", not t.requires_grad)
t.requires_grad_()
with torch.no_grad():
    u = t * 2
check("no_grad result needs no grad", not u.requires_grad and u.grad_fn is None)
s = (t * torch.tensor([1.0, 2.0, 3.0])).sum()
s.backward()
check("leaf grad after requires_grad_", t.grad.tolist() == [1.0, 2.0, 3.0])
check("leaf has no grad_fn", t.is_leaf and t.grad_fn is None and s.grad_fn is not None)
check("default dtype is double", t.dtype == torch.float64 == torch.get_default_dtype())

# 7. plain gradient descent by hand on f(w) = sum((w - target)^2): converges to target
target = torch.tensor([3.0, -1.0])
w = torch.zeros(2, requires_grad=True)
for _ in range(50):
    loss = ((w - target) ** 2).sum()
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad          # each step shrinks the error by 1 - 2 * 0.1
    w.grad.zero_()
check("manual gradient descent", torch.allclose(w.detach(), target * (1 - 0.8 ** 50)))
check("in-place update kept the leaf", w.is_leaf and w.requires_grad)

print("all_checks_passed True")
