"""Per-node overhead: forward + backward of tiny graphs, where bookkeeping is all the cost.

Run: ``python3 run.py bench benchmarks/bench_node_overhead.py``. Prints microseconds
per node for compgraph and, when installed, PyTorch on the same graphs, and their
ratio. Times are the best of several repeats; compare ratios, not absolute numbers,
on a shared machine.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from typing import Any

import numpy as np

import compgraph as cg

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # the comparison column is simply left out
    torch = None

CHAIN = 50  # nodes per graph, so the per-call cost of backward() is spread out


def chain(op: str, leaf: Callable[[np.ndarray], Any]) -> Callable[[], None]:
    """forward + backward of CHAIN nodes of ``op``; ``leaf`` makes a framework's tensor."""
    x = leaf(np.random.default_rng(0).standard_normal((2, 2)))
    w = leaf(np.full((2, 2), 0.5))

    def run() -> None:
        y = x
        for _ in range(CHAIN - 1):
            y = _apply(op, y, w)
        y.sum().backward()

    return run


def compgraph_leaf(array: np.ndarray) -> Any:
    return cg.tensor(array, requires_grad=True)


def torch_leaf(array: np.ndarray) -> Any:
    return torch.tensor(array, requires_grad=True)


def _apply(op: str, y, w):
    if op == "mul":
        return y * w
    if op == "add":
        return y + w
    if op == "tanh":
        return y.tanh()
    return y @ w


def best_microseconds_per_node(run: Callable[[], None], repeat: int = 7, number: int = 40) -> float:
    run()  # warm up
    best = min(timeit.repeat(run, repeat=repeat, number=number))
    return best / number / CHAIN * 1e6


def main() -> None:
    print(f"compgraph {cg.__version__}, NumPy {np.__version__}", end="")
    print(f", PyTorch {torch.__version__}" if torch else " (PyTorch not installed)")
    print(f"forward+backward of a {CHAIN}-node chain on 2x2 float64 arrays, microseconds per node")
    header = f"{'op':<8}{'compgraph':>12}"
    print(header + (f"{'PyTorch':>12}{'ratio':>8}" if torch else ""))
    for op in ("add", "mul", "tanh", "matmul"):
        ours = best_microseconds_per_node(chain(op, compgraph_leaf))
        line = f"{op:<8}{ours:>12.2f}"
        if torch:
            theirs = best_microseconds_per_node(chain(op, torch_leaf))
            line += f"{theirs:>12.2f}{ours / theirs:>8.2f}"
        print(line)


if __name__ == "__main__":
    main()
