"""The explorer page in a real browser (Debian's Chromium, driven by Playwright).

What a learner does with the page, checked against the engine itself: clicking a box
shows its tensor's statistics; stepping the backward pass visits the nodes in the
engine's order and shows, at each node, the gradients that reach the parameters (and,
where a tensor feeds several nodes, the running sum that ends as its ``.grad``); the
forward pass visits the nodes in topological order; back, play and reset work; the
page draws something, needs no network, and runs inside a Jupyter-style iframe.

The page's test hooks (ids, classes and data attributes) are listed at the top of
``src/compgraph/viz/explorer/page.html``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import compgraph as cg
from compgraph.tensor import Tensor
from compgraph.viz import topological_order
from compgraph.viz.explorer import Explorer, explore
from compgraph.viz.preset import preset_loss

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="needs playwright (pip install -e '.[test]')"
)
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("needs Debian's chromium at /usr/bin/chromium", allow_module_level=True)

# Playwright's own browser download is not used: these flags keep the system Chromium
# quiet (no sandbox inside containers, no GPU, no background requests of its own).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
VIEWPORT = {"width": 1280, "height": 800}

# The page prints statistics with toPrecision(6): at most 5e-6 relative from the truth.
RELATIVE = 1e-5

# The statistics of one block, leaving out those of blocks nested in it (a leaving
# gradient's block holds its running sum's block).
READ_STATS = """block => Object.fromEntries(
    [...block.querySelectorAll('[data-stat]')]
        .filter(cell => cell.closest('[data-role]') === block)
        .map(cell => [cell.dataset.stat, cell.textContent]))"""


@dataclass
class Explored:
    """A page saved to disk, the tensors behind its boxes (``b0``, ``b1``, …) and its data."""

    path: Path
    tensors: list[Tensor]
    data: dict[str, Any]
    explorer: Explorer

    def box(self, index: int) -> str:
        return f"b{index}"

    def nodes(self) -> list[str]:
        """The boxes of the nodes, in topological order: the forward pass."""
        return [self.box(i) for i, t in enumerate(self.tensors) if t.node is not None]


def build(name: str, directory: Path) -> Explored:
    """A preset's loss (``softmax``, ``mlp``), or ``fan-out``: a tensor that three uses
    (two of them one node, ``x * x``) send a gradient back to."""
    if name == "fan-out":
        x = cg.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
        model, loss = None, (x * x + x.sigmoid()).sum()
    else:
        model, loss = preset_loss(name, 8, 5)
    tensors = topological_order(loss)  # before explore(), which releases the graph
    explorer = explore(loss, model, name)
    path = explorer.save(directory / f"{name}.html")
    return Explored(path, tensors, explorer.data, explorer)


def assert_stats(block: Any, array: Any) -> None:
    """The four statistics a block shows are those of ``array``, as record.describe has them."""
    shown = block.evaluate(READ_STATS)
    values = np.asarray(array, dtype=np.float64).reshape(-1)
    expected = {
        "mean": values.mean(),
        "std": values.std(),
        "min": values.min(),
        "max": values.max(),
    }
    assert set(shown) == set(expected), shown
    for name, value in expected.items():
        # abs: an exact zero is shown as "0.00000", and no relative tolerance covers it.
        assert float(shown[name]) == pytest.approx(value, rel=RELATIVE, abs=1e-12), name


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the whole module, started once; each test opens its own context."""
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page; the test fails if the page's script raised or logged an error."""
    context = browser.new_context(viewport=VIEWPORT)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield opened
    context.close()
    assert not errors, f"the page reported errors: {errors}"


def current_box(page: Any) -> str | None:
    """The id of the box the pass stands at (None before the first step)."""
    current = page.locator('[data-current="true"]')
    if current.count() == 0:
        return None
    assert current.count() == 1, "more than one box is current"
    return current.get_attribute("data-id")


def ids_of(page: Any, selector: str) -> set[str]:
    return set(page.locator(selector).evaluate_all("found => found.map(e => e.dataset.id)"))


def test_clicking_a_box_shows_its_formula_value_and_gradient(page: Any, tmp_path: Path) -> None:
    explored = build("softmax", tmp_path)
    page.goto(explored.path.as_uri())
    assert page.locator("#title").inner_text() == "softmax"
    linear = next(b["id"] for b in explored.data["boxes"] if b["class"] == "Linear")
    page.click(f'.box[data-id="{linear}"]')
    assert page.locator("#panel-title").inner_text() == "Linear"
    assert page.locator("#panel-class").inner_text() == "Linear"
    assert "y = x·W + b" in page.locator("#panel-formula").inner_text()
    assert "dL/dW" in page.locator("#panel-gradient").inner_text()
    assert_stats(page.locator('#panel [data-role="value"]'), explored.tensors[int(linear[1:])].data)

    # A parameter: the gradient that reached it is its .grad.
    weight = next(i for i, t in enumerate(explored.tensors) if t.node is None and t.requires_grad)
    page.click(f'.box[data-id="{explored.box(weight)}"]')
    assert page.locator(".box.selected").get_attribute("data-id") == explored.box(weight)
    assert_stats(page.locator('#panel [data-role="grad"]'), explored.tensors[weight].grad)

    # The labels need no gradient.
    labels = next(b["id"] for b in explored.data["boxes"] if b["label"] == "labels")
    page.click(f'.box[data-id="{labels}"]')
    assert page.locator('#panel [data-role="grad"]').inner_text().endswith("no gradient")


@pytest.mark.parametrize("name", ["softmax", "mlp", "fan-out"])
def test_backward_steps_follow_the_engine(page: Any, tmp_path: Path, name: str) -> None:
    explored = build(name, tmp_path)
    tensors, steps = explored.tensors, explored.data["backward"]
    page.goto(explored.path.as_uri())
    assert page.locator("#mode-backward").is_checked()  # backward is shown first
    page.check("#mode-backward")
    engine_order = list(reversed(explored.nodes()))
    total = len(engine_order)
    assert page.locator("#counter").inner_text() == f"step 0 of {total}"
    assert current_box(page) is None

    visited = []
    for number in range(1, total + 1):
        page.click("#step")
        assert page.locator("#counter").inner_text() == f"step {number} of {total}"
        box = current_box(page)
        visited.append(box)
        step = steps[number - 1]
        # Arrows: in along the edges the gradient came by, out along the inputs' edges.
        assert ids_of(page, ".edge.arriving") == set(step["out_edges"])
        assert ids_of(page, ".edge.leaving") == {leaving["edge"] for leaving in step["leaving"]}
        assert ids_of(page, ".box.done") == set(visited[:-1])
        assert page.locator('#panel [data-role="arriving"]').count() == 1

        rows = page.locator('#panel [data-role="leaving"]')
        assert rows.count() == len(step["leaving"])
        for index in range(rows.count()):
            row = rows.nth(index)
            target = int(row.get_attribute("data-to")[1:])
            parts = explored.data["boxes"][target]["parts"]
            assert row.locator('[data-role="total"]').count() == (1 if parts > 1 else 0)
            if parts == 1 and tensors[target].node is None:
                # A parameter's one gradient part is its whole .grad.
                assert_stats(row, tensors[target].grad)
    assert visited == engine_order
    assert page.locator("#counter").inner_text() == f"step {total} of {total}"
    assert page.locator("#step").is_disabled()


def test_fan_out_shows_each_part_and_the_running_sum(page: Any, tmp_path: Path) -> None:
    # y = sum(x * x + sigmoid(x)): x feeds Sigmoid once and Mul twice, so its gradient is
    # three parts, worked out here without the engine: s·(1 − s), then x, then x again.
    explored = build("fan-out", tmp_path)
    x = explored.tensors[0]
    assert x.node is None and explored.data["boxes"][0]["parts"] == 3
    sigmoid = 1 / (1 + np.exp(-x.data))
    parts = [sigmoid * (1 - sigmoid), x.data, x.data]
    page.goto(explored.path.as_uri())
    seen = 0
    for _ in explored.data["backward"]:
        page.click("#step")
        rows = page.locator('#panel [data-role="leaving"][data-to="b0"]')
        for index in range(rows.count()):
            row = rows.nth(index)
            seen += 1
            assert f"part {seen} of 3" in row.inner_text()
            assert_stats(row, parts[seen - 1])
            assert_stats(row.locator('[data-role="total"]'), sum(parts[:seen]))
    assert seen == 3
    # The last part, from Mul's second input at the engine's last step, ends the sum at
    # x.grad.
    assert_stats(rows.last.locator('[data-role="total"]'), x.grad)


def test_forward_steps_follow_topological_order(page: Any, tmp_path: Path) -> None:
    explored = build("mlp", tmp_path)
    page.goto(explored.path.as_uri())
    page.check("#mode-forward")
    nodes = explored.nodes()
    assert page.locator("#counter").inner_text() == f"step 0 of {len(nodes)}"
    visited = []
    for number, step in enumerate(explored.data["forward"], start=1):
        page.click("#step")
        assert page.locator("#counter").inner_text() == f"step {number} of {len(nodes)}"
        box = current_box(page)
        visited.append(box)
        assert ids_of(page, ".edge.arriving") == set(step["edges"])  # the node's inputs
        assert_stats(
            page.locator('#panel [data-role="value"]'), explored.tensors[int(box[1:])].data
        )
    assert visited == nodes


def test_back_play_and_reset(page: Any, tmp_path: Path) -> None:
    explored = build("softmax", tmp_path)
    engine_order = list(reversed(explored.nodes()))
    total = len(engine_order)
    page.goto(explored.path.as_uri())
    assert page.locator("#back").is_disabled()
    page.click("#step")
    page.click("#step")
    page.click("#back")
    assert page.locator("#counter").inner_text() == f"step 1 of {total}"
    assert current_box(page) == engine_order[0]
    page.click("#back")
    assert page.locator("#counter").inner_text() == f"step 0 of {total}"
    assert current_box(page) is None

    page.click("#play")
    assert page.locator("#play").inner_text() == "pause"
    counter = sync_api.expect(page.locator("#counter"))
    counter.to_have_text(f"step {total} of {total}", timeout=10_000)  # ~700 ms a step
    sync_api.expect(page.locator("#play")).to_have_text("play")
    assert current_box(page) == engine_order[-1]

    page.click("#reset")
    assert page.locator("#counter").inner_text() == f"step 0 of {total}"
    assert current_box(page) is None
    assert page.locator(".box.done").count() == 0


def test_screenshot_is_not_blank(page: Any, tmp_path: Path) -> None:
    from matplotlib import image

    explored = build("mlp", tmp_path)
    page.goto(explored.path.as_uri())
    for _ in range(3):
        page.click("#step")
    pixels = image.imread(io.BytesIO(page.screenshot()), format="png")[..., :3]
    assert pixels.shape[:2] == (VIEWPORT["height"], VIEWPORT["width"])
    assert pixels.std() > 0.05  # a blank page is one colour: std 0
    channels = (pixels * 255).round().astype(np.uint32)
    colours = np.unique(channels[..., 0] << 16 | channels[..., 1] << 8 | channels[..., 2])
    assert len(colours) >= 8  # boxes of three kinds, two arrow colours, text, background


def test_works_offline_and_requests_nothing(browser: Any, tmp_path: Path) -> None:
    explored = build("fan-out", tmp_path)
    context = browser.new_context(viewport=VIEWPORT, offline=True)
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(explored.path.as_uri())
        page.click('.box[data-id="b0"]')
        page.click("#play")
        page.click("#play")  # pause
        page.click("#step")
        page.check("#mode-forward")
        page.click("#step")
        assert page.locator("svg .box").count() == len(explored.data["boxes"])
        assert page.locator("svg .edge").count() == len(explored.data["edges"])
    finally:
        context.close()
    assert not errors
    assert requests == [explored.path.as_uri()]


def test_runs_inside_a_jupyter_iframe(page: Any, tmp_path: Path) -> None:
    explored = build("softmax", tmp_path)
    page.set_content(explored.explorer._repr_html_())  # what a notebook cell shows
    frame = page.frame_locator("iframe")
    frame.locator("#step").click()
    sync_api.expect(frame.locator("#counter")).to_have_text("step 1 of 2")
    loss = explored.box(len(explored.tensors) - 1)
    sync_api.expect(frame.locator('[data-current="true"]')).to_have_attribute("data-id", loss)
