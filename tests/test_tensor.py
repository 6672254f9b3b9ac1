"""The Tensor API and the backward walk: dtypes, accumulation, release, deep graphs, errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import compgraph as cg
from compgraph import nodes


def test_dtype_none_keeps_the_array_dtype() -> None:
    assert cg.tensor(np.zeros(3, np.float32)).dtype == np.float32
    assert cg.tensor(np.arange(3)).dtype == np.arange(3).dtype
    assert cg.tensor([1.0, 2.0]).dtype == np.float64
    assert cg.tensor([1, 2], dtype=np.float32).dtype == np.float32


def test_integer_tensors_cannot_require_grad() -> None:
    with pytest.raises(TypeError, match="floating-point"):
        cg.tensor([1, 2, 3], requires_grad=True)


def test_python_numbers_keep_float32() -> None:
    x = cg.tensor(np.ones(3, np.float32), requires_grad=True)
    for y in (x + 1, 1 + x, x * 2.5, 2.5 * x, x - 1, 1 - x, x / 2, 2 / x, x**2, 2**x, -x):
        assert y.dtype == np.float32


def test_ndarray_on_the_left_gives_a_tensor() -> None:
    x = cg.tensor(np.ones(3), requires_grad=True)
    y = np.full(3, 2.0) * x
    assert isinstance(y, cg.Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, 2.0)


def test_conversions() -> None:
    x = cg.tensor([[1.5]], requires_grad=True)
    assert x.item() == 1.5
    assert x.numpy() is x.data
    assert x.shape == (1, 1) and x.ndim == 2 and x.size == 1 and len(x) == 1
    detached = (x * 2).detach()
    assert not detached.requires_grad and detached.node is None
    with pytest.raises(ValueError, match="one element"):
        cg.tensor([1.0, 2.0]).item()
    assert "requires_grad=True" in repr(x)
    assert "node=Mul" in repr(x * 2)


def test_a_tensor_used_twice_gets_the_sum_of_both_paths() -> None:
    x = cg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data + 1)


def test_diamond_graph() -> None:
    x = cg.tensor([0.5, -1.0], requires_grad=True)
    a = x.exp()
    (a * a + a.tanh()).sum().backward()
    e = np.exp(x.data)
    np.testing.assert_allclose(x.grad, 2 * e * e + (1 - np.tanh(e) ** 2) * e)


def test_gradients_accumulate_across_backward_calls_until_zero_grad() -> None:
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])
    x.zero_grad()
    assert x.grad is None


def test_leaf_gradients_never_share_memory() -> None:
    a = cg.tensor(np.ones(3), requires_grad=True)
    b = cg.tensor(np.ones(3), requires_grad=True)
    grad = np.arange(3.0)
    (a + b).backward(grad)
    assert a.grad is not grad and b.grad is not grad
    assert not np.shares_memory(a.grad, b.grad)
    a.grad += 1  # an optimizer updating in place must not touch b's gradient or the caller's
    np.testing.assert_array_equal(b.grad, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(grad, [0.0, 1.0, 2.0])


def test_broadcast_gradients_are_writable_arrays() -> None:
    x = cg.tensor(np.ones((2, 3)), requires_grad=True)
    x.sum().backward()
    assert x.grad.flags.writeable
    x.grad *= 2


def test_a_graph_ten_thousand_nodes_deep() -> None:
    x = cg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**10_000)


def test_no_grad_builds_nothing() -> None:
    x = cg.tensor([1.0], requires_grad=True)
    with cg.no_grad():
        y = (x * 2).exp()
        assert not cg.is_grad_enabled()
        with cg.enable_grad():
            z = x * 2
    assert cg.is_grad_enabled()
    assert not y.requires_grad and y.node is None
    assert z.requires_grad


def test_no_grad_as_a_decorator() -> None:
    @cg.no_grad()
    def evaluate(t):
        return t * 2

    assert evaluate(cg.tensor([1.0], requires_grad=True)).node is None


def test_buffers_are_released_and_a_second_backward_raises() -> None:
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    loss = y.sum()
    loss.backward()
    assert not hasattr(y.node, "y"), "saved output should be released"
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()
    np.testing.assert_allclose(x.grad, np.exp([1.0, 2.0]))  # untouched by the failed call


def test_retain_graph_keeps_buffers_for_a_second_backward() -> None:
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    loss = x.exp().sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp([1.0, 2.0]))


def test_retain_grad_fills_an_intermediate_gradient() -> None:
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    h = (x * 3).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad, 2 * h.data)


def test_backward_without_gradient_needs_a_scalar() -> None:
    x = cg.tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar.*\(2, 2\)"):
        (x * 2).backward()
    with pytest.raises(ValueError, match="shape"):
        (x * 2).backward(np.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        cg.tensor([1.0]).backward()


@pytest.mark.parametrize(
    ("make", "node_name"),
    [
        (lambda: cg.tensor(np.ones((3, 4))) + cg.tensor(np.ones(5)), "Add"),
        (lambda: cg.tensor(np.ones((3, 4))) @ cg.tensor(np.ones((5, 2))), "MatMul"),
        (lambda: nodes.Linear()(np.ones((5, 6)), np.ones((7, 4)), np.ones(4)), "Linear"),
        (lambda: nodes.Linear()(np.ones((5, 6)), np.ones((6, 4)), np.ones(3)), "Linear"),
        (lambda: nodes.MSE()(np.ones((5, 1)), np.ones(5)), "MSE"),
        (lambda: nodes.CrossEntropy()(np.ones((5, 3)), np.ones((5, 4))), "CrossEntropy"),
        (
            lambda: nodes.SoftmaxCrossEntropy()(np.ones((5, 3)), np.zeros(4, int)),
            "SoftmaxCrossEntropy",
        ),
    ],
)
def test_shape_mismatch_names_the_node_and_both_shapes(make, node_name) -> None:
    with pytest.raises(ValueError, match=node_name) as caught:
        make()
    message = str(caught.value)
    assert message.count("(") >= 2, message  # both shapes appear


def test_labels_out_of_range_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        nodes.SoftmaxCrossEntropy()(np.zeros((2, 3)), np.array([0, 3]))


def test_softmax_cross_entropy_is_finite_for_huge_logits() -> None:
    logits = cg.tensor(
        np.array([[1e30, -1e30, 0.0], [-1e38, 1e38, 1.0]], np.float32), requires_grad=True
    )
    loss = nodes.SoftmaxCrossEntropy()(logits, np.array([1, 1]))
    assert np.isfinite(loss.data).all()
    loss.sum().backward()
    assert np.isfinite(logits.grad).all()
    np.testing.assert_allclose(logits.grad, [[1, -1, 0], [0, 0, 0]], atol=1e-6)


# ---------------------------------------------------------------- user-defined nodes
class Square(cg.Node):
    """y = x², dL/dx = 2·x·dL/dy."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, grad_out):
        return 2 * self.x * grad_out


def test_a_user_node_applied_twice_in_one_graph_keeps_two_states() -> None:
    square = Square()
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    y = cg.tensor([3.0, -1.0], requires_grad=True)
    (square(x) + square(square(y))).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data)
    np.testing.assert_allclose(y.grad, 4 * y.data**3)
    assert not vars(square), "the template itself saves nothing"
    assert cg.Node.registry[f"{__name__}.Square"] is Square


class WrongShape(cg.Node):
    def forward(self, x):
        return x.sum(axis=0)

    def backward(self, grad_out):
        return grad_out[:1]


class UpcastingMean(cg.Node):
    """The seed's Mean, whose np.ones turns a float32 gradient into float64."""

    def forward(self, x):
        self.x = x
        return x.mean()

    def backward(self, grad_out):
        return grad_out * np.ones(self.x.shape) / np.prod(self.x.shape)


def test_the_engine_checks_the_shape_and_dtype_a_backward_returns() -> None:
    x = cg.tensor(np.ones((3, 2)), requires_grad=True)
    with pytest.raises(ValueError, match=r"WrongShape.backward.*\(1,\).*\(3, 2\)"):
        WrongShape()(x).sum().backward()
    x32 = cg.tensor(np.ones((3, 2), np.float32), requires_grad=True)
    with pytest.raises(TypeError, match=r"UpcastingMean\.backward returned a float64 gradient"):
        UpcastingMean()(x32).backward()


def test_a_promoting_operation_casts_its_gradient_to_each_input() -> None:
    x32 = cg.tensor(np.ones(2, np.float32), requires_grad=True)
    x64 = cg.tensor(np.ones(2, np.float64), requires_grad=True)
    (x32 * x64).sum().backward()
    assert x32.grad.dtype == np.float32 and x64.grad.dtype == np.float64


def test_indexing_with_a_tensor_and_with_repeats() -> None:
    x = cg.tensor(np.arange(4.0), requires_grad=True)
    x[cg.tensor(np.array([1, 1, 3]))].sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 2, 0, 1])


# ---------------------------------------------------------------- detect_anomaly
def test_detect_anomaly_names_the_node_whose_forward_is_not_finite() -> None:
    x = cg.tensor([1.0, -1.0], requires_grad=True)
    with (
        cg.detect_anomaly(),
        pytest.raises(cg.AnomalyError, match=r"Log: forward output") as caught,
    ):
        (x * 2).log().sum()
    assert __file__.rsplit("/", 1)[-1] in str(caught.value)  # points at this test's line


def test_detect_anomaly_points_at_user_code_in_a_folder_named_compgraph(tmp_path) -> None:
    # A plain `git clone` makes a folder named compgraph: the user's files there are not
    # the library's (only files of the installed package are).
    script = tmp_path / "compgraph" / "my_model.py"
    script.parent.mkdir()
    script.write_text(
        "import compgraph as cg\n"
        "x = cg.tensor([1.0, -1.0], requires_grad=True)\n"
        "with cg.detect_anomaly():\n"
        "    try:\n"
        "        x.log()\n"
        "    except cg.AnomalyError as error:\n"
        "        print(error)\n"
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert f"applied at {script}:5" in result.stdout, result.stdout + result.stderr


def test_detect_anomaly_names_the_node_whose_backward_is_not_finite() -> None:
    x = cg.tensor([0.0, 4.0], requires_grad=True)
    y = (x**0.5).sum()  # finite forward, infinite derivative at 0
    with cg.detect_anomaly(), pytest.raises(cg.AnomalyError, match=r"PowScalar: backward gradient"):
        y.backward()


def test_without_detect_anomaly_nan_passes_silently() -> None:
    x = cg.tensor([0.0, 4.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        (x**0.5).sum().backward()
    assert np.isinf(x.grad[0])
