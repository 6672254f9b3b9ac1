"""Embedding: a lookup table of learned vectors, one row per index."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from compgraph.nn import init
from compgraph.nn.module import Module
from compgraph.nn.parameter import Parameter
from compgraph.random import generator as get_generator
from compgraph.tensor import Tensor


class Embedding(Module):
    """y[…, :] = W[i[…], :]: row i of the table W for each integer index i.

    The lookup is the GetItem node (``weight[indices]``), whose gradient scatters dL/dy
    back into the rows looked up, adding where an index repeats. As PyTorch's
    ``nn.Embedding``, including ``padding_idx``: that row starts at zero and receives
    no gradient, so training leaves it as it is (it is still looked up as it stands).

    Args:
        num_embeddings: the number of rows (indices run from 0 to num_embeddings − 1).
        embedding_dim: the length of each row.
        padding_idx: a row that gets no gradient (negative counts from the end), or None.
        dtype: dtype of W.
        rng: a ``numpy.random.Generator`` or a seed for the initialisation; None draws
            from the global generator (``compgraph.manual_seed``).

    Shape: indices of any shape (…) → (…, embedding_dim).

    Attributes:
        weight: W of shape (num_embeddings, embedding_dim), drawn from N(0, 1) as in
            PyTorch (the padding row set to zero); the same layout as PyTorch's, so its
            state_dict loads as it is.

    Example:
        >>> import numpy as np, compgraph as cg
        >>> table = cg.nn.Embedding(10, 3, rng=0)
        >>> table(np.array([[1, 2, 1]])).shape
        (1, 3, 3)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        dtype: DTypeLike = np.float32,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} is outside the table's "
                    f"{num_embeddings} rows"
                )
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        shape = self.state_shapes(num_embeddings, embedding_dim)["weight"]
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        self.reset_parameters(rng)

    @classmethod
    def state_shapes(  # type: ignore[override]
        cls, num_embeddings: int, embedding_dim: int, **_: Any
    ) -> dict[str, tuple[int, ...]]:
        return {"weight": (num_embeddings, embedding_dim)}

    def reset_parameters(self, rng: np.random.Generator | int | None = None) -> None:
        init.normal_(self.weight, get_generator(rng))  # rng=None: the global one
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, indices: Any) -> Tensor:
        index = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
        if index.dtype.kind not in "iu":
            raise TypeError(
                f"Embedding takes integer indices, got {index.dtype}: convert them first "
                "(indices.astype(np.int64))"
            )
        if index.size and (index.min() < 0 or index.max() >= self.num_embeddings):
            bad = index[(index < 0) | (index >= self.num_embeddings)].flat[0]
            raise IndexError(
                f"Embedding: index {bad} is outside the table's rows 0 to {self.num_embeddings - 1}"
            )
        rows = self.weight[index]
        if self.padding_idx is None:
            return rows
        # The padding row is looked up as it stands but gets no gradient: the rows that
        # train, plus the padding positions' values as a constant.
        padding = (index == self.padding_idx)[..., None]
        constant = np.where(padding, self.weight.data[self.padding_idx], 0).astype(rows.dtype)
        return rows * (~padding).astype(rows.dtype) + constant

    def config(self) -> dict[str, Any]:
        return {
            "num_embeddings": self.num_embeddings,
            "embedding_dim": self.embedding_dim,
            "padding_idx": self.padding_idx,
            "dtype": np.dtype(self.weight.dtype).name,
        }

    def extra_repr(self) -> str:
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"
