"""Short text summaries of arrays, small enough for a box in a graph drawing."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def format_shape(shape: tuple[int, ...]) -> str:
    """``(8, 784)``; a scalar's empty shape reads ``scalar``."""
    return str(tuple(shape)) if shape else "scalar"


def format_number(value: float) -> str:
    """Four significant digits: 2.303, 0.0001234, 1.5e+04."""
    return f"{value:.4g}"


def summarize(array: NDArray[Any]) -> str:
    """The number itself for one element; otherwise mean and standard deviation.

    Integer arrays (class labels) show their first few entries instead: their
    mean says little. NaN and Inf are named, since that is what one looks for.
    """
    array = np.asarray(array)
    if array.size == 1:
        return format_number(float(array.reshape(())))
    if array.size == 0:
        return "empty"
    if array.dtype.kind in "iub":
        head = " ".join(str(value) for value in array.reshape(-1)[:6])
        return f"[{head}{' …' if array.size > 6 else ''}]"
    finite = np.isfinite(array)
    if not finite.all():
        return f"{array.size - int(finite.sum())} of {array.size} NaN/Inf"
    # float64 sums: a float32 mean of many elements loses digits we are about to print.
    mean = float(array.mean(dtype=np.float64))
    std = float(array.std(dtype=np.float64))
    if std == 0:
        return f"all {format_number(mean)}"
    # A mean a million times smaller than the spread is rounding noise around zero
    # (softmax gradients sum to zero in every row); say so rather than print 1.4e-10.
    shown = "≈0" if abs(mean) < 1e-6 * std else format_number(mean)
    return f"mean {shown}, std {format_number(std)}"
