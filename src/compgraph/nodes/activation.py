"""Activations: Sigmoid, ReLU, Tanh, Softmax and LogSoftmax."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph import kernels
from compgraph.node import Node

Array = NDArray[Any]


class Sigmoid(Node):
    """y = 1 / (1 + e^(−x)).

    Gradient: dL/dx = dL/dy · y · (1 − y). Saves y.

    Stability: computed as ½·(1 + tanh(x/2)), which equals the formula and
    never overflows, where ``exp(-x)`` does for x < −88 in float32.
    """

    def forward(self, x: Array) -> Array:
        self.y = 0.5 * (1 + np.tanh(0.5 * x))
        return self.y

    def backward(self, grad_out: Array) -> Array:
        return grad_out * self.y * (1 - self.y)


class ReLU(Node):
    """y = max(x, 0).

    Gradient: dL/dx = dL/dy where x > 0, else 0 (0 at the kink x = 0). Saves y
    (y > 0 exactly where x > 0).
    """

    def forward(self, x: Array) -> Array:
        self.y = kernels.relu_forward(x)
        return self.y

    def backward(self, grad_out: Array) -> Array:
        return kernels.relu_backward(grad_out, self.y)


class Tanh(Node):
    """y = tanh x.

    Gradient: dL/dx = dL/dy · (1 − y²). Saves y.
    """

    def forward(self, x: Array) -> Array:
        self.y = np.tanh(x)
        return self.y

    def backward(self, grad_out: Array) -> Array:
        return grad_out * (1 - self.y * self.y)


class Softmax(Node):
    """y_j = e^(x_j) / Σ_i e^(x_i) along ``axis`` (the last by default).

    Gradient: dL/dx_j = y_j · (dL/dy_j − Σ_i dL/dy_i · y_i). Saves y.

    Stability: subtracts max_i x_i before exponentiating, so no e^x overflows.

    Args:
        axis: the axis whose entries sum to one.
    """

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x: Array) -> Array:
        exps = np.exp(x - x.max(axis=self.axis, keepdims=True))
        exps /= exps.sum(axis=self.axis, keepdims=True)
        self.y = exps
        return exps

    def backward(self, grad_out: Array) -> Array:
        y = self.y
        return y * (grad_out - (grad_out * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Node):
    """y_j = x_j − log Σ_i e^(x_i) along ``axis`` (the last by default).

    Gradient: dL/dx_j = dL/dy_j − softmax(x)_j · Σ_i dL/dy_i. Saves softmax(x).

    Stability: log-sum-exp with the maximum subtracted, finite for logits of any size.

    Args:
        axis: the axis to normalise over.
    """

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x: Array) -> Array:
        shifted = x - x.max(axis=self.axis, keepdims=True)
        y = shifted - np.log(np.exp(shifted).sum(axis=self.axis, keepdims=True))
        self.softmax = np.exp(y)
        return y

    def backward(self, grad_out: Array) -> Array:
        return grad_out - self.softmax * grad_out.sum(axis=self.axis, keepdims=True)
