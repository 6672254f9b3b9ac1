"""One training run as the command line drives it: data, model, run folder, checkpoints.

A run folder holds ``config.json`` (the settings), ``metrics.jsonl`` (one line
per finished epoch), ``model.npz`` (weights, architecture, optimizer and loop
state — loadable by ``compgraph.load``) and ``curves.png``. The checkpoint is
rewritten after every epoch and when Ctrl-C stops the run, always atomically.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from compgraph import checkpoint, data, functional, optim
from compgraph.nn.module import Module
from compgraph.train.interrupt import stop_on_sigint
from compgraph.train.loop import Callback, LoopState, TrainingDiverged, TrainingInterrupted, fit
from compgraph.train.plots import plot_curves
from compgraph.train.presets import PRESETS
from compgraph.train.progress import ConsoleProgress, summary_line

DATASETS = ("mnist", "fashion-mnist", "synthetic")


@dataclass
class TrainConfig:
    """Everything that decides a run's result; saved as config.json."""

    model: str = "softmax"
    dataset: str = "mnist"
    epochs: int = 10
    batch_size: int = 100
    lr: float = 0.5
    optimizer: str = "sgd"
    seed: int = 5
    data_dir: str | None = None

    @classmethod
    def for_preset(cls, model: str, **overrides: Any) -> TrainConfig:
        """The preset's defaults, with every override that is not None."""
        preset = PRESETS[model]
        config = cls(
            model=model,
            epochs=preset.epochs,
            batch_size=preset.batch_size,
            lr=preset.lr,
            optimizer=preset.optimizer,
        )
        chosen = {key: value for key, value in overrides.items() if value is not None}
        return dataclasses.replace(config, **chosen)


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


def write_json_atomically(path: Path, lines: list[Any]) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text("".join(json.dumps(line) + "\n" for line in lines))
    os.replace(temporary, path)


class RunFolder(Callback):
    """After each epoch: print its summary, rewrite metrics.jsonl, save the checkpoint."""

    def __init__(self, run: TrainingRun) -> None:
        self.run = run

    def on_epoch_end(self, metrics: dict[str, float], state: LoopState) -> None:
        self.run.say(summary_line(metrics, self.run.config.epochs))
        write_json_atomically(self.run.out / "metrics.jsonl", state.history)
        self.run.save(state)


class TrainingRun:
    """Set up from a config (or a run folder to resume), then :meth:`execute`."""

    def __init__(
        self,
        config: TrainConfig,
        out: Path,
        quiet: bool = False,
        stream: TextIO | None = None,
        callbacks: Sequence[Callback] = (),
    ) -> None:
        self.config, self.out, self.quiet = config, out, quiet
        self.stream = stream if stream is not None else sys.stdout
        self.extra_callbacks = list(callbacks)
        seeds = np.random.SeedSequence(config.seed).spawn(2)
        self.model = PRESETS[config.model].build(np.random.default_rng(seeds[0]))
        self.optimizer = build_optimizer(config.optimizer, self.model.parameters(), config.lr)
        self.scheduler = None
        if PRESETS[config.model].cosine_schedule:
            self.scheduler = optim.CosineAnnealingLR(self.optimizer, t_max=config.epochs)
        self.state = LoopState()
        self.loader_seed = seeds[1]

    def say(self, line: str) -> None:
        if not self.quiet:
            print(line, file=self.stream, flush=True)

    def resume_from_checkpoint(self) -> None:
        saved = checkpoint.read_checkpoint(self.out / "model.npz")
        self.model.load_state_dict(saved.model_state)
        self.optimizer.load_state_dict(saved.optimizer_state)
        self.state = LoopState(**saved.meta["loop"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict({"base_lr": self.config.lr, "epoch": self.state.epoch})
        restore_generator_states(self.model, saved.meta.get("generators", {}))

    def save(self, state: LoopState) -> None:
        meta = {
            "config": dataclasses.asdict(self.config),
            "loop": dataclasses.asdict(state),
            "generators": generator_states(self.model),
        }
        checkpoint.save(self.out / "model.npz", self.model, self.optimizer, meta)

    def execute(self) -> int:
        """Train to the configured number of epochs; returns the process exit status."""
        self.out.mkdir(parents=True, exist_ok=True)
        write_json_atomically(self.out / "config.json", [dataclasses.asdict(self.config)])
        train_set = load_split(self.config, "train", self.quiet)
        test_set = load_split(self.config, "test", self.quiet)
        flatten = not PRESETS[self.config.model].images
        train_loader = data.DataLoader(
            train_set, self.config.batch_size, shuffle=True, seed=self.loader_seed, flatten=flatten
        )
        test_loader = data.DataLoader(test_set, 1000, shuffle=False, flatten=flatten)
        callbacks: list[Callback] = [RunFolder(self), *self.extra_callbacks]
        if not self.quiet:
            callbacks.insert(0, ConsoleProgress(self.config.epochs))
        try:
            with stop_on_sigint() as stop:
                history = fit(
                    self.model, functional.cross_entropy, self.optimizer, train_loader,
                    test_loader, self.config.epochs, callbacks, self.scheduler, self.state,
                    should_stop=stop,
                )  # fmt: skip
        except TrainingInterrupted as interruption:
            self.save(self.state)
            print(
                f"{interruption}; checkpoint saved to {self.out / 'model.npz'}. "
                f"Continue with: compgraph train --resume {self.out}",
                file=sys.stderr,
            )
            return 130
        except TrainingDiverged as divergence:
            kept = self.out / "model.npz"
            where = f"the last good checkpoint is {kept}" if kept.exists() else "nothing was saved"
            print(
                f"compgraph train: {divergence}; try a smaller learning rate than "
                f"--lr {self.config.lr:g} (say {self.config.lr / 10:g}); {where}",
                file=sys.stderr,
            )
            return 1
        if not plot_curves(history, self.out / "curves.png"):
            self.say("note: curves.png not drawn (pip install matplotlib to get it)")
        if history:
            print(f"final test accuracy: {history[-1]['test_acc']:.4f}", file=self.stream)
        return 0
