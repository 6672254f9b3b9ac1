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
