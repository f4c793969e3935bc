"""Pictures for learning: computation graphs, training curves, image grids, attention maps,
segmentation masks drawn over their images.

Everything here draws with matplotlib alone (no graphviz), returns the matplotlib ``Axes`` it
drew on, and accepts Tensors or NumPy arrays.

    import minigrad as mg
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    mg.viz.draw_graph(y, params={"x": x})      # leaves on the left, y on the right

The graph is the one autograd records: every op call is a node (a ``Context`` whose
``name`` is the op, ``Mul``, ``Sum``, ...), and ``ctx.next_edges`` says where the gradient of
each input goes: ``(node, output_index)`` for a tensor made by another op, ``(leaf, -1)`` for a
leaf tensor that requires grad, ``None`` for an input that needs no gradient (constants).
Drawing those edges in the forward direction shows how data flowed; read right to left, it is
the order in which ``backward`` visits the nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["GraphNode", "build_graph", "draw_graph", "plot_curves", "show_images",
           "plot_attention", "mask_colors", "mask_legend", "overlay_masks"]


# -- the graph as data ------------------------------------------------------------------------
@dataclass
class GraphNode:
    """One box of the drawing. ``kind`` is ``'op'``, ``'leaf'`` or ``'output'``."""

    key: int
    kind: str
    label: str
    depth: int = 0          # longest distance (in edges) from an output; 0 for the outputs
    inputs: list = field(default_factory=list)   # keys of the nodes that feed this one


def _shape_str(shape) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"


def build_graph(outputs, params=None):
    """The computation graph behind ``outputs`` as plain data: ``(nodes, edges)``.

    ``nodes`` maps a key to a :class:`GraphNode`; ``edges`` is a list of
    ``(src_key, dst_key, output_index)`` in the forward direction (``output_index`` is which
    output of ``src`` was used, ``-1`` for a leaf tensor). ``params`` optionally names leaf
    tensors: a dict ``{name: tensor}`` such as ``dict(model.named_parameters())``.
    """
    from .tensor import Tensor

    outs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"build_graph expects Tensors, got {type(o).__name__}")
    names = {id(t): n for n, t in (params or {}).items()}

    nodes: dict[int, GraphNode] = {}
    edges: list[tuple[int, int, int]] = []

    def leaf_label(t):
        name = names.get(id(t), "")
        return (name + "\n" if name else "") + _shape_str(t.shape)

    def op_label(ctx):
        metas = getattr(ctx, "output_meta", ()) or ()
        shape = "" if len(metas) != 1 else "\n" + _shape_str(metas[0][0])
        return ctx.name + shape

    # 1. collect nodes and edges by a graph walk from every output (iterative: deep RNN graphs
    #    would overflow Python's recursion limit)
    stack = []
    for o in outs:
        okey = id(o)
        nodes[okey] = GraphNode(okey, "output", names.get(okey, "output") + "\n"
                                + _shape_str(o.shape))
        if o.grad_fn is not None:
            edges.append((id(o.grad_fn), okey, o._output_nr))
            nodes[okey].inputs.append(id(o.grad_fn))
            stack.append(o.grad_fn)
        elif o.requires_grad:  # the output is itself a leaf
            nodes[okey].kind = "leaf"
    seen = set()
    while stack:
        ctx = stack.pop()
        key = id(ctx)
        if key in seen:
            continue
        seen.add(key)
        nodes.setdefault(key, GraphNode(key, "op", op_label(ctx)))
        for edge in ctx.next_edges:
            if edge is None:
                continue
            src, index = edge
            skey = id(src)
            if index == -1 or isinstance(src, Tensor):  # a leaf tensor
                nodes.setdefault(skey, GraphNode(skey, "leaf", leaf_label(src)))
            else:
                stack.append(src)
            edges.append((skey, key, index))
            nodes[key].inputs.append(skey)

    # 2. depth = longest path to an output, so every edge points strictly to the right
    consumers: dict[int, list[int]] = {k: [] for k in nodes}
    for s, d, _ in edges:
        consumers[s].append(d)
    order = _topological(nodes, consumers)
    for k in order:  # outputs first: each node is placed after everything it feeds
        cs = consumers[k]
        nodes[k].depth = 0 if not cs else 1 + max(nodes[c].depth for c in cs)
    return nodes, edges


def _topological(nodes, consumers):
    """Nodes ordered so that every consumer comes before what it consumes (outputs first)."""
    remaining = {k: len(set(cs)) for k, cs in consumers.items()}
    producers: dict[int, set] = {k: set() for k in nodes}
    for k, cs in consumers.items():
        for c in cs:
            producers[c].add(k)
    ready = [k for k, n in remaining.items() if n == 0]
    order = []
    while ready:
        k = ready.pop()
        order.append(k)
        for p in producers[k]:
            remaining[p] -= 1
            if remaining[p] == 0:
                ready.append(p)
    return order


def _layout(nodes, edges, sweeps=4):
    """(x, y) for each node: x from depth (outputs on the right), y ordered to limit crossings.

    Nodes of one column are ordered by the mean position of their neighbours in the column
    to the right, then to the left, a few times over (the barycentre heuristic of layered
    graph drawing).
    """
    max_depth = max(n.depth for n in nodes.values())
    columns: dict[int, list[int]] = {}
    for k, n in nodes.items():
        columns.setdefault(max_depth - n.depth, []).append(k)
    neighbours: dict[int, list[int]] = {k: [] for k in nodes}
    for s, d, _ in edges:
        neighbours[s].append(d)
        neighbours[d].append(s)
    pos = {}
    for keys in columns.values():
        for i, k in enumerate(keys):
            pos[k] = i
    xs = sorted(columns)
    for sweep in range(sweeps):
        seq = xs[::-1] if sweep % 2 == 0 else xs
        for x in seq:
            keys = columns[x]

            def bary(k):
                ys = [pos[m] for m in neighbours[k] if m in pos]
                return (sum(ys) / len(ys)) if ys else pos[k]

            keys.sort(key=bary)
            for i, k in enumerate(keys):
                pos[k] = i
    coords = {}
    height = max(len(v) for v in columns.values())
    for x, keys in columns.items():
        off = (height - len(keys)) / 2
        for i, k in enumerate(keys):
            coords[k] = (float(x), -(off + i))
    return coords


_COLORS = {"leaf": "#cde6ff", "op": "#eeeeee", "output": "#c8f0c0"}


def draw_graph(outputs, params=None, ax=None, fontsize=8):
    """Draw the computation graph that produced ``outputs`` (a Tensor or a list of them).

    Blue boxes are leaf tensors that require grad (named from ``params`` when given, e.g.
    ``dict(model.named_parameters())``), grey boxes are ops (``Function`` names with their
    output shape), green boxes are the outputs. Arrows follow the forward pass, left to right;
    a small number on an arrow says which output of a multi-output op was used.
    Returns the matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    nodes, edges = build_graph(outputs, params)
    coords = _layout(nodes, edges)
    n_cols = int(max(x for x, _ in coords.values())) + 1
    n_rows = int(max(-y for _, y in coords.values())) + 1
    if ax is None:
        _, ax = plt.subplots(figsize=(min(2.0 + 1.7 * n_cols, 24), min(1.0 + 0.9 * n_rows, 20)))
    w, h = 0.78, 0.6
    for k, node in nodes.items():
        x, y = coords[k]
        box = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                             facecolor=_COLORS[node.kind], edgecolor="#555555", linewidth=0.8)
        ax.add_patch(box)
        ax.text(x, y, node.label, ha="center", va="center", fontsize=fontsize)
    multi = {}
    for s, _d, i in edges:
        multi.setdefault(s, set()).add(i)
    for s, d, i in edges:
        (x0, y0), (x1, y1) = coords[s], coords[d]
        ax.annotate("", xy=(x1 - w / 2, y1), xytext=(x0 + w / 2, y0),
                    arrowprops=dict(arrowstyle="->", color="#444444", lw=0.8,
                                    shrinkA=0, shrinkB=0))
        if i >= 0 and len(multi[s]) > 1:
            ax.text(x0 + w / 2 + 0.05, y0 + 0.5 * (y1 - y0) * 0.2 + 0.08, str(i),
                    fontsize=fontsize - 1, color="#aa0000")
    ax.set_xlim(-0.6, n_cols - 0.4)
    ax.set_ylim(-n_rows + 0.4, 0.6)
    ax.set_aspect("auto")
    ax.axis("off")
    return ax


# -- curves, images, attention ----------------------------------------------------------------
def _np(x):
    from .tensor import Tensor

    if isinstance(x, Tensor):
        x = x.detach()
    return np.asarray(x)


def plot_curves(curves, ax=None, xlabel="epoch", ylabel=None, title=None, logy=False,
                **plot_kwargs):
    """Plot several curves on one Axes: ``{"train loss": [...], "val loss": [...]}``.

    A value may be a list of numbers (plotted against 0, 1, 2, ...) or an ``(xs, ys)`` pair.
    ``logy=True`` uses a log scale for the y axis (losses that fall by orders of magnitude).
    Returns the ``Axes``.
    """
    import matplotlib.pyplot as plt

    if not isinstance(curves, dict):
        raise TypeError("plot_curves expects a dict {label: values}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for label, values in curves.items():
        if isinstance(values, tuple) and len(values) == 2:
            xs, ys = _np(values[0]).astype(float), _np(values[1]).astype(float)
        else:
            ys = np.array([float(v) for v in values])
            xs = np.arange(len(ys))
        ax.plot(xs, ys, label=str(label), **plot_kwargs)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(curves) > 1:
        ax.legend()
    ax.grid(alpha=0.3)
    return ax


def show_images(images, labels=None, ncols=8, cmap="gray", figsize=None, axes=None,
                normalize=True):
    """A grid of images: ``(N, H, W)``, ``(N, 1, H, W)`` or ``(N, 3, H, W)`` (channels first,
    as minigrad and PyTorch store them) or ``(N, H, W, 3)``. ``labels`` titles each image.
    With ``normalize`` each image is scaled to its own min..max (filters, feature maps).
    Returns the array of ``Axes``.
    """
    import matplotlib.pyplot as plt

    imgs = _np(images).astype(np.float64)
    if imgs.ndim == 2:
        imgs = imgs[None]
    if imgs.ndim == 4 and imgs.shape[1] in (1, 3) and imgs.shape[-1] not in (1, 3):
        imgs = np.moveaxis(imgs, 1, -1)
    if imgs.ndim == 4 and imgs.shape[-1] == 1:
        imgs = imgs[..., 0]
    if imgs.ndim not in (3, 4):
        raise ValueError(f"show_images: expected (N, H, W) or (N, C, H, W), got {imgs.shape}")
    n = imgs.shape[0]
    ncols = max(1, min(ncols, n))
    nrows = (n + ncols - 1) // ncols
    if axes is None:
        _, axes = plt.subplots(nrows, ncols, figsize=figsize or (1.3 * ncols, 1.4 * nrows),
                               squeeze=False)
    axes = np.asarray(axes).reshape(-1)
    for i, a in enumerate(axes):
        a.axis("off")
        if i >= n:
            continue
        img = imgs[i]
        if normalize:
            lo, hi = img.min(), img.max()
            img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
        a.imshow(img, cmap=None if img.ndim == 3 else cmap, interpolation="nearest")
        if labels is not None:
            a.set_title(str(labels[i]), fontsize=8)
    return axes


def plot_attention(weights, query_labels=None, key_labels=None, ax=None, title=None,
                   cmap="viridis"):
    """Heat map of an attention matrix ``(L_query, L_key)``: row i shows where query i looks.
    Returns the ``Axes``."""
    import matplotlib.pyplot as plt

    w = _np(weights).astype(np.float64)
    if w.ndim != 2:
        raise ValueError(f"plot_attention: expected a 2-D (query, key) matrix, got {w.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.35 * w.shape[1] + 2, 0.35 * w.shape[0] + 1.5))
    im = ax.imshow(w, cmap=cmap, vmin=0.0, aspect="auto")
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if key_labels is not None:
        ax.set_xticks(range(len(key_labels)), [str(k) for k in key_labels], fontsize=7)
    if query_labels is not None:
        ax.set_yticks(range(len(query_labels)), [str(q) for q in query_labels], fontsize=7)
    ax.set_xlabel("key position")
    ax.set_ylabel("query position")
    if title:
        ax.set_title(title)
    return ax


# -- segmentation masks -----------------------------------------------------------------------
# one colour per class 1, 2, ... (matplotlib's 'tab10' without its grey); class 0 is background
_MASK_COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                "#bcbd22", "#17becf")


def mask_colors(mask, alpha=0.5):
    """An ``(H, W)`` integer class mask as an RGBA image ``(H, W, 4)``: class k >= 1 in the
    k-th colour of ``mask_legend``'s palette with opacity ``alpha``, class 0 (background)
    fully transparent, so that the mask can be drawn over the image it labels."""
    from matplotlib.colors import to_rgba

    m = _np(mask)
    if m.ndim != 2 or m.dtype.kind not in "iub":
        raise ValueError(f"mask_colors: expected an (H, W) integer mask, got shape {m.shape} "
                         f"and dtype {m.dtype}")
    if m.size and (m.min() < 0 or m.max() > len(_MASK_COLORS)):
        raise ValueError(f"mask_colors: class labels must lie in 0..{len(_MASK_COLORS)} "
                         f"(0 = background), got values from {m.min()} to {m.max()}")
    palette = np.array([(0.0, 0.0, 0.0, 0.0)] + [to_rgba(c, alpha) for c in _MASK_COLORS])
    return palette[m.astype(np.int64)]


def mask_legend(class_names, ax=None, alpha=0.5, **legend_kwargs):
    """A legend naming the colours ``mask_colors`` gives classes 1, 2, ...: ``class_names``
    lists the names of classes 1, 2, ... in order (not the background). Drawn on ``ax`` (or
    the current figure); returns the legend."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    handles = [Patch(color=_MASK_COLORS[k], alpha=alpha, label=str(name))
               for k, name in enumerate(class_names)]
    where = ax if ax is not None else plt.gcf()
    return where.legend(handles=handles, **legend_kwargs)


def overlay_masks(images, masks, labels=None, ncols=8, alpha=0.5, figsize=None, axes=None):
    """A grid of grey images ``(N, H, W)`` or ``(N, 1, H, W)``, each with its integer class
    mask ``(N, H, W)`` drawn over it in colour (``mask_colors``; background left clear).
    ``masks`` may be None for an image without a mask. Returns the array of ``Axes``."""
    imgs = _np(images)
    if imgs.ndim == 4 and imgs.shape[1] == 1:
        imgs = imgs[:, 0]
    if imgs.ndim == 2:
        imgs = imgs[None]
    if imgs.ndim != 3:
        raise ValueError(f"overlay_masks: expected grey images (N, H, W) or (N, 1, H, W), "
                         f"got shape {imgs.shape}")
    if masks is not None:
        ms = _np(masks)
        if ms.ndim == 2:
            ms = ms[None]
        if ms.shape != imgs.shape:
            raise ValueError(f"overlay_masks: masks of shape {ms.shape} do not match the "
                             f"images' {imgs.shape} (one (H, W) mask per image)")
    axes = show_images(imgs, labels=labels, ncols=ncols, figsize=figsize, axes=axes,
                       normalize=False)
    if masks is not None:
        for a, m in zip(axes, ms):
            a.imshow(mask_colors(m, alpha), interpolation="nearest")
    return axes
