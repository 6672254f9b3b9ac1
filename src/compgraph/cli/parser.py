"""The ``compgraph`` command's arguments: one parser, option types that say what is wrong."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from compgraph.train.config import (
    DATASETS,
    ConfigError,
    non_negative_int,
    positive_float,
    positive_int,
)
from compgraph.train.presets import OPTIMIZERS, PRESETS

FIGURE_FORMATS = ("png", "svg", "pdf")
GRAPH_FORMATS = ("svg", "png", "pdf", "dot", "html")
#: The largest batch ``compgraph graph`` draws (a drawing of more is unreadable anyway).
MAX_GRAPH_BATCH = 4096


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, without the usage block."""

    def error(self, message: str) -> NoReturn:
        from compgraph.distributed.world import launch_rank

        # Under mpiexec every rank parses the same arguments: rank 0 alone says what is wrong.
        if launch_rank() != 0:
            from compgraph.cli import let_rank_0_speak

            let_rank_0_speak()
            self.exit(2)
        self.exit(2, f"{self.prog}: error: {message}\n")


def checked(rule: Callable[[Any], Any], convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type: ``convert`` the text, then hold it to a config rule."""

    def parse(text: str) -> Any:
        try:
            return rule(convert(text))
        except (ValueError, ConfigError) as error:
            message = str(error) if isinstance(error, ConfigError) else f"not a number: {text!r}"
            raise argparse.ArgumentTypeError(message) from None

    return parse


POSITIVE_INT = checked(positive_int, int)
NON_NEGATIVE_INT = checked(non_negative_int, int)
POSITIVE_FLOAT = checked(positive_float, float)


def graph_batch(text: str) -> int:
    value = POSITIVE_INT(text)
    if value > MAX_GRAPH_BATCH:
        raise argparse.ArgumentTypeError(f"at most {MAX_GRAPH_BATCH} images, got {value}")
    return int(value)


def picture_file(formats: tuple[str, ...]) -> Callable[[str], Path]:
    """An argument type: a file name whose suffix is one of ``formats``."""

    def check(text: str) -> Path:
        path = Path(text)
        if path.suffix.lower().lstrip(".") not in formats:
            choices = ", ".join(f".{fmt}" for fmt in formats)
            raise argparse.ArgumentTypeError(f"{text} should end in one of {choices}")
        return path

    return check


def folder(text: str) -> Path:
    if not text:
        raise argparse.ArgumentTypeError("empty; give a folder")
    return Path(text)


def build_parser() -> argparse.ArgumentParser:
    from compgraph import __version__

    common = OneLineParser(add_help=False)
    common.add_argument(  # SUPPRESS: a subcommand's default must not undo `compgraph --debug`
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show a traceback for errors (or set COMPGRAPH_DEBUG=1)",
    )
    parser = OneLineParser(
        prog="compgraph", description="Computation graphs in NumPy.", parents=[common]
    )
    parser.add_argument("--version", action="version", version=f"compgraph {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    train = commands.add_parser(
        "train",
        parents=[common],
        help="train a preset model (default: the notebook's softmax regression on MNIST)",
        description="Train a preset model; with no arguments, the notebook's experiment.",
    )
    train.add_argument("--model", choices=sorted(PRESETS), help="default: softmax")
    train.add_argument("--dataset", choices=DATASETS, help="default: mnist")
    train.add_argument("--epochs", type=POSITIVE_INT, help="default: the preset's")
    train.add_argument("--batch-size", type=POSITIVE_INT, help="default: the preset's")
    train.add_argument("--lr", type=POSITIVE_FLOAT, help="learning rate; default: the preset's")
    train.add_argument("--optimizer", choices=OPTIMIZERS, help="default: the preset's")
    train.add_argument("--seed", type=NON_NEGATIVE_INT, help="default: 5, the notebook's")
    train.add_argument("--data-dir", type=folder, help="where datasets live ($COMPGRAPH_DATA)")
    train.add_argument("--out", type=folder, help="run folder (default: runs/<timestamp>)")
    train.add_argument(
        "--resume", type=folder, metavar="RUN_DIR", help="continue the run in RUN_DIR"
    )
    train.add_argument("--overwrite", action="store_true", help="replace the finished run in --out")
    train.add_argument("--quiet", action="store_true", help="print only the final accuracy")
    train.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel training over MPI: launch as mpiexec -n N compgraph train "
        "--distributed; --batch-size stays the global batch, split across the N ranks",
    )
    train.add_argument(
        "--threads",
        type=POSITIVE_INT,
        help="threads for matrix products and kernels (default: $COMPGRAPH_NUM_THREADS, "
        "else the CPUs this process may use; 1 per rank with --distributed)",
    )

    evaluate = commands.add_parser(
        "eval", parents=[common], help="accuracy and confusion matrix of a saved model"
    )
    evaluate.add_argument("model", type=folder, help="a run folder, or a model.npz in one")
    evaluate.add_argument(
        "--dataset", choices=DATASETS, help="default: the one the model was trained on"
    )
    evaluate.add_argument("--data-dir", type=folder)
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
        parents=[common],
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
        help="FILE.svg, .png or .pdf; FILE.dot writes the DOT source and needs no Graphviz; "
        "FILE.html writes the explorer, a page in which to step through both passes",
    )
    graph.add_argument("--batch-size", type=graph_batch, default=8, help="default: 8")
    graph.add_argument("--values", action="store_true", help="show each value's mean and std")
    graph.add_argument("--grads", action="store_true", help="back-propagate; show each gradient")
    graph.add_argument(
        "--rankdir",
        choices=("TB", "LR"),
        default="TB",
        help="TB: data flows top to bottom (default); LR: left to right",
    )
    graph.add_argument("--seed", type=NON_NEGATIVE_INT, default=5, help="default: 5")

    explore = commands.add_parser(
        "explore",
        parents=[common],
        help="step through a saved model's forward and backward passes in the browser",
        description="Write the explorer page for one batch of a saved model's dataset.",
    )
    explore.add_argument("model", type=folder, help="a run folder, or a model.npz in one")
    explore.add_argument(
        "-o", "--output", type=picture_file(("html",)), required=True, metavar="FILE.html"
    )
    explore.add_argument("--batch-size", type=graph_batch, default=8, help="default: 8")
    explore.add_argument(
        "--dataset", choices=DATASETS, help="default: the one the model was trained on"
    )
    explore.add_argument("--data-dir", type=folder)

    lab = commands.add_parser(
        "lab",
        parents=[common],
        help="write a lab: a student notebook of backward passes to write, and its solutions",
        description="Write lab.ipynb (the backward passes left to write, each checked by "
        "compgraph.check_node) and solutions.ipynb into DIR.",
    )
    lab.add_argument("folder", type=folder, metavar="DIR", help="created if missing")
    lab.add_argument(
        "--overwrite", action="store_true", help="replace lab.ipynb and solutions.ipynb in DIR"
    )

    plot = commands.add_parser(
        "plot",
        parents=[common],
        help="redraw a run's curves.png from metrics.jsonl; overlay several runs",
    )
    plot.add_argument("runs", type=folder, nargs="+", metavar="RUN_DIR")
    plot.add_argument(
        "-o",
        "--output",
        type=picture_file(FIGURE_FORMATS),
        metavar="FILE.png",
        help="default: RUN_DIR/curves.png for one run; required for several",
    )
    return parser
