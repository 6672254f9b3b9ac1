"""curves.png: loss and accuracy per epoch, for one run or several overlaid (matplotlib).

matplotlib is an optional extra; without it the functions that write files
return False and the caller says so. Figures are made without pyplot, so no
global state is touched and nothing needs closing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from compgraph import files

History = Sequence[Mapping[str, float]]


def read_metrics(run_dir: Path) -> list[dict[str, float]]:
    """The epochs of a run folder's metrics.jsonl, one dict per line.

    Raises:
        FileNotFoundError: the folder holds no metrics.jsonl.
        ValueError: a line is not a JSON object of numbers with an ``epoch`` (the message
            names the file and line).
    """
    path = Path(run_dir) / "metrics.jsonl"
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}, line {number}: not JSON ({error.msg})") from None
        numbers = isinstance(row, dict) and all(
            isinstance(value, (int, float)) and not isinstance(value, bool)
            for value in row.values()
        )
        if not numbers or "epoch" not in row:
            raise ValueError(f"{path}, line {number}: not an epoch's numbers ({line[:40]!r})")
        rows.append(row)
    return rows


def curves_figure(runs: Mapping[str, History]) -> Any:
    """Loss and accuracy against epoch, one colour per run: test solid, train dashed.

    ``runs`` maps a label to a run's history. With one run the legend names only
    the splits, as ``curves.png`` always has. Raises ImportError without matplotlib.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(10, 4))
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    single = len(runs) == 1
    for colour, (label, history) in enumerate(runs.items()):
        epochs = [row["epoch"] for row in history]
        for split, style in (("train", "o--" if not single else "o-"), ("test", "o-")):
            if not history or f"{split}_loss" not in history[0]:
                continue
            name = split if single else f"{label} {split}"
            # One run keeps matplotlib's two colours; several runs get one colour each.
            colour_of = {} if single else {"color": f"C{colour % 10}"}
            losses = [row[f"{split}_loss"] for row in history]
            accuracies = [row[f"{split}_acc"] for row in history]
            loss_axes.plot(epochs, losses, style, label=name, markersize=4, **colour_of)
            accuracy_axes.plot(epochs, accuracies, style, label=name, markersize=4, **colour_of)
    loss_axes.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    accuracy_axes.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    epochs = sorted({row["epoch"] for history in runs.values() for row in history})
    for axes in (loss_axes, accuracy_axes):
        if len(epochs) <= 15:  # a tick on every epoch, even the only one
            axes.set_xticks(epochs)
        else:  # epochs are whole numbers
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    figure.tight_layout()
    return figure


def plot_runs(runs: Mapping[str, History], path: Path) -> bool:
    """Draw several runs' curves in one figure; returns False when matplotlib is missing.

    The figure is written to a temporary file and renamed.
    """
    try:
        figure = curves_figure(runs)
    except ImportError:
        return False
    path = Path(path)
    with files.atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=100, format=path.suffix.lstrip(".").lower() or "png")
    return True


def plot_curves(history: History, path: Path) -> bool:
    """Draw loss and accuracy against epoch; returns False when matplotlib is missing.

    ``history`` is one run's list of epoch metrics. The figure is written to a
    temporary file and renamed.
    """
    return plot_runs({"": history}, path)
