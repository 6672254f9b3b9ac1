"""Softmax cross-entropy compiled: one pass per row, no temporary arrays.

For the softmax preset's 100×10 logits NumPy's version is a dozen small array
operations, each with a few microseconds of overhead; compiled, forward and
backward take about 2 µs together.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.kernels import reference
from compgraph.kernels.compiled._jit import compilable, compile_kernel

Array = NDArray[Any]


@compile_kernel
def _softmax_cross_entropy(logits: Array, labels: Array, losses: Array, probs: Array) -> None:
    rows, classes = logits.shape
    for r in range(rows):
        top = logits[r, 0]
        for i in range(1, classes):
            top = max(top, logits[r, i])
        probs[r, 0] = np.exp(logits[r, 0] - top)
        total = probs[r, 0]
        for i in range(1, classes):
            probs[r, i] = np.exp(logits[r, i] - top)
            total += probs[r, i]
        losses[r] = np.log(total) - (logits[r, labels[r]] - top)
        for i in range(classes):
            probs[r, i] /= total


@compile_kernel
def _softmax_cross_entropy_backward(
    probs: Array, labels: Array, grad_losses: Array, grad: Array
) -> None:
    rows, classes = probs.shape
    for r in range(rows):
        for i in range(classes):
            grad[r, i] = probs[r, i]
        grad[r, labels[r]] -= 1
        for i in range(classes):
            grad[r, i] *= grad_losses[r]


@compile_kernel
def _first_label_out_of_range(labels: Array, classes: int) -> int:
    for r in range(labels.size):
        if labels[r] < 0 or labels[r] >= classes:
            return r
    return -1


def softmax_cross_entropy(logits: Array, labels: Array) -> tuple[Array, Array]:
    if not compilable(logits) or labels.dtype.kind not in "iu":
        return reference.softmax_cross_entropy(logits, labels)
    losses = np.empty(len(logits), logits.dtype)
    probs = np.empty(logits.shape, logits.dtype)
    _softmax_cross_entropy(logits, labels, losses, probs)
    return losses, probs


def softmax_cross_entropy_backward(probs: Array, labels: Array, grad_losses: Array) -> Array:
    if not compilable(probs, grad_losses):
        return reference.softmax_cross_entropy_backward(probs, labels, grad_losses)
    grad = np.empty(probs.shape, probs.dtype)
    grad_losses = grad_losses.astype(probs.dtype, copy=False)
    _softmax_cross_entropy_backward(probs, labels, grad_losses, grad)
    return grad


def first_label_out_of_range(labels: Array, classes: int) -> int:
    if labels.dtype.kind not in "iu" or not labels.dtype.isnative or labels.ndim != 1:
        return reference.first_label_out_of_range(labels, classes)
    return int(_first_label_out_of_range(labels, classes))
