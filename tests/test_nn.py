"""Modules: parameter discovery, zero_grad, and nn.Linear."""

from __future__ import annotations

import numpy as np
import pytest

import compgraph as cg


class Block(cg.nn.Module):
    def __init__(self) -> None:
        self.first = cg.nn.Linear(4, 3, rng=0)
        self.scale = cg.nn.Parameter(np.ones(3, np.float32))
        self.second = cg.nn.Linear(3, 2, bias=False, rng=1)
        self.tied = self.first  # the same module again: its parameters count once

    def forward(self, x):
        return self.second(self.first(x) * self.scale)


def test_named_parameters_in_assignment_order_each_once() -> None:
    names = [name for name, _ in Block().named_parameters()]
    assert names == ["first.weight", "first.bias", "scale", "second.weight"]
    assert len(Block().parameters()) == 4


def test_zero_grad_clears_every_parameter() -> None:
    model = Block()
    model(cg.tensor(np.ones((2, 4), np.float32))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_linear_shapes_dtype_and_initialisation() -> None:
    layer = cg.nn.Linear(784, 10, rng=5)
    assert layer.weight.shape == (784, 10) and layer.bias.shape == (10,)
    assert layer.weight.dtype == np.float32
    bound = 1 / np.sqrt(784)
    assert np.abs(layer.weight.data).max() <= bound
    assert layer.weight.data.std() == pytest.approx(bound / np.sqrt(3), rel=0.05)
    again = cg.nn.Linear(784, 10, rng=5)
    np.testing.assert_array_equal(layer.weight.data, again.weight.data)
    y = layer(cg.tensor(np.ones((3, 784), np.float32)))
    assert y.shape == (3, 10) and y.dtype == np.float32
    assert "in_features=784" in repr(layer)


def test_linear_gradients_match_the_seeds_formulas() -> None:
    layer = cg.nn.Linear(6, 4, dtype=np.float64, rng=0)
    x = cg.tensor(np.random.default_rng(1).standard_normal((5, 6)), requires_grad=True)
    grad_out = np.random.default_rng(2).standard_normal((5, 4))
    layer(x).backward(grad_out)
    np.testing.assert_allclose(x.grad, grad_out @ layer.weight.data.T)
    np.testing.assert_allclose(layer.weight.grad, x.data.T @ grad_out)
    np.testing.assert_allclose(layer.bias.grad, grad_out.sum(axis=0))


def test_nested_repr_shows_children() -> None:
    text = repr(Block())
    assert "(first): Linear(in_features=4" in text and "(second)" in text


def test_sequential_train_eval_and_state_dict_round_trip() -> None:
    model = cg.nn.Sequential(
        cg.nn.Linear(4, 8, rng=0),
        cg.nn.ReLU(),
        cg.nn.Dropout(0.5, rng=1),
        cg.nn.Linear(8, 2, rng=2),
    )
    assert len(model) == 4 and isinstance(model[1], cg.nn.ReLU)
    model.eval()
    assert not any(module.training for module in model.modules())
    x = cg.tensor(np.ones((3, 4), np.float32))
    np.testing.assert_array_equal(model(x).data, model(x).data)  # no dropout in eval
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    other = cg.nn.Sequential(
        cg.nn.Linear(4, 8, rng=5), cg.nn.ReLU(), cg.nn.Dropout(0.5), cg.nn.Linear(8, 2, rng=6)
    ).eval()
    other.load_state_dict(state)
    np.testing.assert_array_equal(other(x).data, model(x).data)
    state["0.weight"][...] = 0  # a copy: the model is untouched
    assert np.abs(model[0].weight.data).sum() > 0


def test_load_state_dict_is_strict_about_names_and_shapes() -> None:
    model = cg.nn.Sequential(cg.nn.Linear(4, 2, rng=0))
    state = model.state_dict()
    with pytest.raises(ValueError, match=r"missing \['0.bias'\]"):
        model.load_state_dict({"0.weight": state["0.weight"]})
    with pytest.raises(ValueError, match="unexpected"):
        model.load_state_dict({**state, "extra": np.ones(1)})
    before = model[0].bias.data.copy()
    with pytest.raises(ValueError, match=r"'0.weight' has shape \(2, 4\)"):
        model.load_state_dict({"0.weight": np.ones((2, 4)), "0.bias": np.zeros(2)})
    np.testing.assert_array_equal(model[0].bias.data, before)  # nothing half-loaded


def test_dropout_drops_and_rescales_in_training() -> None:
    dropout = cg.nn.Dropout(0.25, rng=0)
    x = cg.tensor(np.ones((200, 100), np.float32), requires_grad=True)
    y = dropout(x)
    kept = y.data != 0
    assert kept.mean() == pytest.approx(0.75, abs=0.01)
    np.testing.assert_allclose(y.data[kept], 1 / 0.75)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.data)  # gradient is the same scaled mask
    with pytest.raises(ValueError):
        cg.nn.Dropout(1.0)


def test_flatten_and_activation_modules() -> None:
    x = cg.tensor(np.random.default_rng(0).standard_normal((2, 3, 4, 5)), requires_grad=True)
    assert cg.nn.Flatten()(x).shape == (2, 60)
    modules = [cg.nn.Sigmoid(), cg.nn.ReLU(), cg.nn.Tanh(), cg.nn.Softmax(), cg.nn.LogSoftmax()]
    for module in modules:
        node = type(module).__name__
        assert type(module(x).node).__name__ == node


@pytest.mark.parametrize("init", ["notebook", "kaiming", "xavier"])
def test_named_initialisations(init) -> None:
    layer = cg.nn.Linear(400, 300, init=init, rng=0)
    expected_std = {"notebook": 0.1, "kaiming": np.sqrt(2 / 400), "xavier": np.sqrt(2 / 700)}[init]
    assert layer.weight.data.std() == pytest.approx(expected_std, rel=0.03)
    if init != "notebook":
        assert not layer.bias.data.any()
    with pytest.raises(ValueError, match="unknown init"):
        cg.nn.Linear(2, 2, init="magic")


def test_functional_cross_entropy_is_the_mean_fused_loss() -> None:
    rng = np.random.default_rng(0)
    logits = cg.tensor(rng.standard_normal((6, 4)), requires_grad=True)
    labels = rng.integers(0, 4, 6)
    loss = cg.functional.cross_entropy(logits, labels)
    shifted = logits.data - logits.data.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert loss.item() == pytest.approx(-log_probs[np.arange(6), labels].mean())
    loss.backward()
    expected = np.exp(log_probs)
    expected[np.arange(6), labels] -= 1
    np.testing.assert_allclose(logits.grad, expected / 6)
    as_tensor = cg.functional.cross_entropy(cg.tensor(logits.data), cg.tensor(labels))
    assert as_tensor.item() == pytest.approx(loss.item())


def test_nodes_remember_the_modules_that_applied_them() -> None:
    model = Block()
    out = model(cg.tensor(np.ones((2, 4), np.float32)))
    assert out.node.scope == (model, model.second)  # the last Linear node
    scale_node = out.node.inputs[0].node  # first(x) * scale, applied by Block itself
    assert scale_node.scope == (model,)
    assert (cg.tensor([1.0], requires_grad=True) * 2).node.scope == ()
