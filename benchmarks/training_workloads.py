"""The presets as benchmark workloads: the same model, weights and batches in both frameworks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

import compgraph as cg
from compgraph import data, functional, optim
from compgraph.train.loop import train_step
from compgraph.train.presets import PRESETS

#: The optimizer each preset is benchmarked with (the issue's settings).
SETTINGS = {
    "softmax": {"batch_size": 100, "optimizer": "sgd", "lr": 0.5},
    "mlp": {"batch_size": 128, "optimizer": "momentum", "lr": 0.05},
    "cnn": {"batch_size": 128, "optimizer": "adam", "lr": 1e-3},
}


def import_torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch


def set_up_process(threads: int, with_torch: bool = True) -> None:
    """What ``compgraph train`` does before training, and the same thread count for PyTorch.

    ``with_torch=False`` leaves PyTorch unimported (it takes ~200 MB of memory).
    """
    cg.set_num_threads(threads)
    cg.reuse_freed_memory()
    torch = import_torch() if with_torch else None
    if torch is not None:
        torch.set_num_threads(threads)


class Batches:
    """One epoch of MNIST training batches (synthetic if MNIST is not cached), same every time."""

    def __init__(self, preset: str) -> None:
        try:
            dataset: Any = data.MNIST(split="train", download=False, announce=lambda _: None)
        except Exception:  # not cached: a stand-in of the same size keeps the timing meaningful
            dataset = data.Synthetic("train", n=60_000)
        self.loader = data.DataLoader(
            dataset, SETTINGS[preset]["batch_size"], flatten=not PRESETS[preset].images
        )

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        self.loader.generator = np.random.default_rng(0)
        return iter(self.loader)


def epoch_batches(preset: str) -> Batches:
    return Batches(preset)


def training_flops(preset: str) -> float:
    """Multiply-add FLOPs of one training example: forward, dW, and dX except the first layer."""
    model = PRESETS[preset].build(np.random.default_rng(0))
    flops, shape, first = 0.0, (1, 28, 28), True
    for layer in model:
        forward = 0.0
        if isinstance(layer, cg.nn.Linear):
            forward = 2 * layer.in_features * layer.out_features
            shape = (layer.out_features,)
        elif isinstance(layer, cg.nn.Conv2d):
            side = (shape[1] - layer.kernel_size) // layer.stride + 1
            shape = (layer.out_channels, side, side)
            forward = 2 * layer.in_channels * layer.kernel_size**2 * layer.out_channels * side**2
        elif isinstance(layer, cg.nn.MaxPool2d):
            shape = (shape[0], shape[1] // layer.kernel_size, shape[2] // layer.kernel_size)
        if forward:
            flops += forward * (2 if first else 3)
            first = False
    return flops


def make_optimizer(preset: str, parameters: list[Any], library: Any) -> Any:
    settings = SETTINGS[preset]
    if settings["optimizer"] == "adam":
        return library.Adam(parameters, lr=settings["lr"])
    momentum = 0.9 if settings["optimizer"] == "momentum" else 0.0
    return library.SGD(parameters, lr=settings["lr"], momentum=momentum)


class CompgraphTrainer:
    """compgraph's training step, as fit() runs it (train_step: loss value and accuracy too)."""

    def __init__(self, preset: str) -> None:
        self.model = PRESETS[preset].build(np.random.default_rng(0))
        self.optimizer = make_optimizer(preset, self.model.parameters(), optim)

    def train(self, batches: Iterable[tuple[np.ndarray, np.ndarray]]) -> int:
        """One step per batch; returns the number of steps."""
        steps = 0
        for x, y in batches:
            train_step(self.model, functional.cross_entropy, self.optimizer, x, y)
            steps += 1
        return steps


class TorchTrainer:
    """The same network in PyTorch, starting from the compgraph model's weights."""

    def __init__(self, preset: str, source: cg.nn.Module) -> None:
        import torch

        layers = []
        for layer in source:
            if isinstance(layer, cg.nn.Linear):
                linear = torch.nn.Linear(layer.in_features, layer.out_features)
                with torch.no_grad():
                    linear.weight.copy_(torch.from_numpy(layer.weight.data.T.copy()))
                    linear.bias.copy_(torch.from_numpy(layer.bias.data))
                layers.append(linear)
            elif isinstance(layer, cg.nn.Conv2d):
                conv = torch.nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size)
                with torch.no_grad():
                    conv.weight.copy_(torch.from_numpy(layer.weight.data))
                    conv.bias.copy_(torch.from_numpy(layer.bias.data))
                layers.append(conv)
            elif isinstance(layer, cg.nn.MaxPool2d):
                layers.append(torch.nn.MaxPool2d(layer.kernel_size))
            elif isinstance(layer, cg.nn.ReLU):
                layers.append(torch.nn.ReLU())
            elif isinstance(layer, cg.nn.Flatten):
                layers.append(torch.nn.Flatten())
        self.torch = torch
        self.model = torch.nn.Sequential(*layers)
        self.optimizer = make_optimizer(preset, list(self.model.parameters()), torch.optim)

    def train(self, batches: Iterable[tuple[np.ndarray, np.ndarray]]) -> int:
        """One step per batch, with fit()'s bookkeeping (loss value, correct count)."""
        torch, steps = self.torch, 0
        for x, y in batches:
            labels = torch.from_numpy(y)
            self.optimizer.zero_grad()
            logits = self.model(torch.from_numpy(x))
            loss = torch.nn.functional.cross_entropy(logits, labels)
            loss.backward()
            self.optimizer.step()
            loss.item(), int((logits.argmax(dim=-1) == labels).sum())
            steps += 1
        return steps


class NumpyTrainer:
    """The same MLP or softmax regression as a hand-written NumPy loop: no graph, no numba.

    What a NumPy engine cannot beat: the products, a fused softmax cross-entropy,
    the update as in-place NumPy operations, and fit()'s bookkeeping.
    """

    def __init__(self, preset: str, source: cg.nn.Module) -> None:
        linears = [layer for layer in source if isinstance(layer, cg.nn.Linear)]
        if len(linears) != sum(1 for _ in source if not isinstance(_, cg.nn.ReLU)):
            raise ValueError(f"the hand-written loop covers Linear and ReLU layers, not {preset}")
        self.weights = [(layer.weight.data.copy(), layer.bias.data.copy()) for layer in linears]
        settings = SETTINGS[preset]
        self.lr = settings["lr"]
        self.momentum = 0.9 if settings["optimizer"] == "momentum" else 0.0
        self.velocity = [(np.zeros_like(w), np.zeros_like(b)) for w, b in self.weights]

    def train(self, batches: Iterable[tuple[np.ndarray, np.ndarray]]) -> int:
        steps = 0
        for x, y in batches:
            self.step(x, y)
            steps += 1
        return steps

    def step(self, x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
        activations = [x]
        for index, (weight, bias) in enumerate(self.weights):
            h = activations[-1] @ weight
            h += bias
            if index < len(self.weights) - 1:
                np.maximum(h, 0, out=h)
            activations.append(h)
        logits, rows = activations.pop(), np.arange(len(y))
        correct = int((logits.argmax(axis=1) == y).sum())
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits, out=logits)
        probs /= probs.sum(axis=1, keepdims=True)
        loss = float(-np.log(probs[rows, y]).mean())
        probs[rows, y] -= 1
        grad = probs
        grad *= 1 / len(y)  # dL/dlogits of the mean loss
        for index in reversed(range(len(self.weights))):
            weight, bias = self.weights[index]
            grad_w, grad_b = activations[index].T @ grad, grad.sum(axis=0)
            if index:
                grad = grad @ weight.T
                grad *= activations[index] > 0
            for param, param_grad, velocity in zip(
                (weight, bias), (grad_w, grad_b), self.velocity[index], strict=True
            ):
                if self.momentum:
                    velocity *= self.momentum
                    velocity += param_grad
                    param_grad = velocity
                param -= self.lr * param_grad
        return loss, correct
