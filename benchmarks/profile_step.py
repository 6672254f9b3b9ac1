"""Where a training step's time goes: per layer, forward and backward, for one preset.

    python3 run.py bench benchmarks/profile_step.py cnn [--rounds 5] [--steps 20]

Times, in compgraph, each top-level layer's forward (its module call) and the
backward of the nodes it applied, the loss, the optimizer step and the batch
gather; and, in the same run, the whole PyTorch step on the same batches.
Rounds of ``--steps`` steps alternate between the two frameworks, with the same
pause before each as bench_training.py; each figure is the minimum over the
rounds of its per-step mean, the least disturbed measurement on a shared machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

import compgraph as cg
from compgraph import functional, graph
from compgraph.kernels.threads import default_num_threads

sys.path.insert(0, str(Path(__file__).resolve().parent))
import training_workloads as work
from bench_training import SETTLE_SECONDS

Timings = dict[str, float]


class LayerTimer:
    """Per-step seconds of each layer's forward and backward in one compgraph step."""

    def __init__(self, trainer: work.CompgraphTrainer) -> None:
        self.trainer = trainer
        self.owner: dict[int, str] = {}  # id(node) -> the layer that applied it
        self.seconds: Timings = defaultdict(float)
        self._call_backward = graph._call_backward
        graph._call_backward = self._timed_backward  # the engine's one call into each node

    def _timed_backward(self, node: Any, grad: Any, output: Any) -> Any:
        start = time.perf_counter()
        result = self._call_backward(node, grad, output)
        self.seconds[f"{self.owner.get(id(node), 'other')} backward"] += time.perf_counter() - start
        return result

    def _timed(self, key: str, function: Any, *args: Any) -> Any:
        start = time.perf_counter()
        result = function(*args)
        self.seconds[key] += time.perf_counter() - start
        return result

    def steps(self, batches: Iterator[tuple[np.ndarray, np.ndarray]], count: int) -> Timings:
        self.seconds.clear()
        start = time.perf_counter()
        for _ in range(count):
            x, y = self._timed("batch gather", next, batches)
            optimizer = self.trainer.optimizer
            optimizer.zero_grad()
            out = cg.Tensor(x)
            for index, layer in enumerate(self.trainer.model):
                name = f"{index} {type(layer).__name__}"
                out = self._timed(f"{name} forward", layer, out)
                if out._node is not None:
                    self.owner[id(out._node)] = name
            loss = self._timed("loss forward", functional.cross_entropy, out, y)
            self.owner[id(loss._node)] = "loss"
            self._timed("backward()", loss.backward)
            self._timed("optimizer step", optimizer.step)
            self.owner.clear()
        self.seconds["compgraph step"] = time.perf_counter() - start
        return {key: value / count for key, value in self.seconds.items()}


def endless(preset: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The preset's batches, epoch after epoch, however many rounds are asked for."""
    epoch = work.epoch_batches(preset)
    while True:
        yield from epoch


def torch_steps(trainer: work.TorchTrainer, batches: Iterator[Any], count: int) -> float:
    start = time.perf_counter()
    trainer.train(islice(batches, count))
    return (time.perf_counter() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset", choices=sorted(work.SETTINGS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=default_num_threads())
    args = parser.parse_args()
    work.set_up_process(args.threads)  # as compgraph train and bench_training.py do
    torch = work.import_torch()
    ours = work.CompgraphTrainer(args.preset)
    timer = LayerTimer(ours)
    theirs = work.TorchTrainer(args.preset, ours.model) if torch else None
    batches = {name: endless(args.preset) for name in ("compgraph", "torch")}
    timer.steps(batches["compgraph"], 3)  # warm-up: buffers allocated, optimizer state made
    if theirs:
        torch_steps(theirs, batches["torch"], 3)
    best: Timings = {}
    for _ in range(args.rounds):
        time.sleep(SETTLE_SECONDS)
        for key, seconds in timer.steps(batches["compgraph"], args.steps).items():
            best[key] = min(best.get(key, seconds), seconds)
        if theirs:
            time.sleep(SETTLE_SECONDS)
            seconds = torch_steps(theirs, batches["torch"], args.steps)
            best["PyTorch step"] = min(best.get("PyTorch step", seconds), seconds)
    layers = [key.removesuffix(" forward") for key in best if key.endswith(" forward")]
    print(f"{args.preset}: ms per step, minimum over {args.rounds} rounds of {args.steps} steps")
    print(f"{'layer':<16}{'forward':>9}{'backward':>10}")
    for layer in layers:
        forward, backward = best[f"{layer} forward"], best.get(f"{layer} backward", 0.0)
        print(f"{layer:<16}{forward * 1e3:>9.2f}{backward * 1e3:>10.2f}")
    for key in ("batch gather", "backward()", "optimizer step", "compgraph step", "PyTorch step"):
        if key in best:
            print(f"{key:<16}{best[key] * 1e3:>9.2f}")


if __name__ == "__main__":
    main()
