"""One training run as the command line drives it: data, model, run folder, checkpoints.

A run folder holds ``config.json`` (the settings), ``metrics.jsonl`` (one line
per finished epoch), ``model.npz`` (weights, architecture, optimizer and loop
state — loadable by ``compgraph.load``) and ``curves.png``. While a run uses its
folder it holds the folder's lock (:mod:`compgraph.train.folder`). The checkpoint
is rewritten after every epoch and when Ctrl-C stops the run, each time only once
its weights and losses are checked finite, and always atomically.

Under MPI (``world`` of several ranks) rank 0 alone holds the folder, its lock, the
checkpoint and the metrics, and prints; it tells the others how the run starts (the
weights, the optimizer's state and where the loop stands, so a run resumes with any
number of ranks). Each rank trains on its share of every global batch.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from compgraph import checkpoint, data, files, functional, optim
from compgraph.nn.module import Module
from compgraph.train import folder
from compgraph.train.config import TrainConfig
from compgraph.train.interrupt import stop_on_sigint
from compgraph.train.loop import (
    Callback,
    LoopState,
    TrainingDiverged,
    TrainingInterrupted,
    fit,
    train_step,
)
from compgraph.train.plots import plot_curves
from compgraph.train.presets import PRESETS
from compgraph.train.progress import ConsoleProgress, summary_line


def load_split(config: TrainConfig, split: str, quiet: bool) -> Any:
    """The train or test split of the configured dataset (downloaded on first use)."""
    if config.dataset == "synthetic":
        return data.Synthetic(split, seed=config.seed)
    dataset = data.MNIST if config.dataset == "mnist" else data.FashionMNIST
    announce = (lambda message: None) if quiet else data.sources.print_announcement
    return dataset(root=config.data_dir, split=split, announce=announce)


def build_optimizer(name: str, parameters: list[Any], lr: float) -> optim.Optimizer:
    if name == "adam":
        return optim.Adam(parameters, lr=lr)
    return optim.SGD(parameters, lr=lr, momentum=0.9 if name == "momentum" else 0.0)


def _generators(model: Module) -> Iterator[tuple[str, np.random.Generator]]:
    """Every random generator inside the model (Dropout's), keyed by module index and name."""
    for index, module in enumerate(model.modules()):
        for name, value in vars(module).items():
            if isinstance(value, np.random.Generator):
                yield f"{index}.{name}", value


def generator_states(model: Module) -> dict[str, Any]:
    return {key: generator.bit_generator.state for key, generator in _generators(model)}


def restore_generator_states(model: Module, states: dict[str, Any]) -> None:
    for key, generator in _generators(model):
        if key in states:
            generator.bit_generator.state = states[key]


def nonfinite_weights(model: Module) -> list[str]:
    """The names of the parameters and buffers holding NaN or Inf."""
    state = {name: p.data for name, p in model.named_parameters()}
    state.update(model.named_buffers())
    return [name for name, array in state.items() if not np.isfinite(array).all()]


class EpochRecorder(Callback):
    """After each epoch: check it, print its summary, save the checkpoint, rewrite metrics
    (under MPI: checks on every rank, the rest on rank 0)."""

    def __init__(self, run: TrainingRun) -> None:
        self.run = run

    def on_epoch_end(self, metrics: dict[str, float], state: LoopState) -> None:
        # Before anything is written; on every rank, which all hold the same numbers.
        self.run.check_finite(metrics, state)
        if not self.run.main:
            return
        self.run.say(summary_line(metrics, self.run.config.epochs))
        # The checkpoint first: metrics.jsonl never lists an epoch no checkpoint holds.
        self.run.save(state)
        lines = "".join(json.dumps(row) + "\n" for row in state.history)
        files.write_text(self.run.out / "metrics.jsonl", lines)


class TrainingRun:
    """Set up from a config (or a run folder to resume), then :meth:`execute`.

    Args:
        config: the settings (for a resumed run, those of its config.json).
        out: the run folder (created if missing; see :mod:`compgraph.train.folder`).
        quiet: print only the final accuracy.
        stream: where progress goes (standard output by default).
        callbacks: more :class:`Callback` objects for fit().
        resume: continue the run in ``out`` from its checkpoint.
        overwrite: replace a finished run in ``out`` instead of refusing.
        world: the ranks of a data-parallel run (:func:`compgraph.distributed.init`);
            None for one process.
    """

    def __init__(
        self,
        config: TrainConfig,
        out: Path,
        quiet: bool = False,
        stream: TextIO | None = None,
        callbacks: Sequence[Callback] = (),
        resume: bool = False,
        overwrite: bool = False,
        world: Any = None,
    ) -> None:
        self.world = world
        self.main = world is None or world.rank == 0
        self.config, self.out, self.quiet = config, out, quiet or not self.main
        self.resume, self.overwrite = resume, overwrite
        self.stream = stream if stream is not None else sys.stdout
        self.extra_callbacks = list(callbacks)
        seeds = np.random.SeedSequence(config.seed).spawn(2)
        self.model = PRESETS[config.model].build(np.random.default_rng(seeds[0]))
        self.optimizer = build_optimizer(config.optimizer, self.model.parameters(), config.lr)
        self.scheduler = None
        if PRESETS[config.model].cosine_schedule:
            self.scheduler = optim.CosineAnnealingLR(self.optimizer, T_max=config.epochs)
        self.state = LoopState()
        self.loader_seed = seeds[1]
        self.saved_epoch: int | None = None  # the epoch of the last checkpoint known good
        self._stop: Any = None  # under MPI: the stop request, which knows who asked

    def say(self, line: str) -> None:
        if not self.quiet:
            print(line, file=self.stream, flush=True)

    def resume_from_checkpoint(self) -> None:
        saved = checkpoint.read_checkpoint(self.out / "model.npz")
        try:
            self.model.load_state_dict(saved.model_state)
            self.optimizer.load_state_dict(saved.optimizer_state)
            self.state = LoopState(**saved.meta["loop"])
        except (KeyError, TypeError, ValueError) as error:
            raise checkpoint.CheckpointError(
                f"{self.out / 'model.npz'}: does not fit the run's config.json ({error})"
            ) from None
        bad = nonfinite_weights(self.model)
        if bad:
            raise checkpoint.CheckpointError(
                f"{self.out / 'model.npz'}: holds non-finite weights ({', '.join(bad)})"
            )
        if self.state.epoch > self.config.epochs:
            raise checkpoint.CheckpointError(
                f"{self.out} has trained {self.state.epoch} epochs already; give --epochs "
                f"{self.state.epoch} or more"
            )
        if self.scheduler is not None:
            self.scheduler.load_state_dict({"base_lr": self.config.lr, "epoch": self.state.epoch})
        restore_generator_states(self.model, saved.meta.get("generators", {}))
        self.saved_epoch = self.state.epoch

    def check_finite(self, metrics: dict[str, float], state: LoopState) -> None:
        """Raise TrainingDiverged if the weights or the epoch's losses are not finite."""
        bad = nonfinite_weights(self.model)
        losses = [metrics.get(key, 0.0) for key in ("train_loss", "test_loss")]
        if bad or not all(np.isfinite(losses)):
            what = f"weights {', '.join(bad[:3])}" if bad else "the evaluation loss"
            raise TrainingDiverged(state.epoch, state.step, float("nan"), what=what)

    def save(self, state: LoopState) -> None:
        meta = {
            "config": dataclasses.asdict(self.config),
            "loop": dataclasses.asdict(state),
            "generators": generator_states(self.model),
        }
        checkpoint.save(self.out / "model.npz", self.model, self.optimizer, meta)
        self.saved_epoch = state.epoch

    def execute(self) -> int:
        """Train to the configured number of epochs; returns the process exit status.

        Raises:
            RunFolderError: another process uses the folder, or it holds a run that
                neither ``resume`` nor ``overwrite`` allows touching.
            CheckpointError: resuming from a checkpoint that does not fit.
        """
        if not self.main:
            return self._follow()
        with contextlib.ExitStack() as lock:
            try:
                folder.create_folder(self.out)
                lock.enter_context(folder.locked(self.out))
                files.remove_stale_temporaries(self.out)  # left by a run that was killed
                self._claim_folder()
            except Exception as error:
                if self.world is not None:  # the others wait to hear how the run starts
                    tell_the_others(self.world, error)
                raise
            if self.world is not None:
                self.world.broadcast_object(("ok", self._starting_point()))
            return self._train()

    def _starting_point(self) -> dict[str, Any]:
        """What rank 0 tells the others: the weights and where training stands."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "loop": dataclasses.asdict(self.state),
            "generators": generator_states(self.model),
            "saved_epoch": self.saved_epoch,
        }

    def _follow(self) -> int:
        """A rank other than 0: start where rank 0 says, then train along."""
        outcome, start = self.world.broadcast_object(None)
        if outcome == "error":
            self.world.barrier()  # until rank 0 has printed why (see compgraph.cli.main)
            return int(start)
        self.model.load_state_dict(start["model"])
        self.optimizer.load_state_dict(start["optimizer"])
        self.state = LoopState(**start["loop"])
        restore_generator_states(self.model, start["generators"])
        self.saved_epoch = start["saved_epoch"]
        if self.scheduler is not None:
            self.scheduler.load_state_dict({"base_lr": self.config.lr, "epoch": self.state.epoch})
        return self._train()

    def last_checkpoint(self, advice: bool = False) -> str:
        """Where the last good checkpoint is (and, with ``advice``, how to continue)."""
        kept = self.out / "model.npz"
        if self.saved_epoch is None or not kept.exists():
            return "no checkpoint was saved"
        where = f"the last good checkpoint is {kept} (epoch {self.saved_epoch})"
        return f"{where}; continue with compgraph train --resume {self.out}" if advice else where

    def _claim_folder(self) -> None:
        if self.resume:
            self.resume_from_checkpoint()
            self.say(
                f"resuming {self.out} at epoch {self.state.epoch + 1}, step {self.state.step} "
                f"(of {self.config.epochs} epochs)"
            )
            return
        if folder.holds_a_run(self.out):
            if not self.overwrite:
                raise folder.RunFolderError(
                    f"{self.out} holds a run; continue it with --resume {self.out}, replace "
                    "it with --overwrite, or choose another --out"
                )
            folder.clear_run(self.out)
        self.say(f"run folder: {self.out}")

    def _train(self) -> int:
        if self.main:
            config_text = json.dumps(dataclasses.asdict(self.config))
            files.write_text(self.out / "config.json", config_text)
        sharded = self.world is not None
        if sharded:
            from compgraph.distributed import DistributedOptimizer, in_turn

            train_set, test_set = in_turn(self._load_data)  # fetched once, rank 0 first
        else:
            train_set, test_set = self._load_data()
        flatten = not PRESETS[self.config.model].images
        train_loader = data.DataLoader(
            train_set, self.config.batch_size, shuffle=True, seed=self.loader_seed,
            flatten=flatten, shard=sharded,
        )  # fmt: skip
        test_loader = data.DataLoader(test_set, 1000, shuffle=False, flatten=flatten, shard=sharded)
        optimizer: Any = self.optimizer
        if sharded:
            # Compiled on rank 0 first: the others then read the kernels from numba's cache.
            in_turn(lambda: self._warm_up(train_set, flatten))
            optimizer = DistributedOptimizer(self.optimizer)
        callbacks: list[Callback] = [EpochRecorder(self), *self.extra_callbacks]
        if not self.quiet:
            callbacks.insert(0, ConsoleProgress(self.config.epochs))
        # The handlers stay while a stop is saved: under MPI, mpiexec's SIGTERM follows its
        # SIGCONT, and must not end rank 0 in the middle of writing the checkpoint.
        with self._stop_requests() as stop:
            try:
                history = fit(
                    self.model, functional.cross_entropy, optimizer, train_loader,
                    test_loader, self.config.epochs, callbacks, self.scheduler, self.state,
                    should_stop=stop,
                )  # fmt: skip
            except TrainingInterrupted as interruption:
                return self._together(self._interrupted(interruption))
            except TrainingDiverged as divergence:
                if self.main:
                    print(
                        f"compgraph train: {divergence}; try a smaller learning rate than "
                        f"--lr {self.config.lr:g} (say {self.config.lr / 10:g}); "
                        f"{self.last_checkpoint()}",
                        file=sys.stderr,
                    )
                return self._together(1)
        if self.main:
            if not plot_curves(history, self.out / "curves.png"):
                self.say("note: curves.png not drawn (pip install matplotlib to get it)")
            if history:
                print(f"final test accuracy: {history[-1]['test_acc']:.4f}", file=self.stream)
        return self._together(0)

    def _load_data(self) -> tuple[Any, Any]:
        return (
            load_split(self.config, "train", self.quiet),
            load_split(self.config, "test", self.quiet),
        )

    def _warm_up(self, train_set: Any, flatten: bool) -> None:
        """One step of a copy of the model on two examples: compiles (or loads) the kernels."""
        model = copy.deepcopy(self.model)
        optimizer = build_optimizer(self.config.optimizer, model.parameters(), self.config.lr)
        x, y = next(iter(data.DataLoader(train_set, 2, shuffle=False, flatten=flatten)))
        train_step(model, functional.cross_entropy, optimizer, x, y)

    @contextlib.contextmanager
    def _stop_requests(self) -> Iterator[Callable[[], bool]]:
        """Ctrl-C for one process; under MPI, the signals mpiexec sends (see
        :mod:`compgraph.distributed.stopping`)."""
        if self.world is None or self.world.size == 1:
            with stop_on_sigint() as request:
                yield request
            return
        from compgraph.distributed.stopping import stop_on_signals

        with stop_on_signals(self.world, lambda: self.last_checkpoint(advice=True)) as self._stop:
            yield self._stop

    def _together(self, status: int) -> int:
        """Every rank returns ``status`` once rank 0 is done writing: a rank that exited
        first with a non-zero status would make mpiexec kill rank 0 mid-write."""
        if self.world is not None:
            self.world.on_wait = None
            self.world.barrier()
        return status

    def _interrupted(self, interruption: TrainingInterrupted) -> int:
        if not self.main:
            return 130
        bad = nonfinite_weights(self.model)
        if bad:
            print(
                f"{interruption}; not saved: weights {', '.join(bad[:3])} are not finite",
                file=sys.stderr,
            )
            return 130
        self.save(self.state)
        line = (
            f"{interruption}; checkpoint saved to {self.out / 'model.npz'}. "
            f"Continue with: compgraph train --resume {self.out}"
        )
        if self.world is None or self.world.size == 1:
            print(line, file=sys.stderr)
            return 130
        from compgraph.distributed.stopping import tell

        tell(f"{line} (under mpiexec with --distributed and any number of ranks, or alone)",
             self._stop)  # fmt: skip
        return 130


def tell_the_others(world: Any, error: BaseException) -> None:
    """Rank 0 could not start the run: send the others the exit status the command line
    gives ``error``, so that they stop with it, and mark ``error`` as known to every rank
    (which then needs no abort; rank 0 alone prints it)."""
    from compgraph.cli import describe

    world.broadcast_object(("error", describe(error)[0]))
    error.compgraph_all_ranks_know = True  # type: ignore[attr-defined]
