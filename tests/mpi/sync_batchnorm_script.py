"""SyncBatchNorm on the ranks of ``mpiexec`` against BatchNorm in one process, in float64.

Usage: ``mpiexec -n 2 python sync_batchnorm_script.py RESULT.json``

For each split of a fixed batch of 16 between the ranks (8+8, 7+9, 0+16, 16+0 on two
ranks), every rank trains a copy of a small model with SyncBatchNorm layers (made by
``convert_sync_batchnorm``) on its own rows: loss the mean over its rows, backward,
``allreduce_gradients(model, examples=rows)``, an SGD step; twice, on two batches.
Every rank also runs the same model with BatchNorm on the whole batch in one process,
the reference. Rank 0 writes the largest differences (outputs, reduced gradients,
weights and running statistics, eval outputs, and how far the ranks' running statistics differ
from each other) and the number of messages per step as JSON, for the test to check.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray

import compgraph as cg
import compgraph.distributed as dist
from compgraph import nn

BATCH, LEARNING_RATE, STEPS = 16, 0.1, 2
SPLITS = ([8, 8], [7, 9], [0, 16], [16, 0])  # each rank's number of rows


class Model(nn.Module):
    """Conv2d → BatchNorm2d → ReLU → (N, 48) → Linear → BatchNorm1d → ReLU → Linear."""

    def __init__(self) -> None:
        self.conv = nn.Conv2d(2, 3, 3, dtype=np.float64, rng=1)
        self.norm2d = nn.BatchNorm2d(3, momentum=0.3, dtype=np.float64)
        self.hidden = nn.Linear(48, 5, dtype=np.float64, rng=2)
        self.norm1d = nn.BatchNorm1d(5, momentum=0.3, dtype=np.float64)
        self.out = nn.Linear(5, 2, dtype=np.float64, rng=3)

    def forward(self, x: cg.Tensor) -> cg.Tensor:
        h = self.norm2d(self.conv(x)).relu()
        h = h.reshape(h.shape[0], 48)  # nn.Flatten's reshape(N, -1) cannot take N = 0
        return self.out(self.norm1d(self.hidden(h)).relu())


def loss_of(model: nn.Module, x: NDArray[Any], target: NDArray[Any]) -> tuple[cg.Tensor, Any]:
    """The mean over the rows of the squared error, and the output."""
    output = model(cg.tensor(x))
    loss = ((output - target) ** 2).sum() * (1.0 / max(len(x), 1))
    return loss, output


def largest(ours: dict[str, NDArray[Any]], theirs: dict[str, NDArray[Any]]) -> float:
    return max(float(np.max(np.abs(ours[name] - theirs[name]), initial=0.0)) for name in ours)


def gather_rows(rows: NDArray[Any], start: int, world: Any) -> NDArray[Any]:
    """The whole batch's rows on every rank, each rank's at its own place."""
    buffer = np.zeros((BATCH, rows.shape[1]))
    buffer[start : start + len(rows)] = rows
    return world.allreduce_sum(buffer)


def spread(value: float, world: Any) -> float:
    """The largest of ``value`` over the ranks."""
    slots = np.zeros(world.size)
    slots[world.rank] = value
    return float(world.allreduce_sum(slots).max())


def run_split(counts: list[int], world: Any, messages: list[int]) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    batches = [
        (rng.standard_normal((BATCH, 2, 6, 6)) * 2 + 1, rng.standard_normal((BATCH, 2)))
        for _ in range(STEPS)
    ]
    reference = Model()
    synced = nn.SyncBatchNorm.convert_sync_batchnorm(Model())
    assert isinstance(synced.norm2d, nn.SyncBatchNorm)
    assert isinstance(synced.norm1d, nn.SyncBatchNorm)
    start = sum(counts[: world.rank])
    rows = slice(start, start + counts[world.rank])
    result: dict[str, Any] = {"outputs": 0.0, "gradients": 0.0, "state": 0.0}
    result["messages_per_step"] = []
    for x, target in batches:
        loss, output = loss_of(reference, x, target)
        loss.backward()
        expected_grads = {name: p.grad for name, p in reference.named_parameters()}

        before = messages[0]
        loss, output_part = loss_of(synced, x[rows], target[rows])
        loss.backward()
        dist.allreduce_gradients(synced, examples=counts[world.rank])
        result["messages_per_step"].append(messages[0] - before)
        grads = {name: p.grad for name, p in synced.named_parameters()}

        outputs = gather_rows(output_part.data, start, world)
        result["outputs"] = max(result["outputs"], float(np.abs(outputs - output.data).max()))
        result["gradients"] = max(result["gradients"], largest(grads, expected_grads))
        state = largest(synced.state_dict(), reference.state_dict())  # running statistics too
        result["state"] = max(result["state"], state)
        for model in (reference, synced):
            for parameter in model.parameters():
                parameter.data -= LEARNING_RATE * parameter.grad
                parameter.grad = None

    reference.eval()
    synced.eval()
    before = messages[0]
    expected = reference(cg.tensor(batches[0][0])).data
    outputs = gather_rows(synced(cg.tensor(batches[0][0][rows])).data, start, world)
    result["eval_outputs"] = float(np.abs(outputs - expected).max())
    result["eval_messages"] = messages[0] - before - 1  # less gather_rows' own
    # Every rank must hold the same running statistics (and weights) as rank 0.
    flat = np.concatenate([array.ravel() for array in synced.state_dict().values()])
    first = world.allreduce_sum(flat * (world.rank == 0))
    result["ranks_differ"] = spread(float(np.abs(flat - first).max()), world)
    for name in ("outputs", "gradients", "state", "eval_outputs"):
        result[name] = spread(result[name], world)
    return result


def main() -> None:
    world = dist.init()
    messages = [0]
    allreduce_sum = world.allreduce_sum

    def counting(buffer: NDArray[Any]) -> NDArray[Any]:
        messages[0] += 1
        return allreduce_sum(buffer)

    world.allreduce_sum = counting
    if world.size != 2:
        raise SystemExit(f"run on 2 ranks (mpiexec -n 2), not {world.size}")
    results = {"+".join(map(str, counts)): run_split(counts, world, messages) for counts in SPLITS}
    if world.rank == 0:
        with open(sys.argv[1], "w", encoding="utf-8") as file:
            json.dump({"ranks": world.size, "splits": results}, file, indent=1)


if __name__ == "__main__":
    main()
