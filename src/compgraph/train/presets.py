"""The models `compgraph train --model NAME` builds, with their default settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from compgraph import nn


def softmax_regression(rng: np.random.Generator) -> nn.Module:
    """The notebook's network: Linear(784, 10), N(0, 0.1²) weights; softmax is in the loss."""
    return nn.Sequential(nn.Linear(784, 10, init="notebook", rng=rng))


def mlp(rng: np.random.Generator) -> nn.Module:
    """784-512-256-10 with ReLU, Kaiming-initialised."""
    return nn.Sequential(
        nn.Linear(784, 512, init="kaiming", rng=rng),
        nn.ReLU(),
        nn.Linear(512, 256, init="kaiming", rng=rng),
        nn.ReLU(),
        nn.Linear(256, 10, init="xavier", rng=rng),
    )


def cnn(rng: np.random.Generator) -> nn.Module:
    """Two 3×3 convolutions with max-pooling, then two linear layers: 0.99 on MNIST.

    Each convolution is followed by MaxPool2d then ReLU: the same values and
    gradients as ReLU then MaxPool2d (max-pooling commutes with ReLU), with the
    ReLU on a quarter of the values. The convolutions are He-initialised
    (``init="kaiming"``), as this preset has always been, not PyTorch's default.
    """
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, init="kaiming", rng=rng),
        nn.MaxPool2d(2),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, init="kaiming", rng=rng),
        nn.MaxPool2d(2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(1600, 128, init="kaiming", rng=rng),
        nn.ReLU(),
        nn.Linear(128, 10, rng=rng),
    )


@dataclass(frozen=True)
class Preset:
    """A model and the settings it trains with unless the command line says otherwise."""

    build: Callable[[np.random.Generator], nn.Module]
    optimizer: str
    lr: float
    batch_size: int
    epochs: int
    cosine_schedule: bool = False  # anneal lr to 0 over the run (CosineAnnealingLR)
    images: bool = False  # N×1×28×28 batches instead of flat N×784 rows


PRESETS: dict[str, Preset] = {
    "softmax": Preset(softmax_regression, "sgd", 0.5, 100, 10),
    "mlp": Preset(mlp, "momentum", 0.05, 128, 10, cosine_schedule=True),
    "cnn": Preset(cnn, "adam", 1e-3, 128, 5, cosine_schedule=True, images=True),
}  # fmt: skip

OPTIMIZERS = ("sgd", "momentum", "adam")
