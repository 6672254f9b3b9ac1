"""Modules: layers that own their parameters, in PyTorch's shape."""

from compgraph.nn import init
from compgraph.nn.activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from compgraph.nn.batchnorm import BatchNorm1d, BatchNorm2d
from compgraph.nn.config import from_config, to_config
from compgraph.nn.container import Sequential
from compgraph.nn.conv import Conv2d
from compgraph.nn.from_node import FromNode
from compgraph.nn.linear import Linear
from compgraph.nn.module import Module
from compgraph.nn.parameter import Parameter
from compgraph.nn.pool import AvgPool2d, MaxPool2d
from compgraph.nn.regularization import Dropout, Flatten

__all__ = [
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "Dropout",
    "Flatten",
    "FromNode",
    "Linear",
    "LogSoftmax",
    "MaxPool2d",
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
