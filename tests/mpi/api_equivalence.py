"""Run on 2 ranks: data-parallel training through the Python API equals one process.

In float64, two ranks each taking half of every global batch of 128 (through
``DataLoader(..., shard=True)``) and stepping with ``DistributedOptimizer(SGD with
momentum)`` must match one process with batch 128: the first step's gradients, and
the weights after 20 steps, the last of them a short, unevenly split batch. Rank 0
runs the one-process reference itself and writes the largest differences as JSON
to the path given, for the test to check.

Then the same through ``fit()``, with a model holding ``nn.SyncBatchNorm`` and an epoch
whose last batch has one example, so that one rank's share is empty: it must still
run both passes (SyncBatchNorm meets the other rank in them) and change nothing.
"""

from __future__ import annotations

import json
import sys

import numpy as np

import compgraph as cg
from compgraph import data, distributed, functional, nn, optim
from compgraph.train import fit

STEPS, BATCH = 20, 128
EXAMPLES = BATCH * (STEPS - 1) + 51  # the 20th batch has 51 examples: 25 and 26 per rank


def build(seed: int) -> nn.Module:
    rng = np.random.default_rng(seed)
    model = nn.Sequential(
        nn.Linear(20, 32, rng=rng), nn.ReLU(), nn.Linear(32, 16, rng=rng), nn.ReLU(),
        nn.Linear(16, 5, rng=rng),
    )  # fmt: skip
    for parameter in model.parameters():
        parameter.data = parameter.data.astype(np.float64)
    return model


def dataset() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.normal(size=(EXAMPLES, 20)).astype(np.float32), rng.integers(0, 5, EXAMPLES)


def train(model: nn.Module, optimizer: object, loader: data.DataLoader) -> list[np.ndarray]:
    """STEPS steps; returns the first step's gradients (after any reduction)."""
    first: list[np.ndarray] = []
    for step, (x, y) in enumerate(loader, start=1):
        optimizer.zero_grad()  # type: ignore[attr-defined]
        if len(y):  # the loader yields float32; the check runs in float64
            functional.cross_entropy(model(cg.Tensor(x.astype(np.float64))), y).backward()
        if isinstance(optimizer, distributed.DistributedOptimizer):
            optimizer.step(examples=len(y))  # this rank's share: uneven in the last batch
        else:
            optimizer.step()  # type: ignore[attr-defined]
        if step == 1:
            first = [p.grad.copy() for p in model.parameters()]
    assert step == STEPS, step
    return first


def main(out: str) -> None:
    world = distributed.init()
    x, y = dataset()
    # Different seeds per rank: the broadcast from rank 0 must make them equal.
    model = build(seed=world.rank)
    distributed.broadcast_parameters(model)
    optimizer = distributed.DistributedOptimizer(
        optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    )
    loader = data.DataLoader((x, y), BATCH, seed=3, shard=True)
    grads = train(model, optimizer, loader)
    empty_share = fit_difference()  # on every rank
    if not distributed.is_main():
        return
    reference = build(seed=0)
    single = data.DataLoader((x, y), BATCH, seed=3)
    reference_grads = train(reference, optim.SGD(reference.parameters(), lr=0.05, momentum=0.9),
                            single)  # fmt: skip
    result = {
        "ranks": world.size,
        "dtype": str(model.parameters()[0].data.dtype),
        "first_step_gradients": max(
            float(np.abs(a - b).max()) for a, b in zip(grads, reference_grads, strict=True)
        ),
        "weights_after_20_steps": max(
            float(np.abs(a.data - b.data).max())
            for a, b in zip(model.parameters(), reference.parameters(), strict=True)
        ),
        "weights_moved": max(
            float(np.abs(a.data - b.data).max())
            for a, b in zip(model.parameters(), build(seed=0).parameters(), strict=True)
        ),
    }
    result["fit_with_an_empty_share"] = empty_share
    with open(out, "w", encoding="utf-8") as file:
        json.dump(result, file)


def build_normalised(seed: int, sync: bool) -> nn.Module:
    rng = np.random.default_rng(seed)
    norm = nn.SyncBatchNorm(16, dtype=np.float64) if sync else nn.BatchNorm1d(16, dtype=np.float64)
    model = nn.Sequential(nn.Linear(20, 16, rng=rng), norm, nn.ReLU(), nn.Linear(16, 5, rng=rng))
    for parameter in model.parameters():
        parameter.data = parameter.data.astype(np.float64)
    return model


class Float64(data.DataLoader):
    def __iter__(self):  # type: ignore[no-untyped-def]
        for x, y in super().__iter__():
            yield x.astype(np.float64), y


def fit_difference() -> float:
    """Weights after one fit() epoch of 5 batches (the last of 1 example) on all ranks,
    against one process: the largest difference (rank 0; every rank runs this)."""
    x, y = dataset()
    x, y = x[: 4 * BATCH + 1], y[: 4 * BATCH + 1]
    model = build_normalised(0, sync=True)
    optimizer = distributed.DistributedOptimizer(optim.SGD(model.parameters(), lr=0.05))
    fit(model, functional.cross_entropy, optimizer, Float64((x, y), BATCH, seed=1, shard=True))
    if not distributed.is_main():
        return 0.0
    alone = build_normalised(0, sync=False)  # the whole batch's statistics in one process
    fit(alone, functional.cross_entropy, optim.SGD(alone.parameters(), lr=0.05),
        Float64((x, y), BATCH, seed=1))  # fmt: skip
    return max(
        float(np.abs(a.data - b.data).max())
        for a, b in zip(model.parameters(), alone.parameters(), strict=True)
    )


if __name__ == "__main__":
    main(sys.argv[1])
