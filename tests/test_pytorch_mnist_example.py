"""examples/pytorch_mnist.py, PyTorch's MNIST example ported line by line, trains and
prints in PyTorch's format: run as a script on a small slice of the synthetic set."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pytorch_mnist.py"
TRAIN_LINE = re.compile(r"^Train Epoch: (\d+) \[(\d+)/(\d+) \((\d+)%\)\]\tLoss: (\d+\.\d{6})$")
TEST_LINE = re.compile(r"^Test set: Average loss: (\d+\.\d{4}), Accuracy: (\d+)/(\d+) \((\d+)%\)$")


def run_example(*options: str) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), *options],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_ported_example_trains_and_prints_pytorchs_lines() -> None:
    out = run_example(
        "--dataset", "synthetic", "--limit-train", "256", "--limit-test", "100",
        "--batch-size", "32", "--test-batch-size", "50", "--epochs", "2", "--log-interval", "2",
    )  # fmt: skip
    lines = [line for line in out.splitlines() if line]
    train = [TRAIN_LINE.match(line) for line in lines if line.startswith("Train")]
    test = [TEST_LINE.match(line) for line in lines if line.startswith("Test")]
    assert len(train) == 8 and all(train), out  # 8 batches an epoch, every 2nd logged
    assert len(test) == 2 and all(test), out
    assert len(lines) == len(train) + len(test), out  # nothing else printed
    first = train[1]
    assert first is not None
    assert first.groups()[:4] == ("1", "64", "256", "25")  # batch 2 of 8, 32 a batch
    losses = [float(match.group(5)) for match in train if match]
    assert sum(losses[4:]) < sum(losses[:4])  # the second epoch's losses are lower
    test_losses = [float(match.group(1)) for match in test if match]
    assert test_losses[1] < test_losses[0] < 2.5
    assert all(match.group(3) == "100" for match in test if match)


def test_the_example_runs_the_same_after_its_manual_seed() -> None:
    options = ("--dataset", "synthetic", "--limit-train", "64", "--limit-test", "50",
               "--batch-size", "32", "--epochs", "1", "--log-interval", "1")  # fmt: skip
    assert run_example(*options) == run_example(*options)
