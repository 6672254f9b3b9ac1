"""fit() and evaluate(): the training loop, resumable at any batch boundary.

The loop keeps everything it needs to continue in a :class:`LoopState`: where it
is (epoch, batch), the running sums of the epoch so far, the shuffling
generator's state at the start of the epoch, and the history. A caller that
saves that state with the weights and the optimizer can stop after any batch
and later finish with exactly the weights an uninterrupted run would have.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.grad_mode import no_grad
from compgraph.nn.module import Module
from compgraph.optim.lr_scheduler import ReduceLROnPlateau
from compgraph.tensor import Tensor

LossFunction = Callable[[Tensor, Any], Tensor]


class TrainingDiverged(RuntimeError):
    """The loss, or the weights after an epoch's updates, became NaN or infinite.

    When the loss diverged (``what == "the loss"``) the parameters are those of the last
    good step: the loss is checked before the update. Otherwise an update made them
    non-finite, and ``what`` names them.
    """

    def __init__(self, epoch: int, step: int, loss: float, what: str = "the loss") -> None:
        if what == "the loss":
            message = f"the loss became {loss} at epoch {epoch}, step {step}"
        else:
            message = f"{what} became NaN or infinite in epoch {epoch}"
        super().__init__(message)
        self.epoch, self.step, self.loss, self.what = epoch, step, loss, what


class TrainingInterrupted(Exception):
    """A stop was requested (Ctrl-C); the loop state is consistent at a batch boundary."""


@dataclass
class LoopState:
    """Where a training run stands; everything here is plain data, saved in checkpoints."""

    epoch: int = 0  # epochs completed
    step: int = 0  # batches completed in the current epoch
    loss_sum: float = 0.0
    correct: int = 0
    count: int = 0
    seconds: float = 0.0  # time spent in the current epoch before an interruption
    shuffle_state: dict[str, Any] | None = None  # the loader's generator as the epoch starts
    history: list[dict[str, float]] = field(default_factory=list)


class Callback:
    """Hooks into :func:`fit`; override what you need."""

    def on_epoch_start(self, epoch: int, batches: int) -> None:
        """``epoch`` counts from 1; ``batches`` is the number in this epoch."""

    def on_batch_end(self, epoch: int, step: int, state: LoopState) -> None:
        """After each optimizer step; ``state`` has the epoch's running sums."""

    def on_epoch_end(self, metrics: dict[str, float], state: LoopState) -> None:
        """After evaluation; ``metrics`` is the epoch's history entry."""


def evaluate(
    model: Module, loss_fn: LossFunction, loader: Iterable[tuple[Any, Any]]
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` over ``loader``, in eval mode, without a graph.

    A sharded loader (``DataLoader(..., shard=...)``) gives each rank part of the data:
    the sums are then reduced over the ranks, and every rank returns the whole's.
    """
    loss, predictions, labels = evaluate_predictions(model, loss_fn, loader)
    if getattr(loader, "shard", False) is not False:
        from compgraph.distributed import world

        correct = np.count_nonzero(predictions == labels)
        sums = np.array([loss * labels.size, correct, labels.size], np.float64)
        world().allreduce_sum(sums)
        return (float(sums[0] / sums[2]), float(sums[1] / sums[2])) if sums[2] else (0.0, 0.0)
    return loss, float(np.mean(predictions == labels)) if labels.size else 0.0


def evaluate_predictions(
    model: Module, loss_fn: LossFunction, loader: Iterable[tuple[Any, Any]]
) -> tuple[float, NDArray[Any], NDArray[Any]]:
    """Mean loss, the predicted classes and the labels, in one pass over ``loader``."""
    was_training = model.training
    model.eval()
    loss_sum, predictions, labels = 0.0, [], []
    with no_grad():
        for x, y in loader:
            logits = model(Tensor(x))
            loss_sum += float(loss_fn(logits, y).data) * len(y)
            predictions.append(logits.data.argmax(axis=-1))
            labels.append(np.asarray(y))
    model.train(was_training)
    if not labels:
        return 0.0, np.empty(0, np.int64), np.empty(0, np.int64)
    all_labels = np.concatenate(labels)
    return loss_sum / len(all_labels), np.concatenate(predictions), all_labels


def fit(
    model: Module,
    loss_fn: LossFunction,
    optimizer: Any,
    train_loader: Any,
    eval_loader: Any = None,
    epochs: int = 1,
    callbacks: Sequence[Callback] = (),
    scheduler: Any = None,
    state: LoopState | None = None,
    should_stop: Callable[[], bool] | None = None,
    scheduler_interval: str = "epoch",
) -> list[dict[str, float]]:
    """Train ``model`` for ``epochs`` epochs and return the history, one dict per epoch.

    Args:
        model: the module to train; its output is the logits.
        loss_fn: ``loss_fn(logits, labels)`` → scalar tensor, e.g.
            ``compgraph.functional.cross_entropy``.
        optimizer: has ``zero_grad()`` and ``step()``. A
            :class:`~compgraph.distributed.DistributedOptimizer` makes the run data
            parallel: each step's losses, counts and stop requests are summed over the
            ranks with the gradients, so every rank records the global batch's numbers and
            all stop after the same step; give it a sharded ``train_loader``.
        train_loader: yields (x, y) batches; if it has a ``generator`` (a
            ``numpy.random.Generator``), its state is recorded for exact resumption.
        eval_loader: batches to evaluate after each epoch (test loss and accuracy).
        epochs: the total number of epochs, counting those a resumed ``state`` has done.
        callbacks: see :class:`Callback`.
        scheduler: a learning-rate scheduler (:mod:`compgraph.optim.lr_scheduler`),
            stepped after each epoch's evaluation, or after each optimizer step when
            ``scheduler_interval='batch'``. A :class:`~compgraph.optim.ReduceLROnPlateau`
            is stepped once per epoch with the epoch's test loss, or its train loss
            when there is no ``eval_loader``.
        state: a :class:`LoopState` to continue from (and to update as it goes).
        should_stop: polled after each batch; True raises :class:`TrainingInterrupted`.
        scheduler_interval: 'epoch' or 'batch' (for :class:`~compgraph.optim.OneCycleLR`,
            built with ``total_steps=epochs * len(train_loader)``). ``state`` does not hold
            the scheduler: to resume from a file, save ``scheduler.state_dict()`` with the
            weights and the optimizer (a callback's ``on_batch_end`` sees it stepped) and
            load it into a scheduler built the same way.

    fit() changes no process-wide setting. ``compgraph train`` also sets the thread
    count (:func:`compgraph.set_num_threads`) and keeps freed memory for reuse
    (:func:`compgraph.reuse_freed_memory`); call those yourself for the same speed.

    Raises:
        TrainingDiverged: naming the epoch and step where the loss stopped being finite,
            or the epoch after whose updates a weight is no longer finite.
        TrainingInterrupted: when ``should_stop`` said so; ``state`` is then resumable.
    """
    if scheduler_interval not in ("epoch", "batch"):
        raise ValueError(
            f"fit: scheduler_interval is 'epoch' or 'batch', not {scheduler_interval!r}"
        )
    on_plateau = isinstance(scheduler, ReduceLROnPlateau)
    if on_plateau and scheduler_interval == "batch":
        raise ValueError(
            "fit: ReduceLROnPlateau needs an epoch's loss; use scheduler_interval='epoch'"
        )
    per_batch = scheduler if scheduler_interval == "batch" else None
    parallel = hasattr(optimizer, "synchronize")  # a DistributedOptimizer
    check_data_parallel(parallel, train_loader)
    state = state if state is not None else LoopState()
    generator = getattr(train_loader, "generator", None)
    while state.epoch < epochs:
        epoch = state.epoch + 1
        if generator is not None:
            if state.shuffle_state is None:
                state.shuffle_state = generator.bit_generator.state
            else:  # a no-op when running on; when resuming, the same permutation again
                generator.bit_generator.state = state.shuffle_state
        for callback in callbacks:
            callback.on_epoch_start(epoch, len(train_loader))
        model.train()
        started = time.perf_counter() - state.seconds
        for step, (x, y) in enumerate(train_loader, start=1):
            if step <= state.step:  # done before the interruption
                continue
            stop = should_stop is not None and should_stop()
            if parallel:  # the ranks' losses, counts and stop requests, summed
                loss, correct, count, stop = parallel_step(model, loss_fn, optimizer, x, y, stop)
            else:
                (loss, correct), count = train_step(model, loss_fn, optimizer, x, y), len(y)
            if not np.isfinite(loss):  # the parameters are still the last good ones
                raise TrainingDiverged(epoch, step, loss)
            state.step = step
            state.loss_sum += loss * count
            state.correct += correct
            state.count += count
            if per_batch is not None:
                per_batch.step()
            for callback in callbacks:
                callback.on_batch_end(epoch, step, state)
            if stop or (not parallel and should_stop is not None and should_stop()):
                state.seconds = time.perf_counter() - started
                raise TrainingInterrupted(f"stopped at epoch {epoch}, step {step}")
        blown = [name for name, p in model.named_parameters() if not np.isfinite(p.data).all()]
        if blown:  # an update of this epoch overflowed after its loss was checked
            raise TrainingDiverged(epoch, state.step, float("nan"), f"weights {blown[0]}")
        metrics = {
            "epoch": epoch,
            "train_loss": state.loss_sum / max(state.count, 1),
            "train_acc": state.correct / max(state.count, 1),
        }
        if eval_loader is not None:
            metrics["test_loss"], metrics["test_acc"] = evaluate(model, loss_fn, eval_loader)
        metrics["seconds"] = time.perf_counter() - started
        metrics["lr"] = optimizer.lr if hasattr(optimizer, "lr") else float("nan")
        if on_plateau:
            scheduler.step(metrics["test_loss" if eval_loader is not None else "train_loss"])
        elif scheduler is not None and per_batch is None:
            scheduler.step()
        state.history.append(metrics)
        state.epoch, state.step, state.loss_sum, state.correct, state.count = epoch, 0, 0.0, 0, 0
        state.seconds = 0.0
        state.shuffle_state = None if generator is None else generator.bit_generator.state
        for callback in callbacks:
            callback.on_epoch_end(metrics, state)
    return state.history


def train_step(
    model: Module, loss_fn: LossFunction, optimizer: Any, x: Any, y: Any
) -> tuple[float, int]:
    """One step of :func:`fit`: forward, backward and update; the loss and the correct count.

    A loss that is not finite is returned before the update, so the parameters stay
    those of the last good step.
    """
    optimizer.zero_grad()
    # Overflow anywhere in the step shows up as a non-finite loss or weights, which fit()
    # reports with advice; NumPy's warnings would only repeat it, once per array.
    with np.errstate(over="ignore", invalid="ignore"):
        value, correct = loss_and_gradients(model, loss_fn, x, y)
        if not math.isfinite(value):
            return value, 0
        optimizer.step()
    return value, correct


def loss_and_gradients(model: Module, loss_fn: LossFunction, x: Any, y: Any) -> tuple[float, int]:
    """The forward pass and, when the loss is finite, the backward pass: the loss and the
    number of correct predictions."""
    logits = model(Tensor(x))
    loss = loss_fn(logits, y)
    value = float(loss.data)
    if math.isfinite(value):
        loss.backward()
    return value, int(np.count_nonzero(logits.data.argmax(axis=-1) == y))


def check_data_parallel(parallel: bool, train_loader: Any) -> None:
    """Refuse half a data-parallel setup on several ranks, which would train silently wrong."""
    import sys

    world = sys.modules.get("compgraph.distributed.world")
    sharded = getattr(train_loader, "shard", None)
    if world is None or world.size() == 1 or sharded is None:
        return  # one process, or a loader of the caller's own making
    if parallel and sharded is False:
        raise ValueError(
            "fit: a DistributedOptimizer with a DataLoader that is not sharded: every rank "
            "would train on every batch; build the loader with shard=True"
        )
    if not parallel and sharded is not False:
        raise ValueError(
            "fit: a sharded DataLoader with an optimizer that is not a DistributedOptimizer: "
            "each rank would step on its own share alone; wrap it in "
            "compgraph.distributed.DistributedOptimizer"
        )


def parallel_step(
    model: Module, loss_fn: LossFunction, optimizer: Any, x: Any, y: Any, stop: bool
) -> tuple[float, int, int, bool]:
    """One data-parallel step: this rank's part of the batch, then one reduction, then
    the update.

    The loss and the correct count travel in the same message as the gradients, with
    this rank's stop request. Returns the global batch's mean loss, its correct count
    and size, and whether any rank asked to stop. A loss that is not finite on any
    rank is returned before the update, on every rank.
    """
    optimizer.zero_grad()
    count = len(y)
    with np.errstate(over="ignore", invalid="ignore"):
        if count:
            value, correct = loss_and_gradients(model, loss_fn, x, y)
        else:  # a rank's share of a short last batch can be empty: its gradients are 0,
            # but the passes still run, for the layers that meet the other ranks in them
            (model(Tensor(x)).sum() * 0.0).backward()  # (nn.SyncBatchNorm)
            value, correct = 0.0, 0
        total, (loss_sum, correct_sum, stops) = optimizer.synchronize(
            examples=count, extras=(value * count, correct, float(stop))
        )
        mean = loss_sum / total if total else 0.0
        if not math.isfinite(mean):
            return mean, 0, int(total), stops > 0
        optimizer.step()
    return mean, round(correct_sum), round(total), stops > 0
