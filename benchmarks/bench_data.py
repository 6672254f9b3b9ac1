"""Time loading MNIST from the cache and one epoch of mini-batches.

Run as ``python benchmarks/bench_data.py``. It uses MNIST where ``compgraph.data`` finds it
(``$COMPGRAPH_DATA``, else ``~/.cache/compgraph``) and downloads nothing: without a
cached copy it says so and stops.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from compgraph.data import MNIST, DataLoader, DatasetUnavailableError, default_root, read_idx


def best_of(repeats: int, task: Callable[[], Any]) -> tuple[float, float]:
    """Best and median wall time of ``repeats`` runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        task()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> int:
    try:
        MNIST(split="test", download=False, announce=lambda _: None)
    except DatasetUnavailableError:
        print(f"skipped: MNIST is not cached under {default_root()}; fetch it first with")
        print("  python -c \"from compgraph.data import download; download('mnist')\"")
        return 0

    def load_both() -> tuple[MNIST, MNIST]:
        return MNIST(split="train", download=False), MNIST(split="test", download=False)

    train, test = load_both()
    folder = default_root() / "mnist"
    files = sorted(folder.glob("*-idx?-ubyte*"))
    rows = [
        ("load MNIST: 4 files, verified", *best_of(5, load_both)),
        ("  the same 4 files, read_idx alone", *best_of(5, lambda: [read_idx(p) for p in files])),
        ("DataLoader setup (a copy of the bytes)", *best_of(5, lambda: DataLoader(train, 100))),
    ]
    loader = DataLoader(train, batch_size=100, seed=0)
    rows.append(
        ("one epoch, batch 100, shuffled (600)", *best_of(5, lambda: sum(1 for _ in loader)))
    )
    unshuffled = DataLoader(train, batch_size=100, shuffle=False)
    rows.append(("one epoch, batch 100, in order", *best_of(5, lambda: sum(1 for _ in unshuffled))))

    print(f"MNIST from {folder} ({', '.join(p.name for p in files)})")
    print(f"train {train.images.shape}, test {test.images.shape}")
    print(f"{'task':40} {'best':>9} {'median':>9}")
    for name, best, median in rows:
        print(f"{name:40} {best * 1000:7.1f}ms {median * 1000:7.1f}ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
