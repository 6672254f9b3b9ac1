"""A small generated stand-in for MNIST: ten noisy 28×28 patterns, learnable in seconds.

For smoke tests, demos and teaching on a machine without the real data:
``compgraph train --dataset synthetic`` runs the whole pipeline in a few seconds.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


class Synthetic:
    """``n`` 28×28 uint8 images in ten classes: a fixed random pattern per class, plus noise.

    Args:
        split: "train" (``n`` = 2,000 by default) or "test" (500): different draws
            of the same ten patterns.
        n: the number of images.
        seed: the patterns depend only on this; the split picks the noise.
    """

    classes: tuple[str, ...] = tuple(str(digit) for digit in range(10))

    def __init__(self, split: str = "train", n: int | None = None, seed: int = 0) -> None:
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', not {split!r}")
        count = n if n is not None else (2000 if split == "train" else 500)
        patterns = np.random.default_rng(seed).random((10, 28, 28)) < 0.25
        noise_rng = np.random.default_rng([seed, 0 if split == "train" else 1])
        self.split = split
        self.labels: NDArray[np.uint8] = noise_rng.integers(0, 10, count).astype(np.uint8)
        flips = noise_rng.random((count, 28, 28)) < 0.15
        pixels = patterns[self.labels] ^ flips
        self.images: NDArray[np.uint8] = (pixels * 255).astype(np.uint8)

    def __len__(self) -> int:
        return len(self.labels)
