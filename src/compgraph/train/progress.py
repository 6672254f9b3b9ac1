"""What a training run prints: a progress bar per epoch and one summary line per epoch."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from compgraph.train.loop import Callback, LoopState


class ConsoleProgress(Callback):
    """A tqdm bar with the running loss and accuracy on a terminal; plain lines elsewhere.

    Args:
        epochs: the total, for "epoch 3/10".
        stream: where to write (standard error by default, so stdout stays parseable).
        lines_per_epoch: how many progress lines a non-terminal gets per epoch.
    """

    def __init__(self, epochs: int, stream: TextIO | None = None, lines_per_epoch: int = 4) -> None:
        self.epochs = epochs
        self.stream = stream if stream is not None else sys.stderr
        self.lines_per_epoch = lines_per_epoch
        self.bar: Any = None
        self.batches = 0

    def on_epoch_start(self, epoch: int, batches: int) -> None:
        self.batches = batches
        if self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(
                total=batches, desc=f"epoch {epoch}/{self.epochs}", file=self.stream, leave=False
            )

    def on_batch_end(self, epoch: int, step: int, state: LoopState) -> None:
        loss = state.loss_sum / max(state.count, 1)
        accuracy = state.correct / max(state.count, 1)
        if self.bar is not None:
            self.bar.n = step
            self.bar.set_postfix_str(f"loss {loss:.4f} acc {accuracy:.4f}", refresh=False)
            self.bar.update(0)
            return
        every = max(self.batches // self.lines_per_epoch, 1)
        if step % every == 0 and step < self.batches:
            print(
                f"  epoch {epoch}/{self.epochs} step {step}/{self.batches} "
                f"loss {loss:.4f} acc {accuracy:.4f}",
                file=self.stream,
                flush=True,
            )

    def on_epoch_end(self, metrics: dict[str, float], state: LoopState) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def summary_line(metrics: dict[str, float], epochs: int) -> str:
    """One line per epoch: train and test loss and accuracy, and the time it took."""
    line = (
        f"epoch {int(metrics['epoch']):>3}/{epochs}  "
        f"train loss {metrics['train_loss']:.4f} acc {metrics['train_acc']:.4f}"
    )
    if "test_loss" in metrics:
        line += f"  test loss {metrics['test_loss']:.4f} acc {metrics['test_acc']:.4f}"
    return line + f"  {metrics['seconds']:.1f} s"
