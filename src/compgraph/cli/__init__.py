"""The ``compgraph`` command line: ``train``, ``eval``, ``graph`` and ``plot``.

Bad arguments give one line on standard error and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import numpy as np

from compgraph.train.presets import OPTIMIZERS, PRESETS
from compgraph.train.run import DATASETS, TrainConfig, TrainingRun, load_split


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, without the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def picture_file(formats: tuple[str, ...]) -> Callable[[str], Path]:
    """An argument type: a file name whose suffix is one of ``formats``."""

    def check(text: str) -> Path:
        path = Path(text)
        if path.suffix.lower().lstrip(".") not in formats:
            choices = ", ".join(f".{fmt}" for fmt in formats)
            raise argparse.ArgumentTypeError(f"{text} should end in one of {choices}")
        return path

    return check


FIGURE_FORMATS = ("png", "svg", "pdf")
GRAPH_FORMATS = ("svg", "png", "pdf", "dot")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="compgraph", description="Computation graphs in NumPy.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    train = commands.add_parser(
        "train",
        help="train a preset model (default: the notebook's softmax regression on MNIST)",
        description="Train a preset model; with no arguments, the notebook's experiment.",
    )
    train.add_argument("--model", choices=sorted(PRESETS), default="softmax")
    train.add_argument("--dataset", choices=DATASETS, default="mnist")
    train.add_argument("--epochs", type=positive_int, help="default: the preset's")
    train.add_argument("--batch-size", type=positive_int, help="default: the preset's")
    train.add_argument("--lr", type=positive_float, help="learning rate; default: the preset's")
    train.add_argument("--optimizer", choices=OPTIMIZERS, help="default: the preset's")
    train.add_argument("--seed", type=int, default=5, help="default: 5, the notebook's")
    train.add_argument("--data-dir", help="where datasets live ($COMPGRAPH_DATA by default)")
    train.add_argument("--out", type=Path, help="run folder (default: runs/<timestamp>)")
    train.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="continue the run saved in RUN_DIR (--epochs may extend it)",
    )
    train.add_argument("--quiet", action="store_true", help="print only the final accuracy")
    train.add_argument(
        "--threads",
        type=positive_int,
        help="threads for matrix products and kernels (default: $COMPGRAPH_NUM_THREADS, "
        "else the CPUs this process may use)",
    )

    evaluate = commands.add_parser("eval", help="accuracy and confusion matrix of a saved model")
    evaluate.add_argument("model", type=Path, help="a model.npz written by compgraph train")
    evaluate.add_argument("--dataset", choices=DATASETS, default="mnist")
    evaluate.add_argument("--data-dir")
    evaluate.add_argument(
        "--show-errors",
        type=picture_file(FIGURE_FORMATS),
        metavar="FILE.png",
        help="draw misclassified test images with their true and predicted labels",
    )
    evaluate.add_argument(
        "--confusion",
        type=picture_file(FIGURE_FORMATS),
        metavar="FILE.png",
        help="draw the confusion matrix",
    )

    graph = commands.add_parser(
        "graph",
        help="draw a preset model's computation graph for one batch (Graphviz)",
        description="Draw the graph of a preset's loss on one batch of synthetic images.",
    )
    graph.add_argument("--model", choices=sorted(PRESETS), default="softmax")
    graph.add_argument(
        "-o",
        "--output",
        type=picture_file(GRAPH_FORMATS),
        required=True,
        metavar="FILE",
        help="FILE.svg, .png or .pdf; FILE.dot writes the DOT source and needs no Graphviz",
    )
    graph.add_argument("--batch-size", type=positive_int, default=8, help="default: 8")
    graph.add_argument("--values", action="store_true", help="show each value's mean and std")
    graph.add_argument("--grads", action="store_true", help="back-propagate; show each gradient")
    graph.add_argument(
        "--rankdir",
        choices=("TB", "LR"),
        default="TB",
        help="TB: data flows top to bottom (default); LR: left to right",
    )
    graph.add_argument("--seed", type=int, default=5, help="default: 5")

    plot = commands.add_parser(
        "plot",
        help="redraw a run's curves.png from metrics.jsonl; overlay several runs",
    )
    plot.add_argument("runs", type=Path, nargs="+", metavar="RUN_DIR")
    plot.add_argument(
        "-o",
        "--output",
        type=picture_file(FIGURE_FORMATS),
        metavar="FILE.png",
        help="default: RUN_DIR/curves.png for one run; required for several",
    )
    return parser  # fmt: skip


def check_data_dir(parser: argparse.ArgumentParser, data_dir: str | None) -> None:
    if data_dir is None:
        return
    path = Path(data_dir)
    if path.exists() and not (path.is_dir() and os.access(path, os.R_OK | os.X_OK)):
        parser.error(f"argument --data-dir: {data_dir} is not a readable directory")


def set_up_process(parser: argparse.ArgumentParser, threads: int | None) -> str:
    """What ``compgraph train`` sets in its own process: the kernels, the threads, and freed
    memory kept for reuse. Returns one line that says which kernels run on how many threads.
    """
    from compgraph import kernels
    from compgraph.kernels import memory
    from compgraph.kernels import threads as thread_settings

    try:
        if threads is None:
            threads = thread_settings.environment_threads()
        mode = kernels.mode()  # COMPGRAPH_KERNELS, checked before any data is loaded
    except (ValueError, kernels.KernelsUnavailable) as error:
        parser.error(str(error))
    threads = threads or thread_settings.default_num_threads()
    thread_settings.set_num_threads(threads)
    memory.reuse_freed_memory()
    on = f"{threads} thread{'s' if threads > 1 else ''}"
    if mode == "numba":
        return f"compiled kernels (numba), {on}"
    return f"NumPy kernels ({kernels.why_not_compiled()}), {on}"


def train_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    compute = set_up_process(parser, args.threads)
    if not args.quiet:
        print(compute, flush=True)
    if args.resume is not None:
        config_file = args.resume / "config.json"
        if not config_file.is_file() or not (args.resume / "model.npz").is_file():
            parser.error(f"argument --resume: {args.resume} holds no config.json and model.npz")
        config = TrainConfig(**json.loads(config_file.read_text()))
        if args.epochs is not None:
            config.epochs = args.epochs
        run = TrainingRun(config, args.resume, quiet=args.quiet)
        run.resume_from_checkpoint()
        return run.execute()
    check_data_dir(parser, args.data_dir)
    config = TrainConfig.for_preset(
        args.model,
        dataset=args.dataset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        optimizer=args.optimizer,
        seed=args.seed,
        data_dir=args.data_dir,
    )
    out = args.out or Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    return TrainingRun(config, out, quiet=args.quiet).execute()


def eval_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from compgraph import checkpoint, data, functional
    from compgraph.nn import Conv2d
    from compgraph.train.loop import evaluate_predictions
    from compgraph.viz.commands import check_output, draw_eval_figures

    check_data_dir(parser, args.data_dir)
    check_output(parser, "--show-errors", args.show_errors)
    check_output(parser, "--confusion", args.confusion)
    model = checkpoint.load(args.model)
    config = TrainConfig(dataset=args.dataset, data_dir=args.data_dir)
    test_set = load_split(config, "test", quiet=False)
    # Convolutional models take N×1×28×28 images, the others flat rows.
    images = any(isinstance(module, Conv2d) for module in model.modules())
    loader = data.DataLoader(test_set, 1000, shuffle=False, flatten=not images)
    loss, predictions, labels = evaluate_predictions(model, functional.cross_entropy, loader)
    matrix = confusion_matrix(labels, predictions, len(test_set.classes))
    accuracy = float(np.mean(predictions == labels))
    print(f"test loss {loss:.4f}  accuracy {accuracy:.4f}  ({len(labels)} images)")
    print(format_confusion(matrix, list(test_set.classes)))
    if args.show_errors is not None or args.confusion is not None:
        return draw_eval_figures(args, test_set, labels, predictions, matrix)
    return 0


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """counts[t, p]: how many images of class t were predicted as p."""
    flat = np.bincount(truth * classes + predicted, minlength=classes * classes)
    return flat.reshape(classes, classes)


def format_confusion(matrix: np.ndarray, names: list[str]) -> str:
    width = max(6, *(len(name) for name in names), len(str(matrix.max())) + 1)
    header = "true\\pred".ljust(width) + "".join(name[:width].rjust(width) for name in names)
    rows = [
        name[:width].ljust(width) + "".join(str(count).rjust(width) for count in row)
        for name, row in zip(names, matrix, strict=True)
    ]
    return "\n".join([header, *rows])


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from compgraph.checkpoint import CheckpointError
    from compgraph.data import DatasetUnavailableError
    from compgraph.viz.commands import graph_command, plot_command

    commands = {
        "train": train_command,
        "eval": eval_command,
        "graph": graph_command,
        "plot": plot_command,
    }
    try:
        return commands[args.command](parser, args)
    except (CheckpointError, DatasetUnavailableError) as error:
        print(f"compgraph {args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
