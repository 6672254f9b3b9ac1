"""The notebook's own classes, pasted with only their base changed to cg.Node, work as they are.

The classes below are the notebook's, character for character, but for ``(object)``
becoming ``(cg.Node)`` in Linear and F. Its Linear keeps W and b on itself and fills
``parameters_deltas``; its CrossEntropy returns only dx; the learning rate is passed
as the gradient of the loss and the update is ``p -= p_delta`` — all as written there.
"""

# The notebook's code uses NumPy's global random state; it is kept as written.
# ruff: noqa: NPY002

from __future__ import annotations

import numpy as np
import pytest

import compgraph as cg
from compgraph import data


class Linear(cg.Node):
    def __init__(self, input_shape, output_shape, mean=0, variance=0.1):
        self.parameters = [mean + variance * np.random.randn(input_shape, output_shape),
                           mean + variance * np.random.randn(output_shape)]  # fmt: skip
        self.parameters_deltas = [None, None]

    def forward(self, x, *args):
        self.x = x
        return np.matmul(x, self.parameters[0]) + self.parameters[1]

    def backward(self, delta):
        self.parameters_deltas[0] = self.x.T.dot(delta)
        self.parameters_deltas[1] = np.sum(delta, 0)
        return delta.dot(self.parameters[0].T)


class F(cg.Node):
    """base class for functions with no parameters."""

    def __init__(self):
        self.parameters = []
        self.parameters_deltas = []


class Sigmoid(F):
    def forward(self, x, *args):
        self.x = x
        self.y = 1.0 / (1.0 + np.exp(-x))
        return self.y

    def backward(self, delta):
        return delta * ((1 - self.y) * self.y)


class Softmax(F):
    def forward(self, x, *args):
        self.x = x
        xtmp = x - x.max(axis=-1, keepdims=True)
        exps = np.exp(xtmp)
        self.y = exps / exps.sum(axis=-1, keepdims=True)
        return self.y

    def backward(self, delta):
        return delta * self.y - self.y * (delta * self.y).sum(axis=-1, keepdims=True)


class CrossEntropy(F):
    def forward(self, x, p, *args):
        self.p = p
        self.x = x
        y = -p * np.log(np.maximum(x, 1e-15))
        return y.sum(-1)

    def backward(self, delta):
        return -delta[..., None] * 1. / np.maximum(self.x, 1e-15) * self.p  # fmt: skip


class Mean(F):
    def forward(self, x, *args):
        self.x = x
        return x.mean()

    def backward(self, delta):
        return delta * np.ones(self.x.shape) / np.prod(self.x.shape)


class WrongLinear(Linear):
    """The notebook's Linear with dL/dW wrong by a factor of 123."""

    def backward(self, delta):
        dx = super().backward(delta)
        self.parameters_deltas[0] = self.parameters_deltas[0] * 123
        return dx


@pytest.fixture(autouse=True)
def seed() -> None:
    np.random.seed(5)  # the notebook's


def test_gradcheck_checks_the_parameters_a_node_holds() -> None:
    x = np.random.uniform(size=(5, 6))
    assert cg.gradcheck(Linear(6, 4), cg.tensor(x))  # W and b, though x needs no gradient
    assert cg.gradcheck(Linear(6, 4), cg.tensor(x, requires_grad=True))
    with pytest.raises(cg.GradcheckError, match=r"parameter 0 of WrongLinear"):
        cg.gradcheck(WrongLinear(6, 4), cg.tensor(x))
    for node in (Sigmoid(), Softmax(), Mean()):
        assert cg.gradcheck(node, cg.tensor(x, requires_grad=True))
    p = np.random.uniform(0.1, 1, (5, 6))
    q = np.random.uniform(0.1, 1, (5, 6))
    p, q = p / p.sum(-1, keepdims=True), q / q.sum(-1, keepdims=True)
    assert cg.gradcheck(CrossEntropy(), cg.tensor(q, requires_grad=True), cg.tensor(p))


def test_gradcheck_leaves_the_held_parameters_as_they_were() -> None:
    linear = Linear(6, 4)
    weights = [p.copy() for p in linear.parameters]
    objects = [id(p) for p in linear.parameters]
    cg.gradcheck(linear, cg.tensor(np.random.uniform(size=(5, 6))))
    assert [id(p) for p in linear.parameters] == objects
    for before, after in zip(weights, linear.parameters, strict=True):
        np.testing.assert_array_equal(before, after)


def notebook_net(x, label, layers):
    """The notebook's net_forward through compgraph: layers called on tensors."""
    linear, softmax, lossfunc, mean = layers
    result = softmax(linear(x))
    return result, mean(lossfunc(result, label))


def train_notebook_style(images, labels, iterations: int, learning_rate=0.5, batch=100):
    """The notebook's training loop: random batches, backward(learning_rate), p -= p_delta."""
    layers = [Linear(784, 10), Softmax(), CrossEntropy(), Mean()]
    onehot = np.eye(10)[labels]
    for _ in range(iterations):
        perm = np.random.permutation(len(images))[:batch]
        x = images[perm].reshape(batch, -1) / 255.0
        _, loss = notebook_net(x, onehot[perm], layers)
        loss.backward(learning_rate)  # the notebook's net_backward(learning_rate)
        for layer in layers:
            for p, p_delta in zip(layer.parameters, layer.parameters_deltas, strict=True):
                p -= p_delta  # stochastic gradient descent
    return layers


def accuracy(layers, images, labels) -> float:
    with cg.no_grad():
        result, _ = notebook_net(images.reshape(len(images), -1) / 255.0,
                                 np.eye(10)[labels], layers)  # fmt: skip
    return float(np.mean(result.data.argmax(axis=1) == labels))


def test_the_notebook_loop_trains_on_synthetic_data() -> None:
    train, test = data.Synthetic("train"), data.Synthetic("test")
    layers = train_notebook_style(train.images, train.labels, iterations=200)
    assert accuracy(layers, test.images, test.labels) > 0.9  # chance is 0.1


def test_compgraphs_optimizers_train_a_node_that_holds_its_parameters() -> None:
    train, test = data.Synthetic("train"), data.Synthetic("test")
    layers = [Linear(784, 10), Softmax(), CrossEntropy(), Mean()]
    linear = layers[0]
    optimizer = cg.optim.SGD(cg.node_parameters(linear), lr=0.5)
    loader = data.DataLoader(train, 100, seed=0)
    for _ in range(2):
        for x, y in loader:
            optimizer.zero_grad()
            _, loss = notebook_net(x.astype(np.float64), np.eye(10)[y], layers)
            loss.backward()
            optimizer.step()
    assert accuracy(layers, test.images, test.labels) > 0.9


def test_a_node_applied_twice_gets_the_sum_of_its_deltas() -> None:
    linear = Linear(3, 3)
    x = np.random.uniform(size=(2, 3))
    (linear(linear(x))).sum().backward()
    w = linear.parameters[0]
    hidden = x @ w + linear.parameters[1]
    expected = x.T @ np.ones((2, 3)) @ w.T + hidden.T @ np.ones((2, 3))
    np.testing.assert_allclose(linear.parameters_deltas[0], expected)


def test_deltas_that_do_not_fit_their_parameter_are_one_clear_error() -> None:
    class Careless(Linear):
        def backward(self, delta):
            dx = super().backward(delta)
            self.parameters_deltas[1] = self.parameters_deltas[1][:, None]  # a column
            return dx

    loss = Careless(4, 2)(np.ones((3, 4))).sum()
    with pytest.raises(TypeError, match=r"Careless.parameters_deltas\[1\] is float64 \(2, 1\)"):
        loss.backward()


@pytest.mark.slow
def test_the_notebook_trains_its_softmax_regression_on_mnist_to_092() -> None:
    """The notebook's experiment: 10 epochs of batches of 100, learning rate 0.5."""
    train, test = data.MNIST(split="train"), data.MNIST(split="test")
    layers = train_notebook_style(train.images, train.labels, iterations=60000 // 100 * 10)
    assert accuracy(layers, test.images, test.labels) >= 0.92  # all 10,000 test images
