"""Losses: the original notebook's CrossEntropy, the fused SoftmaxCrossEntropy, NLL, MSE,
L1, SmoothL1, BCE and BCEWithLogits.

Each loss but the notebook's takes a ``reduction``, as PyTorch's: ``"none"`` keeps one
loss per element (or row), ``"mean"`` averages them and ``"sum"`` adds them.
"""

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


REDUCTIONS = ("none", "mean", "sum")


def check_reduction(caller: str, reduction: str) -> str:
    """``reduction`` if it is one of :data:`REDUCTIONS`; a ValueError naming ``caller`` if not."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{caller}: reduction must be 'none', 'mean' or 'sum', not {reduction!r}")
    return reduction


def reduce_losses(losses: Array, reduction: str) -> Array:
    """The losses as they are ('none'), their mean or their sum (a 0-d array)."""
    if reduction == "none":
        return losses
    return np.asarray(losses.mean() if reduction == "mean" else losses.sum())


def spread(grad_out: Array, reduction: str, shape: tuple[int, ...]) -> Array:
    """dL/d(each loss): grad_out itself ('none'), or the 0-d grad_out shared by all N losses,
    times 1/N for 'mean'."""
    if reduction == "none":
        return grad_out
    size = int(np.prod(shape))
    scale = 1.0 / size if reduction == "mean" and size else 1.0
    return np.broadcast_to(grad_out * scale, shape)


def _same_shape(node: Node, x: Array, target: Array) -> None:
    if x.shape != target.shape:
        raise node.shape_error(
            f"input has shape {x.shape} but target has {target.shape}; they must match"
        )


class MSE(Node):
    """y = (1/N) Σ_i (x_i − t_i)², the mean squared error over all N elements.

    Gradient: dL/dx_i = dL/dy · 2 (x_i − t_i) / N,  dL/dt_i = −dL/dx_i. Saves x − t.
    Prediction and target must have the same shape (no silent broadcasting).

    Args:
        reduction: ``"mean"`` (the formula above), ``"sum"`` (no 1/N) or ``"none"``
            (y_i = (x_i − t_i)², one per element).
    """

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = check_reduction("MSE", reduction)

    def forward(self, x: Array, target: Array) -> Array:
        if x.shape != target.shape:
            raise self.shape_error(f"prediction has shape {x.shape} but target has {target.shape}")
        self.diff = x - target
        return reduce_losses(self.diff * self.diff, self.reduction)

    def backward(self, grad_out: Array) -> tuple[Array, Array | None]:
        grad_x = 2 * spread(grad_out, self.reduction, self.diff.shape) * self.diff
        return grad_x, (-grad_x if self.needs_input_grad[1] else None)


class L1(Node):
    """y_i = |x_i − t_i| per element, then reduced (``"mean"``: (1/N) Σ_i |x_i − t_i|).

    Gradient: dL/dx_i = dL/dy_i · sign(x_i − t_i),  dL/dt_i = −dL/dx_i (0 where x_i = t_i,
    as PyTorch). Saves sign(x − t).

    Args:
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
    """

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = check_reduction("L1", reduction)

    def forward(self, x: Array, target: Array) -> Array:
        _same_shape(self, x, target)
        diff = x - target
        self.sign = np.sign(diff)
        return reduce_losses(np.abs(diff), self.reduction)

    def backward(self, grad_out: Array) -> tuple[Array, Array | None]:
        grad_x = spread(grad_out, self.reduction, self.sign.shape) * self.sign
        return grad_x, (-grad_x if self.needs_input_grad[1] else None)


class SmoothL1(Node):
    """y_i = ½ d_i² / β where |d_i| < β, else |d_i| − ½ β, for d = x − t, then reduced.

    PyTorch's smooth L1 (β = 0 gives |d|); β · SmoothL1(β) is the Huber loss with δ = β.

    Gradient: dL/dx_i = dL/dy_i · d_i / β where |d_i| < β, else dL/dy_i · sign(d_i);
    dL/dt_i = −dL/dx_i. Saves d.

    Args:
        beta: β ≥ 0, where the square turns into the absolute value.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
    """

    def __init__(self, beta: float = 1.0, reduction: str = "mean") -> None:
        if beta < 0:
            raise ValueError(f"SmoothL1: beta must be ≥ 0, not {beta}")
        self.beta = float(beta)
        self.reduction = check_reduction("SmoothL1", reduction)

    def forward(self, x: Array, target: Array) -> Array:
        _same_shape(self, x, target)
        self.diff = x - target
        size = np.abs(self.diff)
        self.inside = size < self.beta  # all False for β = 0: the loss is then |d|
        square = 0.5 * self.diff * self.diff / (self.beta or 1.0)
        return reduce_losses(np.where(self.inside, square, size - 0.5 * self.beta), self.reduction)

    def backward(self, grad_out: Array) -> tuple[Array, Array | None]:
        slope = np.where(self.inside, self.diff / (self.beta or 1.0), np.sign(self.diff))
        grad_x = spread(grad_out, self.reduction, self.diff.shape) * slope
        return grad_x, (-grad_x if self.needs_input_grad[1] else None)


class NLL(Node):
    """y = −Σ_n Σ_c w_c · q_nc · x_nc / D, for log-probabilities x (last axis) and integer
    labels t, with q_n = (1 − ε) · onehot(t_n) + ε / C and D = Σ_n w_(t_n) (``"mean"``).

    With ε = 0 this is PyTorch's ``nll_loss``: y = −Σ_n w_(t_n) · x_(n, t_n) / Σ_n w_(t_n);
    with log-softmax before it and ε > 0, ``cross_entropy(label_smoothing=ε)``. A row
    whose label is ``ignore_index`` counts nowhere, not even in D. ``"sum"`` takes D = 1;
    ``"none"`` gives one loss per row, without D.

    Gradient: dL/dx_nc = −dL/dy · w_c · q_nc / D (0 on ignored rows); the labels get none.
    Saves the coefficients w_c · q_nc (zero on ignored rows) and 1/D.

    Args:
        weight: w, one weight per class (C,), or None for ones.
        ignore_index: the label of rows to leave out.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
        label_smoothing: ε in [0, 1].

    Raises:
        InputValueError: (a ValueError) a label outside [0, C) that is not ignore_index,
            with its value and index.
    """

    def __init__(
        self,
        weight: Array | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"NLL: label_smoothing must lie in [0, 1], not {label_smoothing}")
        self.weight = None if weight is None else np.asarray(weight)
        self.ignore_index = int(ignore_index)
        self.reduction = check_reduction("NLL", reduction)
        self.label_smoothing = float(label_smoothing)

    def forward(self, x: Array, labels: Array) -> Array:
        classes = x.shape[-1] if x.ndim else 0
        if not x.ndim or labels.shape != x.shape[:-1]:
            raise self.shape_error(
                f"input has shape {x.shape} but the labels have shape {labels.shape}; "
                f"expected {x.shape[:-1]} (one label per row of C = {classes} classes)"
            )
        if labels.dtype.kind not in "iu":
            raise self.value_error(f"labels must be integers, not {labels.dtype}")
        kept = labels != self.ignore_index
        self._check_labels(labels, kept, classes)
        safe = np.where(kept, labels, 0)
        weight = np.ones(classes, x.dtype) if self.weight is None else self.weight.astype(x.dtype)
        if weight.shape != (classes,):
            raise self.shape_error(f"weight has shape {weight.shape}; expected ({classes},)")
        epsilon = self.label_smoothing
        one_hot = safe[..., np.newaxis] == np.arange(classes)
        q = (1 - epsilon) * one_hot + epsilon / classes
        self.coefficients = (weight * q * kept[..., np.newaxis]).astype(x.dtype, copy=False)
        picked = np.take_along_axis(x, safe[..., np.newaxis], axis=-1)[..., 0]
        losses = -(1 - epsilon) * weight[safe] * picked
        if epsilon:
            losses = losses - epsilon / classes * (weight * x).sum(axis=-1)
        losses = np.where(kept, losses, 0).astype(x.dtype, copy=False)
        self.rows = losses.shape
        if self.reduction == "none":
            self.scale = 1.0
            return losses
        total = float(np.where(kept, weight[safe], 0).sum()) if self.reduction == "mean" else 1.0
        with np.errstate(divide="ignore", invalid="ignore"):  # every row ignored: nan, as PyTorch
            self.scale = 1.0 / total if total else np.nan
            return np.asarray(losses.sum() * x.dtype.type(self.scale))

    def _check_labels(self, labels: Array, kept: Array, classes: int) -> None:
        wrong = kept & ((labels < 0) | (labels >= classes))
        if wrong.any():
            index = np.unravel_index(int(np.argmax(wrong)), labels.shape)
            raise self.value_error(
                f"label {labels[index]} at index {tuple(int(i) for i in index)} is out of "
                f"range: the input has {classes} classes, so labels must lie in [0, {classes}) "
                f"or equal ignore_index={self.ignore_index}"
            )

    def backward(self, grad_out: Array) -> tuple[Array, None]:
        grad_rows = grad_out if self.reduction == "none" else np.broadcast_to(grad_out, self.rows)
        scale = grad_out.dtype.type(self.scale)
        return -(grad_rows[..., np.newaxis] * scale) * self.coefficients, None


def _softplus(u: Array) -> Array:
    """log(1 + e^u) without overflow: max(u, 0) + log(1 + e^(−|u|))."""
    return np.maximum(u, 0) + np.log1p(np.exp(-np.abs(u)))


class BCE(Node):
    """y_i = −w_i · (t_i · log x_i + (1 − t_i) · log(1 − x_i)), each log clamped at ≥ −100,
    per element, for probabilities x in [0, 1], then reduced.

    Gradient: dL/dx_i = dL/dy_i · w_i · (x_i − t_i) / max(x_i · (1 − x_i), 10⁻¹²),
    dL/dt_i = −dL/dy_i · w_i · (log x_i − log(1 − x_i)), clamped logs as in the loss.
    Saves x, t and the clamped logs.

    Stability: the clamp (PyTorch's) keeps x = 0 or 1 finite: a loss of at most 100 w_i.

    Args:
        weight: w, broadcast to x's shape, or None for ones (not differentiated).
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.

    Raises:
        InputValueError: (a ValueError) x outside [0, 1] (logits: use BCEWithLogits).
    """

    def __init__(self, weight: Array | None = None, reduction: str = "mean") -> None:
        self.weight = None if weight is None else np.asarray(weight)
        self.reduction = check_reduction("BCE", reduction)

    def forward(self, x: Array, target: Array) -> Array:
        _same_shape(self, x, target)
        if x.size and (x.min() < 0 or x.max() > 1):
            raise self.value_error(
                f"input lies in [{x.min():.3g}, {x.max():.3g}], but must be probabilities in "
                "[0, 1]; for logits use binary_cross_entropy_with_logits"
            )
        self.x, self.target = x, target
        self.w = np.ones((), x.dtype) if self.weight is None else self.weight.astype(x.dtype)
        with np.errstate(divide="ignore"):  # log 0 = −∞, clamped just below
            self.log_x = np.maximum(np.log(x), -100)
            self.log_1mx = np.maximum(np.log1p(-x), -100)
        losses = -self.w * (target * self.log_x + (1 - target) * self.log_1mx)
        return reduce_losses(np.broadcast_to(losses, x.shape), self.reduction)

    def backward(self, grad_out: Array) -> tuple[Array, Array | None]:
        grad = spread(grad_out, self.reduction, self.x.shape) * self.w
        x = self.x
        grad_x = grad * (x - self.target) / np.maximum(x * (1 - x), x.dtype.type(1e-12))
        grad_t = -grad * (self.log_x - self.log_1mx) if self.needs_input_grad[1] else None
        return grad_x, grad_t


class BCEWithLogits(Node):
    """y_i = w_i · ((1 − t_i) · z_i + l_i · softplus(−z_i)), l_i = 1 + (p_i − 1) · t_i, per
    element, for logits z, then reduced: −w · (p · t · log σ(z) + (1 − t) · log(1 − σ(z))).

    Gradient: dL/dz_i = dL/dy_i · w_i · (l_i · σ(z_i) − p_i · t_i),
    dL/dt_i = dL/dy_i · w_i · (p_i · softplus(−z_i) − softplus(z_i)). Saves z, t, σ(z).

    Stability: softplus(u) = log(1 + e^u) = max(u, 0) + log(1 + e^(−|u|)), finite for
    logits of any size; σ(z) = e^(−softplus(−z)).

    Args:
        weight: w, broadcast to z's shape, or None for ones (not differentiated).
        pos_weight: p, the weight of the positive term, broadcast along the last axis
            (one per class), or None for ones (not differentiated).
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
    """

    def __init__(
        self,
        weight: Array | None = None,
        reduction: str = "mean",
        pos_weight: Array | None = None,
    ) -> None:
        self.weight = None if weight is None else np.asarray(weight)
        self.pos_weight = None if pos_weight is None else np.asarray(pos_weight)
        self.reduction = check_reduction("BCEWithLogits", reduction)

    def forward(self, z: Array, target: Array) -> Array:
        _same_shape(self, z, target)
        one = np.ones((), z.dtype)
        self.w = one if self.weight is None else self.weight.astype(z.dtype)
        self.p = one if self.pos_weight is None else self.pos_weight.astype(z.dtype)
        self.z, self.target = z, target
        self.softplus_neg = _softplus(-z)
        self.sigmoid = np.exp(-self.softplus_neg)
        positive = 1 + (self.p - 1) * target
        losses = self.w * ((1 - target) * z + positive * self.softplus_neg)
        return reduce_losses(np.broadcast_to(losses, z.shape), self.reduction)

    def backward(self, grad_out: Array) -> tuple[Array, Array | None]:
        grad = spread(grad_out, self.reduction, self.z.shape) * self.w
        t, p = self.target, self.p
        grad_z = grad * ((1 + (p - 1) * t) * self.sigmoid - p * t)
        grad_t = None
        if self.needs_input_grad[1]:
            grad_t = grad * (p * self.softplus_neg - _softplus(self.z))
        return grad_z, grad_t
