"""Run on 2 ranks: fit() refuses a DistributedOptimizer without a sharded loader, and a
sharded loader without a DistributedOptimizer; prints each refusal on rank 0."""

from __future__ import annotations

import numpy as np

from compgraph import data, distributed, functional, nn, optim
from compgraph.train import fit

distributed.init()
model = nn.Linear(4, 2)
x, y = np.zeros((8, 4), np.float32), np.zeros(8, np.int64)
cases = [
    (distributed.DistributedOptimizer(optim.SGD(model.parameters(), lr=0.1)), False),
    (optim.SGD(model.parameters(), lr=0.1), True),
]
for optimizer, shard in cases:
    try:
        fit(model, functional.cross_entropy, optimizer, data.DataLoader((x, y), 4, shard=shard))
    except ValueError as error:
        if distributed.is_main():
            print(error)
