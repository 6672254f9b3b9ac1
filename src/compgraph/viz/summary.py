"""Arrays as short text: the exact numbers of a small one, statistics of a large one.

The one place where compgraph turns an array into words, for the boxes of a
drawing, the explorer and the backward trace alike. A tensor of at most
:data:`SMALL` elements is written out, every number to four significant digits,
so that a student can redo the arithmetic by hand; a larger one is summarised by
its mean and standard deviation (and, in the trace, its minimum and maximum).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: Arrays of at most this many elements are written out in full.
SMALL = 12
#: How many leading entries of a large integer array (class labels) are shown.
HEAD = 6


def format_shape(shape: tuple[int, ...]) -> str:
    """``(8, 784)``; a scalar's empty shape reads ``scalar``."""
    return str(tuple(shape)) if shape else "scalar"


def format_number(value: Any) -> str:
    """Four significant digits: 2.303, 0.0001234, 1.5e+04; integers and booleans as they are."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value) + 0.0:.4g}"  # + 0.0: -0.0 becomes 0, as one writes it by hand


def value_rows(array: NDArray[Any], align: bool = True) -> list[str]:
    """Every element, nested in brackets as NumPy prints it: one line per row of the last axis.

    ``[0.25, 0.75]``; ``[[1, 2], [3, 4]]`` on two lines, the numbers right-aligned in
    columns unless ``align`` is False; a scalar is just its number.
    """
    array = np.asarray(array)
    if array.ndim == 0:
        return [format_number(array.item())]
    texts = [format_number(value) for value in array.reshape(-1).tolist()]
    if array.ndim == 1:
        return ["[" + ", ".join(texts) + "]"]
    if array.size == 0:
        return ["[]"]
    width = max(len(text) for text in texts) if align else 0
    columns = array.shape[-1]
    lines = []
    for number, index in enumerate(itertools.product(*map(range, array.shape[:-1]))):
        row = texts[number * columns : (number + 1) * columns]
        opening = 1 + _run(index, lambda axis, i: i == 0)
        closing = 1 + _run(index, lambda axis, i: i == array.shape[axis] - 1)
        body = ", ".join(text.rjust(width) for text in row)
        last = number == array.size // columns - 1
        lines.append(" " * (array.ndim - opening) + "[" * opening + body + "]" * closing
                     + ("" if last else ","))  # fmt: skip
    return lines


def _run(index: tuple[int, ...], test: Any) -> int:
    """How many of the innermost axes of ``index`` pass ``test``, in a row."""
    count = 0
    for axis in reversed(range(len(index))):
        if not test(axis, index[axis]):
            break
        count += 1
    return count


def statistics(array: NDArray[Any], extremes: bool = False) -> str:
    """``mean 0.1, std 0.2`` (and ``, min …, max …`` with ``extremes``) of a float array.

    Named where it matters: ``all 0`` for a constant array, ``≈0`` for a mean lost in
    rounding noise, and the count of NaN and Inf elements when there are any.
    """
    array = np.asarray(array)
    if array.size == 0:
        return "empty"
    finite = np.isfinite(array)
    if not finite.all():
        return f"{array.size - int(finite.sum())} of {array.size} NaN/Inf"
    # float64 sums: a float32 mean of many elements loses digits we are about to print.
    mean = float(array.mean(dtype=np.float64))
    std = float(array.std(dtype=np.float64))
    if std == 0:
        return f"all {format_number(mean)}"
    if array.dtype.kind == "f" and std < 16 * np.finfo(array.dtype).eps * abs(mean):
        return f"all ≈{format_number(mean)}"  # equal but for rounding (1/13, summed back)
    # A mean a million times smaller than the spread is rounding noise around zero
    # (softmax gradients sum to zero in every row); say so rather than print 1.4e-10.
    shown = "≈0" if abs(mean) < 1e-6 * std else format_number(mean)
    text = f"mean {shown}, std {format_number(std)}"
    if extremes:
        text += f", min {format_number(array.min())}, max {format_number(array.max())}"
    return text


def summary_lines(array: NDArray[Any], extremes: bool = False, align: bool = True) -> list[str]:
    """The values of a small array (:func:`value_rows`), or one line summarising a large one.

    A large integer array (class labels) shows its first few entries: their mean
    says little.
    """
    array = np.asarray(array)
    if array.size == 0:
        return ["empty"]
    if array.size <= SMALL:
        return value_rows(array, align)
    if array.dtype.kind in "iub":
        head = ", ".join(format_number(value) for value in array.reshape(-1)[:HEAD].tolist())
        return [f"[{head}, …]"]
    return [statistics(array, extremes)]


def summarize(array: NDArray[Any], extremes: bool = False) -> str:
    """:func:`summary_lines` on one line: ``[0.25, 0.75]``, ``mean 0.1, std 0.2``."""
    return " ".join(line.strip() for line in summary_lines(array, extremes, align=False))
