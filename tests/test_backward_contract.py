"""What a node's backward may return, and the one clear error for anything else."""

from __future__ import annotations

import numpy as np
import pytest

import compgraph as cg
from compgraph.graph import BackwardError


class Doubling(cg.Node):
    """y = 2x, with a backward that returns whatever the test sets."""

    def __init__(self, returned):
        self.returned = returned

    def forward(self, x):
        return 2 * x

    def backward(self, grad_out):
        return self.returned(grad_out)


class Pair(cg.Node):
    """y = x + 0·t for an input x and a second input t, with a configurable backward."""

    def __init__(self, returned):
        self.returned = returned

    def forward(self, x, t):
        return x + 0 * t

    def backward(self, grad_out):
        return self.returned(grad_out)


def leaf(shape=(1, 3), requires_grad=True):
    return cg.tensor(np.ones(shape), requires_grad=requires_grad)


def test_a_gradient_larger_than_broadcasting_allows_is_an_error() -> None:
    # The forward broadcast nothing: the output is (1, 3). A (2, 3) gradient used to be
    # summed silently into twice the right value.
    x = leaf()
    y = Doubling(lambda g: np.ones((2, 3)))(x)
    with pytest.raises(BackwardError, match=r"Doubling\.backward returned a gradient of shape"):
        y.sum().backward()


def test_broadcast_inputs_still_get_their_gradient_summed() -> None:
    a, b = leaf((1, 3)), leaf((2, 3))
    (a + b).sum().backward()
    np.testing.assert_array_equal(a.grad, [[2, 2, 2]])
    c = leaf((3,))
    (c * leaf((4, 2, 3))).sum().backward()
    np.testing.assert_array_equal(c.grad, [8, 8, 8])


def test_a_list_is_accepted_like_a_tuple() -> None:
    x, t = leaf(), leaf()
    Pair(lambda g: [g, 2 * g])(x, t).sum().backward()
    np.testing.assert_array_equal(t.grad, [[2, 2, 2]])


def test_one_array_serves_a_node_whose_other_inputs_need_no_gradient() -> None:
    # The notebook's CrossEntropy returns dx alone; its second input is the target.
    x, t = leaf(), leaf(requires_grad=False)
    Pair(lambda g: 3 * g)(x, t).sum().backward()
    np.testing.assert_array_equal(x.grad, [[3, 3, 3]])


def test_one_array_for_a_node_whose_other_input_needs_a_gradient_is_an_error() -> None:
    x, t = leaf(), leaf()
    y = Pair(lambda g: 3 * g)(x, t).sum()
    with pytest.raises(BackwardError, match=r"Pair\.backward returned one gradient.*tuple"):
        y.backward()


def test_a_wrong_count_says_what_to_return() -> None:
    y = Pair(lambda g: (g, g, g))(leaf(), leaf()).sum()
    with pytest.raises(BackwardError, match=r"returned 3 gradient\(s\) for 2 input\(s\); return"):
        y.backward()


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        (lambda g: cg.tensor(g), r"returned a Tensor for input 0; .*\(\.data\)"),
        (lambda g: "gradient", r"returned a str for input 0"),
        (lambda g: np.ones((1, 3), dtype=int), r"returned a int64 gradient"),
    ],
)
def test_a_gradient_that_is_not_a_float_array_is_an_error(returned, message) -> None:
    y = Doubling(returned)(leaf()).sum()
    with pytest.raises(BackwardError, match=message):
        y.backward()


def test_complex_values_do_not_silently_drop_the_gradient_path() -> None:
    x = leaf()
    with pytest.raises(TypeError, match=r"Mul: the output is complex128.*real"):
        x * cg.tensor(np.array([1j, 2, 3]))
