"""Guards, warnings and hints for likely mistakes, and nn.FromNode."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import compgraph as cg
from compgraph import data, hints, nn, nodes
from compgraph.node import InputValueError, ShapeError


@pytest.fixture
def fresh_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget the once-per-process warnings already given (by other tests)."""
    monkeypatch.setattr(hints, "_given", set())


# ------------------------------------------------------------------ the Parameter guard
def test_assigning_a_tensor_over_a_parameter_points_to_the_optimizer() -> None:
    layer = nn.Linear(3, 2, rng=0)
    with pytest.raises(TypeError) as caught:
        layer.weight = layer.weight - 0.1 * cg.tensor(np.ones((3, 2), np.float32))
    message = str(caught.value)
    assert message.startswith("Linear.weight is a Parameter; assigning a Tensor over it")
    assert "optim.SGD" in message and "p.data -= lr * p.grad" in message
    assert isinstance(layer.weight, nn.Parameter)
    with pytest.raises(TypeError, match=r"Linear\.bias is a Parameter; assigning a ndarray"):
        layer.bias = np.zeros(2, np.float32)


def test_a_parameter_may_still_be_replaced_by_a_parameter_or_none() -> None:
    layer = nn.Linear(3, 2, rng=0)
    new = nn.Parameter(np.zeros((3, 2), np.float32))
    layer.weight = new
    assert layer.parameters()[0] is new
    layer.bias = None
    assert layer.parameters() == [new]
    layer.scale = 3.0  # other attributes are untouched by the guard
    layer.scale = "three"


def test_a_sub_module_is_not_replaced_by_something_else() -> None:
    model = nn.Sequential(nn.Linear(3, 2, rng=0))
    with pytest.raises(TypeError, match=r"Sequential\.0 is a sub-module \(Linear\)"):
        setattr(model, "0", np.ones(3))


# ----------------------------------------------------------- the non-leaf .grad warning
def test_compgraph_warning_is_exported_and_a_user_warning() -> None:
    assert cg.CompgraphWarning is hints.CompgraphWarning
    assert issubclass(cg.CompgraphWarning, UserWarning)


def test_reading_grad_of_a_non_leaf_warns_about_retain_grad() -> None:
    x = cg.tensor(np.ones(3), requires_grad=True)
    y = x * 2
    y.sum().backward()
    with pytest.warns(cg.CompgraphWarning, match=r"non-leaf tensor \(the output of Mul\)") as rec:
        assert y.grad is None
    assert "retain_grad()" in str(rec[0].message)
    assert rec[0].filename == __file__  # attributed to the line that read it


def test_retain_grad_silences_the_warning() -> None:
    x = cg.tensor(np.ones(3), requires_grad=True)
    y = (x * 2).retain_grad()
    z = x * 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (y.sum() + z.sum()).backward(retain_grads=True)
        np.testing.assert_array_equal(y.grad, [1, 1, 1])
        np.testing.assert_array_equal(z.grad, [1, 1, 1])
        np.testing.assert_array_equal(x.grad, [5, 5, 5])


def test_leaves_and_compgraphs_own_reads_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = cg.tensor(np.ones(3), requires_grad=True)
        assert x.grad is None  # a leaf before backward: None, as expected
        model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=0))
        optimizer = cg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        for _ in range(2):
            optimizer.zero_grad()
            loss = cg.functional.cross_entropy(
                model(cg.tensor(np.ones((5, 3), np.float32))), np.zeros(5, int)
            )
            loss.backward()  # the engine reads .grad of non-leaves while it runs
            optimizer.step()


# ------------------------------------------------------- the CrossEntropy range warning
def test_cross_entropy_on_logits_warns_once(fresh_once) -> None:
    logits = cg.tensor(np.array([[2.0, -1.0, 0.5]]), requires_grad=True)
    target = np.array([[1.0, 0.0, 0.0]])
    with pytest.warns(cg.CompgraphWarning, match=r"CrossEntropy: x lies in \[-1, 2\].*Softmax"):
        nodes.CrossEntropy()(logits, target)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nodes.CrossEntropy()(logits * 3, target)  # given once per process only


def test_cross_entropy_on_probabilities_does_not_warn(fresh_once) -> None:
    probs = cg.tensor(np.array([[0.2, 0.3, 0.5]]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nodes.CrossEntropy()(probs, np.array([[0.0, 1.0, 0.0]])).sum().backward()


# ------------------------------------------------------------------------------ hints
def test_images_into_linear_say_to_flatten_and_sequential_names_the_layer() -> None:
    images = cg.tensor(np.zeros((4, 1, 28, 28), np.float32))
    model = nn.Sequential(nn.Linear(784, 10, rng=0))
    with pytest.raises(ShapeError) as caught:
        model(images)
    message = str(caught.value)
    assert message.startswith("layer 0 (Linear) of Sequential: Linear: x has shape (4, 1, 28, 28)")
    assert "flatten the images first (nn.Flatten()" in message
    assert message.count("layer 0") == 1 and message.count("Linear:") == 1


def test_a_shape_mismatch_without_images_has_no_flatten_hint() -> None:
    with pytest.raises(ShapeError) as caught:
        nn.Linear(5, 2, rng=0)(cg.tensor(np.zeros((4, 3))))
    assert "flatten" not in str(caught.value)


def test_nested_sequentials_name_the_layer_once() -> None:
    inner = nn.Sequential(nn.ReLU(), nn.Linear(784, 10, rng=0))
    model = nn.Sequential(nn.ReLU(), nn.Sequential(nn.ReLU(), inner))
    with pytest.raises(ShapeError) as caught:  # the type is kept
        model(cg.tensor(np.zeros((2, 1, 28, 28), np.float32)))
    message = str(caught.value)
    assert message.startswith("layer 1.1.1 (Linear) of Sequential: Linear: x has shape")
    assert message.count("of Sequential") == 1
    assert type(caught.value) is ShapeError
    # Calling again builds a fresh message: nothing accumulates on the layers.
    with pytest.raises(ShapeError, match=r"^layer 1\.1 \(Linear\) of Sequential: Linear:"):
        nn.Sequential(nn.ReLU(), inner)(cg.tensor(np.zeros((2, 1, 28, 28), np.float32)))


def test_integer_labels_into_cross_entropy_point_to_one_hot() -> None:
    probs = cg.tensor(np.full((3, 4), 0.25), requires_grad=True)
    with pytest.raises(ShapeError) as caught:
        nodes.CrossEntropy()(probs, np.array([0, 3, 1]))
    message = str(caught.value)
    assert message.startswith("CrossEntropy: x has shape (3, 4) but the target p has (3,)")
    assert "data.one_hot(labels, 4)" in message and "SoftmaxCrossEntropy" in message
    # The hint's fix works.
    loss = nodes.CrossEntropy()(probs, data.one_hot(np.array([0, 3, 1]), 4))
    np.testing.assert_allclose(loss.data, np.log(4), rtol=1e-6)


@pytest.mark.parametrize(
    "loss",
    [
        lambda z, t: nodes.SoftmaxCrossEntropy()(z, t),
        lambda z, t: nodes.SoftmaxCrossEntropy(reduction="mean")(z, t),
        lambda z, t: cg.functional.cross_entropy(z, t),
    ],
)
def test_a_label_out_of_range_is_a_value_error_naming_the_node_once(loss) -> None:
    logits = cg.tensor(np.zeros((3, 5)), requires_grad=True)
    with pytest.raises(ValueError) as caught:
        loss(logits, np.array([0, 7, 1]))
    assert type(caught.value) is InputValueError and cg.InputValueError is InputValueError
    assert not isinstance(caught.value, ShapeError)
    message = str(caught.value)
    assert message == (
        "SoftmaxCrossEntropy: label 7 at index (1,) is out of range: the logits have 5 "
        "classes, so labels must lie in [0, 5)"
    )


def test_a_negative_label_is_out_of_range_too() -> None:
    with pytest.raises(InputValueError, match=r"^SoftmaxCrossEntropy: label -1 at index \(0, 1\)"):
        nodes.SoftmaxCrossEntropy()(np.zeros((2, 2, 3)), np.array([[0, -1], [2, 2]]))


# --------------------------------------------------------------------------- FromNode
class Square(cg.Node):
    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, grad_out):
        return 2 * self.x * grad_out


class HeldLinear(cg.Node):
    """The notebook's Linear: it keeps its weights in self.parameters."""

    def __init__(self, n_in, n_out, rng):
        self.parameters = [0.1 * rng.standard_normal((n_in, n_out)), np.zeros(n_out)]
        self.parameters_deltas = [None, None]

    def forward(self, x):
        self.x = x
        return x @ self.parameters[0] + self.parameters[1]

    def backward(self, delta):
        self.parameters_deltas[0] = self.x.T @ delta
        self.parameters_deltas[1] = delta.sum(0)
        return delta @ self.parameters[0].T


def test_from_node_applies_the_node() -> None:
    layer = nn.FromNode(Square())
    x = cg.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    y = layer(x)
    np.testing.assert_array_equal(y.data, [1, 4, 9])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2, -4, 6])
    assert layer.parameters() == []
    assert repr(layer) == "FromNode(Square())"


def test_from_node_exposes_the_parameters_a_node_holds() -> None:
    node = HeldLinear(3, 2, np.random.default_rng(0))
    layer = nn.FromNode(node)
    params = layer.parameters()
    assert [name for name, _ in layer.named_parameters()] == ["param_0", "param_1"]
    assert all(np.shares_memory(p.data, a) for p, a in zip(params, node.parameters, strict=True))
    layer(cg.tensor(np.ones((4, 3)))).sum().backward()
    np.testing.assert_allclose(params[0].grad, np.full((3, 2), 4.0))
    np.testing.assert_allclose(params[1].grad, [4.0, 4.0])
    state = layer.state_dict()
    layer.load_state_dict({name: np.zeros_like(a) for name, a in state.items()})
    assert not node.parameters[0].any()  # loaded into the node's own arrays


def test_from_node_refuses_a_class_or_a_non_node() -> None:
    with pytest.raises(TypeError, match=r"not the class Square: write FromNode\(Square\(\)\)"):
        nn.FromNode(Square)
    with pytest.raises(TypeError, match="instance of a Node subclass, not a ufunc"):
        nn.FromNode(np.tanh)
    with pytest.raises(TypeError, match="item 1 is a str, not a Module or a node instance"):
        nn.Sequential(nn.ReLU(), "relu")


def test_sequential_with_nodes_trains() -> None:
    rng = np.random.default_rng(0)
    model = nn.Sequential(
        HeldLinear(4, 8, rng), nodes.Tanh(), nn.Linear(8, 3, dtype=np.float64, rng=rng)
    )
    assert isinstance(model[0], nn.FromNode) and isinstance(model[1], nn.FromNode)
    assert len(model.parameters()) == 4  # the node's two, the Linear's two
    x = cg.tensor(rng.standard_normal((16, 4)))
    labels = rng.integers(0, 3, 16)
    optimizer = cg.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for _ in range(8):
        optimizer.zero_grad()
        loss = cg.functional.cross_entropy(model(x), labels)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.data))
    assert losses[-1] < losses[0] - 0.1
    assert all(b < a for a, b in itertools.pairwise(losses))


def test_saving_a_model_with_a_node_is_a_clear_error(tmp_path) -> None:
    model = nn.Sequential(nn.Linear(3, 2, rng=0), Square())
    for save in (lambda: nn.to_config(model), lambda: cg.save(tmp_path / "m.npz", model)):
        with pytest.raises(ValueError) as caught:
            save()
        message = str(caught.value)
        assert "\n" not in message
        assert message.startswith("FromNode(Square()) wraps a node object")
        assert "state_dict()" in message
    assert not (tmp_path / "m.npz").exists()
    # What the message recommends works.
    np.savez(tmp_path / "w.npz", **model.state_dict())
    with np.load(tmp_path / "w.npz") as weights:
        nn.Sequential(nn.Linear(3, 2, rng=1), Square()).load_state_dict(dict(weights))
