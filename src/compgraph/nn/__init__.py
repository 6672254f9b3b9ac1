"""Modules: layers that own their parameters, in PyTorch's shape."""

from compgraph.nn import init
from compgraph.nn import utils as utils  # cg.nn.utils.clip_grad_norm_, as torch.nn.utils
from compgraph.nn.activation import GELU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from compgraph.nn.batchnorm import BatchNorm1d, BatchNorm2d, SyncBatchNorm
from compgraph.nn.config import from_config, to_config
from compgraph.nn.container import ModuleDict, ModuleList, ParameterList, Sequential
from compgraph.nn.conv import Conv2d
from compgraph.nn.embedding import Embedding
from compgraph.nn.from_node import FromNode
from compgraph.nn.linear import Linear
from compgraph.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from compgraph.nn.module import Module
from compgraph.nn.normalization import LayerNorm
from compgraph.nn.parameter import Parameter
from compgraph.nn.pool import AvgPool2d, MaxPool2d
from compgraph.nn.regularization import Dropout, Dropout2d, Flatten, Identity
from compgraph.nn.summary import Summary, summary

__all__ = [
    "GELU",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Dropout2d",
    "Embedding",
    "Flatten",
    "FromNode",
    "HuberLoss",
    "Identity",
    "L1Loss",
    "LayerNorm",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ParameterList",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Summary",
    "SyncBatchNorm",
    "Tanh",
    "from_config",
    "init",
    "summary",
    "to_config",
    "utils",
]
