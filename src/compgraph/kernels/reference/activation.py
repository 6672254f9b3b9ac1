"""ReLU in plain NumPy: the formula, and the reference for the compiled kernels."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]


def relu_forward(x: Array) -> Array:
    """y = max(x, 0), element-wise (NaN stays NaN), in x's memory layout."""
    return np.maximum(x, 0)


def relu_backward(grad_out: Array, y: Array) -> Array:
    """dL/dx = dL/dy where y > 0 (that is, x > 0), else 0."""
    return grad_out * (y > 0)
