"""Reference solutions for the exercises of Chapter 1. Try them yourself first."""

import numpy as np

import minigrad as mg


# Exercise 1: depth-first search that appends a node after everything it feeds gradient to
# has been appended (post-order), then reversed: the root first, every node before its inputs.
def topological_order(root):
    order, visited = [], set()

    def visit(node):
        if node in visited:
            return
        visited.add(node)
        for edge in node.next_edges:
            if edge is not None and edge[1] >= 0:        # skip unused inputs and leaves
                visit(edge[0])
        order.append(node)                               # after all of its inputs

    visit(root)
    return order[::-1]
# (Recursion is the clearest way to write it; Python's recursion limit, about 1000 nested
# calls, is why minigrad's engine does the same with an explicit stack.)


# Exercise 2
class SiLU(mg.autograd.Function):
    """y = x * sigmoid(x).   dy/dx = s * (1 + x * (1 - s)),  s = sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):                                 # runs unrecorded: one node
        ctx.save_for_backward(x)
        return x * x.sigmoid()

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        s = x.sigmoid()                                  # minigrad ops: differentiable again
        return grad_y * s * (1 + x * (1 - s))


# Exercise 3
def logistic_grad(w, x, y):
    m = y * (w @ x)
    return -y * x / (1.0 + np.exp(m))                    # sigma(-m) = 1 / (1 + e^m)


# Exercise 4
def newton(f, x0, steps=20):
    x = mg.tensor(float(x0), dtype=mg.float64, requires_grad=True)
    for _ in range(steps):
        (d1,) = mg.autograd.grad(f(x), x, create_graph=True)   # d1 has a graph: differentiate it
        (d2,) = mg.autograd.grad(d1, x)
        with mg.no_grad():
            x -= d1.detach() / d2
    return x.item()
