"""Function forms of the nodes and losses, for models written as plain functions.

``cross_entropy`` has PyTorch's meaning: logits in, the mean loss over the
batch out, computed by the fused (and stable) SoftmaxCrossEntropy node.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from compgraph.node import apply
from compgraph.nodes import activation, linalg, loss
from compgraph.tensor import Tensor


def _target(target: Any) -> Any:
    """Labels or distributions as an array or tensor; lists become arrays."""
    return np.asarray(target) if isinstance(target, (list, tuple)) else target


def cross_entropy(logits: Tensor, target: Any) -> Tensor:
    """mean over rows of −Σ_i p_i·log softmax(logits)_i.

    Args:
        logits: (N, C) unnormalised scores (or (..., C)).
        target: integer class labels (N,) or distributions (N, C), as a tensor or an array.

    Returns:
        A scalar tensor; its gradient is (softmax(logits) − p) / N.
    """
    return apply(loss.SoftmaxCrossEntropy(reduction="mean"), (logits, _target(target)), fresh=True)


def mse_loss(prediction: Tensor, target: Any) -> Tensor:
    """(1/N)·Σ (prediction − target)² over all N elements; shapes must match."""
    return loss.MSE()(prediction, _target(target))


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x·W + b with W of shape (in, out)."""
    return linalg.Linear()(x, weight) if bias is None else linalg.Linear()(x, weight, bias)


def sigmoid(x: Tensor) -> Tensor:
    return activation.Sigmoid()(x)


def relu(x: Tensor) -> Tensor:
    return activation.ReLU()(x)


def tanh(x: Tensor) -> Tensor:
    return activation.Tanh()(x)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    return activation.Softmax(axis)(x)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    return activation.LogSoftmax(axis)(x)
