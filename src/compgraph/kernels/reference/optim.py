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
    dampening: float = 0.0,
) -> None:
    """θ ← θ − lr·v, with g = ∇ + λ·θ and v = g (no momentum) or v ← μ·v + (1 − d)·g.

    Nesterov's form steps by g + μ·v instead of v. ``velocity`` (v) is updated in place
    and is None without momentum; the optimizer passes d = 0 on the first step, where
    PyTorch sets v = g.
    """
    g = grad + weight_decay * param if weight_decay else grad
    step = g
    if velocity is not None:
        velocity *= momentum
        velocity += (1 - dampening) * g if dampening else g
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
    max_v: Array | None = None,
) -> None:
    """One Adam step (AdamW's when ``decoupled``), in place on θ, m and v.

    m ← β₁·m + (1 − β₁)·g,  v ← β₂·v + (1 − β₂)·g²,
    θ ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)   (PyTorch's arrangement of m̂/(√v̂ + ε)),
    with g = ∇ + λ·θ (Adam), or θ ← θ·(1 − lr·λ) first (AdamW). AMSGrad passes
    ``max_v`` ← max(max_v, v), which takes v's place in the denominator.
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
    if max_v is not None:
        np.maximum(max_v, v, out=max_v)
    denominator = np.sqrt(v if max_v is None else max_v) / math.sqrt(1 - beta2**step) + eps
    param -= lr / (1 - beta1**step) * (m / denominator)


def rmsprop_step(
    param: Array,
    grad: Array,
    square_avg: Array,
    grad_avg: Array | None,
    velocity: Array | None,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
) -> None:
    """One RMSprop step, in place on θ and the averages, as PyTorch arranges it.

    g = ∇ + λ·θ,  s ← α·s + (1 − α)·g²,  d = √s + ε, or √(s − ḡ²) + ε when centred
    (``grad_avg`` ḡ ← ḡ + (1 − α)·(g − ḡ)); θ ← θ − lr·g/d, or with momentum
    (``velocity`` b) b ← μ·b + g/d, θ ← θ − lr·b.
    """
    g = grad + weight_decay * param if weight_decay else grad
    square_avg *= alpha
    square_avg += (1 - alpha) * (g * g)
    if grad_avg is not None:
        grad_avg += (1 - alpha) * (g - grad_avg)
        denominator = np.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        denominator = np.sqrt(square_avg) + eps
    if velocity is not None:
        velocity *= momentum
        velocity += g / denominator
        param -= lr * velocity
    else:
        param -= lr * (g / denominator)


def adagrad_step(
    param: Array,
    grad: Array,
    state_sum: Array,
    step: int,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
) -> None:
    """One Adagrad step, in place on θ and the sum of squares s.

    g = ∇ + λ·θ,  s ← s + g²,  θ ← θ − lr/(1 + (t − 1)·lr_decay) · g/(√s + ε).
    """
    g = grad + weight_decay * param if weight_decay else grad
    state_sum += g * g
    param -= lr / (1 + (step - 1) * lr_decay) * (g / (np.sqrt(state_sum) + eps))


def adadelta_step(
    param: Array,
    grad: Array,
    square_avg: Array,
    acc_delta: Array,
    lr: float,
    rho: float,
    eps: float,
    weight_decay: float,
) -> None:
    """One Adadelta step, in place on θ and the averages s (of g²) and u (of Δ²).

    g = ∇ + λ·θ,  s ← ρ·s + (1 − ρ)·g²,  Δ = √(u + ε)/√(s + ε)·g,
    u ← ρ·u + (1 − ρ)·Δ²,  θ ← θ − lr·Δ.
    """
    g = grad + weight_decay * param if weight_decay else grad
    square_avg *= rho
    square_avg += (1 - rho) * (g * g)
    delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * g
    acc_delta *= rho
    acc_delta += (1 - rho) * (delta * delta)
    param -= lr * delta
