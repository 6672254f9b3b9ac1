"""One spec per operation: how to make its inputs, which node it runs, and a NumPy reference.

Every built-in node and every graph-building Tensor method appears here (the test
suite fails for one that does not). A spec lists several cases of input shapes (a
batch of 1, broadcasting, higher rank, 0-d for element-wise operations); the tests
run each in float64 and float32, in a contiguous and a strided layout.
:func:`compgraph.check_node` finds a student's node's spec here by its class name
(:data:`LAB_SPECS`).

This module imports neither pytest nor hypothesis, and PyTorch only inside the
``torch_fn`` functions.
"""

from __future__ import annotations

import numpy as np

from compgraph import nodes
from compgraph.node import Node
from compgraph.testing import references as ref
from compgraph.testing.makers import (
    away_from_zero,
    distinct,
    distribution,
    labels_for,
    uniform,
)
from compgraph.testing.opspec import (
    BINARY,
    ELEMENTWISE,
    POSITIVE,
    UNARY,
    OpSpec,
)
from compgraph.testing.specs_loss import LOSS_SPECS
from compgraph.testing.specs_nn import NN_SPECS
from compgraph.testing.specs_tensor import TENSOR_SPECS

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
    OpSpec("softmax", lambda a: a.softmax(), UNARY, (nodes.Softmax,), ref.softmax,
           torch_fn=lambda a: a.softmax(-1), methods=("softmax",)),
    OpSpec("softmax_axis0", lambda a: nodes.Softmax(axis=0)(a), UNARY, (nodes.Softmax,),
           lambda a: ref.softmax(a, 0), torch_fn=lambda a: a.softmax(0)),
    OpSpec("log_softmax", lambda a: a.log_softmax(), UNARY, (nodes.LogSoftmax,), ref.log_softmax,
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
    OpSpec("mean_node", lambda a: nodes.Mean()(a), UNARY, (nodes.Mean,), np.mean,
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
           torch_fn=lambda x, w, b: x @ w + b,
           lab_cases=(((5, 6), (6, 4), (4,)), ((1, 6), (6, 4), (4,)))),  # x.T @ g: 2-d x
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
    OpSpec("dropout", lambda a: nodes.Dropout(ref.fixed_mask(a))(a), ELEMENTWISE, (nodes.Dropout,),
           lambda a: a * ref.fixed_mask(a), torch_fn=lambda a: a * ref.torch_mask(a)),
    # ---- convolution, pooling, normalisation
    OpSpec("conv2d", lambda x, w, b: nodes.Conv2d()(x, w, b),
           (((2, 3, 5, 6), (4, 3, 3, 3), (4,)), ((1, 1, 4, 4), (2, 1, 2, 2), (2,)),
            ((2, 9, 4, 4), (3, 9, 3, 3), (3,))),
           (nodes.Conv2d,), lambda x, w, b: ref.conv2d(x, w, b),
           torch_fn=lambda x, w, b: ref.torch_conv(x, w, b)),
    OpSpec("conv2d_stride_padding", lambda x, w: nodes.Conv2d(stride=2, padding=1)(x, w),
           (((2, 2, 5, 5), (3, 2, 3, 3)), ((1, 10, 6, 7), (2, 10, 2, 2))), (nodes.Conv2d,),
           lambda x, w: ref.conv2d(x, w, None, 2, 1),
           torch_fn=lambda x, w: ref.torch_conv(x, w, None, 2, 1)),
    OpSpec("max_pool", lambda x: nodes.MaxPool2d(2)(x), (((2, 3, 4, 6),), ((1, 2, 5, 5),)),
           (nodes.MaxPool2d,), lambda x: ref.pool2d(x, 2, 2, np.max), makers=(distinct,),
           torch_fn=lambda x: ref.torch_pool("max_pool2d", x, 2, 2)),
    OpSpec("max_pool_overlapping", lambda x: nodes.MaxPool2d(3, stride=2)(x),
           (((2, 2, 7, 5),),), (nodes.MaxPool2d,), lambda x: ref.pool2d(x, 3, 2, np.max),
           makers=(distinct,), torch_fn=lambda x: ref.torch_pool("max_pool2d", x, 3, 2)),
    OpSpec("avg_pool", lambda x: nodes.AvgPool2d(2)(x), (((2, 3, 4, 6),), ((1, 2, 5, 5),)),
           (nodes.AvgPool2d,), lambda x: ref.pool2d(x, 2, 2, np.mean),
           torch_fn=lambda x: ref.torch_pool("avg_pool2d", x, 2, 2)),
    OpSpec("avg_pool_overlapping", lambda x: nodes.AvgPool2d(3, stride=1)(x),
           (((1, 2, 5, 4),),), (nodes.AvgPool2d,), lambda x: ref.pool2d(x, 3, 1, np.mean),
           torch_fn=lambda x: ref.torch_pool("avg_pool2d", x, 3, 1)),
    OpSpec("batch_norm_train", lambda x, g, b: nodes.BatchNorm()(x, g, b),
           (((6, 4), (4,), (4,)), ((3, 2, 4, 5), (2,), (2,))), (nodes.BatchNorm,),
           lambda x, g, b: ref.batch_norm(x, g, b),
           torch_fn=lambda x, g, b: ref.torch_batch_norm(x, g, b)),
    OpSpec("batch_norm_eval",
           lambda x, g, b: nodes.BatchNorm(mean=np.linspace(-1, 1, x.shape[1]),
                                           var=np.linspace(0.5, 2, x.shape[1]))(x, g, b),
           (((6, 4), (4,), (4,)), ((3, 2, 4, 5), (2,), (2,))), (nodes.BatchNorm,),
           lambda x, g, b: ref.batch_norm(x, g, b, running=True)),
    # ---- losses
    OpSpec("cross_entropy", lambda x, p: nodes.CrossEntropy()(x, p),
           (((5, 6), (5, 6)), ((1, 3), (1, 3)), ((2, 3, 4), (2, 3, 4))), (nodes.CrossEntropy,),
           lambda x, p: -(p * np.log(x)).sum(-1), makers=(distribution, distribution),
           torch_fn=lambda x, p: -(p * x.log()).sum(-1)),
    OpSpec("cross_entropy_fixed_target", lambda x, p: nodes.CrossEntropy()(x, p),
           (((5, 6), (5, 6)), ((1, 3), (1, 3)), ((2, 3, 4), (2, 3, 4))), (nodes.CrossEntropy,),
           lambda x, p: -(p * np.log(x)).sum(-1), makers=(distribution, distribution),
           torch_fn=lambda x, p: -(p * x.log()).sum(-1), grad_inputs=(0,)),
    OpSpec("softmax_cross_entropy_labels",
           lambda z, labels: nodes.SoftmaxCrossEntropy()(z, labels),
           (((5, 6), (5,)), ((1, 3), (1,)), ((2, 3, 4), (2, 3))), (nodes.SoftmaxCrossEntropy,),
           ref.softmax_cross_entropy_labels, makers=(uniform(-3, 3), labels_for(3)),
           torch_fn=ref.torch_softmax_cross_entropy_labels),
    OpSpec("softmax_cross_entropy_distribution",
           lambda z, p: nodes.SoftmaxCrossEntropy()(z, p),
           (((5, 6), (5, 6)), ((1, 3), (1, 3))), (nodes.SoftmaxCrossEntropy,),
           lambda z, p: -(p * ref.log_softmax(z)).sum(-1), makers=(uniform(-3, 3), distribution),
           torch_fn=lambda z, p: -(p * z.log_softmax(-1)).sum(-1)),
    OpSpec("softmax_cross_entropy_mean_labels",
           lambda z, labels: nodes.SoftmaxCrossEntropy(reduction="mean")(z, labels),
           (((5, 6), (5,)), ((1, 3), (1,)), ((2, 3, 4), (2, 3))), (nodes.SoftmaxCrossEntropy,),
           lambda z, labels: ref.softmax_cross_entropy_labels(z, labels).mean(),
           makers=(uniform(-3, 3), labels_for(3)),
           torch_fn=lambda z, labels: ref.torch_softmax_cross_entropy_labels(z, labels).mean()),
    OpSpec("softmax_cross_entropy_mean_distribution",
           lambda z, p: nodes.SoftmaxCrossEntropy(reduction="mean")(z, p),
           (((5, 6), (5, 6)),), (nodes.SoftmaxCrossEntropy,),
           lambda z, p: -(p * ref.log_softmax(z)).sum(-1).mean(),
           makers=(uniform(-3, 3), distribution),
           torch_fn=lambda z, p: -(p * z.log_softmax(-1)).sum(-1).mean()),
    OpSpec("mse", lambda x, t: nodes.MSE()(x, t), (((5, 6), (5, 6)), ((1, 1), (1, 1))),
           (nodes.MSE,), lambda x, t: np.mean((x - t) ** 2),
           torch_fn=lambda x, t: ((x - t) ** 2).mean()),
]  # fmt: skip
SPECS += TENSOR_SPECS + NN_SPECS + LOSS_SPECS


#: Tensor attributes that build no graph, so need no spec.
NOT_OPERATIONS = {
    "backward", "detach", "dtype", "grad", "is_leaf", "item", "name", "ndim", "node", "numpy",
    "requires_grad", "retain_grad", "shape", "size", "data", "zero_grad",
    # outside the graph, as in PyTorch: counts, Python values, indices, booleans, integers
    "numel", "dim", "tolist", "argmax", "argmin", "any", "all", "long",
}  # fmt: skip

#: The spec ``check_node`` uses for a node of each class name (the lab's nodes).
LAB_SPECS = {
    "Sigmoid": "sigmoid",
    "Softmax": "softmax",
    "CrossEntropy": "cross_entropy_fixed_target",  # the notebook's: p is no variable
    "Mean": "mean_node",
    "Linear": "linear",
    "Tanh": "tanh",
    "ReLU": "relu",
    "SoftmaxCrossEntropy": "softmax_cross_entropy_labels",
}

#: Every spec by its name.
BY_NAME = {spec.name: spec for spec in SPECS}


def spec_for(node_or_name: Node | type[Node] | str) -> OpSpec:
    """The spec for a node (by its class name), a node class, or a spec's own name.

    A lab node's class name picks its entry in :data:`LAB_SPECS`; any other class
    name, the first spec that applies a built-in node of that name.

    Raises:
        LookupError: no spec has that name, naming those that do.
    """
    if isinstance(node_or_name, str):
        name = node_or_name
    else:
        name = (node_or_name if isinstance(node_or_name, type) else type(node_or_name)).__name__
    if name in LAB_SPECS:
        return BY_NAME[LAB_SPECS[name]]
    if name in BY_NAME:
        return BY_NAME[name]
    for spec in SPECS:
        if any(cls.__name__ == name for cls in spec.nodes):
            return spec
    raise LookupError(
        f"no spec for {name!r}: pass spec= one of the node names {sorted(LAB_SPECS)} "
        "or a spec name from compgraph.testing.SPECS (or an OpSpec of your own)"
    )
