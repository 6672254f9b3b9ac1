"""compgraph.viz: the DOT source of drawn graphs, rendering, and value summaries."""

from __future__ import annotations

import re
import shutil
import sys

import numpy as np
import pytest

import compgraph as cg
from compgraph import nn, nodes, viz
from compgraph.viz.graph import COLOURS
from compgraph.viz.summary import summarize, value_rows

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="needs Graphviz's dot (apt-get install graphviz)"
)


def labels(source: str) -> list[str]:
    """Box labels in the DOT source, with DOT's line breaks turned back into newlines."""
    return [
        text.replace("\\n", "\n") for text in re.findall(r'\[label="((?:[^"\\]|\\.)*)"', source)
    ]


def edges(source: str) -> list[str]:
    return re.findall(r"^\s*(n\d+ -> n\d+)", source, flags=re.MULTILINE)


def small_graph() -> cg.Tensor:
    x = cg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="x")
    w = cg.tensor(np.ones((3, 4)), requires_grad=True, name="w")
    return ((x @ w).sigmoid() * 2.0).mean()


def test_dot_source_of_a_small_graph() -> None:
    source = viz.draw_graph(small_graph()).source
    boxes = labels(source)
    assert boxes == [
        "x\n(2, 3)",
        "w\n(3, 4)",
        "MatMul\n(2, 4)",
        "Sigmoid\n(2, 4)",
        "constant\n2",
        "Mul\n(2, 4)",
        "Mean\nscalar",
    ]
    # Data-flow order: each node's inputs, first to last, after the nodes feeding them.
    assert edges(source) == ["n0 -> n2", "n1 -> n2", "n2 -> n3", "n3 -> n5", "n4 -> n5", "n5 -> n6"]
    assert "subgraph cluster" not in source  # no modules, no frames


def test_values_and_grads_are_summarised() -> None:
    loss = small_graph()
    viz.retain_grads(loss).backward(retain_graph=True)
    boxes = labels(viz.draw_graph(loss, values=True, grads=True).source)
    assert boxes[-1].splitlines()[2:] == [f"value: {loss.item():.4g}", "grad: 1"]
    # x (2×3) is small: its rows, every number; w's (3×4) too; MatMul's 8 values likewise.
    assert boxes[0].splitlines()[2:5] == ["value:", "[[0, 1, 2],", "[3, 4, 5]]"]
    assert "grad:" in boxes[0].splitlines()
    rows = ["[[1, 1, 1, 1],", "[1, 1, 1, 1],", "[1, 1, 1, 1]]"]
    assert boxes[1].splitlines()[2:6] == ["value:", *rows]
    assert all("grad:" in box for box in boxes if not box.startswith("constant"))
    plain = labels(viz.draw_graph(loss).source)
    assert not any("value" in box or "grad" in box for box in plain)


def test_grads_shown_only_where_kept() -> None:
    loss = small_graph()
    loss.backward(retain_graph=True)  # no retain_grads: only the leaves keep .grad
    boxes = labels(viz.draw_graph(loss, grads=True).source)
    assert [box.split("\n")[0] for box in boxes if "grad:" in box] == ["x", "w"]


def test_modules_become_clusters_and_name_parameters() -> None:
    model = nn.Sequential(nn.Linear(4, 3, rng=0), nn.ReLU(), nn.Linear(3, 2, rng=1))
    x = cg.tensor(np.ones((5, 4), np.float32), name="images")
    loss = cg.functional.cross_entropy(model(x), np.zeros(5, dtype=np.int64))
    source = viz.draw_graph(loss).source
    assert source.count("subgraph cluster_") == 4  # Sequential, and 0, 1, 2 inside it
    for frame in (
        'label="Sequential"',
        'label="0: Linear"',
        'label="1: ReLU"',
        'label="2: Linear"',
    ):
        assert frame in source
    titles = [box.split("\n")[0] for box in labels(source)]
    assert {"0.weight", "0.bias", "2.weight", "2.bias", "images"} <= set(titles)
    assert len(edges(source)) == 3 + 1 + 3 + 2  # Linear, ReLU, Linear, the fused loss
    # Each bias sits right of its node, its edge written head first with the arrow reversed.
    assert source.count("[dir=back]") == 2
    frame = source[source.index('label="0: Linear"') :]
    frame = frame[: frame.index("}")]
    assert "0.weight" in frame and "0.bias" in frame and "Linear\\n(5, 3)" in frame


def test_model_argument_names_parameters_used_outside_modules() -> None:
    layer = nn.Linear(3, 2, rng=0)
    x = cg.tensor(np.ones((1, 3), np.float32))
    out = cg.nodes.Linear()(x, layer.weight, layer.bias).sum()
    anonymous = [box.split("\n")[0] for box in labels(viz.draw_graph(out).source)]
    assert anonymous.count("parameter") == 2
    named = [box.split("\n")[0] for box in labels(viz.draw_graph(out, model=layer).source)]
    assert {"weight", "bias"} <= set(named)


def test_named_results_are_labelled() -> None:
    x = cg.tensor([1.0, -2.0], requires_grad=True)
    hidden = x.relu()
    hidden.name = "hidden"
    assert labels(viz.draw_graph(hidden.sum()).source)[1].startswith("hidden = ReLU")


def test_integer_inputs_show_dtype_and_entries() -> None:
    logits = cg.tensor(np.zeros((3, 4)), requires_grad=True)
    loss = nodes.Mean()(nodes.SoftmaxCrossEntropy()(logits, np.array([0, 3, 1])))
    boxes = labels(viz.draw_graph(loss, values=True).source)
    assert "input\n(3,) int64\nvalue: [0, 3, 1]" in boxes


def test_released_graph_is_a_clear_error() -> None:
    loss = small_graph()
    loss.backward()
    with pytest.raises(viz.GraphReleasedError, match=r"loss.backward\(retain_grads=True\)"):
        viz.draw_graph(loss)


def test_deep_graph_needs_no_recursion() -> None:
    x = cg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    order = viz.topological_order(y)
    assert len(order) == 1 + 2 * 5000  # x, and each step's constant and Mul
    assert len(edges(viz.draw_graph(y).source)) == 2 * 5000


def test_retain_grads_fills_every_intermediate() -> None:
    loss = small_graph()
    viz.retain_grads(loss).backward(retain_graph=True)
    for tensor in viz.topological_order(loss):
        if tensor.requires_grad:
            assert tensor.grad is not None


def test_without_the_graphviz_package_the_source_remains(monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz raises ImportError
    graph = viz.draw_graph(small_graph())
    assert isinstance(graph, viz.DotGraph)
    assert graph.source.startswith("digraph compgraph {") and graph.source.rstrip().endswith("}")
    assert len(edges(graph.source)) == 6
    assert not viz.has_renderer()
    with pytest.raises(viz.RendererMissingError, match="apt-get install graphviz"):
        viz.render(graph, tmp_path / "graph.svg")
    assert viz.render(graph, tmp_path / "graph.dot").read_text() == graph.source
    assert "apt-get install graphviz" in graph._repr_markdown_()


def test_render_rejects_unknown_formats(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"\.svg"):
        viz.render(viz.draw_graph(small_graph()), tmp_path / "graph.txt")


def test_bad_rankdir() -> None:
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_graph(small_graph(), rankdir="sideways")


@needs_dot
def test_renders_svg_and_png(tmp_path) -> None:
    pytest.importorskip("graphviz")
    image = pytest.importorskip("matplotlib.image")
    model = nn.Sequential(nn.Linear(4, 3, rng=0), nn.ReLU(), nn.Linear(3, 2, rng=1))
    loss = model(cg.tensor(np.ones((5, 4), np.float32))).sum()
    graph = viz.draw_graph(loss, values=True)
    svg = viz.render(graph, tmp_path / "graph.svg")
    assert svg.read_text().lstrip().startswith(("<?xml", "<svg"))
    assert "0.weight" in svg.read_text()
    png = viz.render(graph, tmp_path / "graph.png")
    pixels = image.imread(png)  # decodes, or raises
    height, width = pixels.shape[:2]
    assert 150 <= width <= 2000 and 300 <= height <= 3000
    assert not list(tmp_path.glob(".*"))  # temporary files renamed away


@pytest.mark.parametrize(
    ("array", "text"),
    [
        (np.array(2.302585), "2.303"),
        (np.array([[1.0, 3.0]]), "[[1, 3]]"),
        (np.array([0.123456, -0.0, 12345.6, 1.5e-7]), "[0.1235, 0, 1.235e+04, 1.5e-07]"),
        (
            np.arange(12.0).reshape(2, 3, 2),
            "[[[0, 1], [2, 3], [4, 5]], [[6, 7], [8, 9], [10, 11]]]",
        ),
        (np.array([1.0, np.nan, np.inf]), "[1, nan, inf]"),
        (np.arange(13.0), "mean 6, std 3.742"),
        (np.zeros(13, np.float32), "all 0"),
        (np.tile([1.0, -1.0], 7) + 1e-12, "mean ≈0, std 1"),
        (np.array([1.0, np.nan, np.inf] * 5), "10 of 15 NaN/Inf"),
        (np.arange(10), "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"),
        (np.arange(20), "[0, 1, 2, 3, 4, 5, …]"),
        (np.array([True, False]), "[True, False]"),
        (np.zeros((0, 3)), "empty"),
    ],
)
def test_summaries(array: np.ndarray, text: str) -> None:
    assert summarize(array) == text


def test_summaries_of_large_arrays_in_the_trace_add_min_and_max() -> None:
    assert summarize(np.arange(13.0), extremes=True) == "mean 6, std 3.742, min 0, max 12"
    assert summarize(np.arange(12.0), extremes=True).startswith("[0, 1, 2")


def test_matrix_rows_are_aligned_one_per_line() -> None:
    assert value_rows(np.array([[1.0, -0.5], [10.25, 2.0]])) == [
        "[[    1,  -0.5],",
        " [10.25,     2]]",
    ]
    assert value_rows(np.arange(4.0).reshape(2, 1, 2)) == ["[[[0, 1]],", " [[2, 3]]]"]
    assert value_rows(np.array(2.5)) == ["2.5"]


def test_small_tensors_show_every_number_large_ones_a_summary() -> None:
    x = cg.tensor([[0.5, -1.25, 2.0]], requires_grad=True, name="x")  # 3 elements
    big = cg.tensor(np.arange(13.0), requires_grad=True, name="big")  # 13: one too many
    loss = (x * 2.0).sum() + (big * big).mean()
    viz.retain_grads(loss).backward(retain_graph=True)
    source = viz.draw_graph(loss, values=True, grads=True).source
    boxes = {box.split("\n")[0]: box.split("\n") for box in labels(source)}
    assert boxes["x"][2:] == ["value: [[0.5, -1.25, 2]]", "grad: [[2, 2, 2]]"]
    assert boxes["big"][2:] == ["value: mean 6, std 3.742", "grad: mean 0.9231, std 0.5756"]
    assert labels(source)[2].split("\n")[2] == "value: [[1, -2.5, 4]]"  # x * 2
    # big * big: every gradient is 1/13, but for rounding; said so rather than "std 2.8e-17"
    assert labels(source)[5].split("\n")[3] == "grad: all ≈0.07692"
    long = cg.tensor(np.linspace(-1, 1, 10) / 3, requires_grad=True, name="long")
    box = labels(viz.draw_graph(long.sum(), values=True).source)[0].split("\n")
    assert box[2] == "value:" and len(box) == 5  # ten numbers wrapped on two lines
    assert " ".join(box[3:]) == summarize(long.data)


def steps_in(source: str) -> list[tuple[int, str]]:
    """(step, title) of each numbered box, in step order: its "#n " prefix read back."""
    found = [re.fullmatch(r"#(\d+) (.+)", box.split("\n")[0]) for box in labels(source)]
    return sorted((int(match.group(1)), match.group(2)) for match in found if match)


def test_order_numbers_the_nodes_as_backward_runs_them() -> None:
    x = cg.tensor([1.0, 2.0], requires_grad=True, name="x")
    loss = (x * x + x.sigmoid()).sum()
    source = viz.draw_graph(loss, order=True).source
    engine = [t for t in reversed(viz.topological_order(loss)) if t.node is not None]
    classes = [type(t.node).__name__ for t in engine]
    assert steps_in(source) == list(enumerate(classes, start=1))
    assert steps_in(source)[0] == (1, "Sum")  # the loss's node runs first
    assert labels(source)[0].split("\n")[0] == "x"  # leaves: no number
    assert not steps_in(viz.draw_graph(loss).source)  # only when asked


def test_order_of_a_module_graph_follows_the_trace() -> None:
    model = nn.Sequential(nn.Linear(4, 3, rng=0), nn.ReLU(), nn.Linear(3, 2, rng=1))
    loss = model(cg.tensor(np.ones((2, 4), np.float32))).sum()
    steps = steps_in(viz.draw_graph(loss, model=model, order=True).source)
    assert steps == [(1, "Sum"), (2, "Linear"), (3, "ReLU"), (4, "Linear")]
    text = viz.trace_backward(loss, model=model, file=None)
    headers = re.findall(r"^#(\d+) (\w+)", text, flags=re.MULTILINE)
    assert [(int(step), name) for step, name in headers] == steps


def test_the_legend_explains_colours_and_lines() -> None:
    loss = small_graph()
    viz.retain_grads(loss).backward(retain_graph=True)
    source = viz.draw_graph(loss, values=True, grads=True, order=True).source
    legend = re.search(r"legend \[shape=plain.*label=<(.*)>\]", source)
    assert legend, "no legend in the source"
    table = legend.group(1)
    for kind, colour in COLOURS.items():
        assert f'<td bgcolor="{colour}">{kind}</td>' in table
    for mark in ("grad:", "dL/d(box)", "value:", "#n", "at most 12", "thick border"):
        assert mark in table
    plain = viz.draw_graph(loss).source
    assert "legend [" in plain and "grad:" not in plain and "#n" not in plain
    assert "legend" not in viz.draw_graph(loss, legend=False).source
    assert labels(plain) == labels(viz.draw_graph(loss, legend=False).source)  # no extra box


def test_constants_have_their_own_colour() -> None:
    source = viz.draw_graph(small_graph()).source
    line = next(line for line in source.splitlines() if 'label="constant' in line)
    assert f'fillcolor="{COLOURS["constant"]}"' in line
    assert COLOURS["constant"] != COLOURS["input"]


@needs_dot
def test_the_legend_renders(tmp_path) -> None:
    pytest.importorskip("graphviz")
    loss = small_graph()
    svg = viz.render(viz.draw_graph(loss, order=True), tmp_path / "graph.svg").read_text()
    assert "legend" in svg and "#1 Mean" in svg and "a trained parameter" in svg
