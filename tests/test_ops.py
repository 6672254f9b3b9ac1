"""Every operation, gradchecked in float64, checked against NumPy and, if installed, PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import compgraph as cg
from compgraph.node import Node
from compgraph.testing import LAB_SPECS, NOT_OPERATIONS, SPECS, OpSpec, case_ids, spec_for

CASES = [
    pytest.param(spec, shapes, id=f"{spec.name}-{case_id}")
    for spec in SPECS
    for shapes, case_id in zip(spec.cases, case_ids(spec), strict=True)
]


def make_tensors(
    spec: OpSpec, shapes, dtype=np.float64, layout: str = "contiguous", seed: int = 0
) -> list[cg.Tensor]:
    return spec.make_tensors(shapes, dtype=dtype, layout=layout, seed=seed)


def test_every_builtin_node_has_a_spec() -> None:
    builtin = {
        cls
        for name, cls in Node.registry.items()
        if name.startswith("compgraph.nodes.") and not cls.__name__.startswith("_")
    }
    covered = {node for spec in SPECS for node in spec.nodes}
    missing = sorted(cls.__name__ for cls in builtin - covered)
    assert not missing, f"nodes without a spec in compgraph/testing/specs.py: {missing}"


def test_every_tensor_operation_has_a_spec() -> None:
    public = {
        name for name in dir(cg.Tensor) if not name.startswith("_") or name in _OPERATOR_METHODS
    }
    operations = public - NOT_OPERATIONS
    covered = {method for spec in SPECS for method in spec.methods}
    missing = sorted(operations - covered)
    assert not missing, f"Tensor operations without a spec in compgraph/testing/specs.py: {missing}"


_OPERATOR_METHODS = {
    f"__{op}__" for base in ("add", "sub", "mul", "truediv", "matmul", "pow")
    for op in (base, "r" + base)
} | {"__neg__", "__getitem__"}  # fmt: skip


@pytest.mark.parametrize("layout", ["contiguous", "noncontiguous"])
@pytest.mark.parametrize(("spec", "shapes"), CASES)
def test_gradcheck(spec: OpSpec, shapes, layout: str) -> None:
    inputs = make_tensors(spec, shapes, layout=layout)
    output = spec.fn(*inputs)
    assert type(output.node) in spec.nodes, f"{spec.name} applied {type(output.node).__name__}"
    assert cg.gradcheck(spec.fn, *inputs)


@pytest.mark.parametrize(("spec", "shapes"), CASES)
def test_forward_matches_numpy(spec: OpSpec, shapes) -> None:
    inputs = make_tensors(spec, shapes)
    expected = spec.reference(*(t.data for t in inputs))
    output = spec.fn(*inputs)
    np.testing.assert_allclose(output.data, expected, rtol=1e-12, atol=1e-12)
    assert output.shape == np.shape(expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("spec", "shapes"), CASES)
def test_dtype_is_kept_in_values_and_gradients(spec: OpSpec, shapes, dtype) -> None:
    inputs = make_tensors(spec, shapes, dtype=dtype)
    output = spec.fn(*inputs)
    if spec.keeps_dtype:
        assert output.dtype == dtype
    output.backward(np.ones(output.shape, dtype=output.dtype))
    for tensor in inputs:
        if tensor.requires_grad:
            assert tensor.grad is not None
            assert tensor.grad.dtype == dtype
            assert tensor.grad.shape == tensor.shape
    if dtype == np.float32:  # float32 results agree with the float64 reference to float32 precision
        reference = spec.reference(*(t.data.astype(np.float64) if t.requires_grad else t.data
                                     for t in inputs))  # fmt: skip
        np.testing.assert_allclose(output.data, reference, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize(("spec", "shapes"), [c for c in CASES if c.values[0].torch_fn])
def test_matches_torch(spec: OpSpec, shapes) -> None:
    torch = pytest.importorskip("torch")
    inputs = make_tensors(spec, shapes, seed=1)
    output = spec.fn(*inputs)
    grad_out = np.random.default_rng(2).standard_normal(output.shape)
    output.backward(grad_out)

    torch_inputs = [torch.tensor(t.data, requires_grad=t.requires_grad) for t in inputs]
    torch_output = spec.torch_fn(*torch_inputs)
    torch_output.backward(torch.tensor(grad_out))
    np.testing.assert_allclose(output.data, torch_output.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(inputs, torch_inputs, strict=True):
        if ours.requires_grad:
            np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_spec_names_are_unique_and_every_lab_node_has_a_spec() -> None:
    names = [spec.name for spec in SPECS]
    assert len(names) == len(set(names))
    for class_name, spec_name in LAB_SPECS.items():
        spec = spec_for(class_name)
        assert spec.name == spec_name
        assert class_name in {cls.__name__ for cls in spec.nodes}
        for shapes in spec.lab_cases or spec.cases:
            assert shapes in spec.cases


def test_the_lab_cross_entropy_differentiates_x_only() -> None:
    x, p = spec_for("CrossEntropy").make_tensors(((2, 3), (2, 3)))
    assert x.requires_grad and not p.requires_grad


def test_spec_for_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(LookupError, match="Sigmoid"):
        spec_for("NoSuchNode")
