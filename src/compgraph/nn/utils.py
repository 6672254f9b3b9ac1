"""Gradient clipping, as ``torch.nn.utils``: rescale or clamp the gradients in place."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[NDArray[Any]]:
    items = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [item.grad for item in items if item.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0
) -> float:
    """Scale all gradients by min(1, max_norm / (‖g‖ + 1e-6)), in place; return ‖g‖.

    ‖g‖ is the ``norm_type``-norm of all the gradients together, as if concatenated
    (``inf``: the largest absolute value). Parameters without a gradient are skipped.

    Args:
        parameters: a parameter or an iterable of them (``model.parameters()``).
        max_norm: the largest norm allowed.
        norm_type: p of the p-norm; ``float("inf")`` for the max norm.

    Returns:
        The total norm before clipping, as a Python float (PyTorch returns a tensor).

    Example:
        >>> import numpy as np, compgraph as cg
        >>> w = cg.nn.Parameter(np.zeros(2)); w.grad = np.array([3.0, 4.0])
        >>> cg.nn.utils.clip_grad_norm_([w], max_norm=1.0)
        5.0
    """
    grads = _grads(parameters)
    if not grads:
        return 0.0
    norm_type = float(norm_type)
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(grad), initial=0.0)) for grad in grads)
    else:
        norms = [np.linalg.norm(grad.ravel(), ord=norm_type) for grad in grads]
        total = float(np.linalg.norm(np.array(norms), ord=norm_type))
    coefficient = min(float(max_norm) / (total + 1e-6), 1.0)
    for grad in grads:
        grad *= coefficient
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element to [−clip_value, clip_value], in place.

    Example:
        >>> import numpy as np, compgraph as cg
        >>> w = cg.nn.Parameter(np.zeros(2)); w.grad = np.array([3.0, -0.5])
        >>> cg.nn.utils.clip_grad_value_([w], 1.0); w.grad
        array([ 1. , -0.5])
    """
    clip_value = float(clip_value)
    for grad in _grads(parameters):
        np.clip(grad, -clip_value, clip_value, out=grad)
