"""Checks for the exercises of Chapter 1 (tensors and automatic differentiation)."""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad.autograd import Context

from .checking import ExerciseFailed, assert_close, attempt, exercise, fail, fmt, to_array


# -- Exercise 1 -------------------------------------------------------------------------------
def _test_graphs():
    """(description, root node) for a few graphs; the second has a node used three times."""
    x = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    w = mg.tensor([0.8, 0.3, -0.2], requires_grad=True)
    neuron = (((w * x).sum() + 0.1).tanh() - 0.25) ** 2
    a = x * 2
    diamond = (a.exp() * a.sin() + a).sum()         # a feeds Exp, Sin and the Add
    h = x
    for _ in range(4):                              # every h is used twice by the next step
        h = h * h.tanh() + h
    chain = h.sum()
    return [("the neuron of section 2", neuron.grad_fn),
            ("a graph where one node (x * 2) feeds three others", diamond.grad_fn),
            ("a chain where every node is used twice", chain.grad_fn)]


def _nodes_behind(root):
    """Every op node reachable from ``root`` along next_edges: the nodes backward runs."""
    seen, stack = {root}, [root]
    while stack:
        for edge in stack.pop().next_edges:
            if edge is not None and edge[1] >= 0 and edge[0] not in seen:
                seen.add(edge[0])
                stack.append(edge[0])
    return seen


def _inputs_of(node):
    return [e[0] for e in node.next_edges if e is not None and e[1] >= 0]


def _first_violation(order):
    """(node, input node) for the first node listed *after* an input node it feeds, or None."""
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for inp in _inputs_of(node):
            if position[inp] < position[node]:
                return node, inp
    return None


@exercise(1, "the order backward runs in", "topological_order")
def topological_order(topological_order):
    for description, root in _test_graphs():
        call = f"topological_order(root) on {description}"
        order = attempt(call, topological_order, root)
        if not isinstance(order, (list, tuple)):
            fail(f"{call} returned a {type(order).__name__}; expected a list of nodes.")
        order = list(order)
        for i, node in enumerate(order):
            if not isinstance(node, Context):
                fail(f"{call}: entry {i} is {node!r}, not a node. Only op nodes (grad_fn "
                     "objects) belong in the list: skip None edges and leaves (index -1).")
        expected = _nodes_behind(root)
        for node in order:
            if order.count(node) > 1:
                fail(f"{call}: {node} appears {order.count(node)} times. Backward runs each "
                     "node once: remember which nodes you have visited.")
        missing = [n for n in expected if n not in order]
        if missing:
            fail(f"{call} misses {len(missing)} of the {len(expected)} nodes backward runs, "
                 f"e.g. {missing[0]}.")
        extra = [n for n in order if n not in expected]
        if extra:
            fail(f"{call} lists {extra[0]}, which is not in the graph of this root.")
        bad = _first_violation(order)
        if bad is not None:
            node, inp = bad
            hint = (" Your list is exactly backwards: reverse it, so that the root comes first."
                    if _first_violation(order[::-1]) is None else
                    " Add a node to the list only after everything it feeds gradient to"
                    " (depth-first, appending on the way back, then reversed).")
            fail(f"{call}: {inp} (position {order.index(inp)}) comes before {node} (position "
                 f"{order.index(node)}), but {node} sends it gradient: backward can only run "
                 f"{inp} once every gradient for it has arrived.{hint}")
    return ("topological_order lists every node backward runs, once, each before the nodes "
            "it sends gradient to (3 graphs)")


# -- Exercise 2 -------------------------------------------------------------------------------
@exercise(2, "SiLU as a Function", "SiLU")
def silu(SiLU):
    xn = np.random.default_rng(0).standard_normal(7) * 3
    x = mg.tensor(xn, requires_grad=True)                      # float64: NumPy's default
    y = attempt("SiLU.apply(x)", SiLU.apply, x)
    assert_close("SiLU.apply(x) (the forward pass)", y, xn / (1 + np.exp(-xn)), rtol=1e-10)
    attempt("gradcheck of your SiLU.backward", mg.autograd.gradcheck, SiLU.apply, (x,))
    try:
        attempt("gradgradcheck of your SiLU.backward", mg.autograd.gradgradcheck,
                SiLU.apply, (x,))
    except ExerciseFailed as failure:
        fail(f"{failure} (gradcheck passed, so the first derivative is right. For a second "
             "derivative, backward must compute with minigrad ops on the Tensors it gets "
             "(x.sigmoid(), *, +), not with NumPy on their values.)")
    return "SiLU passes gradcheck and gradgradcheck"


# -- Exercise 3 -------------------------------------------------------------------------------
@exercise(3, "the logistic loss by hand", "logistic_grad")
def logistic_grad(logistic_grad):
    rng = np.random.default_rng(1)
    for y in (1.0, -1.0, 1.0, -1.0, 1.0):
        w, x = rng.standard_normal(4), rng.standard_normal(4)
        wt = mg.tensor(w, requires_grad=True)
        loss = (1 + (-y * (wt * mg.tensor(x)).sum()).exp()).log()
        loss.backward()
        got = attempt(f"logistic_grad(w, x, y={y:+.0f})", logistic_grad, w.copy(), x.copy(), y)
        assert_close(f"your gradient for y = {y:+.0f}", got, wt.grad.numpy(), rtol=1e-9)
    return "the hand-derived gradient matches autograd (5 random cases)"


# -- Exercise 4 -------------------------------------------------------------------------------
def _quartic(x):
    return x ** 4 - 3 * x ** 2 + x


def _exp_minus_2x(x):
    return x.exp() - 2 * x


@exercise(4, "Newton's method with autograd", "newton")
def newton(newton):
    roots = np.roots([4, 0, -6, 1])                            # f'(x) = 4x^3 - 6x + 1
    cases = [("x^4 - 3x^2 + x", _quartic, 2.0, roots[np.argmin(np.abs(roots - 2.0))].real),
             ("exp(x) - 2x", _exp_minus_2x, 0.0, np.log(2.0))]
    for formula, f, x0, expected in cases:
        call = f"newton(f, {x0}) for f(x) = {formula}"
        got = to_array(attempt(call, newton, f, x0), call)
        if got.shape != ():
            fail(f"{call} returned shape {got.shape}; expected one number (return x.item()).")
        if not abs(float(got) - expected) <= 1e-9:          # (nan fails too)
            hint = (" That is x0 itself: is x updated inside the loop (under mg.no_grad())?"
                    if float(got) == x0 else
                    " Newton's step is x - f'(x) / f''(x).")
            fail(f"{call} returned {fmt(float(got))}, expected {fmt(expected)} (the minimum, "
                 f"where f'(x) = 0).{hint}")
    return "newton finds the minima of x^4 - 3x^2 + x (from 2) and exp(x) - 2x (from 0)"


__all__ = ["topological_order", "silu", "logistic_grad", "newton"]
