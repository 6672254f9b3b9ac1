"""Training: the loop learns, runs reproduce bit for bit, Ctrl-C and --resume, checkpoints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import compgraph as cg
from compgraph import checkpoint, data, functional, optim
from compgraph.cli import main
from compgraph.train import Callback, LoopState, fit
from compgraph.train.run import TrainConfig, TrainingRun

SMALL = {"dataset": "synthetic", "epochs": 3, "batch_size": 64}


def weights(path: Path) -> dict[str, np.ndarray]:
    return checkpoint.read_checkpoint(path).model_state


def test_fit_learns_a_synthetic_problem() -> None:
    rng = np.random.default_rng(0)
    model = cg.nn.Sequential(
        cg.nn.Linear(784, 32, rng=rng), cg.nn.ReLU(), cg.nn.Linear(32, 10, rng=rng)
    )
    train = data.DataLoader(data.Synthetic("train", n=1000), 50, seed=0)
    test = data.DataLoader(data.Synthetic("test", n=300), 100, shuffle=False)
    history = fit(
        model, functional.cross_entropy, optim.SGD(model.parameters(), 0.1), train, test, 3
    )
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]
    assert history[-1]["test_acc"] > 0.8  # chance is 0.1


def test_the_same_seed_gives_bit_identical_weights(tmp_path) -> None:
    for name in ("a", "b"):
        config = TrainConfig.for_preset("mlp", **SMALL)
        assert TrainingRun(config, tmp_path / name, quiet=True).execute() == 0
    first, second = weights(tmp_path / "a" / "model.npz"), weights(tmp_path / "b" / "model.npz")
    assert first.keys() == second.keys()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])
    config = TrainConfig.for_preset("mlp", **SMALL, seed=6)
    TrainingRun(config, tmp_path / "c", quiet=True).execute()
    assert not np.array_equal(weights(tmp_path / "c" / "model.npz")["0.weight"], first["0.weight"])


class SigintAt(Callback):
    """Sends this process a real SIGINT after a given batch, as Ctrl-C would."""

    def __init__(self, epoch: int, step: int) -> None:
        self.at = (epoch, step)

    def on_batch_end(self, epoch: int, step: int, state: LoopState) -> None:
        if (epoch, step) == self.at:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("model", ["softmax", "mlp"])
def test_ctrl_c_saves_a_checkpoint_and_resume_ends_with_the_same_weights(
    tmp_path, model, capsys
) -> None:
    uninterrupted = tmp_path / "whole"
    TrainingRun(TrainConfig.for_preset(model, **SMALL), uninterrupted, quiet=True).execute()

    interrupted = tmp_path / "split"
    run = TrainingRun(
        TrainConfig.for_preset(model, **SMALL), interrupted, quiet=True, callbacks=[SigintAt(2, 5)]
    )
    assert run.execute() == 130
    assert "--resume" in capsys.readouterr().err
    saved = checkpoint.read_checkpoint(interrupted / "model.npz")
    assert (saved.meta["loop"]["epoch"], saved.meta["loop"]["step"]) == (1, 5)
    assert len((interrupted / "metrics.jsonl").read_text().splitlines()) == 1

    assert main(["train", "--resume", str(interrupted), "--quiet"]) == 0
    expected, resumed = weights(uninterrupted / "model.npz"), weights(interrupted / "model.npz")
    for name in expected:
        np.testing.assert_array_equal(resumed[name], expected[name])
    lines = (interrupted / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 3


def test_sigint_to_the_command_line_process(tmp_path) -> None:
    out = tmp_path / "run"
    command = [sys.executable, "-m", "compgraph.cli", "train", "--model", "mlp", "--dataset",
               "synthetic", "--epochs", "500", "--out", str(out)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        compute_line = process.stdout.readline()  # which kernels, how many threads
        assert "kernels" in compute_line and "thread" in compute_line, compute_line
        assert process.stdout.readline() == f"run folder: {out}\n"
        first_line = process.stdout.readline()  # the first epoch's summary
        assert first_line.startswith("epoch"), first_line
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "checkpoint saved" in stderr
    assert cg.load(out / "model.npz") is not None


def test_checkpoints_are_written_atomically(tmp_path, monkeypatch) -> None:
    model = cg.nn.Sequential(cg.nn.Linear(4, 2, rng=0))
    target = checkpoint.save(tmp_path / "model.npz", model)
    before = target.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    model[0].weight.data[...] = 7
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(target, model)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary left behind


def test_load_rebuilds_the_model(tmp_path) -> None:
    config = TrainConfig.for_preset("softmax", **SMALL)
    TrainingRun(config, tmp_path, quiet=True).execute()
    model = cg.load(tmp_path / "model.npz")
    x = cg.tensor(next(iter(data.DataLoader(data.Synthetic("test"), 10, shuffle=False)))[0])
    assert model(x).shape == (10, 10)


def test_loading_a_foreign_or_mismatched_file_is_a_one_line_error(tmp_path, capsys) -> None:
    (tmp_path / "notes.npz").write_text("not a checkpoint")
    with pytest.raises(cg.CheckpointError, match="not a compgraph checkpoint"):
        cg.load(tmp_path / "notes.npz")
    np.savez(tmp_path / "plain.npz", weights=np.ones(3))
    with pytest.raises(cg.CheckpointError, match="no format marker"):
        cg.load(tmp_path / "plain.npz")
    model = cg.nn.Sequential(cg.nn.Linear(4, 2, rng=0))
    checkpoint.save(tmp_path / "small.npz", model)
    with pytest.raises(ValueError, match="shape"):
        cg.nn.Sequential(cg.nn.Linear(5, 2)).load_state_dict(weights(tmp_path / "small.npz"))
    assert main(["eval", str(tmp_path / "notes.npz"), "--dataset", "synthetic"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a compgraph checkpoint" in err


@pytest.mark.parametrize(
    "arguments",
    [["--model", "resnet"], ["--dataset", "cifar"], ["--lr", "-1"], ["--lr", "0"],
     ["--batch-size", "0"], ["--epochs", "many"], ["--optimizer", "lbfgs"]],
)  # fmt: skip
def test_bad_arguments_exit_2_with_one_line(arguments, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", *arguments])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err and "Traceback" not in err


def test_an_unreadable_data_dir_exits_2(tmp_path, capsys) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    assert main(["train", "--data-dir", str(not_a_directory)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_a_diverging_loss_stops_with_advice_and_keeps_the_last_good_checkpoint(
    tmp_path, capsys
) -> None:
    out = tmp_path / "run"
    config = TrainConfig.for_preset("mlp", **SMALL)
    TrainingRun(config, out, quiet=True).execute()
    good = weights(out / "model.npz")
    # A hand-edited config.json with a learning rate that diverges, resumed for more epochs.
    saved = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**saved, "lr": 1e6, "epochs": 5}))
    diverging = TrainConfig.from_file(out / "config.json")
    assert TrainingRun(diverging, out, quiet=True, resume=True).execute() == 1
    err = capsys.readouterr().err
    assert "epoch 4, step" in err and "smaller learning rate" in err and "Traceback" not in err
    assert f"the last good checkpoint is {out / 'model.npz'} (epoch 3)" in err
    kept = weights(out / "model.npz")
    for name in good:
        np.testing.assert_array_equal(kept[name], good[name])


def test_run_folder_contents_and_output(tmp_path, capsys) -> None:
    assert main(["train", "--dataset", "synthetic", "--epochs", "2", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "kernels (" in out[0] and out[0].endswith(("1 thread", "threads")), out[0]
    assert out[1] == f"run folder: {tmp_path}"
    assert out[2].startswith("epoch   1/2  train loss") and "test loss" in out[2]
    assert out[-1].startswith("final test accuracy: ")

    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds"} <= set(rows[0])
    assert json.loads((tmp_path / "config.json").read_text())["model"] == "softmax"
    assert main(["eval", str(tmp_path / "model.npz"), "--dataset", "synthetic"]) == 0
    report = capsys.readouterr().out
    assert "accuracy" in report and "true\\pred" in report


@pytest.mark.slow
@pytest.mark.parametrize(("model", "target"), [("softmax", 0.92), ("mlp", 0.98), ("cnn", 0.99)])
def test_presets_reach_their_accuracy_on_real_mnist(tmp_path, capsys, model, target) -> None:
    """The notebook's experiment (3 s), the MLP (20 s) and the CNN (2 min), as the README says."""
    assert main(["train", "--model", model, "--out", str(tmp_path), "--quiet"]) == 0
    accuracy = float(capsys.readouterr().out.split()[-1])
    assert accuracy >= target


def test_curves_png_is_drawn_when_matplotlib_is_installed(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    from compgraph.train.plots import plot_curves

    history = [
        {"epoch": e, "train_loss": 1 / e, "train_acc": 1 - 1 / (e + 1), "test_loss": 1.1 / e,
         "test_acc": 1 - 1.1 / (e + 1)}
        for e in (1, 2, 3)
    ]  # fmt: skip
    assert plot_curves(history, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_predictions_in_one_pass() -> None:
    from compgraph.train.loop import evaluate, evaluate_predictions

    rng = np.random.default_rng(4)
    model = cg.nn.Sequential(cg.nn.Linear(784, 10, rng=rng))
    test = data.Synthetic("test", n=250)
    loader = data.DataLoader(test, 100, shuffle=False)
    loss, predictions, labels = evaluate_predictions(model, functional.cross_entropy, loader)
    logits = model(cg.tensor(np.concatenate([x for x, _ in loader]))).data
    np.testing.assert_array_equal(predictions, logits.argmax(axis=1))
    np.testing.assert_array_equal(labels, test.labels)
    expected_loss = functional.cross_entropy(cg.tensor(logits), labels).item()
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert evaluate(model, functional.cross_entropy, loader) == (
        pytest.approx(expected_loss, rel=1e-5),
        pytest.approx(float(np.mean(predictions == test.labels))),
    )
