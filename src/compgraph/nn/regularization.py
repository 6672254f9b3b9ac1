"""Identity, Flatten, Dropout and Dropout2d."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from compgraph import functional
from compgraph.nn.module import Module
from compgraph.nodes.dropout import Dropout2d as Dropout2dNode
from compgraph.random import generator as get_generator
from compgraph.tensor import Tensor


class Identity(Module):
    """y = x: a placeholder layer (to switch a layer off, or mark a place). Shape: any → same.

    As PyTorch's ``nn.Identity``, it takes any arguments and ignores them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def forward(self, x: Tensor) -> Tensor:
        return x

    def config(self) -> dict[str, Any]:
        return {}


class Flatten(Module):
    """y = x reshaped to (N, everything else): N×C×H×W becomes N×(C·H·W).

    Shape: (N, *) → (N, product of *).
    """

    def forward(self, x: Tensor) -> Tensor:
        # The size, not -1: a batch of no rows (a rank's empty share) has no -1 to infer.
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))

    def config(self) -> dict[str, Any]:
        return {}


class Dropout(Module):
    """Inverted dropout: in training, y = x · m with m = 0 (probability p) or 1/(1 − p).

    The expectation of y equals x, so evaluation needs no rescaling: in eval
    mode (``model.eval()``) the module returns x unchanged.

    Args:
        p: the probability of dropping each element, in [0, 1).
        rng: a ``numpy.random.Generator`` or a seed for the masks; None draws from the
            global generator (``compgraph.manual_seed``).

    Shape: any → same.
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | int | None = None) -> None:
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must lie in [0, 1), got {p}")
        self.p = p
        self.rng = get_generator(rng)  # rng=None: the global one (manual_seed)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        # The same mask as F.dropout, drawn from this module's generator.
        return functional.dropout(x, self.p, training=True, rng=self.rng)

    def config(self) -> dict[str, Any]:
        return {"p": self.p}

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout2d(Module):
    """Channel dropout: in training, y[n, c] = x[n, c] · m[n, c] with m[n, c] = 0
    (probability p) or 1/(1 − p): each channel of each sample is dropped or kept whole.

    As PyTorch's ``nn.Dropout2d``: neighbouring pixels of a feature map are strongly
    correlated, so dropping single pixels regularises little; dropping whole maps does.
    In eval mode (``model.eval()``) it returns x unchanged.

    Args:
        p: the probability of dropping each channel, in [0, 1).
        rng: a ``numpy.random.Generator`` or a seed for the masks; None draws from the
            global generator (``compgraph.manual_seed``).

    Shape: (N, C, H, W) → same.
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | int | None = None) -> None:
        if not 0 <= p < 1:
            raise ValueError(f"Dropout2d: p must lie in [0, 1), got {p}")
        self.p = p
        self.rng = get_generator(rng)  # rng=None: the global one (manual_seed)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4:
            raise ValueError(f"Dropout2d expects (N, C, H, W) input, got shape {x.shape}")
        if not self.training or self.p == 0:
            return x
        keep = self.rng.random(x.shape[:2], dtype=np.float32) >= self.p
        scaled_mask = keep.astype(x.dtype) * (1.0 / (1.0 - self.p))
        return Dropout2dNode(scaled_mask)(x)

    def config(self) -> dict[str, Any]:
        return {"p": self.p}

    def extra_repr(self) -> str:
        return f"p={self.p}"
