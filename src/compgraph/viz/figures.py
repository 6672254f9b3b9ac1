"""Figures of a classifier's mistakes: a grid of misclassified images, the confusion matrix.

Each function returns a ``matplotlib.figure.Figure`` made without pyplot, so it
touches no global state: a notebook displays it, :func:`save_figure` writes it.
matplotlib is an optional extra (``pip install compgraph[plot]``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph import files

MATPLOTLIB_HINT = "matplotlib is not installed: pip install matplotlib"


def _figure(**kwargs: Any) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(MATPLOTLIB_HINT) from None
    return Figure(**kwargs)


def as_images(x: NDArray[Any]) -> NDArray[Any]:
    """N×H×W images from N×H×W, N×1×H×W, or N×D rows with D a square (784 → 28×28)."""
    x = np.asarray(x)
    if x.ndim == 4 and x.shape[1] == 1:
        return x[:, 0]
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise ValueError(f"rows of {x.shape[1]} values are not square images")
        return x.reshape(len(x), side, side)
    if x.ndim != 3:
        raise ValueError(f"expected N×H×W images or N×D rows, got shape {x.shape}")
    return x


def error_grid(
    images: NDArray[Any],
    truth: NDArray[Any],
    predicted: NDArray[Any],
    classes: Sequence[str] | None = None,
    limit: int = 36,
) -> Any:
    """The first ``limit`` misclassified images, each titled with its true and predicted class.

    Args:
        images: the test images in the order of ``truth`` (N×28×28, or N×784 rows).
        truth: the true class of each image.
        predicted: the model's class for each image.
        classes: names of the classes (digits "0"…"9" by default).
        limit: at most this many images; the title says how many errors there were.
    """
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    wrong = np.flatnonzero(truth != predicted)
    shown = wrong[:limit]
    columns = max(1, min(len(shown), 9))
    rows = max(1, math.ceil(len(shown) / columns))
    figure = _figure(figsize=(1.25 * columns + 0.3, 1.45 * rows + 0.5))
    names = list(classes) if classes is not None else [str(k) for k in range(10)]
    pictures = as_images(images)
    for position, index in enumerate(shown):
        axes = figure.add_subplot(rows, columns, position + 1)
        axes.imshow(pictures[index], cmap="gray_r")
        axes.set_title(
            f"true {names[truth[index]]}\npred {names[predicted[index]]}", fontsize=8, color="C3"
        )
        axes.set_axis_off()
    total = len(truth)
    figure.suptitle(
        f"{len(wrong)} of {total} misclassified ({len(wrong) / max(total, 1):.2%}); "
        f"the first {len(shown)}",
        fontsize=10,
    )
    figure.tight_layout()
    return figure


def confusion_figure(matrix: NDArray[Any], classes: Sequence[str]) -> Any:
    """The confusion matrix as a heat map: rows are true classes, columns predictions.

    The colour is the share of each true class (so rare classes read as well as
    common ones); every cell is annotated with its count.
    """
    matrix = np.asarray(matrix)
    size = len(classes)
    figure = _figure(figsize=(1.0 + 0.55 * size, 0.6 + 0.5 * size))
    axes = figure.add_subplot()
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (row, column), count in np.ndenumerate(matrix):
        colour = "white" if shares[row, column] > 0.5 else "black"
        axes.text(column, row, str(count), ha="center", va="center", fontsize=7, color=colour)
    names = [str(name) for name in classes]
    upright = max(map(len, names)) <= 3  # digits stand; "T-shirt/top" is turned on its side
    axes.set_xticks(range(size), names, rotation=0 if upright else 90)
    axes.set_yticks(range(size), names)
    axes.set(xlabel="predicted", ylabel="true")
    accuracy = np.trace(matrix) / max(int(matrix.sum()), 1)
    axes.set_title(f"confusion matrix (accuracy {accuracy:.2%})", fontsize=10)
    figure.colorbar(image, ax=axes, fraction=0.046, label="share of the true class")
    figure.tight_layout()
    return figure


def save_figure(figure: Any, path: str | os.PathLike[str], dpi: int = 100) -> Path:
    """Write the figure to ``path`` (format from its suffix) via a temporary file and a rename."""
    path = Path(path)
    with files.atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi, format=path.suffix.lstrip(".").lower() or "png")
    return path
