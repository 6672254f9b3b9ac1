"""The explorer's recording and page, without a browser (test_explorer_browser.py opens it)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import compgraph as cg
from compgraph import viz
from compgraph.cli import main
from compgraph.viz.explorer import Explorer, ExplorerError, explore
from compgraph.viz.preset import preset_loss


def embedded(page: str) -> dict:
    """The JSON object the page carries."""
    found = re.search(r'<script id="explorer-data" [^>]*>(.*?)</script>', page, flags=re.DOTALL)
    assert found, "no data in the page"
    return json.loads(found.group(1))  # "<\\/" is JSON's own escape for "/"


def fan_out_loss() -> tuple[cg.Tensor, cg.Tensor]:
    x = cg.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    return (x * x + x.sigmoid()).sum(), x


def test_the_backward_steps_follow_the_engines_order_and_gradients() -> None:
    model, loss = preset_loss("mlp", 8, 5)
    order = viz.topological_order(loss)
    engine = [f"b{i}" for i, t in reversed(list(enumerate(order))) if t.node is not None]
    explorer = explore(loss, model, "mlp")
    assert [step["box"] for step in explorer.data["backward"]] == engine
    assert embedded(explorer.html) == json.loads(json.dumps(explorer.data))
    boxes = {box["id"]: box for box in explorer.data["boxes"]}
    for index, t in enumerate(order):
        if t.node is None and t.grad is not None:  # the parameters, after explore's backward
            shown = boxes[f"b{index}"]["grad"]
            expected = float(t.grad.mean(dtype=np.float64))
            assert shown["mean"] == pytest.approx(expected, rel=1e-6, abs=1e-12)
            assert shown["shape"] == list(t.shape)
    first = boxes["b0"]
    assert first["label"] == "images" and first["value"]["hist"]["counts"]


def test_a_tensor_that_feeds_several_nodes_shows_its_running_sum() -> None:
    loss, x = fan_out_loss()
    data = explore(loss).data
    parts = [g for step in data["backward"] for g in step["leaving"] if g["to"] == "b0"]
    assert [g["part"] for g in parts] == [1, 2, 3]  # x * x takes x twice, sigmoid once
    assert x.grad is not None
    assert parts[-1]["total"]["mean"] == pytest.approx(float(x.grad.mean()))
    assert data["boxes"][0]["parts"] == 3


def test_forward_steps_and_formulas() -> None:
    model, loss = preset_loss("softmax", 8, 5)
    data = explore(loss, model).data
    assert [step["box"] for step in data["forward"]] == ["b3", "b5"]
    linear = next(box for box in data["boxes"] if box["class"] == "Linear")
    assert linear["formula"].startswith("y = x·W + b") and "dL/dW = xᵀ" in linear["gradient"]
    assert linear["module"] == "0: Linear"


def test_explore_after_a_plain_backward_says_what_to_do() -> None:
    loss, _ = fan_out_loss()
    loss.backward()
    with pytest.raises(ExplorerError, match=r"call viz.explore\(loss\) instead of loss.backward"):
        explore(loss)
    with pytest.raises(ExplorerError, match="needs no gradient"):
        explore(cg.tensor([1.0, 2.0]).sum())


def test_drawing_gradients_after_backward_needs_one_opt_in() -> None:
    loss, _ = fan_out_loss()
    loss.backward()
    with pytest.raises(viz.GraphReleasedError, match=r"loss.backward\(retain_grads=True\)"):
        viz.draw_graph(loss, grads=True)
    loss, _ = fan_out_loss()
    loss.backward(retain_grads=True)  # the opt-in: the graph and every gradient kept
    assert "grad:" in viz.draw_graph(loss, grads=True).source


def test_a_plain_backward_records_nothing() -> None:
    loss, x = fan_out_loss()
    order = viz.topological_order(loss)
    loss.backward()
    assert x.grad is not None  # the leaf's gradient, as ever
    # What backward stored on the intermediate results: nothing. (_grad, since reading
    # .grad of a non-leaf whose gradient was not kept warns, saying why it is None.)
    assert all(t._grad is None for t in order if t.node is not None)
    with pytest.warns(cg.CompgraphWarning, match="non-leaf"):
        assert loss.grad is None


def test_the_page_is_self_contained_and_shows_inline_in_jupyter(tmp_path) -> None:
    model, loss = preset_loss("cnn", 8, 5)
    explorer = explore(loss, model, "cnn")
    assert isinstance(explorer, Explorer)
    assert len(explorer.html) < 300_000  # summaries, not the arrays themselves
    for external in ("http://", "https://", 'src="//'):
        assert external not in explorer.html.replace("http://www.w3.org/2000/svg", "")
    assert explorer._repr_html_().startswith("<iframe srcdoc=")
    assert explorer.save(tmp_path / "cnn.html").read_text() == explorer.html


def test_the_commands_write_explorer_pages(tmp_path, capsys) -> None:
    page = tmp_path / "softmax.html"
    assert main(["graph", "--model", "softmax", "-o", str(page)]) == 0
    assert "the explorer for the softmax preset" in capsys.readouterr().out
    assert embedded(page.read_text())["boxes"][3]["class"] == "Linear"
    run = tmp_path / "run"
    assert main(["train", "--dataset", "synthetic", "--epochs", "1", "--out", str(run),
                 "--quiet"]) == 0  # fmt: skip
    assert main(["explore", str(run), "-o", str(tmp_path / "run.html")]) == 0
    data = embedded((tmp_path / "run.html").read_text())
    assert data["boxes"][0]["value"]["shape"] == [8, 784]
