"""Op specs for the tensor operations a PyTorch user expects (comparisons, joins, shapes).

Gathered into :data:`compgraph.testing.specs.SPECS`; see :class:`~compgraph.testing.opspec.OpSpec`.
Each ``torch_fn`` is the line a PyTorch user would write; ``fn`` the same line in compgraph.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph import creation, nodes
from compgraph.testing.makers import away_from_zero, distinct
from compgraph.testing.opspec import ELEMENTWISE, POSITIVE, UNARY, OpSpec

Array = NDArray[Any]


def _clamp_inputs(rng: np.random.Generator, shape: tuple[int, ...]) -> Array:
    """Values in ±[0.05, 0.45] (inside [-1, 1]) or ±[1.3, 1.7] (clamped): no input near the
    bounds ±1 nor near 0, the kinks of ``clamp(-1, 1)``, ``clamp(min=0)``, ``clip(max=1)``."""
    centres = rng.choice([-1.5, -0.25, 0.25, 1.5], shape)
    return centres + rng.uniform(-0.2, 0.2, shape)


def _condition(*arrays: Any) -> Array:
    """A fixed boolean pattern in the arrays' broadcast shape, the same for every call."""
    shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
    return np.random.default_rng(0).random(shape) < 0.5


def _where_reference(a: Array, b: Array) -> Array:
    chosen: Array = np.where(_condition(a, b), a, b)
    return chosen


def _torch_condition(*tensors: Any) -> Any:
    import torch

    return torch.tensor(_condition(*(t.detach().numpy() for t in tensors)))


def _squeeze_dims(a: Array, axes: tuple[int, ...]) -> Array:
    """PyTorch's squeeze(dims): drop those of the axes that have length 1."""
    return np.squeeze(a, axis=tuple(i for i in axes if a.shape[i] == 1))


JOIN_ROWS = ((2, 3), (4, 3)), ((1, 5), (2, 5)), ((2, 3, 4), (1, 3, 4))
SAME = ((3, 4), (3, 4)), ((1, 5), (1, 5)), ((2,), (2,)), ((2, 1, 3), (2, 1, 3))
SQUEEZABLE = ((3, 1, 4),), ((1, 5),), ((1, 1),), ((2, 3),)

TENSOR_SPECS: list[OpSpec] = [
    # ---- element-wise
    OpSpec("abs", lambda a: a.abs(), ELEMENTWISE, (nodes.Abs,), np.abs, makers=(away_from_zero,),
           torch_fn=lambda a: a.abs(), methods=("abs",)),
    OpSpec("sqrt", lambda a: a.sqrt(), ELEMENTWISE, (nodes.Sqrt,), np.sqrt, makers=(POSITIVE,),
           torch_fn=lambda a: a.sqrt(), methods=("sqrt",)),
    OpSpec("clamp", lambda a: a.clamp(-1.0, 1.0), ELEMENTWISE, (nodes.Clamp,),
           lambda a: np.clip(a, -1.0, 1.0), makers=(_clamp_inputs,),
           torch_fn=lambda a: a.clamp(-1.0, 1.0), methods=("clamp",)),
    OpSpec("clamp_min", lambda a: a.clamp(min=0.0), ELEMENTWISE, (nodes.Clamp,),
           lambda a: np.maximum(a, 0.0), makers=(_clamp_inputs,),
           torch_fn=lambda a: a.clamp(min=0.0)),
    OpSpec("clip_max", lambda a: a.clip(max=np.float64(1.0)), ELEMENTWISE, (nodes.Clamp,),
           lambda a: np.minimum(a, 1.0), makers=(_clamp_inputs,),
           torch_fn=lambda a: a.clip(max=1.0), methods=("clip",)),
    # A float64 gradcheck cannot see through a cast to float32 (it rounds the step away), so
    # `float` is exercised by the float32 test in tests/test_tensor_pytorch_names.py.
    OpSpec("double", lambda a: a.double(), ELEMENTWISE, (nodes.Cast,),
           lambda a: a.astype(np.float64), torch_fn=lambda a: a.double(),
           methods=("double", "astype", "float"), keeps_dtype=False),
    # ---- reductions
    OpSpec("min_all", lambda a: a.min(), UNARY, (nodes.Min,), np.min, makers=(distinct,),
           torch_fn=lambda a: a.min(), methods=("min",)),
    OpSpec("min_axis_keepdims", lambda a: a.min(axis=1, keepdims=True), UNARY, (nodes.Min,),
           lambda a: a.min(axis=1, keepdims=True), makers=(distinct,),
           torch_fn=lambda a: a.amin(1, keepdim=True)),
    OpSpec("min_dim_values", lambda a: a.min(dim=-1).values, UNARY, (nodes.Min,),
           lambda a: a.min(axis=-1), makers=(distinct,),
           torch_fn=lambda a: a.min(dim=-1).values),
    OpSpec("max_dim_keepdim_values", lambda a: a.max(dim=0, keepdim=True).values, UNARY,
           (nodes.Max,), lambda a: a.max(axis=0, keepdims=True), makers=(distinct,),
           torch_fn=lambda a: a.max(dim=0, keepdim=True).values),
    OpSpec("sum_dim_keepdim", lambda a: a.sum(dim=-1, keepdim=True), UNARY, (nodes.Sum,),
           lambda a: a.sum(axis=-1, keepdims=True), torch_fn=lambda a: a.sum(dim=-1, keepdim=True)),
    OpSpec("mean_dim_list", lambda a: a.mean(dim=[0, 1]), UNARY, (nodes.Mean,),
           lambda a: a.mean(axis=(0, 1)), torch_fn=lambda a: a.mean(dim=[0, 1])),
    OpSpec("var_dim_unbiased", lambda a: a.var(dim=-1), UNARY, (nodes.Var,),
           lambda a: a.var(axis=-1, ddof=1), torch_fn=lambda a: a.var(dim=-1),
           methods=("var",)),
    OpSpec("var_axis_numpy", lambda a: a.var(axis=-1, keepdims=True), UNARY, (nodes.Var,),
           lambda a: a.var(axis=-1, keepdims=True),
           torch_fn=lambda a: a.var(dim=-1, correction=0, keepdim=True)),
    OpSpec("var_all_correction", lambda a: a.var(correction=1), UNARY, (nodes.Var,),
           lambda a: a.var(ddof=1), torch_fn=lambda a: a.var()),
    OpSpec("var_axes_ddof", lambda a: a.var(axis=(0, 2), ddof=1), (((2, 3, 4),), ((3, 2, 2),)),
           (nodes.Var,), lambda a: a.var(axis=(0, 2), ddof=1),
           torch_fn=lambda a: a.var(dim=(0, 2))),
    OpSpec("std_dim_unbiased", lambda a: a.std(dim=-1), UNARY, (nodes.Sqrt,),
           lambda a: a.std(axis=-1, ddof=1), torch_fn=lambda a: a.std(dim=-1),
           methods=("std",)),
    OpSpec("std_axis_numpy", lambda a: a.std(axis=-1), UNARY, (nodes.Sqrt,),
           lambda a: a.std(axis=-1), torch_fn=lambda a: a.std(dim=-1, unbiased=False)),
    # ---- joining and choosing
    OpSpec("cat", lambda a, b: creation.cat([a, b]), JOIN_ROWS, (nodes.Concat,),
           lambda a, b: np.concatenate([a, b]), torch_fn=lambda a, b: _torch().cat([a, b])),
    OpSpec("cat_dim_last_three", lambda a, b, c: creation.cat((a, b, c), dim=-1),
           (((3, 2), (3, 4), (3, 1)), ((2,), (3,), (1,)), ((2, 1, 2), (2, 1, 1), (2, 1, 3))),
           (nodes.Concat,), lambda a, b, c: np.concatenate([a, b, c], axis=-1),
           torch_fn=lambda a, b, c: _torch().cat((a, b, c), dim=-1)),
    OpSpec("stack", lambda a, b: creation.stack([a, b]), SAME, (nodes.Stack,),
           lambda a, b: np.stack([a, b]), torch_fn=lambda a, b: _torch().stack([a, b])),
    OpSpec("stack_dim_last", lambda a, b: creation.stack([a, b], dim=-1), SAME, (nodes.Stack,),
           lambda a, b: np.stack([a, b], axis=-1),
           torch_fn=lambda a, b: _torch().stack([a, b], dim=-1)),
    OpSpec("where", lambda a, b: creation.where(_condition(a.data, b.data), a, b),
           (((3, 4), (3, 4)), ((1, 4), (3, 1)), ((4,), (2, 3, 4)), ((), ())), (nodes.Where,),
           lambda a, b: _where_reference(a, b),
           torch_fn=lambda a, b: _torch().where(_torch_condition(a, b), a, b)),
    OpSpec("where_scalar", lambda a: creation.where(a > 0, a, 0.0), ELEMENTWISE, (nodes.Where,),
           lambda a: np.where(a > 0, a, 0.0), makers=(away_from_zero,),
           torch_fn=lambda a: _torch().where(a > 0, a, 0.0)),
    # ---- shape
    OpSpec("squeeze_all", lambda a: a.squeeze(), SQUEEZABLE, (nodes.Reshape,), np.squeeze,
           torch_fn=lambda a: a.squeeze(), methods=("squeeze",)),
    OpSpec("squeeze_dim", lambda a: a.squeeze(dim=0), SQUEEZABLE, (nodes.Reshape,),
           lambda a: _squeeze_dims(a, (0,)), torch_fn=lambda a: a.squeeze(dim=0)),
    OpSpec("unsqueeze", lambda a: a.unsqueeze(1), ELEMENTWISE[:3], (nodes.Reshape,),
           lambda a: np.expand_dims(a, 1), torch_fn=lambda a: a.unsqueeze(1),
           methods=("unsqueeze",)),
    OpSpec("unsqueeze_last", lambda a: a.unsqueeze(dim=-1), ELEMENTWISE, (nodes.Reshape,),
           lambda a: np.expand_dims(a, -1), torch_fn=lambda a: a.unsqueeze(dim=-1)),
    OpSpec("view", lambda a: a.view(-1, 2), (((3, 4),), ((2, 3, 4),), ((1, 2),)),
           (nodes.Reshape,), lambda a: a.reshape(-1, 2), torch_fn=lambda a: a.view(-1, 2),
           methods=("view",)),
    OpSpec("flatten", lambda a: a.flatten(), ELEMENTWISE, (nodes.Reshape,),
           lambda a: a.reshape(-1), torch_fn=lambda a: a.flatten(), methods=("flatten",)),
    OpSpec("flatten_from_1", lambda a: a.flatten(1), (((2, 3, 4),), ((1, 5),), ((2, 3, 1, 2),)),
           (nodes.Reshape,), lambda a: a.reshape(a.shape[0], -1),
           torch_fn=lambda a: a.flatten(1)),
    OpSpec("flatten_middle", lambda a: a.flatten(1, 2), (((2, 3, 4, 2),), ((1, 2, 1, 3),)),
           (nodes.Reshape,), lambda a: a.reshape(a.shape[0], -1, a.shape[-1]),
           torch_fn=lambda a: a.flatten(1, 2)),
    OpSpec("permute", lambda a: a.permute(2, 0, 1), (((2, 3, 4),), ((1, 3, 1),)),
           (nodes.Transpose,), lambda a: a.transpose(2, 0, 1),
           torch_fn=lambda a: a.permute(2, 0, 1), methods=("permute",)),
    OpSpec("transpose_swap", lambda a: a.transpose(0, 1), (((3, 4),), ((2, 3, 4),), ((1, 5),)),
           (nodes.Transpose,), lambda a: np.swapaxes(a, 0, 1),
           torch_fn=lambda a: a.transpose(0, 1)),
    OpSpec("transpose_swap_negative", lambda a: a.transpose(-1, -3), (((2, 3, 4),),),
           (nodes.Transpose,), lambda a: np.swapaxes(a, -1, -3),
           torch_fn=lambda a: a.transpose(-1, -3)),
]  # fmt: skip


def _torch() -> Any:
    import torch

    return torch
