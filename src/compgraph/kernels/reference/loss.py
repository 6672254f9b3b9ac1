"""Softmax cross-entropy on logits with integer labels, in NumPy."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]


def softmax_cross_entropy(logits: Array, labels: Array) -> tuple[Array, Array]:
    """Per row r: loss_r = −log softmax(z_r)[label_r], and the probabilities softmax(z_r).

    log softmax(z)_i = (z_i − m) − log Σ_j e^(z_j − m) with m = max_j z_j, finite for
    logits of any size.

    Args:
        logits: (R, C) scores z.
        labels: (R,) integers in [0, C).

    Returns:
        losses (R,) and probabilities (R, C), in the logits' dtype.
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    totals = exps.sum(axis=1, keepdims=True)
    rows = np.arange(len(labels))
    losses = np.log(totals[:, 0]) - shifted[rows, labels]
    return losses, exps / totals


def softmax_cross_entropy_backward(probs: Array, labels: Array, grad_losses: Array) -> Array:
    """dL/dz_r = dL/dloss_r · (softmax(z_r) − onehot(label_r)).

    ``grad_losses`` is (R,), one upstream gradient per row.
    """
    grad = probs.copy()
    grad[np.arange(len(labels)), labels] -= 1
    grad *= grad_losses[:, np.newaxis]
    return grad


def first_label_out_of_range(labels: Array, classes: int) -> int:
    """The position of the first label outside [0, classes), or −1 if all are inside."""
    outside = np.flatnonzero((labels < 0) | (labels >= classes))
    return int(outside[0]) if outside.size else -1
