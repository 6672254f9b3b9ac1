"""compgraph.viz.trace: loss.backward(trace=True) prints what the engine does, step by step."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import numpy as np
import pytest

import compgraph as cg
from compgraph import graph, nn, nodes, viz
from compgraph.viz.summary import summarize
from compgraph.viz.trace import Trace

NUMBER = r"-?(?:\d+\.?\d*(?:e[+-]\d+)?|nan|inf)"


@dataclass
class Sent:
    """One ``→`` line of a step: the input's index, title and shape, and what it got."""

    index: int | None
    title: str
    text: str
    note: str = ""


@dataclass
class Step:
    number: int
    title: str
    shape: str
    arriving: str = ""
    sent: list[Sent] = field(default_factory=list)
    summed: str = ""


def parse(text: str) -> list[Step]:
    """The steps of a printed trace, each value's text with its continuation lines joined."""
    steps: list[Step] = []
    current: list[str] | None = None  # the text that continuation lines extend
    for line in text.splitlines()[1:]:
        header = re.fullmatch(r"#(\d+) (.+?)(?: \[in .+\])?, output (.+)", line)
        if header:
            steps.append(Step(int(header.group(1)), header.group(2), header.group(3)))
            current = None
            continue
        if not line.startswith(" "):  # the closing lines
            current = None
            continue
        body = line.strip()
        step = steps[-1]
        if body.startswith("dL/dy = "):
            step.arriving = body.removeprefix("dL/dy = ")
            current = [step.arriving]
        elif body.startswith("→ input"):
            found = re.fullmatch(r"→ input (\d+), (.+?) \(.*?\)(?: \w+)?: (.*)", body)
            assert found, body
            value, _, note = found.group(3).removeprefix("dL/dx = ").partition("   (")
            step.sent.append(Sent(int(found.group(1)), found.group(2), value, note.rstrip(")")))
            current = None
        elif body.startswith("→ parameters_deltas"):
            found = re.fullmatch(r"→ (parameters_deltas\[\d\]) \(.*?\): (.*)", body)
            assert found, body
            value, _, note = found.group(2).partition("   (")
            step.sent.append(Sent(None, found.group(1), value, note.rstrip(")")))
        elif body.startswith("the ") and "parts summed: " in body:
            step.summed = body.split("parts summed: ")[1]
        else:  # another row of the matrix above
            value, _, note = body.partition("   (")
            if step.sent and not step.summed and current is None:
                step.sent[-1].text += " " + value
                step.sent[-1].note = note.rstrip(")") or step.sent[-1].note
            elif step.summed and current is None:
                step.summed += " " + value
            else:
                step.arriving += " " + value
    return steps


def numbers(text: str) -> np.ndarray:
    """The numbers written out in a trace's ``[[…], […]]`` (or a scalar's one), in order."""
    assert text.startswith("[") or re.fullmatch(NUMBER, text), f"not written out in full: {text}"
    return np.array([float(token) for token in re.findall(NUMBER, text)])


def statistics(text: str) -> dict[str, float]:
    """``mean 0.1, std 0.2, min -1, max 1`` read back (≈0 as 0)."""
    found = dict(re.findall(rf"(mean|std|min|max) ≈?({NUMBER})", text))
    assert set(found) == {"mean", "std", "min", "max"}, text
    return {key: float(value) for key, value in found.items()}


def matches(text: str, array: np.ndarray | None) -> None:
    """The printed values are ``array``'s, to four significant digits."""
    assert array is not None, "no gradient to compare with"
    array = np.asarray(array, dtype=np.float64)
    if array.size <= 12:
        np.testing.assert_allclose(numbers(text), array.reshape(-1), rtol=5e-4, atol=1e-12)
        return
    shown = statistics(text)
    expected = {"mean": array.mean(), "std": array.std(), "min": array.min(), "max": array.max()}
    for key, value in expected.items():
        if key == "mean" and "≈0" in text:
            assert abs(value) < 1e-6 * expected["std"]
        else:
            assert shown[key] == pytest.approx(value, rel=5e-4, abs=1e-12), key


def grad_of(t: cg.Tensor) -> np.ndarray:
    """``t.grad``, which backward() must have filled."""
    assert t.grad is not None
    return t.grad


def notebook_network(seed: int = 0, rows: int = 3) -> tuple[cg.Tensor, dict[str, cg.Tensor]]:
    """The notebook's Linear → Softmax → CrossEntropy → Mean on a few rows, one-hot targets."""
    rng = np.random.default_rng(seed)
    x = cg.tensor(rng.standard_normal((rows, 5)), name="x")
    weight = cg.tensor(rng.standard_normal((5, 4)) * 0.5, requires_grad=True, name="W")
    bias = cg.tensor(rng.standard_normal(4) * 0.1, requires_grad=True, name="b")
    p = cg.tensor(np.eye(4)[rng.integers(0, 4, rows)], name="p")
    probabilities = nodes.Softmax()(nodes.Linear()(x, weight, bias))
    loss = nodes.Mean()(nodes.CrossEntropy()(probabilities, p))
    return loss, {"x": x, "W": weight, "b": bias}


def test_steps_follow_the_engines_order() -> None:
    loss, _ = notebook_network()
    engine = [t for t in reversed(viz.topological_order(loss)) if t.node is not None]
    text = viz.trace_backward(loss, file=None)
    assert text.splitlines()[0] == (
        "backward of Mean (scalar): 4 nodes, in the order the engine runs them"
    )
    steps = parse(text)
    assert [(s.number, s.title) for s in steps] == [
        (1, "Mean"), (2, "CrossEntropy"), (3, "Softmax"), (4, "Linear")
    ]  # fmt: skip
    assert [s.title for s in steps] == [type(t.node).__name__ for t in engine]
    # A branching graph, where the order is the engine's choice, not the only one possible.
    x = cg.tensor([0.5, -1.0], requires_grad=True)
    branching = ((x * x).exp() + x.sigmoid() * x.tanh()).sum()
    engine = [t for t in reversed(viz.topological_order(branching)) if t.node is not None]
    titles = [s.title for s in parse(viz.trace_backward(branching, file=None))]
    assert titles == [type(t.node).__name__ for t in engine]
    assert titles.index("Tanh") < titles.index("Sigmoid")  # Mul's second input first, as run


def test_printed_values_are_the_gradients() -> None:
    loss, leaves = notebook_network()
    engine = [t for t in reversed(viz.topological_order(loss)) if t.node is not None]
    steps = parse(viz.trace_backward(loss, retain_grads=True, file=None))
    assert len(steps) == len(engine) == 4
    for step, output in zip(steps, engine, strict=True):
        matches(step.arriving, output.grad)
        assert output.node is not None
        for sent in step.sent:
            assert sent.index is not None
            source = output.node.inputs[sent.index]
            if source.grad is None:
                assert sent.text.startswith("no gradient (needs none)")
            else:
                matches(sent.text, source.grad)
    mean, cross_entropy, softmax, linear = steps
    assert mean.arriving == "1" and mean.sent[0].text == "[0.3333, 0.3333, 0.3333]"
    assert softmax.arriving.startswith("[[") and softmax.arriving.count("[") == 4  # 3 rows
    assert [s.title for s in linear.sent] == ["x", "W", "b"]
    assert linear.sent[0].text == "no gradient (needs none)"  # x, the data
    assert cross_entropy.sent[1].text == "no gradient (needs none)"  # p, the target
    matches(linear.sent[2].text, leaves["b"].grad)


def test_the_notebooks_network_by_hand() -> None:
    """Linear → Softmax → CrossEntropy → Mean on 3 rows: the steps against the formulas."""
    loss, leaves = notebook_network()
    x, weight, bias = leaves["x"].data, leaves["W"].data, leaves["b"].data
    rng = np.random.default_rng(0)  # notebook_network's draws, again, for the targets
    rng.standard_normal((3, 5)), rng.standard_normal((5, 4)), rng.standard_normal(4)
    p = np.eye(4)[rng.integers(0, 4, 3)]
    z = x @ weight + bias
    y = np.exp(z - z.max(1, keepdims=True))
    y /= y.sum(1, keepdims=True)
    mean, cross_entropy, softmax, linear = parse(viz.trace_backward(loss, file=None))
    assert mean.arriving == "1"
    matches(cross_entropy.arriving, np.full(3, 1 / 3))  # dL/dx_i = g / N
    matches(cross_entropy.sent[0].text, -p / y / 3)  # dL/dx_i = −g·p_i / x_i
    matches(softmax.arriving, -p / y / 3)
    delta = (y - p) / 3  # softmax and cross-entropy together: (y − p) / N
    matches(softmax.sent[0].text, delta)
    matches(linear.arriving, delta)
    matches(linear.sent[1].text, x.T @ delta)  # 20 elements: their statistics
    assert linear.sent[2].text == summarize(delta.sum(0))  # 4: every number
    np.testing.assert_allclose(grad_of(leaves["W"]), x.T @ delta, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(grad_of(leaves["b"]), delta.sum(0), rtol=1e-6, atol=1e-12)


def test_a_tensor_of_more_than_12_elements_shows_a_summary() -> None:
    loss, leaves = notebook_network()
    steps = parse(viz.trace_backward(loss, file=None))
    weight = steps[-1].sent[1]  # W: 5 × 4 = 20 elements
    assert weight.title == "W"
    assert re.fullmatch(rf"mean ≈?{NUMBER}, std {NUMBER}, min {NUMBER}, max {NUMBER}", weight.text)
    matches(weight.text, leaves["W"].grad)
    twelve = parse(viz.trace_backward(notebook_network(rows=3)[0], file=None))[2].arriving
    assert twelve.startswith("[[")  # the softmax's 3 × 4 = 12: every number
    thirteen = parse(viz.trace_backward(notebook_network(rows=4)[0], file=None))[2].arriving
    assert thirteen.startswith("mean")  # 4 × 4 = 16: a summary


def test_a_tensor_used_twice_shows_both_contributions() -> None:
    x = cg.tensor([0.5, -2.0, 3.0], requires_grad=True, name="x")
    loss = (x * x + x.sigmoid()).sum()
    text = viz.trace_backward(loss, file=None)
    parts = [(sent, step.title) for step in parse(text) for sent in step.sent if sent.title == "x"]
    assert [sent.note for sent, _ in parts] == ["part 1 of 3", "part 2 of 3", "part 3 of 3"]
    by_node: dict[str, list[np.ndarray]] = {}
    for sent, title in parts:
        by_node.setdefault(title, []).append(numbers(sent.text))
    s = 1 / (1 + np.exp(-x.data))
    np.testing.assert_allclose(by_node["Mul"], [x.data, x.data], rtol=5e-4)  # x · 1, twice
    np.testing.assert_allclose(by_node["Sigmoid"], [s * (1 - s)], rtol=5e-4)
    summed = next(step.summed for step in parse(text) if step.summed)
    np.testing.assert_allclose(numbers(summed), grad_of(x), rtol=5e-4)
    np.testing.assert_allclose(grad_of(x), 2 * x.data + s * (1 - s))
    assert "the 3 parts summed: " in text


def test_the_sum_of_parts_is_this_pass_alone() -> None:
    x = cg.tensor([1.0, 2.0], requires_grad=True, name="x")
    (x * x).sum().backward()  # x.grad = [2, 4] already, before the trace
    text = viz.trace_backward((x * x).sum(), file=None)
    assert "the 2 parts summed: [2, 4]" in text
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])  # accumulated, as ever


@pytest.mark.parametrize("grad", [None, 0.5])
def test_leaves_get_exactly_the_gradients_of_a_plain_backward(grad, capsys) -> None:
    plain, plain_leaves = notebook_network(seed=3)
    plain.backward(grad)
    traced, traced_leaves = notebook_network(seed=3)
    traced.backward(grad, trace=True)
    printed = capsys.readouterr().out
    assert printed.startswith("backward of Mean") and "#4 Linear" in printed
    for name in ("W", "b"):
        np.testing.assert_array_equal(traced_leaves[name].grad, plain_leaves[name].grad)
    assert traced_leaves["x"].grad is None
    if grad is not None:
        assert parse(printed)[0].arriving == "0.5"  # the notebook's learning rate as dL/dy
    with pytest.raises(RuntimeError, match="a second time"):
        traced.backward()  # released, as by a plain backward


def test_nothing_is_recorded_without_trace(monkeypatch, capsys) -> None:
    recorders = []
    engine = graph.backward

    def watched(*args, **kwargs):
        recorders.append(kwargs.get("recorder"))
        return engine(*args, **kwargs)

    def never(*args, **kwargs):
        raise AssertionError("a plain backward() recorded a step")

    monkeypatch.setattr(graph, "backward", watched)
    monkeypatch.setattr(Trace, "step", never)
    loss, _ = notebook_network()
    loss.backward()
    assert recorders == [None] and capsys.readouterr().out == ""
    monkeypatch.undo()
    monkeypatch.setattr(graph, "backward", watched)
    loss, _ = notebook_network()
    loss.backward(trace=True)
    assert isinstance(recorders[-1], Trace) and "#1 Mean" in capsys.readouterr().out


def test_printed_returned_and_written_to_a_file_alike(capsys) -> None:
    buffer = io.StringIO()
    text = viz.trace_backward(notebook_network()[0], file=buffer)
    assert buffer.getvalue() == text + "\n"
    assert capsys.readouterr().out == ""
    quiet = viz.trace_backward(notebook_network()[0], file=None)
    assert quiet == text and capsys.readouterr().out == ""
    assert text.splitlines()[-1] == ".grad filled: W (5, 4), b (4,)"


def test_steps_are_printed_as_they_run(capsys) -> None:
    class Broken(cg.Node):
        def forward(self, x):
            return x * 2

        def backward(self, grad_out):
            raise ZeroDivisionError("broken")

    x = cg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ZeroDivisionError):
        Broken()(x).sum().backward(trace=True)
    printed = capsys.readouterr().out
    assert "#1 Sum" in printed and "→ input 0, Broken (2,): dL/dx = [1, 1]" in printed


def test_modules_and_parameters_are_named_as_drawings_name_them() -> None:
    model = nn.Sequential(nn.Linear(3, 2, rng=0), nn.ReLU())
    loss = model(cg.tensor(np.ones((1, 3), np.float32), name="images")).sum()
    text = viz.trace_backward(loss, model=model, file=None)
    assert "#3 Linear [in 0: Linear], output (1, 2)" in text
    assert "#2 ReLU [in 1: ReLU], output (1, 2)" in text
    assert "→ input 1, 0.weight (3, 2): dL/dx = [[" in text
    assert "→ input 0, images (1, 3): no gradient (needs none)" in text


class HeldLinear(cg.Node):
    """The notebook's Linear: W and b kept on the node, their gradients in parameters_deltas."""

    def __init__(self, rows: int, columns: int) -> None:
        rng = np.random.default_rng(1)
        self.parameters = [rng.standard_normal((rows, columns)), rng.standard_normal(columns)]
        self.parameters_deltas = [None, None]

    def forward(self, x):
        self.x = x
        return np.matmul(x, self.parameters[0]) + self.parameters[1]

    def backward(self, delta):
        self.parameters_deltas[0] = self.x.T.dot(delta)
        self.parameters_deltas[1] = np.sum(delta, 0)
        return delta.dot(self.parameters[0].T)


def held_network(linear: HeldLinear) -> cg.Tensor:
    rng = np.random.default_rng(2)
    x, p = rng.standard_normal((3, 5)), np.eye(4)[[0, 3, 1]]
    return nodes.Mean()(nodes.CrossEntropy()(nodes.Softmax()(linear(x)), p))


def test_the_parameters_a_node_holds_are_traced() -> None:
    plain = HeldLinear(5, 4)
    held_network(plain).backward()
    linear = HeldLinear(5, 4)
    text = viz.trace_backward(held_network(linear), file=None)
    last = parse(text)[-1]
    assert last.title == "HeldLinear"
    assert [s.title for s in last.sent] == ["input", "parameters_deltas[0]", "parameters_deltas[1]"]
    matches(last.sent[1].text, linear.parameters_deltas[0])  # 20 elements: a summary
    matches(last.sent[2].text, linear.parameters_deltas[1])  # 4: every number
    for traced, untraced in zip(linear.parameters_deltas, plain.parameters_deltas, strict=True):
        np.testing.assert_array_equal(traced, untraced)
    assert text.splitlines()[-1].endswith("nodes that hold parameters: HeldLinear")


def test_node_parameters_get_their_grad_and_are_named() -> None:
    plain = HeldLinear(5, 4)
    plain_parameters = cg.node_parameters(plain)
    held_network(plain).backward()
    linear = HeldLinear(5, 4)
    parameters = cg.node_parameters(linear)
    text = viz.trace_backward(held_network(linear), file=None)
    assert text.splitlines()[-2] == (
        ".grad filled: HeldLinear.parameters[0] (5, 4), HeldLinear.parameters[1] (4,)"
    )
    for traced, untraced in zip(parameters, plain_parameters, strict=True):
        np.testing.assert_array_equal(traced.grad, untraced.grad)
    matches(parse(text)[-1].sent[2].text, parameters[1].grad)


def test_a_node_holding_parameters_applied_twice_says_what_is_summed() -> None:
    linear = HeldLinear(2, 2)
    text = viz.trace_backward(linear(linear(np.ones((3, 2)))).sum(), file=None)
    notes = [s.note for step in parse(text) for s in step.sent if s.index is None]
    assert notes == ["application 1, of 2"] * 2 + ["applications 1 to 2, summed, of 2"] * 2
    final = [s.text for step in parse(text) for s in step.sent if s.index is None][-2:]
    for shown, delta in zip(final, linear.parameters_deltas, strict=True):
        matches(shown, delta)


def test_a_released_graph_and_a_leaf() -> None:
    loss, _ = notebook_network()
    loss.backward()
    with pytest.raises(viz.GraphReleasedError, match=r"loss.backward\(trace=True\) instead"):
        viz.trace_backward(loss, file=None)
    leaf = cg.tensor(2.0, requires_grad=True)
    assert "no node to run" in viz.trace_backward(leaf, file=None)
    assert leaf.grad == 1.0
