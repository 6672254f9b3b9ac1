"""The optimizers' updates in NumPy: each the formula of its optimizer, applied in place."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]


def sgd_step(
    param: Array,
    grad: Array,
    velocity: Array | None,
    lr: float,
    momentum: float,
    nesterov: bool,
    weight_decay: float,
) -> None:
    """θ ← θ − lr·v, with g = ∇ + λ·θ and v = g (no momentum) or v ← μ·v + g.

    Nesterov's form steps by g + μ·v instead of v. ``velocity`` (v) is updated in place
    and is None without momentum.
    """
    g = grad + weight_decay * param if weight_decay else grad
    step = g
    if velocity is not None:
        velocity *= momentum
        velocity += g
        step = g + momentum * velocity if nesterov else velocity
    param -= lr * step


def adam_step(
    param: Array,
    grad: Array,
    m: Array,
    v: Array,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
    decoupled: bool,
) -> None:
    """One Adam step (AdamW's when ``decoupled``), in place on θ, m and v.

    m ← β₁·m + (1 − β₁)·g,  v ← β₂·v + (1 − β₂)·g²,
    θ ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)   (PyTorch's arrangement of m̂/(√v̂ + ε)),
    with g = ∇ + λ·θ (Adam), or θ ← θ·(1 − lr·λ) first (AdamW).
    """
    beta1, beta2 = betas
    if decoupled:
        param *= 1 - lr * weight_decay
        g = grad
    else:
        g = grad + weight_decay * param if weight_decay else grad
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * (g * g)
    denominator = np.sqrt(v) / math.sqrt(1 - beta2**step) + eps
    param -= lr / (1 - beta1**step) * (m / denominator)
