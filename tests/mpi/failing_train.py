"""``compgraph train ARGS`` in which one rank raises at a chosen step (for the fault tests).

Environment: ``FAIL_RANK`` (default 1) raises ValueError("injected failure") on its
``FAIL_AT``-th training step (default 30).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import compgraph.train.loop as loop
from compgraph import cli
from compgraph.distributed.world import launch_rank

original = loop.parallel_step
steps = 0


def failing_step(*args: Any, **kwargs: Any) -> Any:
    global steps
    steps += 1
    if launch_rank() == int(os.environ.get("FAIL_RANK", "1")) and steps == int(
        os.environ.get("FAIL_AT", "30")
    ):
        raise ValueError("injected failure")
    return original(*args, **kwargs)


loop.parallel_step = failing_step
sys.argv = ["compgraph", *sys.argv[1:]]
cli.run()
