"""Property tests (hypothesis): broadcasting, reductions, softmax, linearity, no_grad."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import compgraph as cg
from compgraph import nodes

FINITE = st.floats(-10, 10, allow_nan=False, width=64)
settings.register_profile("compgraph", deadline=None, max_examples=60)
settings.load_profile("compgraph")


@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4), st.data())
def test_broadcast_gradients_are_sums_over_the_broadcast_axes(shapes, data) -> None:
    a_shape, b_shape = shapes.input_shapes
    a = cg.tensor(data.draw(hnp.arrays(np.float64, a_shape, elements=FINITE)), requires_grad=True)
    b = cg.tensor(data.draw(hnp.arrays(np.float64, b_shape, elements=FINITE)), requires_grad=True)
    out = a * b
    assert out.shape == shapes.result_shape
    out.backward(np.ones(out.shape))
    assert a.grad.shape == a_shape and b.grad.shape == b_shape
    # d(sum a*b)/da = b summed over the axes broadcasting added to a
    expected = np.broadcast_to(b.data, out.shape)
    expected = expected.sum(axis=tuple(range(out.ndim - a.ndim))) if out.ndim > a.ndim else expected
    expected = expected.sum(axis=tuple(i for i, s in enumerate(a_shape) if s == 1), keepdims=True)
    np.testing.assert_allclose(a.grad, expected.reshape(a_shape))


@given(
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), elements=FINITE),
    st.data(),
    st.booleans(),
)
def test_sum_and_mean_gradients_over_any_axes(x, data, keepdims) -> None:
    axes = data.draw(st.lists(st.integers(0, x.ndim - 1), unique=True, min_size=1).map(tuple))
    count = int(np.prod([x.shape[a] for a in axes]))
    for method, scale in (("sum", 1.0), ("mean", 1.0 / count)):
        t = cg.tensor(x, requires_grad=True)
        out = getattr(t, method)(axis=axes, keepdims=keepdims)
        np.testing.assert_allclose(out.data, getattr(x, method)(axis=axes, keepdims=keepdims))
        grad_out = np.arange(out.size, dtype=float).reshape(out.shape) + 1
        out.backward(grad_out)
        expanded = grad_out if keepdims else np.expand_dims(grad_out, axes)
        np.testing.assert_allclose(t.grad, np.broadcast_to(expanded, x.shape) * scale)


@given(
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5), elements=FINITE),
    st.integers(0, 2**32 - 1),
)
def test_softmax_rows_sum_to_one_and_gradient_rows_sum_to_zero(x, seed) -> None:
    t = cg.tensor(x, requires_grad=True)
    y = nodes.Softmax()(t)
    np.testing.assert_allclose(y.data.sum(axis=-1), 1.0)
    assert (y.data >= 0).all()
    y.backward(np.random.default_rng(seed).standard_normal(x.shape))
    np.testing.assert_allclose(t.grad.sum(axis=-1), 0.0, atol=1e-10)


@given(
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=5), elements=FINITE),
    st.floats(-1e3, 1e3),
)
def test_softmax_is_shift_invariant(x, shift) -> None:
    y = nodes.Softmax()(cg.tensor(x)).data
    shifted = nodes.Softmax()(cg.tensor(x + shift)).data
    np.testing.assert_allclose(y, shifted, atol=1e-9)


@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 5)), elements=FINITE),
    st.floats(-5, 5, allow_nan=False),
)
def test_gradients_scale_linearly_with_grad_out(x, scale) -> None:
    grads = []
    for factor in (1.0, scale):
        t = cg.tensor(x, requires_grad=True)
        out = (t.tanh() * t).log_softmax()
        out.backward(factor * np.ones(out.shape))
        grads.append(t.grad)
    np.testing.assert_allclose(grads[1], scale * grads[0], atol=1e-9)


@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4), elements=FINITE))
def test_no_grad_builds_nothing(x) -> None:
    t = cg.tensor(x, requires_grad=True)
    with cg.no_grad():
        out = (t * t + t.exp()).sum()
    assert out.node is None and not out.requires_grad
