"""The node contract the engine checks: what forward returns, what backward returns, and
that neither writes into the arrays it is handed (read-only views)."""

from __future__ import annotations

import numpy as np
import pytest

import compgraph as cg
from compgraph import nn
from compgraph.graph import BackwardError
from compgraph.node import ForwardError, InPlaceEditError


def writeable(*arrays):
    return all(array.flags.writeable for array in arrays)


# ------------------------------------------------------------------ forward's result
class Returns(cg.Node):
    """A forward that returns whatever the test sets (given the input)."""

    def __init__(self, returned):
        self.returned = returned

    def forward(self, x):
        return self.returned(x)

    def backward(self, grad_out):
        return grad_out


class NoReturn(cg.Node):
    def forward(self, x):
        y = 2 * x  # noqa: F841 (the forgotten return is the point)

    def backward(self, grad_out):
        return 2 * grad_out


def test_forward_returning_none_asks_about_a_forgotten_return() -> None:
    with pytest.raises(
        ForwardError, match=r"NoReturn\.forward returned None: did you forget `return`"
    ):
        NoReturn()(np.ones(3))


def test_forward_error_is_exported_and_is_a_type_error() -> None:
    assert cg.ForwardError is ForwardError
    assert issubclass(ForwardError, TypeError)


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        (lambda x: cg.tensor(x * 2), r"Returns\.forward returned a Tensor.*NumPy arrays"),
        (lambda x: [x, x], r"Returns\.forward returned a list of 2 item\(s\); return one array"),
        (lambda x: (x,), r"Returns\.forward returned a tuple of 1 item\(s\)"),
        (lambda x: "y", r"Returns\.forward returned a str; return the output, a NumPy array"),
    ],
)
def test_forward_returning_something_else_names_the_node(returned, message) -> None:
    with pytest.raises(ForwardError, match=message):
        Returns(returned)(np.ones(3))


@pytest.mark.parametrize(
    "returned", [lambda x: float(x.sum()), lambda x: x.sum(), lambda x: 3, lambda x: np.float32(2)]
)
def test_numbers_are_valid_forward_results(returned) -> None:
    y = Returns(returned)(np.ones(3))
    assert isinstance(y.data, np.ndarray) and y.data.shape == ()


# ----------------------------------------------------------------- backward's result
class NoBackwardReturn(cg.Node):
    def forward(self, x):
        return 2 * x

    def backward(self, grad_out):
        grad = 2 * grad_out  # noqa: F841


class NoneForSecond(cg.Node):
    def forward(self, x, y):
        return x * y

    def backward(self, grad_out):
        return grad_out, None


def test_backward_returning_none_asks_about_a_forgotten_return() -> None:
    y = NoBackwardReturn()(cg.tensor(np.ones(3), requires_grad=True)).sum()
    with pytest.raises(
        BackwardError, match=r"NoBackwardReturn\.backward returned None.*did you forget `return`"
    ):
        y.backward()


def test_backward_returning_none_for_an_input_that_needs_a_gradient_names_it() -> None:
    a, b = (cg.tensor(np.ones(3), requires_grad=True) for _ in range(2))
    with pytest.raises(BackwardError, match=r"NoneForSecond\.backward returned None for input 1"):
        NoneForSecond()(a, b).sum().backward()


def test_none_is_fine_for_an_input_that_needs_no_gradient() -> None:
    a = cg.tensor(np.ones(3), requires_grad=True)
    NoneForSecond()(a, np.full(3, 2.0)).sum().backward()
    np.testing.assert_array_equal(a.grad, [1, 1, 1])
    assert cg.BackwardError is BackwardError


# ------------------------------------------------------------------ in-place edits
class AddOneInPlace(cg.Node):
    def forward(self, x):
        x += 1
        return x

    def backward(self, grad_out):
        return grad_out


class ClipInPlace(cg.Node):
    def forward(self, x):
        x[x < 0] = 0
        return x

    def backward(self, grad_out):
        return grad_out


class ExpOut(cg.Node):
    def forward(self, x):
        return np.exp(x, out=x)

    def backward(self, grad_out):
        return grad_out


class SecondInputInPlace(cg.Node):
    def forward(self, x, w):
        w *= 2
        return x * w

    def backward(self, grad_out):
        return grad_out, grad_out


class GradOutInPlace(cg.Node):
    def forward(self, x):
        self.x = x
        return 3 * x

    def backward(self, grad_out):
        grad_out *= 3
        return grad_out


class SavedInputInPlace(cg.Node):
    def forward(self, x):
        self.x = x
        return 3 * x

    def backward(self, grad_out):
        self.x *= 0
        return grad_out


@pytest.mark.parametrize(
    ("node", "line"),
    [(AddOneInPlace, "x += 1"), (ClipInPlace, "x[x < 0] = 0"), (ExpOut, "np.exp(x, out=x)")],
)
def test_forward_writing_into_an_input_fails_naming_node_array_and_line(node, line) -> None:
    x = np.array([-1.0, 2.0, 3.0])
    with pytest.raises(InPlaceEditError) as caught:
        node()(x)
    message = str(caught.value)
    assert message.startswith(f"{node.__name__}.forward writes into input 0 (`x`) in place")
    assert f"at `{line}`" in message or f"at `return {line}`" in message
    assert "copy it first (`x = x.copy()`)" in message
    assert isinstance(caught.value.__cause__, ValueError)  # NumPy's read-only error
    # The caller's array is untouched, and as writeable as it was.
    np.testing.assert_array_equal(x, [-1.0, 2.0, 3.0])
    assert writeable(x)
    x += 1  # still the caller's to change


def test_the_error_points_at_the_offending_line() -> None:
    with pytest.raises(InPlaceEditError) as caught:
        AddOneInPlace()(np.ones(2))
    cause = caught.value.__cause__
    assert cause is not None
    frames = []
    tb = cause.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    assert frames[-1] == "forward"  # NumPy's error came from the `x += 1` line itself


def test_the_second_input_is_named_too() -> None:
    with pytest.raises(
        InPlaceEditError, match=r"writes into input 1 \(`w`\) in place at `w \*= 2`"
    ):
        SecondInputInPlace()(np.ones(2), np.ones(2))


def test_a_parameter_is_protected_and_stays_writeable() -> None:
    weight = nn.Parameter(np.ones(3))
    with pytest.raises(InPlaceEditError):
        AddOneInPlace()(weight)
    with pytest.raises(InPlaceEditError):
        SecondInputInPlace()(np.ones(3), weight)
    np.testing.assert_array_equal(weight.data, [1, 1, 1])
    assert writeable(weight.data)
    weight.data -= 0.5  # the update an optimizer makes still works
    optimizer = cg.optim.SGD([weight], lr=0.1)
    (weight * 2).sum().backward()
    optimizer.step()
    np.testing.assert_allclose(weight.data, [0.3, 0.3, 0.3])


def test_backward_writing_into_grad_out_fails_naming_it() -> None:
    x = cg.tensor(np.ones(3), requires_grad=True)
    y = GradOutInPlace()(x).sum()
    with pytest.raises(InPlaceEditError) as caught:
        y.backward()
    message = str(caught.value)
    assert message.startswith("GradOutInPlace.backward writes into grad_out in place")
    assert "at `grad_out *= 3`" in message and "grad_out = grad_out.copy()" in message
    assert writeable(x.data)


def test_backward_writing_into_a_saved_input_fails() -> None:
    x = cg.tensor(np.ones(3), requires_grad=True)
    y = SavedInputInPlace()(x).sum()
    with pytest.raises(
        InPlaceEditError, match=r"SavedInputInPlace\.backward writes into `self\.x`"
    ):
        y.backward()
    np.testing.assert_array_equal(x.data, [1, 1, 1])
    assert writeable(x.data)


def test_the_caller_flags_are_never_changed() -> None:
    # Read-only views are views: neither the caller's arrays nor parameters change flags,
    # on success or on error, and a read-only array of the caller's stays read-only.
    model = nn.Sequential(nn.Linear(4, 3, rng=0), nn.ReLU(), nn.Linear(3, 2, rng=0))
    x = np.ones((5, 4), np.float32)
    frozen = np.ones((5, 4), np.float32)
    frozen.flags.writeable = False
    for data in (x, frozen):
        loss = cg.functional.cross_entropy(model(cg.tensor(data)), np.array([0, 1, 0, 1, 0]))
        loss.backward()
    assert writeable(
        x, *(p.data for p in model.parameters()), *(p.grad for p in model.parameters())
    )
    assert not frozen.flags.writeable


def test_outputs_that_are_views_stay_writeable() -> None:
    # A reshape or transpose of an input returns a view; it is writeable as before
    # (the inputs are guarded, not what a node returns).
    x = cg.tensor(np.arange(6.0), requires_grad=True)
    y = x.reshape(2, 3)
    assert writeable(y.data, y.T.data)
    x.sum().backward()
    assert writeable(x.grad)


def test_a_view_of_memory_already_read_only_stays_read_only() -> None:
    frozen = np.arange(6.0)
    frozen.flags.writeable = False
    assert not cg.tensor(frozen).reshape(2, 3).data.flags.writeable


def test_the_error_types_are_exported() -> None:
    assert cg.InPlaceEditError is InPlaceEditError
    assert issubclass(InPlaceEditError, ValueError)


# ------------------------------------------------- built-in nodes with read-only views
def test_a_small_cnn_trains_on_read_only_views() -> None:
    rng = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, rng=rng),
        nn.BatchNorm2d(4),
        nn.MaxPool2d(2),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1, rng=rng),
        nn.AvgPool2d(2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 2 * 2, 3, rng=rng),
    )
    x = rng.random((6, 1, 10, 10), dtype=np.float32)
    x.flags.writeable = False  # as the data loader hands them out
    labels = rng.integers(0, 3, 6)
    optimizer = cg.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = cg.functional.cross_entropy(model(cg.tensor(x)), labels)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.data))
    assert losses[-1] < losses[0]
    assert all(writeable(p.data, p.grad) for p in model.parameters())
    assert all(writeable(b) for _, b in model.named_buffers())


@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_kernels_take_read_only_views(kernels) -> None:
    if kernels == "numba":
        pytest.importorskip("numba")
    with cg.kernels.using(kernels):
        rng = np.random.default_rng(1)
        x = cg.tensor(rng.random((2, 2, 6, 6)), requires_grad=True)
        w = cg.tensor(rng.random((3, 2, 3, 3)), requires_grad=True)
        y = cg.nodes.MaxPool2d(2)(cg.nodes.Conv2d(padding=1)(x, w)).relu()
        y = cg.nodes.AvgPool2d(3)(y)
        loss = cg.functional.cross_entropy(y.reshape(2, -1), np.array([0, 2]))
        loss.backward()
        assert writeable(x.grad, w.grad)
        assert np.isfinite(x.grad).all() and np.abs(w.grad).sum() > 0


class Identity(cg.Node):
    def forward(self, x):
        self.x = x
        return x

    def backward(self, grad_out):
        self.x[0] = 0  # writes into the saved input view: still refused
        return grad_out


def test_an_output_that_is_the_input_leaves_the_saved_view_read_only() -> None:
    x = cg.tensor(np.ones(3), requires_grad=True)
    y = Identity()(x)
    assert y.data.flags.writeable and np.shares_memory(y.data, x.data)
    with pytest.raises(InPlaceEditError, match=r"Identity\.backward writes into `self\.x`"):
        y.sum().backward()
    np.testing.assert_array_equal(x.data, [1, 1, 1])
