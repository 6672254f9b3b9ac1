"""One training step of PyTorch's MNIST example (pytorch/examples, mnist/main.py): its Net,
Adadelta and nll_loss in compgraph (examples/pytorch_mnist.py) and in PyTorch.

    python3 run.py bench benchmarks/bench_pytorch_mnist.py [--batches 100] [--chunk 10]

Both frameworks start from the same weights (PyTorch's Net's, loaded into compgraph's
with ``cg.load_torch_state_dict``) and train on the same batches: the first ``--batches`` of a
shuffled epoch of MNIST (cached) or of the synthetic set, normalised as the example
does, prepared before the clock starts, so each step's time is the model's alone:
zero_grad, forward, nll_loss, backward, Adadelta's step and the loss value. Both use
the same thread count (``--threads``, default: what ``compgraph train`` uses).

The two train in turns of ``--chunk`` steps, the order reversed at every turn, each turn
after an untimed 0.25 s pause (OpenBLAS's threads spin for about 0.1 s after a product):
this shared machine switches between fast and slow spells, and turns give both the same
spells (see benchmarks/README.md). The table shows each framework's median seconds per
step over the turns, and the median of the turns' compgraph/PyTorch ratios with its range.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as TF

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import pytorch_mnist as example

import compgraph as cg
import compgraph.functional as F
from compgraph import data
from compgraph.kernels.threads import default_num_threads

SETTLE_SECONDS = 0.25


class TorchNet(tnn.Module):
    """PyTorch's Net, as pytorch/examples mnist/main.py writes it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = tnn.Conv2d(1, 32, 3, 1)
        self.conv2 = tnn.Conv2d(32, 64, 3, 1)
        self.dropout1 = tnn.Dropout(0.25)
        self.dropout2 = tnn.Dropout(0.5)
        self.fc1 = tnn.Linear(9216, 128)
        self.fc2 = tnn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = TF.relu(x)
        x = self.conv2(x)
        x = TF.relu(x)
        x = TF.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = TF.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        return TF.log_softmax(x, dim=1)


class CompgraphTrainer:
    def __init__(self, model: example.Net) -> None:
        self.model = model.train()
        self.optimizer = cg.optim.Adadelta(model.parameters(), lr=1.0)

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        self.optimizer.zero_grad()
        loss = F.nll_loss(self.model(x), y)
        loss.backward()
        self.optimizer.step()
        return float(loss.item())


class TorchTrainer:
    def __init__(self, model: TorchNet) -> None:
        self.model = model.train()
        self.optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        data_, target = torch.from_numpy(x), torch.from_numpy(y)
        self.optimizer.zero_grad()
        loss = TF.nll_loss(self.model(data_), target)
        loss.backward()
        self.optimizer.step()
        return float(loss.item())


def batches(count: int, batch_size: int) -> tuple[str, list[tuple[np.ndarray, np.ndarray]]]:
    try:
        train_set: Any = data.MNIST(split="train", download=False)
        name = "MNIST"
    except data.DatasetUnavailableError:
        train_set, name = data.Synthetic("train", n=count * batch_size), "synthetic"
    loader = data.DataLoader(
        train_set, batch_size, seed=0, flatten=False, transform=data.Normalize(0.1307, 0.3081)
    )
    iterator = iter(loader)
    return name, [next(iterator) for _ in range(min(count, len(loader)))]


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or platform.machine()
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=100, help="steps each (default: 100)")
    parser.add_argument("--chunk", type=int, default=10, help="steps a turn (default: 10)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=default_num_threads())
    args = parser.parse_args()
    cg.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)

    dataset, prepared = batches(args.batches, args.batch_size)
    cg.manual_seed(1)
    torch.manual_seed(1)
    model, torch_model = example.Net(), TorchNet()
    cg.load_torch_state_dict(model, torch_model.state_dict())  # the same starting weights
    trainers: dict[str, CompgraphTrainer | TorchTrainer] = {
        "compgraph": CompgraphTrainer(model),
        "PyTorch": TorchTrainer(torch_model),
    }
    for trainer in trainers.values():  # compiled kernels, BLAS buffers, allocator: untimed
        for x, y in prepared[:2]:
            trainer.step(x, y)

    per_step: dict[str, list[float]] = {name: [] for name in trainers}
    order = list(trainers)
    for start in range(0, len(prepared), args.chunk):
        turn = prepared[start : start + args.chunk]
        for name in order:
            time.sleep(SETTLE_SECONDS)
            began = time.perf_counter()
            for x, y in turn:
                trainers[name].step(x, y)
            per_step[name].append((time.perf_counter() - began) / len(turn))
        order.reverse()

    ratios = [a / b for a, b in zip(per_step["compgraph"], per_step["PyTorch"], strict=True)]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{now}; {cpu_model()}, {os.cpu_count()} CPUs; {platform.platform()}")
    print(
        f"Python {platform.python_version()}, NumPy {np.__version__}, torch {torch.__version__}, "
        f"{args.threads} thread(s); {dataset}, {len(prepared)} batches of {args.batch_size}, "
        f"turns of {args.chunk}"
    )
    print("| framework | median s/step | min s/step |")
    print("|:--|--:|--:|")
    for name, seconds in per_step.items():
        print(f"| {name} | {statistics.median(seconds):.4f} | {min(seconds):.4f} |")
    print(
        f"compgraph / PyTorch: median {statistics.median(ratios):.2f} "
        f"(range {min(ratios):.2f}–{max(ratios):.2f} over {len(ratios)} turns)"
    )


if __name__ == "__main__":
    main()
