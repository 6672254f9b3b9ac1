"""Normalisation: BatchNorm (over the batch, per feature) and LayerNorm (per sample)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.node import Node

Array = NDArray[Any]


class BatchNorm(Node):
    """y = γ · x̂ + β with x̂ = (x − μ) / √(σ² + ε), per feature (axis 1).

    Gradient: dL/dβ = Σ dL/dy,  dL/dγ = Σ dL/dy · x̂,
    dL/dx = γ / (m·√(σ² + ε)) · (m · dL/dy − Σ dL/dy − x̂ · Σ dL/dy · x̂), with m elements
    per feature (in evaluation, γ · dL/dy / √(var + ε)).

    In training (no ``mean``/``var`` given) μ and σ² are the batch's mean and
    (biased) variance over every axis but 1; in evaluation (running ``mean`` and
    ``var`` given) they are constants. Saves x̂ and 1/√(σ² + ε). Where the batch's
    statistics come from is :meth:`batch_statistics` and :meth:`gradient_means`:
    :class:`~compgraph.nodes.sync_batchnorm.SyncBatchNorm` takes them over every rank.

    Args:
        eps: ε, keeps the division finite.
        mean, var: running statistics of shape (C,) for evaluation, or None to use the batch's.

    Inputs: x (N, C) or (N, C, H, W), γ (C,), β (C,). Output: x's shape.
    """

    def __init__(self, eps: float = 1e-5, mean: Array | None = None, var: Array | None = None):
        self.eps, self.mean, self.var = eps, mean, var

    def forward(self, x: Array, gamma: Array, beta: Array) -> Array:
        if x.ndim < 2 or gamma.shape != (x.shape[1],) or beta.shape != (x.shape[1],):
            raise self.shape_error(
                f"x has shape {x.shape}, γ {gamma.shape} and β {beta.shape}; expected γ and β "
                f"of shape (C,) with C = x.shape[1]"
            )
        self.axes = (0, *range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)  # broadcasts a (C,) vector over axis 1
        if self.mean is None or self.var is None:
            centred, variance = self.batch_statistics(x)
        else:
            centred = x - self.mean.reshape(shape).astype(x.dtype, copy=False)
            variance = self.var.reshape(shape).astype(x.dtype, copy=False)
        self.inv_std = 1.0 / np.sqrt(variance + self.eps)
        self.normalised = centred * self.inv_std
        self.gamma = gamma.reshape(shape)
        return self.normalised * self.gamma + beta.reshape(shape)

    def backward(self, grad_out: Array) -> tuple[Array | None, Array | None, Array | None]:
        grad_beta = grad_out.sum(axis=self.axes)
        grad_gamma = (grad_out * self.normalised).sum(axis=self.axes)
        grad_x = None
        if self.needs_input_grad[0]:
            scale = self.gamma * self.inv_std
            if self.mean is not None:  # constant statistics: an affine map
                grad_x = grad_out * scale
            else:
                mean_grad, mean_grad_normalised = self.gradient_means(grad_beta, grad_gamma)
                grad_x = scale * (grad_out - mean_grad - self.normalised * mean_grad_normalised)
        return grad_x, grad_gamma, grad_beta

    def batch_statistics(self, x: Array) -> tuple[Array, Array]:
        """(x − μ, σ²) with μ and σ² over every axis but 1, of shape (1, C, 1, …); keeps
        μ and σ² as (C,) vectors and their number of elements per feature as ``count``,
        for the running estimates. Two passes (σ² from x − μ, not E[x²] − μ²), so σ²
        keeps its precision when |μ| ≫ σ."""
        self.count = x.size // max(x.shape[1], 1)
        mean = x.mean(axis=self.axes, keepdims=True)
        centred = x - mean
        variance = (centred * centred).mean(axis=self.axes, keepdims=True)
        self.batch_mean = mean.reshape(-1)
        self.batch_var = variance.reshape(-1)
        return centred, variance

    def gradient_means(self, grad_beta: Array, grad_gamma: Array) -> tuple[Array, Array]:
        """mean(dL/dy) and mean(dL/dy · x̂) per feature, shaped (1, C, 1, …), from their
        sums over this batch, Σ dL/dy = dL/dβ and Σ dL/dy · x̂ = dL/dγ."""
        count = self.normalised.size // grad_beta.size
        shape = self.gamma.shape
        return grad_beta.reshape(shape) / count, grad_gamma.reshape(shape) / count


class LayerNorm(Node):
    """y = γ · x̂ + β with x̂ = (x − μ) / √(σ² + ε), μ and σ² the mean and (biased) variance
    of each sample over its last k axes, k = len(normalized_shape).

    Gradient: dL/dβ = Σ dL/dy,  dL/dγ = Σ dL/dy · x̂ (sums over the leading axes),
    dL/dx = (g − mean(g) − x̂ · mean(g · x̂)) / √(σ² + ε) with g = γ · dL/dy and the means
    over the last k axes. Saves x̂, 1/√(σ² + ε) and γ.

    As PyTorch's ``layer_norm``: the statistics are each sample's own, so training and
    evaluation compute the same thing. Without γ and β (``elementwise_affine=False``),
    y = x̂.

    Args:
        normalized_shape: the shape of the last k axes of x (and of γ and β).
        eps: ε, keeps the division finite.

    Inputs: x (…, *normalized_shape), then optionally γ and β of ``normalized_shape``
    (γ alone: no shift). Output: x's shape.
    """

    def __init__(self, normalized_shape: tuple[int, ...], eps: float = 1e-5) -> None:
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps

    def forward(self, x: Array, gamma: Array | None = None, beta: Array | None = None) -> Array:
        count = len(self.normalized_shape)
        affine = [a.shape for a in (gamma, beta) if a is not None]
        if x.shape[x.ndim - count :] != self.normalized_shape or any(
            shape != self.normalized_shape for shape in affine
        ):
            raise self.shape_error(
                f"x has shape {x.shape} and γ, β {affine}; expected x to end in "
                f"normalized_shape {self.normalized_shape}, and γ, β of that shape"
            )
        self.axes = tuple(range(x.ndim - count, x.ndim))
        mean = x.mean(axis=self.axes, keepdims=True)
        centred = x - mean
        variance = (centred * centred).mean(axis=self.axes, keepdims=True)
        self.inv_std = 1.0 / np.sqrt(variance + self.eps)
        self.normalised = centred * self.inv_std
        self.gamma = gamma
        y = self.normalised if gamma is None else self.normalised * gamma
        return y if beta is None else y + beta

    def backward(self, grad_out: Array) -> Array | tuple[Array | None, ...] | None:
        leading = tuple(range(grad_out.ndim - len(self.axes)))
        grads: list[Array | None] = [None]
        if self.gamma is not None:
            grads.append((grad_out * self.normalised).sum(axis=leading))
        if len(self.needs_input_grad) == 3:
            grads.append(grad_out.sum(axis=leading))
        if self.needs_input_grad[0]:
            g = grad_out if self.gamma is None else grad_out * self.gamma
            mean_g = g.mean(axis=self.axes, keepdims=True)
            mean_g_normalised = (g * self.normalised).mean(axis=self.axes, keepdims=True)
            grads[0] = (g - mean_g - self.normalised * mean_g_normalised) * self.inv_std
        return tuple(grads) if len(grads) > 1 else grads[0]
