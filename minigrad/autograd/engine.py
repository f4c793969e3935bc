"""The backward pass: walk the graph from the outputs to the leaves, applying the chain rule.

The graph is made of ``Context`` nodes. Node ``n`` has ``next_edges``: for each input of its
op, either ``(node, output_index)`` (the input was made by another op) or ``(leaf, -1)``
(a tensor the user created with ``requires_grad=True``), or ``None`` (no gradient needed).

The pass is Kahn's topological sort, done with a loop and a dict, never with recursion, so a
chain of 10,000 ops is no problem:

1. Count, for every node, how many edges point into it (its *dependencies*).
2. Start from the output nodes. A node is *ready* when every node that feeds it a gradient has
   run; its gradient buffer then holds the full sum  dL/d(output) = sum over uses.
3. Run its ``backward``, add each returned gradient into the buffer of the input's node (or
   into ``leaf.grad``), and decrease that node's count. Repeat until nothing is ready.

Without ``retain_graph`` each node is released after it runs, freeing what it saved.
"""

from __future__ import annotations

from numpy import asarray, generic, ndarray

from ..tensor import RETAIN_GRAD_KEY, Tensor
from .function import _FREED_MESSAGE, _check_finite
from .grad_mode import STATE, set_grad_enabled

_make = Tensor._make


def _owned(xp_array):
    """A writable array of our own (gradients are often broadcast views of something else)."""
    base = getattr(xp_array, "base", None)
    flags = getattr(xp_array, "flags", None)
    writeable = getattr(flags, "writeable", True)
    if base is not None or not writeable:
        return xp_array.copy()
    return xp_array


def _add(old, grad, create_graph):
    """``old + grad``, recorded in the graph only for ``create_graph``."""
    if create_graph:
        return old + grad
    return Tensor._make(old.array + grad.array)


def _accumulate(buffer, index, grad, create_graph):
    old = buffer[index]
    buffer[index] = grad if old is None else _add(old, grad, create_graph)


def _apply_hooks(hooks, grad):
    """Run ``register_hook`` hooks in registration order, each on the previous one's result,
    then the ``retain_grad`` hook (PyTorch runs it last whenever it was registered)."""
    keep = None
    for key, hook in list(hooks.items()):
        if key == RETAIN_GRAD_KEY:
            keep = hook
            continue
        new = hook(grad)
        if new is not None:
            _check_hook_result(hook, grad, new)
            grad = new
    if keep is not None:
        keep(grad)
    return grad


def _check_hook_result(hook, grad, new):
    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(new, Tensor):
        raise TypeError(f"register_hook: hook '{name}' returned {type(new).__name__}; a "
                        "gradient hook must return a Tensor or None")
    if new.array.shape != grad.array.shape:
        raise RuntimeError(f"register_hook: hook '{name}' changed the gradient's shape from "
                           f"{tuple(grad.array.shape)} to {tuple(new.array.shape)}; it must "
                           "return a gradient of the same shape")
    if new.array.dtype != grad.array.dtype:
        raise RuntimeError(f"register_hook: hook '{name}' changed the gradient's dtype from "
                           f"{grad.array.dtype} to {new.array.dtype}; it must keep the dtype")


def _accumulate_leaf(leaf, grad, create_graph, handed):
    """``leaf.grad += grad`` — gradients of leaves add up across backward calls.

    A leaf's first gradient is adopted, not copied, when nothing else holds it. ``handed``
    holds the ids of the arrays already given out in this pass (and the root gradients):
    ``a + b`` sends one array to both a and b, and if both adopted it, the next backward's
    in-place ``a.grad += ...`` would change b.grad too. Such an array is copied instead.
    The leaf's ``register_hook`` hooks have already run (on the summed gradient)."""
    if leaf.grad is None:
        if create_graph:
            leaf.grad = grad
        else:
            data = grad.array.copy() if id(grad.array) in handed else _owned(grad.array)
            handed.add(id(data))
            leaf.grad = Tensor._make(data)
    elif create_graph:
        leaf.grad = leaf.grad + grad
    else:
        leaf.grad.array += grad.array


def run_post_accumulate_hooks(leaf):
    """Call ``leaf``'s post-accumulate-grad hooks: its ``.grad`` is complete for this pass."""
    if leaf._post_accumulate_hooks:
        for hook in list(leaf._post_accumulate_hooks.values()):
            hook(leaf)


def _count_dependencies(root_nodes, root_leaves, waits_for_all):
    """How many edges lead into each node, the set of nodes reached, and, for the leaves
    ``waits_for_all(leaf)`` picks (those with hooks), how many gradients they will get
    (``{id: [leaf, count, summed gradient]}``): a leaf used twice gets two gradients, and
    its hooks wait for both, then see their sum."""
    deps, hooked_leaves = {}, {}
    for leaf in root_leaves:
        if waits_for_all(leaf):
            hooked_leaves.setdefault(id(leaf), [leaf, 0, None])[1] += 1
    seen = set(root_nodes)
    stack = list(root_nodes)
    while stack:
        node = stack.pop()
        for edge in node.next_edges:
            if edge is None:
                continue
            if edge[1] < 0:
                if waits_for_all(edge[0]):
                    hooked_leaves.setdefault(id(edge[0]), [edge[0], 0, None])[1] += 1
                continue
            target = edge[0]
            deps[target] = deps.get(target, 0) + 1
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return deps, seen, hooked_leaves


def _nodes_leading_to(targets_leaf, targets_pair, nodes):
    """Nodes whose backward must run for autograd.grad: those with a path to a wanted input."""
    needed = {}
    for start in nodes:
        if start in needed:
            continue
        stack = [(start, False)]
        while stack:
            node, expanded = stack.pop()
            if node in needed:
                continue
            children = [e for e in node.next_edges if e is not None]
            if not expanded:
                stack.append((node, True))
                stack.extend((e[0], False) for e in children if e[1] >= 0 and e[0] not in needed)
                continue
            needed[node] = any(
                (id(e[0]) in targets_leaf) if e[1] < 0
                else ((id(e[0]), e[1]) in targets_pair or needed.get(e[0], False))
                for e in children
            )
    return needed


def run_backward(roots, root_grads, retain_graph=False, create_graph=False,
                 inputs=None, allow_unused=False):
    """Backpropagate ``root_grads`` from ``roots``.

    With ``inputs=None`` (``tensor.backward()``) gradients accumulate into the ``.grad`` of
    every leaf. With ``inputs`` (``autograd.grad``) nothing is written to ``.grad``: the
    gradients of exactly those tensors are returned.

    Hooks (``register_hook``) run once per pass on a tensor's summed gradient, like PyTorch's:
    a non-leaf's when its node is ready (its buffer holds the sum over uses), a leaf's when its
    last gradient has arrived. For a non-leaf input of ``autograd.grad`` whose node still has
    to run, PyTorch returns the gradient from before that tensor's hooks.
    """
    capture = inputs is not None
    targets_leaf = {}
    if capture:
        targets_leaf = {id(t): i for i, t in enumerate(inputs) if t.grad_fn is None}
        targets_pair = {(id(t.grad_fn), t._output_nr): i for i, t in enumerate(inputs)
                        if t.grad_fn is not None}
        results = [None] * len(inputs)

    handed = {id(getattr(g, "array", g)) for g in root_grads}   # see _accumulate_leaf

    def waits_for_all(leaf):
        if capture:      # autograd.grad: only the hooks of the leaves it returns run
            return bool(leaf._hooks) and id(leaf) in targets_leaf
        return bool(leaf._hooks or leaf._post_accumulate_hooks)

    def deliver(leaf, g):
        """A leaf's gradient: captured for autograd.grad, else accumulated into leaf.grad."""
        if capture:
            i = targets_leaf.get(id(leaf))
            if i is not None:
                _accumulate(results, i, g, create_graph)
            return
        _accumulate_leaf(leaf, g, create_graph, handed)
        run_post_accumulate_hooks(leaf)

    def to_leaf(leaf, g):
        pending = hooked_leaves.get(id(leaf))
        if pending is None:                     # no hooks: nothing to wait for
            if g is not None:
                deliver(leaf, g)
            return
        pending[1] -= 1
        if g is not None:
            pending[2] = g if pending[2] is None else _add(pending[2], g, create_graph)
        if pending[1] == 0 and pending[2] is not None:
            g = pending[2]
            if leaf._hooks:
                g = _apply_hooks(leaf._hooks, g)
            deliver(leaf, g)

    def capture_outputs(node, grads):
        for nr, g in enumerate(grads):
            i = targets_pair.get((id(node), nr))
            if i is not None and g is not None:
                results[i] = g

    buffers = {}
    root_nodes, root_leaves = [], []
    with set_grad_enabled(create_graph):
        for root, grad in zip(roots, root_grads):
            if root.grad_fn is None:  # backward() called on a leaf itself
                root_leaves.append((root, grad))
                continue
            node = root.grad_fn
            if node not in buffers:
                buffers[node] = [None] * node.n_outputs
                root_nodes.append(node)
            _accumulate(buffers[node], root._output_nr, grad, create_graph)

        deps, nodes, hooked_leaves = _count_dependencies(
            root_nodes, [leaf for leaf, _ in root_leaves], waits_for_all)
        for leaf, grad in root_leaves:
            to_leaf(leaf, grad)
        needed = _nodes_leading_to(targets_leaf, targets_pair, nodes) if capture else None
        ready = [n for n in root_nodes if deps.get(n, 0) == 0]

        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None) or [None] * node.n_outputs
            if capture:
                runs = needed.get(node, False)
                if not runs and not any((id(node), nr) in targets_pair
                                        for nr in range(node.n_outputs)):
                    _release_edges(node, deps, ready)   # off every path: PyTorch skips its hooks
                    continue
                if runs:
                    capture_outputs(node, grads)
                if node._hooks:
                    _apply_node_hooks(node, grads)
                if not runs:
                    capture_outputs(node, grads)
                    _release_edges(node, deps, ready)
                    continue
            elif node._hooks:
                _apply_node_hooks(node, grads)
            input_grads = _call_backward(node, grads)
            # hand each gradient on, and count the edge as done: a node whose last edge this
            # was is ready (its buffer is complete); one loop over the edges does both
            for edge, g in zip(node.next_edges, input_grads):
                if edge is None:
                    continue
                target, nr = edge
                if nr < 0:
                    if g is not None or id(target) in hooked_leaves:
                        to_leaf(target, g)
                    continue
                if g is not None:
                    buf = buffers.get(target)
                    if buf is None:
                        buf = buffers[target] = [None] * target.n_outputs
                    old = buf[nr]
                    buf[nr] = g if old is None else _add(old, g, create_graph)
                left = deps[target] - 1
                deps[target] = left
                if left == 0:
                    ready.append(target)
            if not retain_graph:
                node.release()

    if not capture:
        return None
    for i, r in enumerate(results):
        if r is None and not allow_unused:
            raise RuntimeError(
                f"autograd.grad: input {i} (shape {tuple(inputs[i].shape)}) was not used to "
                "compute the outputs, so it has no gradient. Pass allow_unused=True to get None "
                "for it instead."
            )
    return tuple(results)


def _apply_node_hooks(node, grads):
    """Run the ``register_hook`` hooks of a node's outputs on their summed gradients."""
    for nr, hooks in node._hooks.items():
        if grads[nr] is not None and hooks:
            grads[nr] = _apply_hooks(hooks, grads[nr])


def _release_edges(node, deps, ready):
    for edge in node.next_edges:
        if edge is None or edge[1] < 0:
            continue
        target = edge[0]
        deps[target] -= 1
        if deps[target] == 0:
            ready.append(target)


def _call_backward(node, grads):
    """Run one node's backward and check what it returned (shapes, dtypes, count)."""
    if node._freed:
        raise RuntimeError(_FREED_MESSAGE.format(op=node.name))
    for g in grads:
        if g is None:       # an output that was not used: its gradient is zero
            grads = _zeros_for_unused(node, grads)
            break
    if STATE.anomaly:
        STATE.backward_node = node
        try:
            result = _run_backward(node, grads)
        finally:
            STATE.backward_node = None
    elif node.fn._array_backward is None:      # no array version: straight to backward
        result = node.fn.backward(node, *grads)
    else:
        result = _run_backward(node, grads)
    if not isinstance(result, tuple):
        result = (result,)
    edges = node.next_edges
    if len(result) != len(edges):
        raise RuntimeError(
            f"{node.name}.backward returned {len(result)} gradient(s), but forward took "
            f"{len(edges)} argument(s): return one gradient (or None) per forward argument."
        )
    anomaly = STATE.anomaly
    checked = []
    for i, (g, edge) in enumerate(zip(result, edges)):
        if edge is None or g is None:
            checked.append(None)
            continue
        if not isinstance(g, Tensor):
            hint = (" (wrap an array with mg.from_numpy, or compute with Tensor ops)"
                    if hasattr(g, "shape") else "")
            raise TypeError(f"{node.name}.backward must return Tensors or None, got "
                            f"{type(g).__name__} for input {i}{hint}")
        target, nr = edge           # the input's shape and dtype: a leaf's, or a node output's
        if nr < 0:
            want_shape, want_dtype = target.array.shape, target.array.dtype
        else:
            want_shape, want_dtype = target.output_meta[nr]
        data = g.array                   # compare raw shapes and dtypes: this runs for every edge
        if data.shape != want_shape:
            raise RuntimeError(
                f"{node.name}.backward returned a gradient of shape {tuple(data.shape)} for "
                f"input {i}, which has shape {tuple(want_shape)}: a gradient must have the "
                "shape of its input (did you forget to sum over broadcast dimensions?)"
            )
        if data.dtype != want_dtype:
            g = g.to(want_dtype)
        if anomaly:
            _check_finite(node.name, "backward gradient for input", [None] * i + [g.array],
                          trace=node._trace)
        checked.append(g)
    return checked


def _run_backward(node, grads):
    """The node's backward: on arrays (``backward_arrays``) when its op has one and the
    backward is not recorded (no ``create_graph``), else on Tensors. The gradients come back
    as Tensors either way, for the same checks, hooks and accumulation."""
    fn = node.fn
    array_backward = fn._array_backward
    if array_backward is None or STATE.enabled:
        return fn.backward(node, *grads)
    g0 = grads[0]
    if len(grads) == 1:                     # one output: the usual case, without a list
        a0 = g0.array
        result = array_backward(node, a0)
    else:
        arrays = [g.array if g is not None else None for g in grads]
        a0 = arrays[0]
        result = array_backward(node, *arrays)
    if result is NotImplemented:
        return fn.backward(node, *grads)
    return _wrap_array_grads(node, result, g0, a0)


def _wrap_array_grads(node, result, g0, a0):
    """``backward_arrays``'s arrays as Tensors outside the graph (None stays None). The first
    incoming gradient handed back unchanged (an add's, a same-shape ``sum_to``) is passed on
    as the Tensor it came in, as the Tensor backward does, instead of a new wrapper."""
    if type(result) is not tuple:
        result = (result,)
    wrapped = []
    for a in result:
        if a is None:
            wrapped.append(None)
        elif a is a0:
            wrapped.append(g0)
        elif type(a) is ndarray:
            wrapped.append(_make(a))
        else:
            wrapped.append(_make(_other_array(node, len(wrapped), a)))
    return tuple(wrapped)


def _other_array(node, i, a):
    """A gradient from ``backward_arrays`` that is not a NumPy array: a NumPy scalar (from a
    0-d reduction) becomes a 0-d array, a CuPy array passes, anything else is an error."""
    if isinstance(a, generic):
        return asarray(a)
    if hasattr(a, "__cuda_array_interface__") and not isinstance(a, Tensor):
        return a
    raise TypeError(f"{node.name}.backward_arrays must return arrays or None, got "
                    f"{type(a).__name__} for input {i}")


def _zeros_for_unused(node, grads):
    """``grads`` with zeros (or None, for a Function that asked for it with
    ``set_materialize_grads(False)``) for the outputs that received no gradient."""
    filled = []
    for g, (shape, dtype) in zip(grads, node.output_meta):
        if g is None:
            if not node.materialize_grads:
                filled.append(None)
                continue
            from ..backend import array_module
            xp = array_module(*[x.array for x in grads if x is not None])
            g = Tensor._make(xp.zeros(shape, dtype=dtype))
        filled.append(g)
    return filled

