"""The picture commands: compgraph graph, compgraph plot, eval --show-errors/--confusion."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from compgraph.cli import main
from compgraph.train.plots import curves_figure, plot_curves, plot_runs, read_metrics
from compgraph.train.presets import PRESETS

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="needs Graphviz's dot (apt-get install graphviz)"
)


def history(epochs: int, offset: float = 0.0) -> list[dict[str, float]]:
    return [
        {
            "epoch": epoch,
            "train_loss": 1.0 / epoch + offset,
            "train_acc": 0.8 + 0.01 * epoch,
            "test_loss": 1.1 / epoch + offset,
            "test_acc": 0.79 + 0.01 * epoch,
            "seconds": 0.1,
            "lr": 0.5,
        }
        for epoch in range(1, epochs + 1)
    ]


def write_run(folder: Path, rows: list[dict[str, float]]) -> Path:
    folder.mkdir(parents=True)
    (folder / "metrics.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return folder


def decoded_size(path: Path) -> tuple[int, int]:
    """(height, width) of a PNG after decoding it completely."""
    image = pytest.importorskip("matplotlib.image")
    return image.imread(path).shape[:2]


def exit_status(arguments: list[str]) -> int:
    """The command's exit status, whether argparse exits or the command returns it."""
    try:
        return main(arguments)
    except SystemExit as caught:
        return int(caught.code or 0)


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    arguments = ["train", "--dataset", "synthetic", "--epochs", "1", "--out", str(out)]
    assert main([*arguments, "--quiet"]) == 0
    return out / "model.npz"


# ---------------------------------------------------------------------------- plots.py
def test_plot_curves_keeps_its_signature(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    assert plot_curves(history(3), tmp_path / "curves.png") is True
    assert decoded_size(tmp_path / "curves.png") == (400, 1000)
    assert [path.name for path in tmp_path.iterdir()] == ["curves.png"]


def test_several_runs_share_one_figure(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    runs = {"softmax": history(3), "mlp": history(5, offset=-0.2)}
    figure = curves_figure(runs)
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert legend == ["softmax train", "softmax test", "mlp train", "mlp test"]
    one = curves_figure({"": history(2)})
    assert [t.get_text() for t in one.axes[1].get_legend().get_texts()] == ["train", "test"]
    assert plot_runs(runs, tmp_path / "both.png")
    assert decoded_size(tmp_path / "both.png") == (400, 1000)


def test_read_metrics_names_a_damaged_line(tmp_path) -> None:
    run = write_run(tmp_path / "run", history(2))
    assert read_metrics(run) == history(2)
    with (run / "metrics.jsonl").open("a") as file:
        file.write("{not json\n")
    with pytest.raises(ValueError, match="line 3"):
        read_metrics(run)


# ---------------------------------------------------------------------------- compgraph plot
def test_plot_redraws_a_runs_curves(tmp_path, capsys) -> None:
    pytest.importorskip("matplotlib")
    run = write_run(tmp_path / "run", history(4))
    assert main(["plot", str(run)]) == 0
    assert decoded_size(run / "curves.png") == (400, 1000)
    assert capsys.readouterr().out == f"wrote {run / 'curves.png'}: 1 run (4 epochs)\n"


def test_plot_overlays_several_runs(tmp_path, capsys) -> None:
    pytest.importorskip("matplotlib")
    first = write_run(tmp_path / "a", history(2))
    second = write_run(tmp_path / "b", history(3))
    assert main(["plot", str(first), str(second), "-o", str(tmp_path / "both.png")]) == 0
    assert (tmp_path / "both.png").is_file()
    assert "2 runs (2, 3 epochs)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["a", "b"], "name the picture"),
        (["missing"], "holds no metrics.jsonl"),
        (["a", "-o", "both.txt"], "should end in one of .png"),
        (["a", "-o", "nowhere/both.png"], "does not exist"),
    ],
)
def test_plot_bad_arguments_exit_2_with_one_line(
    arguments: list[str], message: str, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    write_run(tmp_path / "a", history(1))
    write_run(tmp_path / "b", history(1))
    assert exit_status(["plot", *arguments]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error


def test_plot_of_a_run_without_epochs_is_one_line(tmp_path, capsys) -> None:
    run = write_run(tmp_path / "run", [])
    assert main(["plot", str(run)]) == 1
    assert capsys.readouterr().err.count("\n") == 1


# ---------------------------------------------------------------------------- compgraph graph
@pytest.mark.parametrize("model", sorted(PRESETS))
def test_graph_writes_the_dot_source_of_every_preset(model: str, tmp_path, capsys) -> None:
    out = tmp_path / f"{model}.dot"
    assert main(["graph", "--model", model, "-o", str(out), "--values", "--grads"]) == 0
    source = out.read_text()
    assert source.startswith("digraph compgraph {")
    assert 'label="Sequential"' in source and "SoftmaxCrossEntropy" in source
    assert "grad: 1" in source  # the loss's own gradient
    boxes = len(re.findall(r"\[label=", source))
    assert f"wrote {out}: the {model} preset's graph for a batch of 8 ({boxes} boxes" in (
        capsys.readouterr().out
    )


def test_graph_of_the_softmax_preset() -> None:
    from compgraph.viz import draw_graph
    from compgraph.viz.preset import preset_loss

    model, loss = preset_loss("softmax", batch_size=3)
    source = draw_graph(loss, model=model).source
    for label in (
        "images\\n(3, 784)",
        "0.weight\\n(784, 10)",
        "0.bias\\n(10,)",
        "Linear\\n(3, 10)",
    ):
        assert label in source
    # cross_entropy is one fused node: softmax, cross-entropy and the mean over the batch
    assert "labels\\n(3,) int64" in source and "SoftmaxCrossEntropy\\nscalar" in source
    assert len(re.findall(r"n\d+ -> n\d+", source)) == 5


def test_graph_offers_every_preset(capsys) -> None:
    assert exit_status(["graph", "--model", "nonexistent", "-o", "x.svg"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert all(f"'{name}'" in error for name in PRESETS)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["-o", "graph.txt"], "should end in one of .svg"),
        (["-o", "nowhere/graph.svg"], "does not exist"),
        (["-o", "graph.svg", "--batch-size", "0"], "positive integer"),
        ([], "required"),
    ],
)
def test_graph_bad_arguments_exit_2_with_one_line(
    arguments: list[str], message: str, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    assert exit_status(["graph", *arguments]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error


def test_graph_without_graphviz_leaves_the_source_and_says_how_to_install(
    tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setattr("compgraph.viz.dot.has_renderer", lambda: False)
    assert main(["graph", "-o", str(tmp_path / "graph.svg")]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "apt-get install graphviz" in error
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")
    assert not (tmp_path / "graph.svg").exists()


@needs_dot
@pytest.mark.parametrize("suffix", ["svg", "png"])
def test_graph_renders_pictures(suffix: str, tmp_path) -> None:
    pytest.importorskip("graphviz")
    out = tmp_path / f"mlp.{suffix}"
    assert main(["graph", "--model", "mlp", "--values", "--grads", "-o", str(out)]) == 0
    if suffix == "svg":
        assert "<svg" in out.read_text() and "0.weight" in out.read_text()
    else:
        height, width = decoded_size(out)
        assert 300 <= width <= 2500 and 500 <= height <= 3000


# ---------------------------------------------------------------------------- eval pictures
def test_eval_draws_errors_and_the_confusion_matrix(trained_model, tmp_path, capsys) -> None:
    pytest.importorskip("matplotlib")
    errors, confusion = tmp_path / "errors.png", tmp_path / "confusion.png"
    arguments = ["eval", str(trained_model), "--dataset", "synthetic"]
    assert main([*arguments, "--show-errors", str(errors), "--confusion", str(confusion)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {errors}: " in out and f"wrote {confusion}: the confusion matrix" in out
    height, width = decoded_size(errors)
    assert 100 <= height <= 1200 and 100 <= width <= 1300
    assert decoded_size(confusion) == (560, 650)


def test_eval_checks_picture_paths_before_working(trained_model, capsys) -> None:
    arguments = ["eval", str(trained_model), "--dataset", "synthetic"]
    assert exit_status([*arguments, "--confusion", "nowhere/confusion.png"]) == 2
    assert exit_status([*arguments, "--show-errors", "errors.jpeg"]) == 2
    assert capsys.readouterr().err.count("\n") == 2


def test_error_grid_with_no_errors_and_flat_rows() -> None:
    pytest.importorskip("matplotlib")
    import numpy as np

    from compgraph.viz.figures import as_images, error_grid

    labels = np.arange(10)
    figure = error_grid(np.zeros((10, 784), np.uint8), labels, labels)
    assert "0 of 10 misclassified" in figure.texts[0].get_text()
    assert as_images(np.zeros((2, 1, 28, 28))).shape == (2, 28, 28)
    with pytest.raises(ValueError, match="square"):
        as_images(np.zeros((2, 10)))
