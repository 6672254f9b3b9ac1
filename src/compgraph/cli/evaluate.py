"""``compgraph eval``: a saved model's test accuracy and confusion matrix; ``explore``: its
explorer page for one batch."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from compgraph.cli import usage


def eval_command(args: argparse.Namespace) -> int:
    from compgraph import data, functional
    from compgraph.cli.pictures import check_output, draw_eval_figures
    from compgraph.train.loop import evaluate_predictions

    check_output("--show-errors", args.show_errors)
    check_output("--confusion", args.confusion)
    model, test_set, images = saved_model_and_test_set(args)
    loader = data.DataLoader(test_set, 1000, shuffle=False, flatten=not images)
    loss, predictions, labels = evaluate_predictions(model, functional.cross_entropy, loader)
    matrix = confusion_matrix(labels, predictions, len(test_set.classes))
    accuracy = float(np.mean(predictions == labels))
    print(f"test loss {loss:.4f}  accuracy {accuracy:.4f}  ({len(labels)} images)")
    print(format_confusion(matrix, list(test_set.classes)))
    if args.show_errors is not None or args.confusion is not None:
        return draw_eval_figures(args, test_set, labels, predictions, matrix)
    return 0


def explore_command(args: argparse.Namespace) -> int:
    from compgraph import data, functional
    from compgraph.cli.pictures import check_output
    from compgraph.tensor import Tensor
    from compgraph.viz.explorer import explore

    check_output("--output", args.output)
    model, test_set, images = saved_model_and_test_set(args)
    loader = data.DataLoader(test_set, args.batch_size, shuffle=False, flatten=not images)
    x, y = next(iter(loader))
    model.train()  # the pass a training step takes
    loss = functional.cross_entropy(model(Tensor(x, name="images")), Tensor(y, name="labels"))
    title = f"{args.model}: the first {len(y)} test images"
    explorer = explore(loss, model, title)
    explorer.save(args.output)
    print(f"wrote {args.output}: the explorer for {title} (loss {float(loss.data):.4f})")
    return 0


def saved_model_and_test_set(args: argparse.Namespace) -> tuple[Any, Any, bool]:
    """The model a checkpoint holds, its dataset's test split, and whether it takes images.

    The dataset is the one the checkpoint records unless ``--dataset`` says otherwise;
    a model with non-finite weights, or that does not fit the dataset, is refused.
    """
    from compgraph import checkpoint
    from compgraph.cli.train import check_data_dir
    from compgraph.train.config import TrainConfig
    from compgraph.train.run import load_split, nonfinite_weights

    path = model_file(args.model)
    contents = checkpoint.read_checkpoint(path)
    model = checkpoint.build(contents, path)
    bad = nonfinite_weights(model)
    if bad:
        usage(f"{path} holds non-finite weights ({', '.join(bad[:3])}); it cannot be evaluated")
    saved = contents.meta.get("config", {})
    saved = saved if isinstance(saved, dict) else {}
    dataset = args.dataset or saved.get("dataset") or "mnist"
    if args.dataset is None:
        recorded = "as recorded in the checkpoint" if saved.get("dataset") else "the default"
        print(f"dataset: {dataset} ({recorded}; --dataset chooses another)")
    data_dir = args.data_dir if args.data_dir is not None else saved.get("data_dir")
    check_data_dir(dataset, None if data_dir is None else Path(data_dir))
    config = TrainConfig(dataset=dataset, data_dir=None if data_dir is None else str(data_dir))
    test_set = load_split(config, "test", quiet=False)
    images = takes_images(model)
    check_fits(model, test_set, images, path)
    return model, test_set, images


def model_file(given: Path) -> Path:
    """A run folder's model.npz, or the file given."""
    if given.is_dir():
        given = given / "model.npz"
        if not given.exists():
            usage(f"{given.parent} holds no model.npz")
    return given


def takes_images(model: Any) -> bool:
    """Convolutional models take N×1×28×28 images, the others flat rows."""
    from compgraph.nn import Conv2d

    return any(isinstance(module, Conv2d) for module in model.modules())


def check_fits(model: Any, test_set: Any, images: bool, path: Path) -> None:
    """One image through the model: its input and output must fit the dataset."""
    from compgraph import no_grad
    from compgraph.tensor import Tensor

    x = test_set.images[:1].astype(np.float32) / 255
    x = x[:, np.newaxis] if images else x.reshape(1, -1)
    classes = len(test_set.classes)
    try:
        with no_grad():
            logits = model.eval()(Tensor(x))
    except (ValueError, TypeError) as error:
        usage(f"{path} does not fit the dataset's {x.shape[1:]} inputs ({error})")
    if logits.shape[-1] != classes:
        usage(f"{path} gives {logits.shape[-1]} outputs, but the dataset has {classes} classes")


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
