"""Modules: layers that own their parameters, in PyTorch's shape."""

from compgraph.nn import init
from compgraph.nn.activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from compgraph.nn.config import from_config, to_config
from compgraph.nn.container import Sequential
from compgraph.nn.linear import Linear
from compgraph.nn.module import Module
from compgraph.nn.parameter import Parameter
from compgraph.nn.regularization import Dropout, Flatten

__all__ = [
    "Dropout",
    "Flatten",
    "Linear",
    "LogSoftmax",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "from_config",
    "init",
    "to_config",
]
