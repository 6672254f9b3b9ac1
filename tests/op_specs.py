"""One spec per operation: how to make its inputs, which node it runs, and a NumPy reference.

Every built-in node and every graph-building Tensor method must appear here;
tests/test_ops.py fails for one that does not. A spec lists several cases of
input shapes (a batch of 1, broadcasting, higher rank); the tests run each in a
contiguous and a non-contiguous layout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import compgraph as cg
from compgraph import nodes
from compgraph.node import Node

Shapes = tuple[tuple[int, ...], ...]
Maker = Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]


def uniform(low: float, high: float) -> Maker:
    return lambda rng, shape: rng.uniform(low, high, shape)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values in ±[0.2, 2]: no input within reach of a kink at 0."""
    return rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values at least 0.1 apart, so a maximum never ties, even after a perturbation."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * 0.1 + rng.uniform(0, 0.01, size)).reshape(shape)


def distribution(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    values = rng.uniform(0.1, 1.0, shape)
    return values / values.sum(axis=-1, keepdims=True)


def labels_for(classes: int) -> Maker:
    return lambda rng, shape: rng.integers(0, classes, shape)


@dataclass(frozen=True)
class OpSpec:
    """How to test one operation.

    Attributes:
        name: the test id.
        fn: the operation, applied to tensors.
        cases: the input shapes of each case.
        nodes: the node classes ``fn`` applies (its output's node must be one of them).
        reference: the same computation in plain NumPy.
        makers: how to draw each input (default: standard normal).
        torch_fn: the same computation in PyTorch, for the comparison tests.
        methods: the Tensor methods this spec exercises.
        keeps_dtype: float32 inputs give a float32 output (False where a constant promotes).
    """

    name: str
    fn: Callable[..., cg.Tensor]
    cases: Sequence[Shapes]
    nodes: tuple[type[Node], ...]
    reference: Callable[..., np.ndarray]
    makers: Sequence[Maker] | None = None
    torch_fn: Callable[..., Any] | None = None
    methods: tuple[str, ...] = field(default=())
    keeps_dtype: bool = True

    def make_inputs(self, rng: np.random.Generator, shapes: Shapes) -> list[np.ndarray]:
        makers = self.makers or [lambda rng, shape: rng.standard_normal(shape)] * len(shapes)
        return [make(rng, shape) for make, shape in zip(makers, shapes, strict=True)]


def _fixed_mask(x: Any) -> np.ndarray:
    """The same dropout mask (p = 0.5, kept elements scaled by 2) for every call on this shape."""
    keep = np.random.default_rng(0).random(x.shape) >= 0.5
    return (keep * 2.0).astype(x.dtype)


def torch_mask(x: Any) -> Any:
    import torch

    return torch.tensor(_fixed_mask(x.detach().numpy()))


def _conv_reference(x, w, b, stride=1, padding=0) -> np.ndarray:
    """Convolution by the definition: a sum over kernel offsets, written independently."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    kh, kw = w.shape[2:]
    ho = (x.shape[2] - kh) // stride + 1
    wo = (x.shape[3] - kw) // stride + 1
    out = np.zeros((x.shape[0], w.shape[0], ho, wo))
    for u in range(kh):
        for v in range(kw):
            patch = x[:, :, u : u + stride * ho : stride, v : v + stride * wo : stride]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, u, v])
    return out if b is None else out + b[None, :, None, None]


def _pool_reference(x, k, s, reduce) -> np.ndarray:
    from numpy.lib.stride_tricks import sliding_window_view

    windows = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]
    return reduce(windows, axis=(4, 5))


def _batch_norm_reference(x, g, b, running=False) -> np.ndarray:
    axes = (0, *range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if running:
        mean = np.linspace(-1, 1, x.shape[1]).reshape(shape)
        var = np.linspace(0.5, 2, x.shape[1]).reshape(shape)
    else:
        mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5) * g.reshape(shape) + b.reshape(shape)


def _torch_conv(x, w, b, stride=1, padding=0):
    import torch.nn.functional as F

    return F.conv2d(x, w, b, stride=stride, padding=padding)


def _torch_pool(name, x, k, s):
    import torch.nn.functional as F

    return getattr(F, name)(x, k, s)


def _torch_batch_norm(x, g, b):
    import torch.nn.functional as F

    return F.batch_norm(x, None, None, g, b, training=True, eps=1e-5)


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.log(_softmax(x, axis))


def _sce_labels(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return -np.take_along_axis(_log_softmax(z), labels[..., None], axis=-1)[..., 0]


def _torch_sce_labels(z: Any, labels: Any) -> Any:
    import torch.nn.functional as F

    return F.cross_entropy(
        z.reshape(-1, z.shape[-1]), labels.reshape(-1), reduction="none"
    ).reshape(labels.shape)


BINARY = ((3, 4), (3, 4)), ((1, 4), (3, 1)), ((4,), (2, 3, 4)), ((1, 1), (1, 1))
UNARY = ((3, 4),), ((1, 5),), ((2, 3, 4),)
ELEMENTWISE = (*UNARY, ((),))  # element-wise operations also take 0-d arrays
POSITIVE = uniform(0.5, 2.0)

SPECS: list[OpSpec] = [
    # ---- arithmetic operators and their reflected forms
    OpSpec("add", lambda a, b: a + b, BINARY, (nodes.Add,), np.add,
           torch_fn=lambda a, b: a + b, methods=("__add__",)),
    OpSpec("radd", lambda a: 1.5 + a, ELEMENTWISE, (nodes.Add,), lambda a: 1.5 + a,
           torch_fn=lambda a: 1.5 + a, methods=("__radd__",)),
    OpSpec("sub", lambda a, b: a - b, BINARY, (nodes.Sub,), np.subtract,
           torch_fn=lambda a, b: a - b, methods=("__sub__",)),
    OpSpec("rsub", lambda a: 1.5 - a, ELEMENTWISE, (nodes.Sub,), lambda a: 1.5 - a,
           torch_fn=lambda a: 1.5 - a, methods=("__rsub__",)),
    OpSpec("mul", lambda a, b: a * b, BINARY, (nodes.Mul,), np.multiply,
           torch_fn=lambda a, b: a * b, methods=("__mul__",)),
    OpSpec("rmul", lambda a: 2.5 * a, ELEMENTWISE, (nodes.Mul,), lambda a: 2.5 * a,
           torch_fn=lambda a: 2.5 * a, methods=("__rmul__",)),
    OpSpec("div", lambda a, b: a / b, BINARY, (nodes.Div,), np.divide,
           makers=(uniform(-2, 2), POSITIVE), torch_fn=lambda a, b: a / b,
           methods=("__truediv__",)),
    OpSpec("rdiv", lambda a: 2.0 / a, ELEMENTWISE, (nodes.Div,), lambda a: 2.0 / a,
           makers=(POSITIVE,), torch_fn=lambda a: 2.0 / a, methods=("__rtruediv__",)),
    OpSpec("neg", lambda a: -a, ELEMENTWISE, (nodes.Neg,), np.negative,
           torch_fn=lambda a: -a, methods=("__neg__",)),
    OpSpec("pow_square", lambda a: a**2, ELEMENTWISE, (nodes.PowScalar,), lambda a: a**2,
           torch_fn=lambda a: a**2, methods=("__pow__",)),
    OpSpec("pow_scalar_negative", lambda a: a**-1.5, ELEMENTWISE, (nodes.PowScalar,),
           lambda a: a**-1.5, makers=(POSITIVE,), torch_fn=lambda a: a**-1.5),
    OpSpec("pow_tensor", lambda a, b: a**b, BINARY, (nodes.Pow,), np.power,
           makers=(POSITIVE, uniform(-2, 2)), torch_fn=lambda a, b: a**b),
    OpSpec("rpow", lambda a: 2.0**a, ELEMENTWISE, (nodes.Pow,), lambda a: 2.0**a,
           torch_fn=lambda a: 2.0**a, methods=("__rpow__",)),
    OpSpec("exp", lambda a: a.exp(), ELEMENTWISE, (nodes.Exp,), np.exp,
           torch_fn=lambda a: a.exp(), methods=("exp",)),
    OpSpec("log", lambda a: a.log(), ELEMENTWISE, (nodes.Log,), np.log, makers=(POSITIVE,),
           torch_fn=lambda a: a.log(), methods=("log",)),
    # ---- activations
    OpSpec("sigmoid", lambda a: a.sigmoid(), ELEMENTWISE, (nodes.Sigmoid,),
           lambda a: 1 / (1 + np.exp(-a)), torch_fn=lambda a: a.sigmoid(), methods=("sigmoid",)),
    OpSpec("relu", lambda a: a.relu(), ELEMENTWISE, (nodes.ReLU,), lambda a: np.maximum(a, 0),
           makers=(away_from_zero,), torch_fn=lambda a: a.relu(), methods=("relu",)),
    OpSpec("tanh", lambda a: a.tanh(), ELEMENTWISE, (nodes.Tanh,), np.tanh,
           torch_fn=lambda a: a.tanh(), methods=("tanh",)),
    OpSpec("softmax", lambda a: a.softmax(), UNARY, (nodes.Softmax,), _softmax,
           torch_fn=lambda a: a.softmax(-1), methods=("softmax",)),
    OpSpec("softmax_axis0", lambda a: nodes.Softmax(axis=0)(a), UNARY, (nodes.Softmax,),
           lambda a: _softmax(a, 0), torch_fn=lambda a: a.softmax(0)),
    OpSpec("log_softmax", lambda a: a.log_softmax(), UNARY, (nodes.LogSoftmax,), _log_softmax,
           torch_fn=lambda a: a.log_softmax(-1), methods=("log_softmax",)),
    # ---- reductions
    OpSpec("sum_all", lambda a: a.sum(), UNARY, (nodes.Sum,), np.sum,
           torch_fn=lambda a: a.sum(), methods=("sum",)),
    OpSpec("sum_axis_keepdims", lambda a: a.sum(axis=-1, keepdims=True), UNARY, (nodes.Sum,),
           lambda a: a.sum(axis=-1, keepdims=True), torch_fn=lambda a: a.sum(-1, keepdim=True)),
    OpSpec("sum_axes", lambda a: a.sum(axis=(0, 2)), (((2, 3, 4),), ((1, 1, 3),)), (nodes.Sum,),
           lambda a: a.sum(axis=(0, 2)), torch_fn=lambda a: a.sum((0, 2))),
    OpSpec("mean_all", lambda a: a.mean(), UNARY, (nodes.Mean,), np.mean,
           torch_fn=lambda a: a.mean(), methods=("mean",)),
    OpSpec("mean_node_seed", lambda a: nodes.Mean()(a), UNARY, (nodes.Mean,), np.mean,
           torch_fn=lambda a: a.mean()),
    OpSpec("mean_axis", lambda a: a.mean(axis=0), UNARY, (nodes.Mean,),
           lambda a: a.mean(axis=0), torch_fn=lambda a: a.mean(0)),
    OpSpec("max_all", lambda a: a.max(), UNARY, (nodes.Max,), np.max, makers=(distinct,),
           torch_fn=lambda a: a.max(), methods=("max",)),
    OpSpec("max_axis", lambda a: a.max(axis=1, keepdims=True), UNARY, (nodes.Max,),
           lambda a: a.max(axis=1, keepdims=True), makers=(distinct,),
           torch_fn=lambda a: a.amax(1, keepdim=True)),
    OpSpec("max_negative_axis", lambda a: a.max(axis=-1), UNARY, (nodes.Max,),
           lambda a: a.max(axis=-1), makers=(distinct,), torch_fn=lambda a: a.amax(-1)),
    # ---- linear algebra
    OpSpec("matmul", lambda a, b: a @ b,
           (((3, 4), (4, 5)), ((1, 4), (4, 1)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
            ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (3, 4, 2))),
           (nodes.MatMul,), np.matmul, torch_fn=lambda a, b: a @ b, methods=("__matmul__",)),
    OpSpec("rmatmul", lambda b: np.ones((2, 3)) @ b, (((3, 4),), ((3, 1),)), (nodes.MatMul,),
           lambda b: np.ones((2, 3)) @ b, methods=("__rmatmul__",),
           keeps_dtype=False),  # the float64 constant promotes, as in NumPy
    OpSpec("linear", lambda x, w, b: nodes.Linear()(x, w, b),
           (((5, 6), (6, 4), (4,)), ((1, 6), (6, 4), (4,)), ((2, 3, 6), (6, 1), (1,))),
           (nodes.Linear,), lambda x, w, b: x @ w + b,
           torch_fn=lambda x, w, b: x @ w + b),
    OpSpec("linear_no_bias", lambda x, w: nodes.Linear()(x, w),
           (((5, 6), (6, 4)), ((1, 6), (6, 4))), (nodes.Linear,), np.matmul,
           torch_fn=lambda x, w: x @ w),
    # ---- shape
    OpSpec("reshape", lambda a: a.reshape(-1, 2), (((3, 4),), ((2, 3, 4),), ((1, 2),)),
           (nodes.Reshape,), lambda a: a.reshape(-1, 2), torch_fn=lambda a: a.reshape(-1, 2),
           methods=("reshape",)),
    OpSpec("transpose", lambda a: a.transpose(2, 0, 1), (((2, 3, 4),), ((1, 3, 1),)),
           (nodes.Transpose,), lambda a: a.transpose(2, 0, 1),
           torch_fn=lambda a: a.permute(2, 0, 1), methods=("transpose",)),
    OpSpec("T", lambda a: a.T, UNARY[:2], (nodes.Transpose,), lambda a: a.T,
           torch_fn=lambda a: a.T, methods=("T",)),
    OpSpec("getitem_basic", lambda a: a[1:, ::2], (((3, 4),), ((2, 5, 3),)), (nodes.GetItem,),
           lambda a: a[1:, ::2], torch_fn=lambda a: a[1:, ::2], methods=("__getitem__",)),
    OpSpec("getitem_int", lambda a: a[0], UNARY, (nodes.GetItem,), lambda a: a[0],
           torch_fn=lambda a: a[0]),
    OpSpec("getitem_repeated_rows", lambda a: a[np.array([2, 0, 2, 2])],
           (((3, 4),), ((3, 1, 2),)), (nodes.GetItem,), lambda a: a[np.array([2, 0, 2, 2])],
           torch_fn=lambda a: a[[2, 0, 2, 2]]),
    OpSpec("getitem_mixed", lambda a: a[:, [1, 1, 0]], (((3, 4),), ((1, 2),)), (nodes.GetItem,),
           lambda a: a[:, [1, 1, 0]], torch_fn=lambda a: a[:, [1, 1, 0]]),
    OpSpec("getitem_mask", lambda a: a[a.data > 0], (((3, 4),), ((2, 3, 4),)), (nodes.GetItem,),
           lambda a: a[a > 0], makers=(away_from_zero,)),
    OpSpec("dropout", lambda a: nodes.Dropout(_fixed_mask(a))(a), ELEMENTWISE, (nodes.Dropout,),
           lambda a: a * _fixed_mask(a), torch_fn=lambda a: a * torch_mask(a)),
    # ---- convolution, pooling, normalisation
    OpSpec("conv2d", lambda x, w, b: nodes.Conv2d()(x, w, b),
           (((2, 3, 5, 6), (4, 3, 3, 3), (4,)), ((1, 1, 4, 4), (2, 1, 2, 2), (2,)),
            ((2, 9, 4, 4), (3, 9, 3, 3), (3,))),
           (nodes.Conv2d,), lambda x, w, b: _conv_reference(x, w, b),
           torch_fn=lambda x, w, b: _torch_conv(x, w, b)),
    OpSpec("conv2d_stride_padding", lambda x, w: nodes.Conv2d(stride=2, padding=1)(x, w),
           (((2, 2, 5, 5), (3, 2, 3, 3)), ((1, 10, 6, 7), (2, 10, 2, 2))), (nodes.Conv2d,),
           lambda x, w: _conv_reference(x, w, None, 2, 1),
           torch_fn=lambda x, w: _torch_conv(x, w, None, 2, 1)),
    OpSpec("max_pool", lambda x: nodes.MaxPool2d(2)(x), (((2, 3, 4, 6),), ((1, 2, 5, 5),)),
           (nodes.MaxPool2d,), lambda x: _pool_reference(x, 2, 2, np.max), makers=(distinct,),
           torch_fn=lambda x: _torch_pool("max_pool2d", x, 2, 2)),
    OpSpec("max_pool_overlapping", lambda x: nodes.MaxPool2d(3, stride=2)(x),
           (((2, 2, 7, 5),),), (nodes.MaxPool2d,), lambda x: _pool_reference(x, 3, 2, np.max),
           makers=(distinct,), torch_fn=lambda x: _torch_pool("max_pool2d", x, 3, 2)),
    OpSpec("avg_pool", lambda x: nodes.AvgPool2d(2)(x), (((2, 3, 4, 6),), ((1, 2, 5, 5),)),
           (nodes.AvgPool2d,), lambda x: _pool_reference(x, 2, 2, np.mean),
           torch_fn=lambda x: _torch_pool("avg_pool2d", x, 2, 2)),
    OpSpec("avg_pool_overlapping", lambda x: nodes.AvgPool2d(3, stride=1)(x),
           (((1, 2, 5, 4),),), (nodes.AvgPool2d,), lambda x: _pool_reference(x, 3, 1, np.mean),
           torch_fn=lambda x: _torch_pool("avg_pool2d", x, 3, 1)),
    OpSpec("batch_norm_train", lambda x, g, b: nodes.BatchNorm()(x, g, b),
           (((6, 4), (4,), (4,)), ((3, 2, 4, 5), (2,), (2,))), (nodes.BatchNorm,),
           lambda x, g, b: _batch_norm_reference(x, g, b),
           torch_fn=lambda x, g, b: _torch_batch_norm(x, g, b)),
    OpSpec("batch_norm_eval",
           lambda x, g, b: nodes.BatchNorm(mean=np.linspace(-1, 1, x.shape[1]),
                                           var=np.linspace(0.5, 2, x.shape[1]))(x, g, b),
           (((6, 4), (4,), (4,)), ((3, 2, 4, 5), (2,), (2,))), (nodes.BatchNorm,),
           lambda x, g, b: _batch_norm_reference(x, g, b, running=True)),
    # ---- losses
    OpSpec("cross_entropy", lambda x, p: nodes.CrossEntropy()(x, p),
           (((5, 6), (5, 6)), ((1, 3), (1, 3)), ((2, 3, 4), (2, 3, 4))), (nodes.CrossEntropy,),
           lambda x, p: -(p * np.log(x)).sum(-1), makers=(distribution, distribution),
           torch_fn=lambda x, p: -(p * x.log()).sum(-1)),
    OpSpec("softmax_cross_entropy_labels",
           lambda z, labels: nodes.SoftmaxCrossEntropy()(z, labels),
           (((5, 6), (5,)), ((1, 3), (1,)), ((2, 3, 4), (2, 3))), (nodes.SoftmaxCrossEntropy,),
           _sce_labels, makers=(uniform(-3, 3), labels_for(3)), torch_fn=_torch_sce_labels),
    OpSpec("softmax_cross_entropy_distribution",
           lambda z, p: nodes.SoftmaxCrossEntropy()(z, p),
           (((5, 6), (5, 6)), ((1, 3), (1, 3))), (nodes.SoftmaxCrossEntropy,),
           lambda z, p: -(p * _log_softmax(z)).sum(-1), makers=(uniform(-3, 3), distribution),
           torch_fn=lambda z, p: -(p * z.log_softmax(-1)).sum(-1)),
    OpSpec("softmax_cross_entropy_mean_labels",
           lambda z, labels: nodes.SoftmaxCrossEntropy(reduction="mean")(z, labels),
           (((5, 6), (5,)), ((1, 3), (1,)), ((2, 3, 4), (2, 3))), (nodes.SoftmaxCrossEntropy,),
           lambda z, labels: _sce_labels(z, labels).mean(), makers=(uniform(-3, 3), labels_for(3)),
           torch_fn=lambda z, labels: _torch_sce_labels(z, labels).mean()),
    OpSpec("softmax_cross_entropy_mean_distribution",
           lambda z, p: nodes.SoftmaxCrossEntropy(reduction="mean")(z, p),
           (((5, 6), (5, 6)),), (nodes.SoftmaxCrossEntropy,),
           lambda z, p: -(p * _log_softmax(z)).sum(-1).mean(),
           makers=(uniform(-3, 3), distribution),
           torch_fn=lambda z, p: -(p * z.log_softmax(-1)).sum(-1).mean()),
    OpSpec("mse", lambda x, t: nodes.MSE()(x, t), (((5, 6), (5, 6)), ((1, 1), (1, 1))),
           (nodes.MSE,), lambda x, t: np.mean((x - t) ** 2),
           torch_fn=lambda x, t: ((x - t) ** 2).mean()),
]  # fmt: skip

#: Tensor attributes that build no graph, so need no spec.
NOT_OPERATIONS = {
    "backward", "detach", "dtype", "grad", "is_leaf", "item", "name", "ndim", "node", "numpy",
    "requires_grad", "retain_grad", "shape", "size", "data", "zero_grad",
}  # fmt: skip


def case_ids(spec: OpSpec) -> list[str]:
    return ["x".join(",".join(map(str, s)) or "scalar" for s in shapes) for shapes in spec.cases]


def noncontiguous(array: np.ndarray) -> np.ndarray:
    """The same values in a strided view: every other element of a buffer twice as long."""
    if array.ndim == 0:
        return array
    buffer = np.zeros((*array.shape[:-1], 2 * array.shape[-1]), dtype=array.dtype)
    buffer[..., ::2] = array
    view = buffer[..., ::2]
    assert not view.flags.c_contiguous or view.size <= 1
    return view
