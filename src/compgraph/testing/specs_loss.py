"""Op specs for the losses a PyTorch user expects (NLL, BCE, L1, smooth L1, …).

Each spec calls the ``compgraph.functional`` form with PyTorch's arguments (weight,
ignore_index, label_smoothing, pos_weight, beta, reduction) and compares it with a plain
NumPy reference below and with ``torch.nn.functional`` called the same way. Integer
labels and the weights are never differentiated (PyTorch does not either).

Gathered into :data:`compgraph.testing.specs.SPECS`; see :class:`~compgraph.testing.opspec.OpSpec`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph import functional as F
from compgraph import nodes
from compgraph.node import Node
from compgraph.testing.makers import distribution, labels_for, uniform
from compgraph.testing.opspec import OpSpec, Shapes

Array = NDArray[Any]

CLASS_WEIGHT = np.array([0.5, 2.0, 1.0, 1.5])  # one per class, C = 4
POS_WEIGHT = np.array([3.0, 0.5, 1.0, 2.0])
LABELS = (((5, 4), (5,)), ((1, 4), (1,)), ((2, 4, 3), (2, 3)))  # (N, C), (N, C, d) as PyTorch
BATCH = (((6, 4), (6,)), ((2, 4, 3), (2, 3)))  # never every label ignored
PAIRS = (((3, 4), (3, 4)), ((1, 4), (1, 4)), ((2, 3, 4), (2, 3, 4)))
PROBABILITY = uniform(0.05, 0.95)


# ---------------------------------------------------------------- NumPy references
def _classes_last(x: Array) -> Array:
    return np.moveaxis(x, 1, -1) if x.ndim > 2 else x


def _reduce(losses: Array, reduction: str) -> Array:
    if reduction == "none":
        return losses
    return np.asarray(losses.mean() if reduction == "mean" else losses.sum())


def _log_softmax(z: Array) -> Array:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def nll_reference(
    x: Array,
    labels: Array,
    weight: Array | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Array:
    """−Σ_c w_c q_nc x_nc per sample; 'mean' divides by Σ w_(t_n) over the kept samples.

    The classes lie on axis 1 for more than two axes (PyTorch's (N, C, d1, …))."""
    return _nll(_classes_last(x), labels, weight, ignore_index, reduction, label_smoothing)


def _nll(
    x: Array,
    labels: Array,
    weight: Array | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Array:
    classes = x.shape[-1]
    w = np.ones(classes) if weight is None else weight
    kept = labels != ignore_index
    safe = np.where(kept, labels, 0)
    q = (1 - label_smoothing) * np.eye(classes)[safe] + label_smoothing / classes
    losses = np.where(kept, -(w * q * x).sum(axis=-1), 0.0)
    if reduction != "mean":
        return _reduce(losses, reduction)
    return np.asarray(losses.sum() / np.where(kept, w[safe], 0.0).sum())


def cross_entropy_reference(z: Array, target: Array, **options: Any) -> Array:
    """Log-softmax over the classes, then NLL (labels) or −Σ_c w_c q_nc log p_nc."""
    log_probs = _log_softmax(_classes_last(z))
    if target.dtype.kind in "iu":
        return _nll(log_probs, target, **options)
    weight, smoothing = options.get("weight"), options.get("label_smoothing", 0.0)
    w = 1.0 if weight is None else weight
    q = (1 - smoothing) * _classes_last(target) + smoothing / z.shape[1 if z.ndim > 1 else 0]
    return _reduce(-(w * q * log_probs).sum(axis=-1), options.get("reduction", "mean"))


def bce_reference(x: Array, t: Array, weight: Any = 1.0, reduction: str = "mean") -> Array:
    log_x, log_1mx = np.maximum(np.log(x), -100), np.maximum(np.log1p(-x), -100)
    return _reduce(-weight * (t * log_x + (1 - t) * log_1mx), reduction)


def bce_logits_reference(
    z: Array, t: Array, weight: Any = 1.0, reduction: str = "mean", pos_weight: Any = 1.0
) -> Array:
    log_sigmoid, log_1m_sigmoid = -np.logaddexp(0, -z), -np.logaddexp(0, z)
    return _reduce(-weight * (pos_weight * t * log_sigmoid + (1 - t) * log_1m_sigmoid), reduction)


def smooth_l1_reference(x: Array, t: Array, reduction: str = "mean", beta: float = 1.0) -> Array:
    d = np.abs(x - t)
    return _reduce(np.where(d < beta, 0.5 * d**2 / (beta or 1.0), d - 0.5 * beta), reduction)


def huber_reference(x: Array, t: Array, reduction: str = "mean", delta: float = 1.0) -> Array:
    d = np.abs(x - t)
    return _reduce(np.where(d < delta, 0.5 * d**2, delta * (d - 0.5 * delta)), reduction)


# ---------------------------------------------------------------- the specs
def _torch(name: str, **options: Any) -> Callable[..., Any]:
    """``torch.nn.functional.<name>(*inputs, **options)``, weights made tensors on call."""

    def call(*inputs: Any) -> Any:
        import torch
        import torch.nn.functional as TF

        settings = {
            key: torch.tensor(value) if isinstance(value, np.ndarray) else value
            for key, value in options.items()
        }
        return getattr(TF, name)(*inputs, **settings)

    return call


def _spec(
    name: str,
    function: str,
    cases: tuple[Shapes, ...],
    node: type[Node],
    reference: Callable[..., Array],
    makers: tuple[Any, ...],
    **options: Any,
) -> OpSpec:
    """One loss called as ``F.<function>(a, b, **options)``, the same way in PyTorch."""
    ours = getattr(F, function)
    return OpSpec(
        name,
        lambda a, b: ours(a, b, **options),
        cases,
        (node,),
        lambda a, b: reference(a, b, **options),
        makers=makers,
        torch_fn=_torch(function, **options),
    )


_TARGET = uniform(0.0, 1.0)  # a float target, differentiated as in PyTorch
_LABELS = (uniform(-3, 3), labels_for(4))
_LOG_PROBS = (uniform(-3, -0.1), labels_for(4))
_NORMAL_PAIR = (uniform(-2, 2), _TARGET)


def _regression(name: str, function: str, node: type[Node], reference: Any) -> list[OpSpec]:
    """A regression loss in each reduction, both inputs differentiated."""
    return [
        _spec(f"{name}_{reduction}", function, PAIRS, node, reference, _NORMAL_PAIR,
              reduction=reduction)
        for reduction in ("none", "mean", "sum")
    ]  # fmt: skip


def _mse(x: Array, t: Array, reduction: str = "mean") -> Array:
    return _reduce((x - t) ** 2, reduction)


def _l1(x: Array, t: Array, reduction: str = "mean") -> Array:
    return _reduce(np.abs(x - t), reduction)


W = CLASS_WEIGHT
LOSS_SPECS: list[OpSpec] = [
    # ---- negative log-likelihood on log-probabilities
    _spec("nll_loss", "nll_loss", LABELS, nodes.NLL, nll_reference, _LOG_PROBS),
    _spec("nll_loss_weight_ignore_index", "nll_loss", BATCH, nodes.NLL, nll_reference,
          _LOG_PROBS, weight=W, ignore_index=1),
    _spec("nll_loss_sum", "nll_loss", LABELS, nodes.NLL, nll_reference, _LOG_PROBS,
          weight=W, reduction="sum"),
    _spec("nll_loss_none", "nll_loss", BATCH, nodes.NLL, nll_reference, _LOG_PROBS,
          ignore_index=2, reduction="none"),
    # ---- cross-entropy on logits: fused by default, LogSoftmax + NLL with the options
    _spec("cross_entropy_default", "cross_entropy", LABELS, nodes.SoftmaxCrossEntropy,
          cross_entropy_reference, _LABELS),
    _spec("cross_entropy_ignore_index", "cross_entropy", BATCH, nodes.NLL,
          cross_entropy_reference, _LABELS, ignore_index=1),
    _spec("cross_entropy_label_smoothing", "cross_entropy", BATCH, nodes.NLL,
          cross_entropy_reference, _LABELS, ignore_index=1, label_smoothing=0.1),
    _spec("cross_entropy_weight_smoothing", "cross_entropy", BATCH, nodes.NLL,
          cross_entropy_reference, _LABELS, weight=W, ignore_index=0, label_smoothing=0.2),
    _spec("cross_entropy_weight_sum", "cross_entropy", LABELS, nodes.NLL,
          cross_entropy_reference, _LABELS, weight=W, reduction="sum"),
    _spec("cross_entropy_none_smoothing", "cross_entropy", LABELS, nodes.NLL,
          cross_entropy_reference, _LABELS, reduction="none", label_smoothing=0.3),
    _spec("cross_entropy_probabilities", "cross_entropy", (((5, 4), (5, 4)),),
          nodes.SoftmaxCrossEntropy, cross_entropy_reference, (uniform(-3, 3), distribution)),
    _spec("cross_entropy_probabilities_weight_smoothing", "cross_entropy",
          (((5, 4), (5, 4)), ((2, 4, 3), (2, 4, 3))), nodes.Mean, cross_entropy_reference,
          (uniform(-3, 3), distribution), weight=W, label_smoothing=0.1),
    # ---- binary cross-entropy, on probabilities and on logits
    *[_spec(f"binary_cross_entropy_{reduction}", "binary_cross_entropy", PAIRS, nodes.BCE,
            bce_reference, (PROBABILITY, _TARGET), reduction=reduction)
      for reduction in ("none", "mean", "sum")],
    _spec("binary_cross_entropy_weight", "binary_cross_entropy", PAIRS, nodes.BCE,
          bce_reference, (PROBABILITY, _TARGET), weight=POS_WEIGHT),
    *[_spec(f"bce_with_logits_{reduction}", "binary_cross_entropy_with_logits", PAIRS,
            nodes.BCEWithLogits, bce_logits_reference, (uniform(-6, 6), _TARGET),
            reduction=reduction)
      for reduction in ("none", "mean", "sum")],
    _spec("bce_with_logits_weight_pos_weight", "binary_cross_entropy_with_logits", PAIRS,
          nodes.BCEWithLogits, bce_logits_reference, (uniform(-6, 6), _TARGET),
          weight=CLASS_WEIGHT, pos_weight=POS_WEIGHT),
    # ---- regression losses
    *_regression("mse_loss", "mse_loss", nodes.MSE, _mse),
    *_regression("l1_loss", "l1_loss", nodes.L1, _l1),
    *_regression("smooth_l1_loss", "smooth_l1_loss", nodes.SmoothL1, smooth_l1_reference),
    _spec("smooth_l1_loss_beta", "smooth_l1_loss", PAIRS, nodes.SmoothL1,
          smooth_l1_reference, _NORMAL_PAIR, beta=0.4),
    _spec("smooth_l1_loss_beta_0", "smooth_l1_loss", PAIRS, nodes.SmoothL1,
          smooth_l1_reference, _NORMAL_PAIR, beta=0.0),
    _spec("huber_loss", "huber_loss", PAIRS, nodes.Mul, huber_reference, _NORMAL_PAIR,
          delta=0.4),
    _spec("huber_loss_sum", "huber_loss", PAIRS, nodes.Mul, huber_reference, _NORMAL_PAIR,
          reduction="sum", delta=2.0),
]  # fmt: skip
