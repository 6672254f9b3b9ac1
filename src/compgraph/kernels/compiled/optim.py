"""The optimizers' updates compiled: one pass over each parameter, no temporary arrays.

NumPy needs four to seven passes over a parameter for one momentum or Adam update
(0.34 ms for the mlp preset's momentum update, 2026-11-26); compiled, each element
is read and written once. The coefficients are cast to the parameter's dtype
first, so both paths round alike.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.kernels import reference
from compgraph.kernels.compiled._jit import coefficients, compilable, compile_kernel, run
from compgraph.kernels.layout import flat_views

Array = NDArray[Any]


@compile_kernel
def _sgd(
    param: Array, grad: Array, velocity: Array, settings: Array, mode: int, start: int, stop: int
) -> None:
    lr, momentum, decay = settings[0], settings[1], settings[2]
    # mode: 0 plain, 1 momentum, 2 Nesterov momentum. The chunk is sliced first, so the
    # loop index starts at 0 and numba vectorises it (see compiled/activation.py).
    param, grad = param[start:stop], grad[start:stop]
    if mode > 0:
        velocity = velocity[start:stop]
    for i in range(param.size):
        g = grad[i] + decay * param[i] if decay != 0 else grad[i]
        step = g
        if mode > 0:
            velocity[i] = velocity[i] * momentum + g
            step = g + momentum * velocity[i] if mode == 2 else velocity[i]
        param[i] -= lr * step


@compile_kernel
def _adam(
    param: Array,
    grad: Array,
    m: Array,
    v: Array,
    settings: Array,
    decoupled: bool,
    start: int,
    stop: int,
) -> None:
    beta1, keep1, beta2, keep2 = settings[0], settings[1], settings[2], settings[3]
    eps, decay, shrink = settings[4], settings[5], settings[6]
    step_size, root_correction = settings[7], settings[8]
    param, grad, m, v = param[start:stop], grad[start:stop], m[start:stop], v[start:stop]
    for i in range(param.size):
        if decoupled:
            param[i] *= shrink
            g = grad[i]
        else:
            g = grad[i] + decay * param[i] if decay != 0 else grad[i]
        m[i] = m[i] * beta1 + keep1 * g
        v[i] = v[i] * beta2 + keep2 * (g * g)
        denominator = np.sqrt(v[i]) / root_correction + eps
        param[i] -= step_size * (m[i] / denominator)


def sgd_step(
    param: Array,
    grad: Array,
    velocity: Array | None,
    lr: float,
    momentum: float,
    nesterov: bool,
    weight_decay: float,
) -> None:
    buffers = (param, grad) if velocity is None else (param, grad, velocity)
    views = flat_views(*buffers) if compilable(*buffers) and grad.dtype is param.dtype else None
    if views is None:
        reference.sgd_step(param, grad, velocity, lr, momentum, nesterov, weight_decay)
        return
    mode = 0 if velocity is None else 1 + nesterov
    velocity_view = views[2] if velocity is not None else views[0][:0]
    settings = coefficients(param.dtype, lr, momentum, weight_decay)
    run(_sgd, param.size, 3 * param.size, views[0], views[1], velocity_view, settings, mode)


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
    buffers = (param, grad, m, v)
    views = flat_views(*buffers) if compilable(*buffers) and grad.dtype is param.dtype else None
    if views is None:
        reference.adam_step(param, grad, m, v, step, lr, betas, eps, weight_decay, decoupled)
        return
    beta1, beta2 = betas
    settings = coefficients(
        param.dtype, beta1, 1 - beta1, beta2, 1 - beta2, eps, weight_decay,
        1 - lr * weight_decay, lr / (1 - beta1**step), math.sqrt(1 - beta2**step),
    )  # fmt: skip
    run(_adam, param.size, 6 * param.size, *views, settings, decoupled)
