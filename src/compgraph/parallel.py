"""Split memory-bound NumPy work over the batch axis across threads.

NumPy releases the GIL inside its loops, so the chunks of one batch run on
separate cores. Matrix products are left alone: BLAS is already multi-threaded.
Set ``COMPGRAPH_NUM_THREADS`` to change the number of threads (1 turns this off).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

_executor: ThreadPoolExecutor | None = None


def thread_count() -> int:
    configured = os.environ.get("COMPGRAPH_NUM_THREADS")
    return max(1, int(configured)) if configured else (os.cpu_count() or 1)


def over_batch(work: Callable[[slice], object], size: int, min_chunk: int = 8) -> None:
    """Call ``work(rows)`` for contiguous slices ``rows`` that together cover ``range(size)``."""
    global _executor
    chunks = min(thread_count(), max(1, size // min_chunk))
    if chunks == 1:
        work(slice(0, size))
        return
    if _executor is None:
        _executor = ThreadPoolExecutor(thread_count(), thread_name_prefix="compgraph")
    bounds = [size * i // chunks for i in range(chunks + 1)]
    for future in [_executor.submit(work, slice(bounds[i], bounds[i + 1])) for i in range(chunks)]:
        future.result()  # re-raises a worker's exception here
