"""nn.Linear: the original notebook's Linear layer as a module with its own parameters."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from compgraph.functional import check_dtype
from compgraph.nn import init
from compgraph.nn.init import current_name
from compgraph.nn.module import Module
from compgraph.nn.parameter import Parameter
from compgraph.nodes.linalg import Linear as LinearNode
from compgraph.random import generator as get_generator
from compgraph.tensor import Tensor


class Linear(Module):
    """y = x·W + b: a fully connected layer.

    Args:
        in_features: size of each input row.
        out_features: size of each output row.
        bias: whether to add the learnable bias b.
        init: how to draw the first values: ``"default"`` U(−k, k) with k = 1/√in for
            W and b (PyTorch's default, ``init.pytorch_default_``); ``"notebook"``
            N(0, 0.1²) for W and b, as the original notebook does (``"seed"``, its old
            name, is deprecated); ``"kaiming"`` (for ReLU) or ``"xavier"`` (for
            tanh/sigmoid) for W, with b = 0.
        dtype: dtype of the parameters (float32 for training; gradcheck casts to float64).
            Float64 data into a float32 layer raises a TypeError saying how to convert it
            (NumPy would quietly compute in float64); see ``functional.check_dtype``.
        rng: a ``numpy.random.Generator`` or a seed for the initialisation; None draws
            from the global generator (``compgraph.manual_seed``).

    Shape:
        input (..., in_features) → output (..., out_features).

    Attributes:
        weight: W of shape (in_features, out_features) — the original notebook's layout,
            so that y = x·W reads as written. PyTorch stores the transpose, (out, in):
            ``compgraph.load_torch_state_dict`` transposes a PyTorch Linear's weight, and
            ``functional.linear`` takes PyTorch's (out, in) layout.
        bias: b of shape (out_features,).
        Both initialised by ``reset_parameters`` as ``init`` says.

    Example:
        >>> import numpy as np, compgraph as cg
        >>> layer = cg.nn.Linear(6, 4, rng=0)
        >>> layer(cg.tensor(np.ones((5, 6), np.float32))).shape
        (5, 4)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str = "default",
        dtype: DTypeLike = np.float32,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        init = current_name(init, "Linear")
        if init not in INITIALISATIONS:
            raise ValueError(f"Linear: unknown init {init!r}; choose from {INITIALISATIONS}")
        self.in_features, self.out_features = in_features, out_features
        self.init = init
        shapes = self.state_shapes(in_features, out_features, bias)
        self.weight = Parameter(np.empty(shapes["weight"], dtype=dtype))
        self.bias = Parameter(np.empty(shapes["bias"], dtype=dtype)) if bias else None
        self.reset_parameters(rng)

    @classmethod
    def state_shapes(  # type: ignore[override]
        cls, in_features: int, out_features: int, bias: bool = True, **_: Any
    ) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {"weight": (in_features, out_features)}
        return {**shapes, "bias": (out_features,)} if bias else shapes

    def reset_parameters(self, rng: np.random.Generator | int | None = None) -> None:
        generator = get_generator(rng)  # rng=None: the global one (manual_seed)
        if self.init == "default":
            init.pytorch_default_(self.weight, generator, self.in_features)
            if self.bias is not None:
                init.pytorch_default_(self.bias, generator, self.in_features)
            return
        if self.init == "notebook":
            init.normal_(self.weight, generator, std=0.1)
            if self.bias is not None:
                init.normal_(self.bias, generator, std=0.1)
            return
        if self.init == "kaiming":
            init.kaiming_uniform_(self.weight, generator)
        else:
            init.xavier_uniform_(self.weight, generator)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        node = _LINEAR
        y = node(x, self.weight) if self.bias is None else node(x, self.weight, self.bias)
        # After the node, so that a shape error (the more basic mistake) is reported first;
        # NumPy promotes float32 weights and float64 data to float64: refuse that here.
        if y.dtype != self.weight.dtype:
            check_dtype(type(self).__name__, x, self.weight)
        return y

    def config(self) -> dict[str, Any]:
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.bias is not None,
            "init": self.init,
            "dtype": np.dtype(self.weight.dtype).name,
        }

    def extra_repr(self) -> str:
        has_bias = self.bias is not None
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={has_bias}"


INITIALISATIONS = ("default", "notebook", "kaiming", "xavier")
_LINEAR = LinearNode()  # stateless template: each call works on its own copy
