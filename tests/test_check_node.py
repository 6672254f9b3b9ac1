"""check_node, the lab's autograder: the notebook's nodes pass, and each student bug is named."""

from __future__ import annotations

import json

import numpy as np
import pytest

import compgraph as cg
from compgraph import nodes
from compgraph.testing import KINDS, check_node


# ---- the lab's nodes, written the way the original notebook writes them
class Sigmoid(cg.Node):
    def forward(self, x):
        self.y = 1.0 / (1.0 + np.exp(-x))
        return self.y

    def backward(self, grad_out):
        return grad_out * self.y * (1 - self.y)


class Softmax(cg.Node):
    def forward(self, x):
        exps = np.exp(x - x.max(axis=-1, keepdims=True))
        self.y = exps / exps.sum(axis=-1, keepdims=True)
        return self.y

    def backward(self, grad_out):
        return self.y * (grad_out - (grad_out * self.y).sum(axis=-1, keepdims=True))


class CrossEntropy(cg.Node):
    def forward(self, x, p):
        self.x, self.p = x, p
        return -(p * np.log(x)).sum(axis=-1)

    def backward(self, grad_out):
        return -grad_out[..., None] * self.p / self.x


class Mean(cg.Node):
    def forward(self, x):
        self.shape, self.dtype = x.shape, x.dtype
        return x.mean()

    def backward(self, grad_out):
        return np.full(self.shape, grad_out / np.prod(self.shape), dtype=self.dtype)


class Linear(cg.Node):
    def forward(self, x, W, b):
        self.x, self.W = x, W
        return x @ W + b

    def backward(self, grad_out):
        return grad_out @ self.W.T, self.x.T @ grad_out, grad_out.sum(axis=0)


class Tanh(cg.Node):
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, grad_out):
        return grad_out * (1 - self.y**2)


class ReLU(cg.Node):
    def forward(self, x):
        self.positive = x > 0
        return np.maximum(x, 0)

    def backward(self, grad_out):
        return grad_out * self.positive


class SoftmaxCrossEntropy(cg.Node):
    def forward(self, z, labels):
        shifted = z - z.max(axis=-1, keepdims=True)
        log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        self.probabilities = np.exp(log_probabilities)
        self.onehot = np.eye(z.shape[-1], dtype=z.dtype)[labels]
        return -(self.onehot * log_probabilities).sum(axis=-1)

    def backward(self, grad_out):
        return grad_out[..., None] * (self.probabilities - self.onehot)


CORRECT = [Sigmoid, Softmax, CrossEntropy, Mean, Linear, Tanh, ReLU, SoftmaxCrossEntropy]


@pytest.mark.parametrize("node_class", CORRECT, ids=lambda cls: cls.__name__)
def test_the_notebooks_nodes_pass(node_class) -> None:
    report = check_node(node_class())
    assert report.passed, str(report)
    assert not report.failures and "passes" in str(report)
    assert any("float32" in case for case in report.cases)


@pytest.mark.parametrize("node_class", CORRECT, ids=lambda cls: cls.__name__)
def test_compgraphs_own_nodes_pass(node_class) -> None:
    assert check_node(getattr(nodes, node_class.__name__)()).passed


# ---- the student bugs, each a subclass named after the class it checks
def _bug(base: type[cg.Node], **methods) -> cg.Node:
    return type(base.__name__, (base,), methods)()


def _sigmoid_x_not_y_forward(self, x):
    self.x = x
    return 1.0 / (1.0 + np.exp(-x))


def _relu_in_place(self, x):
    self.positive = x > 0
    x[x < 0] = 0
    return x


def _sigmoid_grad_out_in_place(self, grad_out):
    grad_out *= self.y * (1 - self.y)
    return grad_out


def _forward_without_return(self, x):
    self.y = 1.0 / (1.0 + np.exp(-x))


def _backward_without_return(self, grad_out):
    grad_out * self.y * (1 - self.y)


BUGS = {
    "off by a factor": (
        _bug(Sigmoid, backward=lambda self, g: 2 * g * self.y * (1 - self.y)),
        "off by a constant factor", "backward",
    ),
    "wrong sign": (
        _bug(Tanh, backward=lambda self, g: -g * (1 - self.y**2)),
        "off by a constant factor", "backward",
    ),
    "softmax sum over axis 0": (
        _bug(Softmax, backward=lambda self, g: self.y * (g - (g * self.y).sum(0, keepdims=True))),
        "wrong values", "backward",
    ),
    "x used instead of y": (
        _bug(Sigmoid, forward=_sigmoid_x_not_y_forward,
             backward=lambda self, g: g * self.x * (1 - self.x)),
        "wrong values", "backward",
    ),
    "forgotten dL/dy factor": (
        _bug(Sigmoid, backward=lambda self, g: self.y * (1 - self.y)),
        "wrong values", "backward",
    ),
    "mean without 1/N": (
        _bug(Mean, backward=lambda self, g: np.full(self.shape, g, dtype=self.dtype)),
        "off by a constant factor", "backward",
    ),
    "linear bias not summed over the rows": (
        _bug(Linear, backward=lambda self, g: (g @ self.W.T, self.x.T @ g, g)),
        "wrong shape", "backward",
    ),
    "missing return in forward": (
        _bug(Sigmoid, forward=_forward_without_return), "missing return", "forward",
    ),
    "missing return in backward": (
        _bug(Sigmoid, backward=_backward_without_return), "missing return", "backward",
    ),
    "forward returns a list": (
        _bug(Sigmoid, forward=lambda self, x: [1.0 / (1.0 + np.exp(-x))]), "wrong type", "forward",
    ),
    "forward returns a Tensor": (
        _bug(Sigmoid, forward=lambda self, x: cg.tensor(1.0 / (1.0 + np.exp(-x)))),
        "wrong type", "forward",
    ),
    "backward returns a Tensor": (
        _bug(Tanh, backward=lambda self, g: cg.tensor(g * (1 - self.y**2))),
        "wrong type", "backward",
    ),
    "backward returns two gradients for three inputs": (
        _bug(Linear, backward=lambda self, g: (g @ self.W.T, self.x.T @ g)),
        "wrong type", "backward",
    ),
    "float64 gradient from np.ones": (
        _bug(Mean, backward=lambda self, g: np.ones(self.shape) * g / np.prod(self.shape)),
        "wrong dtype", "backward",
    ),
    "relu edits its input in place": (
        _bug(ReLU, forward=_relu_in_place), "in-place edit", "forward",
    ),
    "sigmoid edits grad_out in place": (
        _bug(Sigmoid, backward=_sigmoid_grad_out_in_place), "in-place edit", "backward",
    ),
    "an error of another kind": (
        _bug(Tanh, backward=lambda self, g: g * (1 - self.output**2)), "exception", "backward",
    ),
}  # fmt: skip


@pytest.mark.parametrize(("node", "kind", "stage"), BUGS.values(), ids=list(BUGS))
def test_each_student_bug_is_named_with_its_case_and_kind(node, kind, stage) -> None:
    report = check_node(node)
    assert not report.passed
    first = report.failures[0]
    assert first.kind == kind, str(report)
    assert first.stage == stage, str(report)
    assert first.kind in KINDS
    assert first.case in report.cases and first.case in str(report)
    text = str(report)
    assert "FAIL" in text and kind in text and "Traceback" not in text


def test_a_constant_factor_is_named() -> None:
    report = check_node(BUGS["mean without 1/N"][0])
    first = report.failures[0]
    assert first.case.startswith("x (3, 4)")
    assert first.factor == pytest.approx(12)
    assert "1/12" in first.message
    assert check_node(BUGS["wrong sign"][0]).failures[0].factor == pytest.approx(-1)
    assert "sign" in check_node(BUGS["wrong sign"][0]).failures[0].message


def test_wrong_values_name_the_first_wrong_index_with_got_and_expected() -> None:
    first = check_node(BUGS["x used instead of y"][0]).failures[0]
    assert first.index == (0, 0) and first.input == "x"
    assert float(first.got) != pytest.approx(float(first.expected))
    assert "at index (0, 0)" in str(first)


def test_the_float64_gradient_is_reported_in_float32_cases_only() -> None:
    report = check_node(BUGS["float64 gradient from np.ones"][0])
    assert all(failure.case.endswith("float32") for failure in report.failures)
    assert "dtype=" in report.failures[0].message


def test_check_node_prints_no_traceback(capsys) -> None:
    check_node(BUGS["an error of another kind"][0])
    check_node(BUGS["missing return in forward"][0])
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_the_json_report_has_every_case_and_failure() -> None:
    report = check_node(BUGS["linear bias not summed over the rows"][0])
    data = json.loads(report.to_json())
    assert data["node"] == "Linear" and data["spec"] == "linear" and data["passed"] is False
    assert [case["case"] for case in data["cases"]] == report.cases
    fields = {"kind", "case", "stage", "message", "input", "got", "expected", "index", "factor"}
    assert fields <= set(data["failures"][0])
    assert data["failures"][0]["kind"] == "wrong shape"
    assert data["failures"][0]["input"] == "b"
    assert data["failures"][0]["got"] == "shape (5, 4)"
    passing = json.loads(check_node(Sigmoid()).to_json())
    assert passing["passed"] is True and passing["failures"] == []
    assert all(case["passed"] for case in passing["cases"])


def test_spec_and_reference_can_be_given() -> None:
    assert check_node(Softmax(), spec="softmax").passed
    assert check_node(Sigmoid(), reference=nodes.Sigmoid()).passed
    wrong = check_node(Sigmoid(), reference=nodes.Tanh())
    assert wrong.failures[0].stage == "forward"


def test_the_lab_calls_it_through_compgraph() -> None:
    report = cg.check_node(Sigmoid())
    assert report.passed and bool(report)
    assert "check_node(Sigmoid)" in str(report)


def test_a_class_or_an_unknown_node_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match=r"check_node\(Sigmoid\(\)\)"):
        check_node(Sigmoid)

    class Unheard(cg.Node):
        pass

    with pytest.raises(LookupError, match="spec="):
        check_node(Unheard())
