"""gradcheck catches wrong backwards, names the culprit, and leaves its inputs as they were."""

from __future__ import annotations

import numpy as np
import pytest

import compgraph as cg
from compgraph import nodes


class SigmoidOffByOnePercent(cg.Node):
    """Sigmoid whose backward is 1% too large at one element (row 1, column 2)."""

    def forward(self, x):
        self.y = 1 / (1 + np.exp(-x))
        return self.y

    def backward(self, grad_out):
        grad = grad_out * self.y * (1 - self.y)
        grad[1, 2] *= 1.01
        return grad


def test_catches_a_one_percent_error_on_a_single_element() -> None:
    x = cg.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    with pytest.raises(cg.GradcheckError) as caught:
        cg.gradcheck(SigmoidOffByOnePercent(), x)
    error = caught.value
    assert error.name == "input 0"
    assert error.index == (1, 2)
    assert error.analytic == pytest.approx(error.numerical * 1.01, rel=1e-6)
    assert "input 0" in str(error) and "(1, 2)" in str(error)


def test_correct_node_passes_and_wrong_one_fails_on_the_same_input() -> None:
    x = cg.tensor(np.random.default_rng(1).standard_normal((3, 4)), requires_grad=True)
    assert cg.gradcheck(nodes.Sigmoid(), x)
    with pytest.raises(cg.GradcheckError):
        cg.gradcheck(SigmoidOffByOnePercent(), x)


class ScaledLinear(cg.nn.Module):
    """A module whose bias gradient is wrong by a factor of two."""

    def __init__(self) -> None:
        self.inner = cg.nn.Linear(3, 2, rng=0)

    def forward(self, x):
        return WrongBiasGrad()(x, self.inner.weight, self.inner.bias)


class WrongBiasGrad(nodes.Linear):
    def backward(self, grad_out):
        grad_x, grad_w, grad_b = super().backward(grad_out)
        return grad_x, grad_w, 2 * grad_b


def test_names_the_module_parameter_whose_gradient_is_wrong() -> None:
    model = ScaledLinear()
    x = cg.tensor(np.random.default_rng(2).standard_normal((4, 3)))
    with pytest.raises(cg.GradcheckError, match=r"parameter 'inner\.bias'") as caught:
        cg.gradcheck(model, x)
    assert caught.value.name == "parameter 'inner.bias'"


def test_the_seeds_sanity_check_on_linear_passes() -> None:
    layer = cg.nn.Linear(6, 4, rng=0)
    x = cg.tensor(np.random.default_rng(3).uniform(size=(5, 6)), requires_grad=True)
    assert cg.gradcheck(layer, x)


def test_casts_to_float64_and_restores_float32_inputs_and_parameters() -> None:
    layer = cg.nn.Linear(6, 4, rng=0)
    weight_before = layer.weight.data.copy()
    layer.weight.grad = np.full(layer.weight.shape, 7.0, np.float32)
    x = cg.tensor(
        np.random.default_rng(4).uniform(size=(5, 6)).astype(np.float32), requires_grad=True
    )
    x_before = x.data.copy()
    assert cg.gradcheck(layer, x)
    assert layer.weight.dtype == np.float32 and x.dtype == np.float32
    np.testing.assert_array_equal(layer.weight.data, weight_before)
    np.testing.assert_array_equal(x.data, x_before)
    np.testing.assert_array_equal(layer.weight.grad, 7.0)
    assert x.grad is None


def test_float64_inputs_are_restored_exactly() -> None:
    data = np.random.default_rng(5).standard_normal((3, 3))
    x = cg.tensor(data.copy(), requires_grad=True)
    cg.gradcheck(lambda t: (t * t).exp(), x)
    np.testing.assert_array_equal(x.data, data)


def test_checks_large_inputs_on_a_sample_and_a_random_direction() -> None:
    x = cg.tensor(np.random.default_rng(6).standard_normal((40, 40)), requires_grad=True)
    assert cg.gradcheck(nodes.Tanh(), x, max_elements=50)

    class WrongEverywhereByOnePercent(nodes.Tanh):
        def backward(self, grad_out):
            return super().backward(grad_out) * 1.01

    with pytest.raises(cg.GradcheckError):
        cg.gradcheck(WrongEverywhereByOnePercent(), x, max_elements=50)


class ToFloat32(cg.Node):
    def forward(self, x):
        return x.astype(np.float32)

    def backward(self, grad_out):
        return grad_out


def test_rejects_a_function_that_computes_in_float32() -> None:
    x = cg.tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(TypeError, match="float64"):
        cg.gradcheck(ToFloat32(), x)


def test_needs_something_to_check() -> None:
    with pytest.raises(ValueError, match="requires_grad"):
        cg.gradcheck(nodes.Sigmoid(), cg.tensor(np.ones(3)))


def test_numdiff_agrees_with_backward() -> None:
    rng = np.random.default_rng(7)
    x = cg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    grad_out = rng.standard_normal((3, 4))
    nodes.Softmax()(x).backward(grad_out)
    numerical = cg.numdiff(nodes.Softmax(), x, wrt=0, grad_out=grad_out)
    np.testing.assert_allclose(numerical, x.grad, rtol=1e-6, atol=1e-9)


def test_numdiff_of_a_parameter() -> None:
    layer = cg.nn.Linear(3, 2, rng=1)
    x = cg.tensor(np.random.default_rng(8).standard_normal((4, 3)))
    numerical = cg.numdiff(layer, x, wrt=layer.weight)
    expected = x.data.T @ np.ones((4, 2))  # dL/dW = xᵀ·dL/dy with dL/dy = 1
    np.testing.assert_allclose(numerical, expected, rtol=1e-6)
    assert layer.weight.dtype == np.float32
