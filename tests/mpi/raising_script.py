"""Run on 2 ranks: rank 1 raises while rank 0 waits in a collective; the job must end."""

from __future__ import annotations

import numpy as np

from compgraph import distributed

world = distributed.init()
if world.rank == 1:
    raise ValueError("injected failure on rank 1")
world.allreduce_sum(np.ones(3))  # would wait for rank 1 forever without the abort
