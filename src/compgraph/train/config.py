"""A run's settings (config.json), checked by one set of rules for the command line and files.

Every setting that decides a run's result is here. The command line checks its
options with these rules, and ``--resume`` checks a saved (perhaps hand-edited)
config.json with the same rules, so a file cannot smuggle in what an option
would refuse.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compgraph.train.presets import OPTIMIZERS, PRESETS

DATASETS = ("mnist", "fashion-mnist", "synthetic")


class ConfigError(ValueError):
    """A setting outside its rule; the message names the setting, the value and the rule."""


def positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"expected a positive integer, got {value!r}")
    return value


def non_negative_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"expected an integer ≥ 0, got {value!r}")
    return value


def positive_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"expected a positive number, got {value!r}")
    if not (value > 0 and math.isfinite(value)):
        raise ConfigError(f"expected a positive number, got {value!r}")
    return float(value)


def one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise ConfigError(f"expected one of {', '.join(choices)}, got {value!r}")
        return str(value)

    return check


def optional_text(value: Any) -> str | None:
    if value is not None and not (isinstance(value, str) and value):
        raise ConfigError(f"expected a folder name or null, got {value!r}")
    return value


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
    def for_preset(cls, model: str | None, **overrides: Any) -> TrainConfig:
        """The preset's defaults, with every override that is not None (all checked)."""
        model = model or "softmax"
        preset = PRESETS[model]
        config = cls(
            model=model,
            epochs=preset.epochs,
            batch_size=preset.batch_size,
            lr=preset.lr,
            optimizer=preset.optimizer,
        )
        chosen = {key: value for key, value in overrides.items() if value is not None}
        return validated(dataclasses.asdict(dataclasses.replace(config, **chosen)), "options")

    @classmethod
    def from_file(cls, path: Path) -> TrainConfig:
        """Read and check a run's config.json.

        Raises:
            ConfigError: naming the file and the first setting that breaks its rule.
        """
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise ConfigError(f"{path}: not a readable JSON file ({error})") from None
        return validated(values, str(path))


#: The rule of every setting: the same for the command line and for config.json.
RULES: dict[str, Callable[[Any], Any]] = {
    "model": one_of(tuple(sorted(PRESETS))),
    "dataset": one_of(DATASETS),
    "epochs": positive_int,
    "batch_size": positive_int,
    "lr": positive_float,
    "optimizer": one_of(OPTIMIZERS),
    "seed": non_negative_int,
    "data_dir": optional_text,
}


def validated(values: Any, source: str) -> TrainConfig:
    """A TrainConfig from a mapping of every setting, each checked by its rule."""
    if not isinstance(values, dict):
        raise ConfigError(f"{source}: expected a JSON object of settings, got {values!r:.60}")
    unknown = sorted(set(values) - set(RULES))
    missing = sorted(set(RULES) - set(values))
    if unknown or missing:
        problems = [f"unknown {', '.join(unknown)}"] if unknown else []
        problems += [f"missing {', '.join(missing)}"] if missing else []
        raise ConfigError(f"{source}: {'; '.join(problems)} (settings are {', '.join(RULES)})")
    checked = {}
    for name, rule in RULES.items():
        try:
            checked[name] = rule(values[name])
        except ConfigError as error:
            raise ConfigError(f"{source}: {name}: {error}") from None
    return TrainConfig(**checked)
