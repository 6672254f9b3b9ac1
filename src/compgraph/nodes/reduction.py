"""Reductions: Sum, Mean, Max, Min and Var over some axes or all of them."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.node import Node

Array = NDArray[Any]
Axis = int | tuple[int, ...] | None


def _normalise_axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted(a % ndim if ndim else 0 for a in axes))


def _expand_reduced(grad_out: Array, axes: tuple[int, ...], keepdims: bool) -> Array:
    """Give a reduced gradient back the size-1 axes that keepdims=True would have kept."""
    return grad_out if keepdims else np.expand_dims(grad_out, axes)


class _Reduction(Node):
    """Shared settings of the reductions: ``axis`` and ``keepdims`` as in NumPy."""

    def __init__(self, axis: Axis = None, keepdims: bool = False) -> None:
        self.axis = axis
        self.keepdims = keepdims


class Sum(_Reduction):
    """y = Σ_i x_i over ``axis`` (all axes when None).

    Gradient: dL/dx_i = dL/dy, broadcast back over the summed axes. Saves x's shape.
    """

    def forward(self, x: Array) -> Array:
        self.input_shape = x.shape
        self.axes = _normalise_axes(self.axis, x.ndim)
        return np.asarray(x.sum(axis=self.axis, keepdims=self.keepdims))

    def backward(self, grad_out: Array) -> Array:
        grad = _expand_reduced(grad_out, self.axes, self.keepdims)
        return np.broadcast_to(grad, self.input_shape)


class Mean(_Reduction):
    """y = (1/N) Σ_i x_i over ``axis``; by default over all N elements, as in the original notebook.

    Gradient: dL/dx_i = dL/dy / N, broadcast back over the averaged axes. Saves x's shape.
    """

    def forward(self, x: Array) -> Array:
        self.input_shape = x.shape
        self.axes = _normalise_axes(self.axis, x.ndim)
        self.count = int(np.prod([x.shape[a] for a in self.axes]))
        return np.asarray(x.mean(axis=self.axis, keepdims=self.keepdims))

    def backward(self, grad_out: Array) -> Array:
        grad = _expand_reduced(grad_out, self.axes, self.keepdims) / self.count
        return np.broadcast_to(grad, self.input_shape)


class _Extreme(_Reduction):
    """What Max and Min share: each element's share of the gradient."""

    def _keep_shares(self, x: Array, y: Array) -> Array:
        """Save 1/k at the k elements equal to the extreme ``y`` (kept dims), else 0; return y."""
        self.axes = _normalise_axes(self.axis, x.ndim)
        is_extreme = x == y
        self.share = is_extreme / is_extreme.sum(axis=self.axis, keepdims=True, dtype=x.dtype)
        return y if self.keepdims else np.squeeze(y, axis=self.axes)

    def backward(self, grad_out: Array) -> Array:
        return _expand_reduced(grad_out, self.axes, self.keepdims) * self.share


class Max(_Extreme):
    """y = max_i x_i over ``axis``.

    Gradient: dL/dx_i = dL/dy / k where x_i is one of the k maxima, else 0
    (ties share the gradient equally, which keeps it symmetric).
    Saves the mask of maxima divided by their count.
    """

    def forward(self, x: Array) -> Array:
        return self._keep_shares(x, x.max(axis=self.axis, keepdims=True))


class Min(_Extreme):
    """y = min_i x_i over ``axis``.

    Gradient: dL/dx_i = dL/dy / k where x_i is one of the k minima, else 0
    (ties share the gradient equally, as in Max). Saves the mask of minima divided
    by their count.
    """

    def forward(self, x: Array) -> Array:
        return self._keep_shares(x, x.min(axis=self.axis, keepdims=True))


class Var(_Reduction):
    """y = Σ_i (x_i − x̄)² / (N − c) over ``axis``, x̄ the mean and N the count there.

    Gradient: dL/dx_i = dL/dy · 2·(x_i − x̄) / (N − c) (the x̄ term drops out, as
    Σ_i (x_i − x̄) = 0). Saves x − x̄ and N − c.

    c is the correction: 0 divides by N (NumPy's default ``ddof=0``), 1 by N − 1
    (PyTorch's default ``correction=1``, the unbiased estimate). ``Tensor.var``
    picks it; N − c ≤ 0 gives inf or nan, as in NumPy and PyTorch.

    Args:
        axis, keepdims: as in NumPy.
        correction: c.
    """

    def __init__(self, axis: Axis = None, keepdims: bool = False, correction: float = 0) -> None:
        super().__init__(axis, keepdims)
        self.correction = correction

    def forward(self, x: Array) -> Array:
        self.axes = _normalise_axes(self.axis, x.ndim)
        count = int(np.prod([x.shape[a] for a in self.axes]))
        self.divisor = max(count - self.correction, 0)
        self.centred = x - x.mean(axis=self.axis, keepdims=True)
        squares = (self.centred * self.centred).sum(axis=self.axis, keepdims=self.keepdims)
        return np.asarray(squares / self.divisor)

    def backward(self, grad_out: Array) -> Array:
        grad = _expand_reduced(grad_out, self.axes, self.keepdims)
        return grad * (2 * self.centred / self.divisor)
