"""Every ordinary mistake gets one line, the right exit status and no traceback.

Each row is a mistake a user made on the command line (issue 11's list); each runs the
real ``compgraph`` command in a fresh process with a timeout, as a user would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import compgraph as cg
from compgraph import checkpoint

SYNTHETIC = ["--dataset", "synthetic", "--epochs", "1"]


def compgraph(*arguments: str, env: dict[str, str] | None = None, timeout: float = 120) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "compgraph.cli", *arguments],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
    )  # fmt: skip


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("finished") / "run"
    assert compgraph("train", *SYNTHETIC, "--out", str(out), "--quiet").returncode == 0
    return out


def file_in(tmp: Path) -> Path:
    path = tmp / "a-file"
    path.write_text("not a folder")
    return path


def resume_with_config(finished: Path, tmp: Path, edit: Callable[[dict], Any]) -> list[str]:
    """A copy of a finished run whose config.json a user edited by hand."""
    copy = tmp / "edited"
    copy.mkdir()
    for name in ("config.json", "model.npz"):
        (copy / name).write_bytes((finished / name).read_bytes())
    config = json.loads((copy / "config.json").read_text())
    edited = edit(config)
    text = edited if isinstance(edited, str) else json.dumps(edited)
    (copy / "config.json").write_text(text)
    return ["train", "--resume", str(copy)]


def model_for(tmp: Path, layers: list[cg.nn.Module]) -> list[str]:
    path = tmp / "other.npz"
    checkpoint.save(path, cg.nn.Sequential(*layers))
    return ["eval", str(path), "--dataset", "synthetic"]


def metrics_with_a_list(tmp: Path) -> list[str]:
    run = tmp / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text('{"epoch": 1, "train_loss": 1.0}\n[1, 2]\n')
    return ["plot", str(run)]


# (name, arguments made from a temporary folder and a finished run, expected status, words)
MISTAKES: list[tuple[str, Callable[[Path, Path], list[str]], int, str]] = [
    ("--out is a file", lambda t, r: ["train", *SYNTHETIC, "--out", str(file_in(t))], 2,
     "is a file"),
    ("--out under a file", lambda t, r: ["train", *SYNTHETIC, "--out", str(file_in(t) / "x")],
     2, "is a file"),
    ("--out cannot be created", lambda t, r: ["train", *SYNTHETIC, "--out", "/proc/cg-run"], 2,
     "cannot create it"),
    ("--out 5,000 characters", lambda t, r: ["train", *SYNTHETIC, "--out", str(t / ("a" * 5000))],
     2, "File name too long"),
    ("--out empty", lambda t, r: ["train", *SYNTHETIC, "--out", ""], 2, "empty"),
    ("--out holds a run", lambda t, r: ["train", *SYNTHETIC, "--out", str(r)], 2,
     "holds a run; continue it with --resume"),
    ("--data-dir is a file", lambda t, r: ["train", "--data-dir", str(file_in(t))], 2,
     "is a file, not a folder"),
    ("--data-dir cannot be created", lambda t, r: ["train", "--data-dir", "/proc/cg-data"], 2,
     "cannot create it"),
    ("--seed -1", lambda t, r: ["train", *SYNTHETIC, "--seed", "-1"], 2, "integer ≥ 0"),
    ("graph --batch-size 1e9", lambda t, r: ["graph", "-o", str(t / "g.dot"), "--batch-size",
                                             "1000000000"], 2, "at most 4096"),
    ("graph -o a folder", lambda t, r: ["graph", "-o", str(t)], 2, "should end in one of"),
    ("graph -o a folder named .svg", lambda t, r: ["graph", "-o", str(_folder(t, "g.svg"))], 2,
     "is a folder"),
    ("plot a list in metrics.jsonl", lambda t, r: metrics_with_a_list(t), 2,
     "line 2: not an epoch's numbers"),
    ("resume: dataset cifar", lambda t, r: resume_with_config(r, t, lambda c: {**c,
     "dataset": "cifar"}), 2, "dataset: expected one of"),
    ("resume: optimizer rmsprop", lambda t, r: resume_with_config(r, t, lambda c: {**c,
     "optimizer": "rmsprop"}), 2, "optimizer: expected one of"),
    ("resume: lr -1", lambda t, r: resume_with_config(r, t, lambda c: {**c, "lr": -1}), 2,
     "lr: expected a positive number"),
    ("resume: epochs 'ten'", lambda t, r: resume_with_config(r, t, lambda c: {**c,
     "epochs": "ten"}), 2, "epochs: expected a positive integer"),
    ("resume: unknown key", lambda t, r: resume_with_config(r, t, lambda c: {**c, "lrr": 1}), 2,
     "unknown lrr"),
    ("resume: missing key", lambda t, r: resume_with_config(r, t, lambda c: {
     k: v for k, v in c.items() if k != "seed"}), 2, "missing seed"),
    ("resume: not JSON", lambda t, r: resume_with_config(r, t, lambda c: "{'model': 1"), 2,
     "not a readable JSON file"),
    ("resume: a list", lambda t, r: resume_with_config(r, t, lambda c: [c]), 2,
     "expected a JSON object"),
    ("resume with --lr", lambda t, r: ["train", "--resume", str(r), "--lr", "0.1"], 2,
     "--lr would change its result"),
    ("resume an empty folder", lambda t, r: ["train", "--resume", str(t)], 2,
     "holds no model.npz"),
    ("eval: input does not fit", lambda t, r: model_for(t, [cg.nn.Linear(100, 10)]), 2,
     "does not fit the dataset"),
    ("eval: output does not fit", lambda t, r: model_for(t, [cg.nn.Linear(784, 3)]), 2,
     "gives 3 outputs, but the dataset has 10 classes"),
    ("eval: not a checkpoint", lambda t, r: ["eval", str(file_in(t))], 2,
     "not a compgraph checkpoint"),
]  # fmt: skip


def _folder(tmp: Path, name: str) -> Path:
    path = tmp / name
    path.mkdir()
    return path


@pytest.mark.parametrize(
    ("name", "make", "status", "words"), MISTAKES, ids=[m[0] for m in MISTAKES]
)
def test_a_mistake_gets_one_line_and_its_exit_status(
    name, make, status, words, tmp_path, finished_run
) -> None:
    result = compgraph(*make(tmp_path, finished_run))
    assert result.returncode == status, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not list(tmp_path.rglob("*.part")), "a temporary file was left behind"


def test_eval_on_a_fifo_does_not_hang(tmp_path) -> None:
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    result = compgraph("eval", str(fifo), timeout=60)
    assert result.returncode == 2 and "not a regular file" in result.stderr


def test_eval_reports_non_finite_weights(tmp_path) -> None:
    model = cg.nn.Sequential(cg.nn.Linear(784, 10, rng=0))
    model[0].weight.data[3, 4] = np.nan
    checkpoint.save(tmp_path / "model.npz", model)
    result = compgraph("eval", str(tmp_path), "--dataset", "synthetic")
    assert result.returncode == 2 and "non-finite weights (0.weight)" in result.stderr


def test_ctrl_c_twice_exits_130_without_a_traceback(tmp_path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "compgraph.cli", "train", "--model", "mlp", "--dataset",
         "synthetic", "--epochs", "500", "--out", str(tmp_path / "run")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        while "epoch" not in process.stdout.readline():  # training has started
            pass
        process.send_signal(signal.SIGINT)
        time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr


def test_version_and_debug() -> None:
    assert compgraph("--version").stdout.strip() == f"compgraph {cg.__version__}"
    result = compgraph("train", "--debug", "--dataset", "synthetic", "--out", "/proc/cg-run")
    assert result.returncode == 1 and "Traceback" in result.stderr  # the exception, raised
    result = compgraph("train", "--dataset", "synthetic", "--out", "/proc/cg-run",
                       env={"COMPGRAPH_DEBUG": "1"})  # fmt: skip
    assert "Traceback" in result.stderr


def test_a_data_folder_from_the_environment_that_is_a_file(tmp_path) -> None:
    result = compgraph("train", env={"COMPGRAPH_DATA": str(file_in(tmp_path))})
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "COMPGRAPH_DATA" in result.stderr and "is a file, not a folder" in result.stderr
