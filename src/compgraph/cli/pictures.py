"""The picture commands: ``compgraph graph``, ``compgraph plot`` and eval's figures.

Each prints one line per file written. Files are written whole or not at all
(:mod:`compgraph.files`): a failed write leaves no temporary file behind.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from compgraph.cli import usage


def check_output(option: str, path: Path | None) -> None:
    """Fail before any work if a file cannot be written where asked."""
    if path is None:
        return
    if path.is_dir():
        usage(f"{option} {path} is a folder; name a file in it")
    if not path.parent.is_dir():
        usage(f"{option}: folder {path.parent} does not exist")


def draw_eval_figures(
    args: argparse.Namespace,
    test_set: Any,
    truth: np.ndarray,
    predictions: np.ndarray,
    matrix: np.ndarray,
) -> int:
    """eval's --show-errors and --confusion pictures."""
    from compgraph.viz.figures import MATPLOTLIB_HINT, confusion_figure, error_grid, save_figure

    try:
        if args.show_errors is not None:
            grid = error_grid(test_set.images, truth, predictions, test_set.classes)
            save_figure(grid, args.show_errors)
            wrong = int(np.count_nonzero(truth != predictions))
            print(f"wrote {args.show_errors}: {min(wrong, 36)} of {wrong} misclassified images")
        if args.confusion is not None:
            save_figure(confusion_figure(matrix, test_set.classes), args.confusion)
            print(f"wrote {args.confusion}: the confusion matrix")
    except ImportError:
        print(f"compgraph eval: {MATPLOTLIB_HINT}", file=sys.stderr)
        return 1
    return 0


def graph_command(args: argparse.Namespace) -> int:
    from compgraph.viz import RendererMissingError, draw_graph, render, topological_order
    from compgraph.viz.preset import preset_loss

    check_output("--output", args.output)
    if args.output.suffix.lower() == ".html":
        from compgraph.viz.explorer import explore

        model, loss = preset_loss(args.model, args.batch_size, args.seed)
        title = f"the {args.model} preset on a batch of {args.batch_size} synthetic images"
        explorer = explore(loss, model, title)
        explorer.save(args.output)
        print(f"wrote {args.output}: the explorer for {title} ({len(explorer.data['boxes'])} "
              f"boxes, {len(explorer.data['backward'])} backward steps)")  # fmt: skip
        return 0
    model, loss = preset_loss(args.model, args.batch_size, args.seed, backward=args.grads)
    graph = draw_graph(
        loss, values=args.values, grads=args.grads, model=model, rankdir=args.rankdir
    )
    tensors = topological_order(loss)
    edges = sum(len(t.node.inputs) for t in tensors if t.node is not None)
    try:
        render(graph, args.output)
    except RendererMissingError as error:
        source = render(graph, args.output.with_suffix(".dot"))
        print(f"compgraph graph: {error}; the DOT source is in {source}", file=sys.stderr)
        return 1
    print(
        f"wrote {args.output}: the {args.model} preset's graph for a batch of "
        f"{args.batch_size} ({len(tensors)} boxes, {edges} edges)"
    )
    return 0


def plot_command(args: argparse.Namespace) -> int:
    from compgraph.train.plots import plot_runs, read_metrics

    if len(args.runs) > 1 and args.output is None:
        usage("-o/--output: name the picture to overlay several runs in")
    for run_dir in args.runs:
        if not (run_dir / "metrics.jsonl").is_file():
            usage(f"{run_dir} holds no metrics.jsonl")
    output = args.output if args.output is not None else args.runs[0] / "curves.png"
    check_output("--output", output)
    runs = {}
    for run_dir in args.runs:
        try:
            history = read_metrics(run_dir)
        except ValueError as error:  # a damaged file: say which line
            usage(str(error))
        if not history:
            print(f"compgraph plot: {run_dir} has not finished an epoch yet", file=sys.stderr)
            return 1
        runs[run_label(run_dir, args.runs)] = history
    if not plot_runs(runs, output):
        print(
            "compgraph plot: matplotlib is not installed: pip install matplotlib", file=sys.stderr
        )
        return 1
    epochs = ", ".join(str(len(history)) for history in runs.values())
    print(f"wrote {output}: {len(runs)} run{'s' if len(runs) > 1 else ''} ({epochs} epochs)")
    return 0


def run_label(run_dir: Path, all_runs: list[Path]) -> str:
    """A run's name in the legend: its folder's name, or its path where names repeat."""
    name = run_dir.resolve().name
    same = sum(1 for other in all_runs if other.resolve().name == name)
    return name if same == 1 else str(run_dir)
