"""Modules: layers that own their parameters (grown by the training issue)."""

from compgraph.nn.linear import Linear
from compgraph.nn.module import Module
from compgraph.nn.parameter import Parameter

__all__ = ["Linear", "Module", "Parameter"]
