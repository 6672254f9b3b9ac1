"""Built-in nodes, grouped by category. Each docstring gives the formula and the gradient."""

from compgraph.nodes.activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from compgraph.nodes.conv import Conv2d
from compgraph.nodes.dropout import Dropout
from compgraph.nodes.elementwise import Add, Div, Exp, Log, Mul, Neg, Pow, PowScalar, Sub
from compgraph.nodes.linalg import Linear, MatMul
from compgraph.nodes.loss import MSE, CrossEntropy, SoftmaxCrossEntropy
from compgraph.nodes.normalization import BatchNorm
from compgraph.nodes.pool import AvgPool2d, MaxPool2d
from compgraph.nodes.reduction import Max, Mean, Sum
from compgraph.nodes.shape import GetItem, Reshape, Transpose

__all__ = [
    "MSE",
    "Add",
    "AvgPool2d",
    "BatchNorm",
    "Conv2d",
    "CrossEntropy",
    "Div",
    "Dropout",
    "Exp",
    "GetItem",
    "Linear",
    "Log",
    "LogSoftmax",
    "MatMul",
    "Max",
    "MaxPool2d",
    "Mean",
    "Mul",
    "Neg",
    "Pow",
    "PowScalar",
    "ReLU",
    "Reshape",
    "Sigmoid",
    "Softmax",
    "SoftmaxCrossEntropy",
    "Sub",
    "Sum",
    "Tanh",
    "Transpose",
]
