"""curves.png: loss and accuracy per epoch (matplotlib, an optional extra)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


def plot_curves(history: Sequence[dict[str, float]], path: Path) -> bool:
    """Draw loss and accuracy against epoch; returns False when matplotlib is missing.

    ``history`` is one run's list of epoch metrics. The figure is written to a
    temporary file and renamed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    epochs = [row["epoch"] for row in history]
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    for split in ("train", "test"):
        if history and f"{split}_loss" in history[0]:
            loss_axes.plot(epochs, [row[f"{split}_loss"] for row in history], "o-", label=split)
            accuracy_axes.plot(epochs, [row[f"{split}_acc"] for row in history], "o-", label=split)
    loss_axes.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    accuracy_axes.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for axes in (loss_axes, accuracy_axes):
        axes.grid(alpha=0.3)
        axes.legend()
    figure.tight_layout()
    temporary = path.with_name(f".{path.stem}.tmp.png")
    figure.savefig(temporary, dpi=100)
    plt.close(figure)
    os.replace(temporary, path)
    return True
