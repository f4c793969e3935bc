"""mg.viz: the computation graph as data and as a drawing, curves, image grids, attention."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import viz  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _small_graph():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = mg.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], requires_grad=True)
    c = mg.tensor([1.0, -1.0])  # a constant: needs no grad, so it is not drawn
    h = (w @ x).tanh()
    y = (h * c + h).sum()
    return x, w, y


def test_build_graph_nodes_and_edges():
    x, w, y = _small_graph()
    nodes, edges = viz.build_graph(y, params={"x": x, "w": w})
    kinds = sorted(n.kind for n in nodes.values())
    assert kinds.count("output") == 1 and kinds.count("leaf") == 2
    labels = {n.label.split("\n")[0] for n in nodes.values()}
    assert {"x", "w", "Tanh", "Mul", "Add", "Sum", "output"} <= labels
    # h is used twice but its Tanh node appears once, with two outgoing edges
    tanh = [k for k, n in nodes.items() if n.label.startswith("Tanh")]
    assert len(tanh) == 1
    assert sum(1 for s, _, _ in edges if s == tanh[0]) == 2
    # leaves hang off their consumers with output index -1
    assert all(i == -1 for s, _, i in edges if nodes[s].kind == "leaf")
    # every edge points from deeper (left) to shallower (right)
    assert all(nodes[s].depth > nodes[d].depth for s, d, _ in edges)
    assert nodes[id(y)].depth == 0


def test_build_graph_matches_next_edges():
    x, w, y = _small_graph()
    nodes, edges = viz.build_graph(y)
    ops = {k: n for k, n in nodes.items() if n.kind == "op"}
    # each op node has exactly as many incoming edges as non-None next_edges
    ctx = y.grad_fn
    stack, seen = [ctx], set()
    while stack:
        c = stack.pop()
        if id(c) in seen:
            continue
        seen.add(id(c))
        assert id(c) in ops
        n_in = sum(1 for e in c.next_edges if e is not None)
        assert sum(1 for _, d, _ in edges if d == id(c)) == n_in
        stack += [e[0] for e in c.next_edges if e is not None and e[1] != -1]
    assert len(seen) == len(ops)


def test_build_graph_leaf_output_and_no_grad():
    x = mg.tensor([1.0], requires_grad=True)
    nodes, edges = viz.build_graph(x)
    assert len(nodes) == 1 and not edges and next(iter(nodes.values())).kind == "leaf"
    nodes, edges = viz.build_graph(mg.tensor([1.0, 2.0]))
    assert len(nodes) == 1 and not edges
    with pytest.raises(TypeError):
        viz.build_graph(np.zeros(3))


def test_build_graph_several_outputs_and_deep_chain():
    x = mg.tensor([0.5], requires_grad=True)
    a, b = x * 2, x.exp()
    nodes, edges = viz.build_graph([a, b])
    assert sum(n.kind == "output" for n in nodes.values()) == 2
    # a graph deeper than Python's recursion limit (an unrolled RNN is one)
    h = x
    for _ in range(3000):
        h = h * 1.0
    nodes, edges = viz.build_graph(h)
    assert len(nodes) == 3002 and max(n.depth for n in nodes.values()) == 3001


def test_draw_graph_draws_one_box_per_node():
    x, w, y = _small_graph()
    nodes, _ = viz.build_graph(y)
    ax = viz.draw_graph(y, params={"x": x, "w": w})
    assert len(ax.patches) == len(nodes)
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("w\n(2, 3)") for t in texts)
    assert any(t.startswith("Tanh") for t in texts)
    # an Axes given by the caller is drawn on
    fig, ax2 = plt.subplots()
    assert viz.draw_graph(y, ax=ax2) is ax2


def test_draw_graph_after_backward():
    # backward frees saved tensors but the structure (next_edges, names) survives
    x, w, y = _small_graph()
    y.backward()
    ax = viz.draw_graph(y)
    assert len(ax.patches) >= 6


def test_plot_curves():
    ax = viz.plot_curves({"train": [3.0, 2.0, 1.0], "val": ([0, 2], mg.tensor([3.5, 2.5]))},
                         ylabel="loss", logy=True)
    assert len(ax.lines) == 2
    assert ax.get_yscale() == "log"
    np.testing.assert_allclose(ax.lines[1].get_xdata(), [0, 2])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "val"]
    with pytest.raises(TypeError):
        viz.plot_curves([1, 2, 3])


@pytest.mark.parametrize("shape", [(5, 8, 8), (5, 1, 8, 8), (5, 3, 8, 8), (5, 8, 8, 3)])
def test_show_images_shapes(shape):
    imgs = mg.randn(*shape)
    axes = viz.show_images(imgs, labels=list("abcde"), ncols=3)
    assert len(axes) == 6  # 2 rows x 3 columns, the last one empty
    assert sum(len(a.images) for a in axes) == 5
    assert axes[0].get_title() == "a"


def test_show_images_rejects_bad_shape():
    with pytest.raises(ValueError):
        viz.show_images(np.zeros((2, 3, 4, 5, 6)))


def test_plot_attention():
    w = mg.tensor(np.full((3, 4), 0.25))
    ax = viz.plot_attention(w, query_labels="abc", key_labels="wxyz", title="attn")
    assert ax.images[0].get_array().shape == (3, 4)
    assert [t.get_text() for t in ax.get_xticklabels()] == list("wxyz")
    with pytest.raises(ValueError):
        viz.plot_attention(np.zeros(3))


def test_mask_colors_background_clear_classes_coloured():
    mask = np.array([[0, 1], [2, 1]])
    rgba = viz.mask_colors(mask, alpha=0.4)
    assert rgba.shape == (2, 2, 4)
    assert rgba[0, 0, 3] == 0.0                               # background: transparent
    np.testing.assert_allclose(rgba[[0, 1, 1], [1, 0, 1], 3], 0.4)
    np.testing.assert_array_equal(rgba[0, 1], rgba[1, 1])     # one colour per class
    assert not np.array_equal(rgba[0, 1], rgba[1, 0])
    with pytest.raises(ValueError, match=r"mask_colors: expected an \(H, W\) integer mask"):
        viz.mask_colors(np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="class labels must lie in 0..9 .* from -1 to 1"):
        viz.mask_colors(np.array([[-1, 1]]))


def test_overlay_masks_draws_each_mask_over_its_image():
    images = mg.rand(3, 1, 6, 5)
    masks = np.zeros((3, 6, 5), dtype=np.int64)
    masks[1, 2:4, 1:3] = 3
    axes = viz.overlay_masks(images, masks, labels=["a", "b", "c"], ncols=2)
    assert len(axes) == 4 and [len(a.images) for a in axes] == [2, 2, 2, 0]
    overlay = axes[1].images[1].get_array()
    assert overlay.shape == (6, 5, 4) and overlay[2, 1, 3] > 0 and overlay[0, 0, 3] == 0
    assert [len(a.images) for a in viz.overlay_masks(images, None)] == [1, 1, 1]
    with pytest.raises(ValueError, match=r"masks of shape \(3, 5, 6\) do not match"):
        viz.overlay_masks(images, masks.transpose(0, 2, 1))
    with pytest.raises(ValueError, match="expected grey images"):
        viz.overlay_masks(mg.rand(2, 3, 4, 4), None)


def test_mask_legend_names_the_classes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    legend = viz.mask_legend(["circle", "square"], ax=ax)
    assert [t.get_text() for t in legend.get_texts()] == ["circle", "square"]
    plt.close(fig)
