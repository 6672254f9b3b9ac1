"""Losses: the original notebook's CrossEntropy, the fused SoftmaxCrossEntropy, and MSE."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph import hints, kernels
from compgraph.node import Node

Array = NDArray[Any]


class CrossEntropy(Node):
    """y = −Σ_i p_i · log x_i per row (last axis), for probabilities x and a target distribution p.

    Gradient: dL/dx_i = −dL/dy · p_i / x_i,  dL/dp_i = −dL/dy · log x_i. Saves x and p.

    Stability: x is clipped below at the dtype's smallest normal number, so
    log 0 gives a large finite loss instead of −∞. Prefer
    :class:`SoftmaxCrossEntropy` on logits: it never needs the clip.

    Checks: x outside [0, 1] (logits given instead of probabilities, which gives a
    loss in the tens) warns once per process (a CompgraphWarning); integer labels
    for p are refused with a pointer to ``compgraph.data.one_hot`` and
    SoftmaxCrossEntropy.
    """

    def forward(self, x: Array, p: Array) -> Array:
        if x.shape != p.shape:
            raise self.shape_error(_target_mismatch(x, p))
        # One min and one max per step, until the warning has been given once.
        if x.size and not hints.given(_LOGITS) and (x.min() < 0 or x.max() > 1):
            hints.warn_once(
                _LOGITS,
                f"CrossEntropy: x lies in [{x.min():.3g}, {x.max():.3g}], but CrossEntropy "
                "takes probabilities in [0, 1] (logits give a loss in the tens); apply "
                "Softmax first, or use SoftmaxCrossEntropy on the logits",
            )
        self.x = np.maximum(x, np.finfo(x.dtype).tiny)
        self.p = p
        return -(p * np.log(self.x)).sum(axis=-1)

    def backward(self, grad_out: Array) -> tuple[Array, Array | None]:
        grad = -grad_out[..., np.newaxis]
        grad_p = grad * np.log(self.x) if self.needs_input_grad[1] else None
        return grad * self.p / self.x, grad_p


_LOGITS = "CrossEntropy: x outside [0, 1]"  # the key of the warning given once


def _target_mismatch(x: Array, p: Array) -> str:
    message = f"x has shape {x.shape} but the target p has {p.shape}"
    if p.dtype.kind not in "iu" and p.shape != x.shape[:-1]:
        return message
    classes = x.shape[-1] if x.ndim else 1
    return (
        f"{message}; p looks like class labels, but CrossEntropy takes a distribution of "
        f"x's shape: encode them with compgraph.data.one_hot(labels, {classes}), or give "
        "the logits to SoftmaxCrossEntropy, which takes integer labels"
    )


class SoftmaxCrossEntropy(Node):
    """y = −Σ_i p_i · log softmax(z)_i per row, from logits z (last axis).

    The target is either integer class labels of shape z.shape[:-1] (p is then
    one-hot) or a distribution p of z's shape.

    Gradient: dL/dz = dL/dy · (softmax(z) − p),  dL/dp = −dL/dy · log softmax(z).
    Saves softmax(z) and the target (and log softmax(z) when p needs a gradient).

    Stability: log-softmax via log-sum-exp with the row maximum subtracted, so
    the loss is finite for logits of any size; no probability is ever clipped.

    Args:
        reduction: ``"none"`` for one loss per row (the original notebook's CrossEntropy), or
            ``"mean"`` for their average over the R rows — then every dL/dz row
            carries the factor 1/R. One fused node saves a Mean node per step.

    Raises:
        InputValueError: (a ValueError) an integer label outside [0, classes), with
            its value and index.
    """

    def __init__(self, reduction: str = "none") -> None:
        if reduction not in ("none", "mean"):
            raise ValueError(
                f"SoftmaxCrossEntropy: reduction must be 'none' or 'mean', not {reduction!r}"
            )
        self.reduction = reduction

    def forward(self, logits: Array, target: Array) -> Array:
        self.target = target
        if target.dtype.kind in "iu":
            losses = self._labels_forward(logits, target)
        else:
            losses = self._distribution_forward(logits, target)
        if self.reduction == "none":
            return losses
        self.row_shape, self.rows = losses.shape, max(losses.size, 1)
        total = kernels.sum_rows(losses.reshape(-1))
        total *= 1.0 / self.rows
        return total

    def _labels_forward(self, logits: Array, labels: Array) -> Array:
        self._check_labels(logits, labels)
        losses, self.probs = kernels.softmax_cross_entropy(
            logits.reshape(-1, logits.shape[-1]), labels.reshape(-1)
        )
        return losses.reshape(labels.shape)

    def _distribution_forward(self, logits: Array, target: Array) -> Array:
        if target.shape != logits.shape:
            raise self.shape_error(
                f"logits have shape {logits.shape} but the target distribution has "
                f"{target.shape}; give a distribution of the logits' shape or integer labels "
                f"of shape {logits.shape[:-1]}"
            )
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        self.probs = np.exp(log_probs)
        if self.needs_input_grad[1]:
            self.log_probs = log_probs
        return -(target * log_probs).sum(axis=-1)

    def _check_labels(self, logits: Array, labels: Array) -> None:
        if labels.shape != logits.shape[:-1]:
            raise self.shape_error(
                f"logits have shape {logits.shape} but the labels have shape {labels.shape}; "
                f"expected {logits.shape[:-1]}"
            )
        classes = logits.shape[-1]
        position = kernels.first_label_out_of_range(labels.reshape(-1), classes)
        if position >= 0:
            index = np.unravel_index(position, labels.shape)
            raise self.value_error(
                f"label {labels[index]} at index {tuple(int(i) for i in index)} is out of "
                f"range: the logits have {classes} classes, so labels must lie in "
                f"[0, {classes})"
            )

    def backward(self, grad_out: Array) -> tuple[Array, Array | None]:
        if self.reduction == "mean":  # one 0-d gradient, shared by every row
            grad_rows = np.empty(self.row_shape, grad_out.dtype)
            grad_rows.fill(grad_out * (1.0 / self.rows))
        else:
            grad_rows = grad_out
        if self.target.dtype.kind in "iu":
            grad_logits = kernels.softmax_cross_entropy_backward(
                self.probs, self.target.reshape(-1), grad_rows.reshape(-1)
            )
            return grad_logits.reshape(*self.target.shape, -1), None
        grad = grad_rows[..., np.newaxis]
        grad_logits = grad * (self.probs - self.target)
        grad_target = -grad * self.log_probs if self.needs_input_grad[1] else None
        return grad_logits, grad_target


class MSE(Node):
    """y = (1/N) Σ_i (x_i − t_i)², the mean squared error over all N elements.

    Gradient: dL/dx_i = dL/dy · 2 (x_i − t_i) / N,  dL/dt_i = −dL/dx_i. Saves x − t.
    Prediction and target must have the same shape (no silent broadcasting).
    """

    def forward(self, x: Array, target: Array) -> Array:
        if x.shape != target.shape:
            raise self.shape_error(f"prediction has shape {x.shape} but target has {target.shape}")
        self.diff = x - target
        return np.asarray(np.mean(self.diff * self.diff))

    def backward(self, grad_out: Array) -> tuple[Array, Array | None]:
        grad_x = grad_out * (2 / self.diff.size) * self.diff
        return grad_x, (-grad_x if self.needs_input_grad[1] else None)
