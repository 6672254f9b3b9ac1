"""Built-in nodes, grouped by category. Each docstring gives the formula and the gradient."""

from compgraph.nodes.activation import GELU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from compgraph.nodes.conv import Conv2d
from compgraph.nodes.dropout import Dropout, Dropout2d
from compgraph.nodes.elementwise import (
    Abs,
    Add,
    Cast,
    Clamp,
    Div,
    Exp,
    Log,
    Mul,
    Neg,
    Pow,
    PowScalar,
    Sqrt,
    Sub,
)
from compgraph.nodes.join import Concat, Stack, Where
from compgraph.nodes.linalg import Linear, MatMul
from compgraph.nodes.loss import (
    BCE,
    L1,
    MSE,
    NLL,
    BCEWithLogits,
    CrossEntropy,
    SmoothL1,
    SoftmaxCrossEntropy,
)
from compgraph.nodes.normalization import BatchNorm, LayerNorm
from compgraph.nodes.pool import AvgPool2d, MaxPool2d
from compgraph.nodes.reduction import Max, Mean, Min, Sum, Var
from compgraph.nodes.shape import GetItem, Reshape, Transpose
from compgraph.nodes.sync_batchnorm import SyncBatchNorm

__all__ = [
    "BCE",
    "GELU",
    "L1",
    "MSE",
    "NLL",
    "Abs",
    "Add",
    "AvgPool2d",
    "BCEWithLogits",
    "BatchNorm",
    "Cast",
    "Clamp",
    "Concat",
    "Conv2d",
    "CrossEntropy",
    "Div",
    "Dropout",
    "Dropout2d",
    "Exp",
    "GetItem",
    "LayerNorm",
    "Linear",
    "Log",
    "LogSoftmax",
    "MatMul",
    "Max",
    "MaxPool2d",
    "Mean",
    "Min",
    "Mul",
    "Neg",
    "Pow",
    "PowScalar",
    "ReLU",
    "Reshape",
    "Sigmoid",
    "SmoothL1",
    "Softmax",
    "SoftmaxCrossEntropy",
    "Sqrt",
    "Stack",
    "Sub",
    "Sum",
    "SyncBatchNorm",
    "Tanh",
    "Transpose",
    "Var",
    "Where",
]
