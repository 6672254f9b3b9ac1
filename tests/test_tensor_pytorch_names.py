"""PyTorch's names on Tensor (issue 14): each decision where NumPy and PyTorch spell one
thing two ways, or one spelling two ways, has its test here, named after it.

The operations themselves are gradchecked through their specs (tests/test_ops.py); these
tests hold the names, the defaults and the refusals, against PyTorch where it is installed.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import compgraph as cg
from compgraph import creation
from compgraph.tensor import Size, ValuesAndIndices


def t32(values, requires_grad: bool = False) -> cg.Tensor:
    return cg.tensor(np.asarray(values, dtype=np.float32), requires_grad=requires_grad)


def rows() -> cg.Tensor:
    """A 3 × 4 float64 tensor with distinct values and a known layout."""
    data = np.array([[3.0, -1.0, 2.5, 0.5], [-2.0, 4.0, 1.0, 0.0], [1.5, 1.0, -3.0, 2.0]])
    return cg.tensor(data, requires_grad=True)


# ----------------------------------------------------------------- size, numel, dim, tolist
def test_size_is_numpys_count_and_callable_as_pytorchs_shape() -> None:
    x = cg.tensor(np.zeros((2, 3, 4)))
    assert x.size == 24 and isinstance(x.size, int)  # NumPy: the element count
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4  # PyTorch: the shape
    assert x.size + 1 == 25 and x.size * 2 == 48
    assert type(pickle.loads(pickle.dumps(x.size))) is int
    assert copy.deepcopy(x.size) == 24
    assert isinstance(x.size, Size)


def test_size_call_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    data = np.zeros((2, 3, 4))
    ours, theirs = cg.tensor(data), torch.tensor(data)
    assert ours.size() == tuple(theirs.size())
    assert ours.size(1) == theirs.size(1)
    assert ours.numel() == theirs.numel() == ours.size
    assert ours.dim() == theirs.dim() == ours.ndim


def test_tolist_numel_and_dim() -> None:
    x = t32([[1.0, 2.0], [3.0, 4.0]])
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert type(x.tolist()[0][0]) is float
    assert cg.tensor(2.5).tolist() == 2.5
    assert x.numel() == 4 and x.dim() == 2


# ----------------------------------------------------------------- truth and comparisons
def test_bool_of_a_one_element_tensor_and_an_error_for_more() -> None:
    loss = t32([0.05])
    assert bool(loss < 0.1) is True
    assert not cg.tensor(0.0)
    with pytest.raises(ValueError, match=r"ambiguous; use t\.any"):
        bool(t32([1.0, 2.0]))
    with pytest.raises(ValueError, match="0 elements"):
        bool(cg.tensor(np.zeros(0)))


def test_comparisons_give_boolean_tensors_outside_the_graph() -> None:
    x = rows()
    for result, expected in [
        (x == 1.0, x.data == 1.0),
        (x != 1.0, x.data != 1.0),
        (x < 1.0, x.data < 1.0),
        (x <= 1.0, x.data <= 1.0),
        (x > 1.0, x.data > 1.0),
        (x >= 1.0, x.data >= 1.0),
        (x == x.data[0], x.data == x.data[0]),
        (1.0 < x, 1.0 < x.data),  # noqa: SIM300 (reflected: x.__gt__)
        (x.data[0] == x, x.data[0] == x.data),  # an ndarray on the left: still ours
    ]:
        assert isinstance(result, cg.Tensor)
        assert result.dtype == np.bool_ and result.node is None and not result.requires_grad
        np.testing.assert_array_equal(result.data, expected)
    assert (x == None) is False  # noqa: E711 (the test is of ==)
    assert (x != "text") is True


def test_comparisons_match_torch() -> None:
    torch = pytest.importorskip("torch")
    x = rows()
    theirs = torch.tensor(x.data)
    for op in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
        np.testing.assert_array_equal(getattr(x, op)(1.0).data, getattr(theirs, op)(1.0).numpy())


def test_tensors_stay_hashable_by_identity_with_eq_defined() -> None:
    a, b = rows(), rows()
    assert hash(a) != hash(b)
    assert len({a, b, a}) == 2
    assert {a: 1, b: 2}[b] == 2
    parameters = [a, b]
    assert a in parameters  # identity first, as for any list
    loss = (a * a + a * b).sum()  # a used three times: the engine keys by identity
    loss.backward()
    np.testing.assert_allclose(a.grad, 2 * a.data + b.data)


def test_any_and_all_outside_the_graph() -> None:
    x = rows()
    assert bool((x > -5).all()) and not bool((x > 3).all()) and bool((x > 3).any())
    np.testing.assert_array_equal((x > 0).any(dim=0).data, (x.data > 0).any(axis=0))
    assert (x > 0).all(axis=1, keepdims=True).shape == (3, 1)


def test_the_accuracy_line_ports() -> None:
    torch = pytest.importorskip("torch")
    logits = np.random.default_rng(0).standard_normal((8, 5)).astype(np.float32)
    labels = np.array([0, 1, 2, 3, 4, 0, 1, 2])
    ours = (cg.tensor(logits).argmax(dim=1) == cg.tensor(labels)).float().mean()
    theirs = (torch.tensor(logits).argmax(dim=1) == torch.tensor(labels)).float().mean()
    assert ours.dtype == np.float32
    assert ours.item() == pytest.approx(theirs.item())


# ----------------------------------------------------------------- axis / dim, keepdims / keepdim
@pytest.mark.parametrize("method", ["sum", "mean", "argmax", "argmin", "any", "all"])
def test_axis_and_dim_are_one_argument(method: str) -> None:
    x = rows()
    by_axis = getattr(x, method)(axis=1, keepdims=True)
    by_dim = getattr(x, method)(dim=1, keepdim=True)
    np.testing.assert_array_equal(by_axis.data, by_dim.data)
    assert by_dim.shape == (3, 1)
    with pytest.raises(TypeError, match="axis= and dim="):
        getattr(x, method)(axis=1, dim=1)
    with pytest.raises(TypeError, match="keepdims= and keepdim="):
        getattr(x, method)(axis=1, keepdims=True, keepdim=True)


def test_every_axis_spelling_is_taken_by_the_axis_methods() -> None:
    x = rows()
    np.testing.assert_allclose(x.softmax(dim=0).data, x.softmax(axis=0).data)
    np.testing.assert_allclose(x.log_softmax(dim=0).data, x.log_softmax(0).data)
    assert x.max(axis=1, keepdim=True).shape == (3, 1)
    assert x.var(dim=1, keepdims=True).shape == (3, 1)
    assert x.squeeze(dim=0).shape == x.unsqueeze(dim=0).squeeze(axis=0).shape == (3, 4)
    assert creation.cat([x, x], axis=1).shape == creation.cat([x, x], dim=1).shape == (3, 8)
    with pytest.raises(TypeError, match="axis= and dim="):
        creation.stack([x, x], axis=0, dim=0)


# ----------------------------------------------------------------- max / min with dim=
def test_max_dim_gives_values_and_indices_as_pytorch() -> None:
    torch = pytest.importorskip("torch")
    x = rows()
    result = x.max(dim=1)
    assert isinstance(result, ValuesAndIndices)
    values, indices = result  # unpacks, as torch.return_types.max does
    theirs = torch.tensor(x.data).max(dim=1)
    np.testing.assert_array_equal(values.data, theirs.values.numpy())
    np.testing.assert_array_equal(indices.data, theirs.indices.numpy())
    assert values.node is not None and indices.node is None and indices.dtype == np.int64
    kept = x.max(dim=0, keepdim=True)
    assert kept.values.shape == kept.indices.shape == (1, 4)
    result.values.sum().backward()
    np.testing.assert_array_equal(x.grad, np.eye(4)[indices.data])


def test_min_dim_gives_values_and_indices_as_pytorch() -> None:
    torch = pytest.importorskip("torch")
    x = rows()
    values, indices = x.min(dim=0)
    theirs = torch.tensor(x.data).min(dim=0)
    np.testing.assert_array_equal(values.data, theirs.values.numpy())
    np.testing.assert_array_equal(indices.data, theirs.indices.numpy())


def test_max_axis_gives_the_values_as_numpy() -> None:
    x = rows()
    result = x.max(axis=1)
    assert isinstance(result, cg.Tensor)
    np.testing.assert_array_equal(result.data, x.data.max(axis=1))
    np.testing.assert_array_equal(x.min(axis=0).data, x.data.min(axis=0))
    assert x.max().item() == 4.0 and x.min().item() == -3.0


@pytest.mark.parametrize("method", ["max", "min"])
def test_max_with_a_positional_axis_is_refused(method: str) -> None:
    with pytest.raises(TypeError, match=rf"{method}\(axis=\.\.\.\) for the values.*dim=\.\.\."):
        getattr(rows(), method)(1)
    with pytest.raises(TypeError, match="takes one axis"):
        getattr(rows(), method)(dim=(0, 1))


def test_min_ties_share_the_gradient_as_max_and_torch_amin_do() -> None:
    torch = pytest.importorskip("torch")
    data = np.array([[1.0, 0.0, 0.0], [2.0, 2.0, 5.0]])
    x = cg.tensor(data, requires_grad=True)
    x.min(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]])
    theirs = torch.tensor(data, requires_grad=True)
    theirs.amin(1).sum().backward()
    np.testing.assert_array_equal(x.grad, theirs.grad.numpy())


# ----------------------------------------------------------------- var / std
def test_var_dim_divides_by_n_minus_1_as_pytorch() -> None:
    torch = pytest.importorskip("torch")
    x = rows()
    np.testing.assert_allclose(x.var(dim=1).data, torch.tensor(x.data).var(dim=1).numpy())
    np.testing.assert_allclose(x.std(dim=0).data, torch.tensor(x.data).std(dim=0).numpy())
    np.testing.assert_allclose(x.var(dim=1).data, x.data.var(axis=1, ddof=1))


def test_var_axis_divides_by_n_as_numpy() -> None:
    x = rows()
    np.testing.assert_allclose(x.var(axis=1).data, x.data.var(axis=1))
    np.testing.assert_allclose(x.std(axis=0).data, x.data.std(axis=0))


def test_var_correction_ddof_and_unbiased_say_the_divisor() -> None:
    torch = pytest.importorskip("torch")
    x = rows()
    theirs = torch.tensor(x.data)
    np.testing.assert_allclose(x.var(ddof=1).data, theirs.var().numpy())
    np.testing.assert_allclose(x.var(correction=0).data, x.data.var())
    np.testing.assert_allclose(x.var(unbiased=False).data, theirs.var(unbiased=False).numpy())
    np.testing.assert_allclose(x.std(unbiased=True).data, theirs.std().numpy())
    np.testing.assert_allclose(x.var(dim=1, correction=0).data, x.data.var(axis=1))  # said wins
    np.testing.assert_allclose(x.var(axis=1, ddof=1).data, theirs.var(dim=1).numpy())
    np.testing.assert_allclose(x.var(1, ddof=0).data, x.data.var(axis=1))  # positional, said


@pytest.mark.parametrize("call", [lambda x: x.var(), lambda x: x.std(), lambda x: x.var(1)])
def test_var_without_an_axis_spelling_or_a_correction_is_refused(call) -> None:
    with pytest.raises(TypeError, match=r"divides by N \(ddof=0\), PyTorch by N - 1"):
        call(rows())


def test_var_refuses_two_corrections_or_two_axes() -> None:
    with pytest.raises(TypeError, match="ddof and correction"):
        rows().var(axis=0, ddof=0, correction=1)
    with pytest.raises(TypeError, match="twice"):
        rows().var(0, axis=0)


# ----------------------------------------------------------------- shape names
def test_transpose_of_two_axes_swaps_them_as_pytorch() -> None:
    torch = pytest.importorskip("torch")
    matrix = rows()
    np.testing.assert_array_equal(matrix.transpose(0, 1).data, matrix.data.T)  # not identity
    cube = cg.tensor(np.arange(24.0).reshape(2, 3, 4))
    for axes in [(0, 1), (0, 2), (-1, 1)]:
        np.testing.assert_array_equal(
            cube.transpose(*axes).data, torch.tensor(cube.data).transpose(*axes).numpy()
        )
    np.testing.assert_array_equal(cube.transpose(2, 0, 1).data, cube.data.transpose(2, 0, 1))
    np.testing.assert_array_equal(cube.transpose().data, cube.data.T)


def test_permute_is_numpys_transpose_of_axes() -> None:
    cube = cg.tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(cube.permute(1, 2, 0).data, cube.data.transpose(1, 2, 0))
    np.testing.assert_array_equal(cube.permute((1, 2, 0)).data, cube.data.transpose(1, 2, 0))


def test_view_takes_a_shape_not_a_dtype() -> None:
    x = rows()
    assert x.view(2, 6).shape == x.view((2, 6)).shape == x.view(-1, 6).shape == (2, 6)
    assert type(x.view(12).node).__name__ == "Reshape"
    for dtype in (np.int64, np.dtype("float32"), "float32"):
        with pytest.raises(TypeError, match="use astype"):
            x.view(dtype)


def test_flatten_follows_pytorch() -> None:
    torch = pytest.importorskip("torch")
    data = np.zeros((2, 3, 4, 5))
    x, theirs = cg.tensor(data), torch.tensor(data)
    for args in [(), (1,), (1, 2), (0, -2), (-1,), (2, 2)]:
        assert x.flatten(*args).shape == tuple(theirs.flatten(*args).shape), args
    assert cg.tensor(3.0).flatten().shape == (1,) == tuple(torch.tensor(3.0).flatten().shape)
    with pytest.raises(TypeError, match="order"):
        x.flatten("F")
    with pytest.raises(ValueError, match="comes after"):
        x.flatten(2, 1)


def test_squeeze_of_an_axis_longer_than_1_keeps_it_as_pytorch() -> None:
    torch = pytest.importorskip("torch")
    data = np.zeros((3, 1, 4, 1))
    x, theirs = cg.tensor(data), torch.tensor(data)
    for kwargs in [{}, {"dim": 0}, {"dim": 1}, {"dim": -1}, {"dim": (0, 1)}]:
        assert x.squeeze(**kwargs).shape == tuple(theirs.squeeze(**kwargs).shape), kwargs
    assert x.squeeze(axis=1).shape == np.squeeze(data, axis=1).shape


def test_unsqueeze_matches_torch_and_numpy() -> None:
    torch = pytest.importorskip("torch")
    data = np.zeros((3, 4))
    x = cg.tensor(data)
    for position in (0, 1, 2, -1, -3):
        expected = tuple(torch.tensor(data).unsqueeze(position).shape)
        assert x.unsqueeze(position).shape == expected == np.expand_dims(data, position).shape
    with pytest.raises(TypeError, match="position"):
        x.unsqueeze()


# ----------------------------------------------------------------- dtypes
def test_numpy_scalars_do_not_promote_float32() -> None:
    x = t32([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    d = np.float64(64.0)
    results = [
        x * np.float64(2), np.float64(2) * x, x / np.sqrt(d), np.sqrt(d) / x, x + np.float64(1),
        np.float64(1) - x, x - np.array(1.0), 2.0**x, np.float64(2.0) ** x, x ** np.float64(2),
        x ** np.int64(3), x * np.float32(2), x + np.int64(1), x.clamp(np.float64(0), d),
        creation.where(x > 2, x, np.float64(0)),
    ]  # fmt: skip
    for result in results:
        assert result.dtype == np.float32, result
    sum(result.sum() for result in results).backward()
    assert x.grad is not None and x.grad.dtype == np.float32


def test_numpy_scalars_do_not_promote_float32_in_torch_either() -> None:
    torch = pytest.importorskip("torch")
    theirs = torch.ones(2, dtype=torch.float32)
    assert (theirs * np.float64(2)).dtype == torch.float32
    assert (t32([1.0, 1.0]) * np.float64(2)).dtype == np.float32


def test_arrays_with_dimensions_still_promote_as_numpy() -> None:
    x = t32([1.0, 2.0])
    assert (x * np.array([2.0, 3.0])).dtype == np.float64
    assert (x * cg.tensor(2.0)).dtype == np.float64  # a 0-d *tensor* is an operand, as before


def test_float_is_a_differentiable_cast() -> None:
    torch = pytest.importorskip("torch")
    data = np.array([[0.1, 0.2], [0.3, 0.4]])
    x = cg.tensor(data, requires_grad=True)
    y = x.float()
    assert y.dtype == np.float32 and type(y.node).__name__ == "Cast"
    (y * y).sum().backward()
    assert x.grad is not None and x.grad.dtype == np.float64
    theirs = torch.tensor(data, requires_grad=True)
    (theirs.float() * theirs.float()).sum().backward()
    np.testing.assert_allclose(x.grad, theirs.grad.numpy(), rtol=1e-6)
    assert x.double().dtype == np.float64 and x.astype(np.float32).dtype == np.float32


def test_long_and_a_cast_to_integers_leave_the_graph() -> None:
    x = cg.tensor(np.array([0.4, 1.6, 2.2]), requires_grad=True)
    labels = x.long()
    assert labels.dtype == np.int64 and labels.node is None and not labels.requires_grad
    assert labels.tolist() == [0, 1, 2]
    assert x.astype(np.int32).node is None


def test_tensor_of_python_floats_is_float64_as_numpy() -> None:
    # PyTorch's torch.tensor([1.0]) is float32; cg.tensor keeps NumPy's rule (documented on
    # Tensor). The creation functions below default to float32, as PyTorch's.
    assert cg.tensor([1.0, 2.0]).dtype == np.float64
    assert cg.tensor([1.0, 2.0], dtype=np.float32).dtype == np.float32


# ----------------------------------------------------------------- creation
def test_creation_functions_default_to_float32_and_take_pytorchs_shapes() -> None:
    for make in (creation.zeros, creation.ones, creation.randn, creation.rand):
        a, b = make(2, 3), make((2, 3))
        assert a.shape == b.shape == (2, 3) and a.dtype == b.dtype == np.float32
        assert make(2, dtype=np.float64).dtype == np.float64
        assert make([4]).shape == (4,)
    assert creation.zeros(2, 3, requires_grad=True).requires_grad
    assert creation.eye(3).dtype == np.float32 and creation.eye(2, 3).shape == (2, 3)
    np.testing.assert_array_equal(creation.ones(2, 2).data, np.ones((2, 2)))
    x = rows()
    assert creation.zeros_like(x).dtype == np.float64 and creation.zeros_like(x).shape == (3, 4)
    assert creation.ones_like(x, dtype=np.float32).dtype == np.float32
    assert creation.full_like(x, 7).data.max() == 7 and not creation.zeros_like(x).requires_grad
    assert creation.full((2, 2), 1.5).dtype == np.float32
    assert creation.full(3, 2).dtype == np.int64 and creation.full(3, True).dtype == np.bool_
    np.testing.assert_allclose(creation.linspace(0, 1, 5).data, [0, 0.25, 0.5, 0.75, 1])


def test_creation_matches_torch_dtypes() -> None:
    torch = pytest.importorskip("torch")
    names = {np.dtype(np.float32): torch.float32, np.dtype(np.int64): torch.int64}
    for ours, theirs in [
        (creation.zeros(2), torch.zeros(2)),
        (creation.full((2,), 3), torch.full((2,), 3)),
        (creation.full((2,), 3.0), torch.full((2,), 3.0)),
        (creation.arange(5), torch.arange(5)),
        (creation.arange(0, 1, 0.25), torch.arange(0, 1, 0.25)),
        (creation.linspace(0, 1, 3), torch.linspace(0, 1, 3)),
    ]:
        assert names[ours.dtype] == theirs.dtype
        np.testing.assert_allclose(ours.data, theirs.numpy())


def test_arange_dtype_follows_pytorch() -> None:
    assert creation.arange(4).dtype == np.int64
    assert creation.arange(4).tolist() == [0, 1, 2, 3]
    assert creation.arange(1, 7, 2).tolist() == [1, 3, 5]
    assert creation.arange(0.0, 1.0, 0.5).dtype == np.float32  # NumPy's would be float64
    assert creation.arange(3, dtype=np.float64).dtype == np.float64


def test_randn_is_seeded_by_rng_or_generator() -> None:
    a = creation.randn(3, 4, rng=0)
    b = creation.randn(3, 4, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_allclose(creation.randn(3, 4, rng=0, dtype=np.float64).data, a.data, 1e-6)
    assert not np.array_equal(creation.randn(3, 4, rng=1).data, a.data)
    uniform = creation.rand(100, rng=0).data
    assert uniform.min() >= 0 and uniform.max() < 1
    labels = creation.randint(10, size=(50,), rng=0)
    assert labels.dtype == np.int64 and labels.data.min() >= 0 and labels.data.max() < 10
    assert creation.randint(5, 7, size=4, rng=0).data.min() >= 5
    with pytest.raises(TypeError, match="rng= and generator="):
        creation.randn(2, rng=0, generator=0)
    with pytest.raises(TypeError, match="Generator"):
        creation.randn(2, rng="seed")


# ----------------------------------------------------------------- joining and choosing
def test_cat_and_stack_match_torch_with_gradients() -> None:
    torch = pytest.importorskip("torch")
    a_data, b_data = np.arange(6.0).reshape(2, 3), np.arange(6.0, 9.0).reshape(1, 3)
    a, b = cg.tensor(a_data, requires_grad=True), cg.tensor(b_data, requires_grad=True)
    ta, tb = (torch.tensor(d, requires_grad=True) for d in (a_data, b_data))
    weights = np.arange(9.0).reshape(3, 3)
    (creation.cat([a, b]) * weights).sum().backward()
    (torch.cat([ta, tb]) * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(a.grad, ta.grad.numpy())
    np.testing.assert_array_equal(b.grad, tb.grad.numpy())
    stacked = creation.stack([a, a], dim=1)
    assert stacked.shape == tuple(torch.stack([ta, ta], dim=1).shape) == (2, 2, 3)


def test_cat_and_stack_take_a_list_of_tensors() -> None:
    x = rows()
    for join in (creation.cat, creation.stack):
        with pytest.raises(TypeError, match="list or tuple"):
            join(x)
        with pytest.raises(ValueError, match="at least one"):
            join([])
    with pytest.raises(cg.ShapeError, match="0-d"):
        creation.cat([cg.tensor(1.0), cg.tensor(2.0)])
    assert creation.cat([x, x.data]).shape == (6, 4)  # arrays join too


def test_where_takes_a_boolean_condition_and_numbers() -> None:
    torch = pytest.importorskip("torch")
    x = rows()
    ours = creation.where(x > 1, x, 0.0)
    theirs = torch.where(torch.tensor(x.data) > 1, torch.tensor(x.data), 0.0)
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    ours.sum().backward()
    np.testing.assert_array_equal(x.grad, (x.data > 1).astype(float))
    np.testing.assert_array_equal(creation.where(x.data > 1, -1.0, x).data[0], [-1, -1, -1, 0.5])
    with pytest.raises(TypeError, match="boolean condition"):
        creation.where(x.data, x, 0.0)


# ----------------------------------------------------------------- element-wise
def test_abs_sqrt_clamp_match_torch_with_gradients() -> None:
    torch = pytest.importorskip("torch")
    data = np.array([[-2.0, -0.5, 0.25], [0.75, 1.5, 3.0]])
    for ours_fn, torch_fn in [
        (lambda t: t.abs(), lambda t: t.abs()),
        (lambda t: abs(t), lambda t: abs(t)),
        (lambda t: t.abs().sqrt(), lambda t: t.abs().sqrt()),
        (lambda t: t.clamp(-1, 1), lambda t: t.clamp(-1, 1)),
        (lambda t: t.clamp(min=0.5), lambda t: t.clamp(min=0.5)),
        (lambda t: t.clip(max=0.5), lambda t: t.clip(max=0.5)),
        (lambda t: t.clamp(-0.5, 0.75), lambda t: t.clamp(-0.5, 0.75)),  # on the bounds
    ]:
        x, theirs = cg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        ours_fn(x).sum().backward()
        torch_fn(theirs).sum().backward()
        np.testing.assert_allclose(ours_fn(x).data, torch_fn(theirs).detach().numpy())
        np.testing.assert_allclose(x.grad, theirs.grad.numpy())


def test_clamp_takes_number_bounds() -> None:
    x = rows()
    with pytest.raises(TypeError, match="min=, max= or both"):
        x.clamp()
    with pytest.raises(TypeError, match=r"cg\.where"):
        x.clamp(min=x)
    assert x.clamp(np.array(0.0), np.float64(1)).data.max() == 1.0


# ----------------------------------------------------------------- a model's lines, ported
def test_a_pytorch_snippet_ports_line_by_line() -> None:
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(0).standard_normal((4, 2, 3, 3)).astype(np.float32)

    def run(lib, x):  # the same lines for both libraries
        h = x.flatten(1)
        h = (h - h.mean(dim=1, keepdim=True)) / (h.var(dim=1, keepdim=True) + 1e-5).sqrt()
        h = h.view(4, 2, 9).permute(0, 2, 1).transpose(1, 2).unsqueeze(1).squeeze(1)
        h = lib.cat([h, h.abs()], dim=1).clamp(min=-1.5, max=3.5)
        values, indices = h.max(dim=-1)
        h = lib.stack([values, values * np.float64(0.5)], dim=0)
        return lib.where(h > 0, h, h * 0.1).sum() + (indices == 0).float().mean()

    ours = run(creation, cg.tensor(data, requires_grad=True))
    theirs = run(torch, torch.tensor(data, requires_grad=True))
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-5)
