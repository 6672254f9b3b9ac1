"""SyncBatchNorm: batch normalisation whose batch is the examples of every rank."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from compgraph.nodes.normalization import BatchNorm

if TYPE_CHECKING:
    from compgraph.distributed.world import World

Array = NDArray[Any]


class SyncBatchNorm(BatchNorm):
    """y = γ · x̂ + β with x̂ = (x − μ) / √(σ² + ε), μ and σ² per feature (axis 1) over the
    examples of every rank: M = Σ_r m_r elements per feature, m_r of them on rank r.

    Forward: μ = Σ_r Σ x / M, then σ² = Σ_r Σ (x − μ)² / M (biased; two passes, so σ²
    keeps its precision when |μ| ≫ σ).

    Gradient: dL/dβ = Σ G_r,  dL/dγ = Σ G_r · x̂ (this rank's sums: the gradient
    reduction adds them up), dL/dx = γ / √(σ² + ε) · (G_r − A / m_r − x̂ · B / m_r) on
    rank r, whose ``grad_out`` G_r = dL_r/dy is the gradient of its own loss L_r, with
    A = Σ_r' (m_r'/M) Σ G_r' and B = Σ_r' (m_r'/M) Σ G_r' · x̂ over every rank.

    Why the weights m_r'/M: :func:`~compgraph.distributed.allreduce_gradients` with
    ``examples=n_r`` steps with Σ n_r g_r / N, the gradient of L = Σ_r (n_r/N) L_r, so
    each rank's gradients are (N/n_r) times its share of dL (and m_r/M = n_r/N). The
    formula is the standard batch-norm gradient of L over all M elements, in those
    units; it stays exact when the ranks hold different numbers of examples (7 and 9,
    or 0 and 16). With equal shares it is PyTorch's SyncBatchNorm backward (and right
    for ``examples=None``, which is exact only then), and in a world of one it is
    :class:`BatchNorm`'s, value for value.

    Messages: two ``allreduce_sum`` in forward (Σ x with m_r, then Σ (x − μ)²), one in
    backward (A and B in one buffer; none when x needs no gradient, as in PyTorch).
    Every rank must make every call, a rank with no examples (0 rows) too: it adds
    zeros. The sums travel as float64 whatever x's dtype. Saves x̂, 1/√(σ² + ε), γ, m_r
    and M (``count``); μ and σ² as ``batch_mean``, ``batch_var`` for the running estimates.

    Args:
        eps: ε, keeps the division finite.
        world: the ranks to reduce over; None for :func:`compgraph.distributed.world` at
            the time of the call.

    Inputs: x (N, C, …) with N ≥ 0 on each rank, γ (C,), β (C,). Output: x's shape.

    Raises:
        InputValueError: every rank's batch is empty (M = 0), on every rank alike.
    """

    def __init__(self, eps: float = 1e-5, world: World | None = None) -> None:
        super().__init__(eps)
        self.world = world

    def forward(self, x: Array, gamma: Array, beta: Array) -> Array:
        if x.dtype.kind != "f":  # as x.mean() does for integers: compute in float64
            x = x.astype(np.float64)
        if self.world is None:
            # Imported here: compgraph.distributed imports nn, which imports the nodes.
            from compgraph.distributed.world import world

            self.world = world()
        return super().forward(x, gamma, beta)

    def batch_statistics(self, x: Array) -> tuple[Array, Array]:
        assert self.world is not None  # set by forward
        channels = x.shape[1]
        shape = (1, -1) + (1,) * (x.ndim - 2)
        self.local_count = x.size // max(channels, 1)
        buffer = np.empty(channels + 1, np.float64)
        buffer[:channels] = x.sum(axis=self.axes)
        buffer[channels] = self.local_count
        self.world.allreduce_sum(buffer)
        self.count = int(buffer[channels])  # a float64 sum of integers: exact below 2⁵³
        if self.count == 0:
            raise self.value_error("every rank's batch is empty: no statistics to normalise with")
        # Back to x's dtype before dividing: in a world of one, exactly x.mean()'s numbers.
        mean = buffer[:channels].astype(x.dtype).reshape(shape) / self.count
        centred = x - mean
        squares = np.asarray((centred * centred).sum(axis=self.axes), np.float64)
        self.world.allreduce_sum(squares)
        variance = squares.astype(x.dtype).reshape(shape) / self.count
        self.batch_mean = mean.reshape(-1)
        self.batch_var = variance.reshape(-1)
        return centred, variance

    def gradient_means(self, grad_beta: Array, grad_gamma: Array) -> tuple[Array, Array]:
        assert self.world is not None
        channels = grad_beta.size
        share = self.local_count / self.count  # m_r / M: this rank's weight in the sums
        buffer = np.empty(2 * channels, np.float64)
        buffer[:channels] = grad_beta
        buffer[channels:] = grad_gamma
        buffer *= share
        self.world.allreduce_sum(buffer)
        shape = self.gamma.shape
        if self.local_count == 0:  # took part for the others; no x to take a gradient
            zeros = np.zeros(shape, grad_beta.dtype)
            return zeros, zeros
        sums = buffer.astype(grad_beta.dtype)
        return (
            sums[:channels].reshape(shape) / self.local_count,
            sums[channels:].reshape(shape) / self.local_count,
        )
