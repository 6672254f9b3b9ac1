"""gradcheck catches wrong backwards, names the culprit, and leaves its inputs as they were."""

from __future__ import annotations

import re

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


# --------------------------------------------------------------------------- never a false pass
class SquareWrongBy123(cg.Node):
    """y = x², with a backward 123 times too large everywhere."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, grad_out):
        return 123 * 2 * self.x * grad_out


class SigmoidNanAtOneElement(cg.Node):
    """Sigmoid whose backward returns NaN at element (1, 2)."""

    def forward(self, x):
        self.y = 1 / (1 + np.exp(-x))
        return self.y

    def backward(self, grad_out):
        grad = grad_out * self.y * (1 - self.y)
        grad[1, 2] = np.nan
        return grad


class IdentityBelowOne(cg.Node):
    """y = x for x < 1 and +inf from 1 on: a function whose domain ends at 1."""

    def forward(self, x):
        return np.where(x < 1, x, np.inf)

    def backward(self, grad_out):
        return grad_out


def _finite_input(seed: int = 9) -> cg.Tensor:
    return cg.tensor(np.random.default_rng(seed).standard_normal((3, 4)), requires_grad=True)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_input_element_is_an_error_naming_it(bad: float) -> None:
    x = _finite_input()
    x.data[1, 2] = bad
    with pytest.raises(ValueError, match=r"input 0 .*index \(1, 2\)"):
        cg.gradcheck(SquareWrongBy123(), x)


def test_a_non_finite_parameter_element_is_an_error_naming_it() -> None:
    model = ScaledLinear()
    model.inner.bias.data[1] = np.nan
    x = cg.tensor(np.random.default_rng(2).standard_normal((4, 3)))
    with pytest.raises(ValueError, match=r"parameter 'inner\.bias' .*index \(1,\)"):
        cg.gradcheck(model, x)
    assert model.inner.bias.dtype == np.float32 and np.isnan(model.inner.bias.data[1])


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("eps", np.nan),
        ("eps", np.inf),
        ("eps", 0.0),
        ("eps", -1e-6),
        ("rtol", np.nan),
        ("rtol", -1e-3),
        ("atol", np.inf),
        ("atol", np.nan),
        ("max_elements", 0),
        ("max_elements", 2.5),
        ("seed", 1.5),
        ("seed", -1),
    ],
)
def test_invalid_settings_are_a_value_error_naming_the_argument(setting: str, value) -> None:
    with pytest.raises(ValueError, match=rf"\b{setting}\b"):
        cg.gradcheck(SquareWrongBy123(), _finite_input(), **{setting: value})


def test_zero_atol_and_rtol_together_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"atol.*rtol"):
        cg.gradcheck(SquareWrongBy123(), _finite_input(), atol=0.0, rtol=0.0)


def test_numdiff_rejects_a_zero_step() -> None:
    with pytest.raises(ValueError, match=r"\beps\b"):
        cg.numdiff(nodes.Sigmoid(), _finite_input(), eps=0.0)


def test_a_nan_from_backward_is_reported_as_the_analytic_side() -> None:
    with pytest.raises(cg.GradcheckError, match="analytic") as caught:
        cg.gradcheck(SigmoidNanAtOneElement(), _finite_input())
    error = caught.value
    assert error.name == "input 0" and error.index == (1, 2)
    assert np.isnan(error.analytic) and np.isfinite(error.numerical)
    assert "analytic gradient is not finite" in str(error)


def test_a_nan_from_backward_is_found_even_outside_the_sample() -> None:
    x = cg.tensor(np.random.default_rng(10).standard_normal((30, 30)), requires_grad=True)
    with pytest.raises(cg.GradcheckError, match="analytic") as caught:
        cg.gradcheck(SigmoidNanAtOneElement(), x, max_elements=1)
    assert caught.value.index == (1, 2)


def test_an_infinite_forward_at_the_perturbed_point_is_reported_as_the_numerical_side() -> None:
    x = cg.tensor(np.random.default_rng(12).uniform(-1, 0.5, (3, 4)), requires_grad=True)
    x.data[1, 2] = 1 - 5e-7  # finite here, +inf one step (eps = 1e-6) up
    with pytest.raises(cg.GradcheckError, match="numerical") as caught:
        cg.gradcheck(IdentityBelowOne(), x)
    error = caught.value
    assert error.name == "input 0" and error.index == (1, 2)
    assert np.isinf(error.numerical) and np.isfinite(error.analytic)
    assert "numerical derivative is not finite" in str(error)


def test_a_non_finite_output_at_the_inputs_is_an_error() -> None:
    x = _finite_input()
    x.data[0, 0] = 2.0  # IdentityBelowOne gives +inf there
    with pytest.raises(ValueError, match=r"output .*not finite"):
        cg.gradcheck(IdentityBelowOne(), x)


def test_restores_inputs_and_parameters_when_it_raises() -> None:
    model = ScaledLinear()
    weight_before, bias_before = model.inner.weight.data.copy(), model.inner.bias.data.copy()
    data = np.random.default_rng(11).standard_normal((4, 3))
    x = cg.tensor(data.copy(), requires_grad=True)
    with pytest.raises(cg.GradcheckError):
        cg.gradcheck(model, x)
    for parameter, before in ((model.inner.weight, weight_before), (model.inner.bias, bias_before)):
        assert parameter.dtype == np.float32 and parameter.grad is None
        np.testing.assert_array_equal(parameter.data, before)
    np.testing.assert_array_equal(x.data, data)
    assert x.grad is None


@pytest.mark.parametrize(
    "settings",
    [{}, {"atol": 0.0}, {"rtol": 0.0, "atol": 1e-5}, {"max_elements": 1}, {"seed": np.int64(3)}],
)
def test_a_correct_node_still_passes(settings: dict) -> None:
    assert cg.gradcheck(nodes.Sigmoid(), _finite_input(), **settings)
    with pytest.raises(cg.GradcheckError):
        cg.gradcheck(SquareWrongBy123(), _finite_input(), **settings)


# ---- grad_out=, the upstream gradient in the message, the direction's tolerance, strict
class SigmoidWithoutUpstream(cg.Node):
    """Forgets the dL/dy factor: right only for an all-ones upstream gradient."""

    def forward(self, x):
        self.y = 1 / (1 + np.exp(-x))
        return self.y

    def backward(self, grad_out):
        return self.y * (1 - self.y)


def test_grad_out_is_the_upstream_gradient_used() -> None:
    x = cg.tensor(np.random.default_rng(2).standard_normal((2, 3)), requires_grad=True)
    assert cg.gradcheck(SigmoidWithoutUpstream(), x, grad_out=np.ones((2, 3)))  # blind to it
    with pytest.raises(cg.GradcheckError):
        cg.gradcheck(SigmoidWithoutUpstream(), x, grad_out=np.full((2, 3), 3.0))
    with pytest.raises(ValueError, match=r"grad_out has shape \(3,\)"):
        cg.gradcheck(nodes.Sigmoid(), x, grad_out=np.ones(3))


def test_a_small_upstream_gradient_is_printed_in_the_message() -> None:
    x = cg.tensor(np.random.default_rng(3).standard_normal((3, 4)), requires_grad=True)
    with pytest.raises(cg.GradcheckError) as caught:
        cg.gradcheck(SigmoidWithoutUpstream(), x)
    message = str(caught.value)
    upstream = np.random.default_rng(0).standard_normal((3, 4))
    assert "upstream gradient" in message and "seed=0" in message
    assert f"{upstream[0, 0]:.6f}"[:6] in message
    given = np.arange(1.0, 13.0).reshape(3, 4)
    with pytest.raises(cg.GradcheckError, match=r"the grad_out given.*12\."):
        cg.gradcheck(SigmoidWithoutUpstream(), x, grad_out=given)


def test_a_large_upstream_gradient_is_not_printed_but_grad_out_is_named() -> None:
    x = cg.tensor(np.random.default_rng(4).standard_normal((4, 4)), requires_grad=True)
    with pytest.raises(cg.GradcheckError) as caught:
        cg.gradcheck(SigmoidWithoutUpstream(), x)
    message = str(caught.value)
    assert "grad_out=" in message and "default_rng(0).standard_normal((4, 4))" in message
    assert "too large to print" in message


def test_the_direction_check_states_its_tolerance() -> None:
    x = cg.tensor(np.random.default_rng(6).standard_normal((40, 40)), requires_grad=True)

    class WrongAtTheLastElement(nodes.Tanh):
        def backward(self, grad_out):
            grad = super().backward(grad_out).copy()
            grad[-1, -1] += 10.0
            return grad

    with pytest.raises(cg.GradcheckError, match="along a random direction") as caught:
        cg.gradcheck(WrongAtTheLastElement(), x, max_elements=1)
    assert caught.value.index is None
    assert re.search(r"> tolerance [\d.e+-]+ = atol·√size \+ rtol·\|numerical\|", str(caught.value))
    assert "atol 1e-05, rtol 0.001, size 1600" in str(caught.value)


class LinearWithUnsummedBias(nodes.Linear):
    """Returns dL/dy itself for b: the engine sums it over the rows, strict mode refuses it."""

    def backward(self, grad_out):
        grad_x, grad_w, _ = super().backward(grad_out)
        return grad_x, grad_w, grad_out


def test_strict_compares_the_raw_shape_backward_returns() -> None:
    rng = np.random.default_rng(7)
    x, w, b = (
        cg.tensor(rng.standard_normal(s), requires_grad=True) for s in ((5, 3), (3, 2), (2,))
    )
    assert cg.gradcheck(LinearWithUnsummedBias(), x, w, b)  # the engine's rule accepts it
    with pytest.raises(cg.GradcheckError, match=r"strict.*input 2.*shape \(5, 2\).*\(2,\)"):
        cg.gradcheck(LinearWithUnsummedBias(), x, w, b, strict=True)
    assert cg.gradcheck(nodes.Linear(), x, w, b, strict=True)


def test_strict_takes_the_shapes_of_a_reference_node_that_leaves_the_sum_to_the_engine() -> None:
    rng = np.random.default_rng(8)
    a, b = (cg.tensor(rng.standard_normal(s), requires_grad=True) for s in ((3, 4), (4,)))
    assert cg.gradcheck(nodes.Add(), a, b, strict=True, shapes_from=nodes.Add())
    with pytest.raises(cg.GradcheckError, match="strict"):
        cg.gradcheck(nodes.Add(), a, b, strict=True)  # Add returns grad_out for b as it is
    with pytest.raises(ValueError, match="must be a Node"):
        cg.gradcheck(lambda t: t.sigmoid(), a, strict=True)


def test_a_lambda_around_a_module_says_to_pass_tensors_that_require_grad() -> None:
    model = cg.nn.Linear(3, 2, rng=0)
    x = cg.tensor(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"requires_grad=True.*Module") as caught:
        cg.gradcheck(lambda inputs: model(inputs), x)
    assert "gradcheck(model, x)" in str(caught.value)
    assert cg.gradcheck(model, x)
