"""BatchNorm1d and BatchNorm2d: batch statistics in training, running statistics in eval.

SyncBatchNorm: the same, with the batch statistics over the examples of every rank of a
data-parallel run (see :mod:`compgraph.distributed`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from compgraph.functional import check_dtype
from compgraph.nn.container import ModuleDict, ModuleList
from compgraph.nn.module import Module
from compgraph.nn.parameter import Parameter
from compgraph.node import apply
from compgraph.nodes.normalization import BatchNorm
from compgraph.nodes.sync_batchnorm import SyncBatchNorm as SyncBatchNormNode
from compgraph.tensor import Tensor


class BatchNorm2d(Module):
    """y = γ · (x − μ) / √(σ² + ε) + β per channel.

    In training, μ and σ² are the batch's (over N, H, W), and the running
    estimates move towards them: r ← (1 − momentum)·r + momentum·batch (the
    running variance uses the unbiased batch variance, as in PyTorch). In eval,
    the running estimates are used. Both running arrays are in ``state_dict``.

    Args:
        num_features: C.
        eps: ε.
        momentum: weight of the newest batch in the running estimates.
        dtype: dtype of γ, β and the running estimates (float64 data into float32 ones
            raises a TypeError, see ``functional.check_dtype``).

    Shape: (N, C, H, W) → same (BatchNorm1d: (N, C) → same).

    Attributes:
        weight: γ, ones. bias: β, zeros. running_mean: zeros. running_var: ones.
    """

    expected_ndim = 4
    # None in a SyncBatchNorm without affine, or without running statistics.
    weight: Parameter | None
    bias: Parameter | None
    running_mean: NDArray[Any] | None
    running_var: NDArray[Any] | None

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        dtype: DTypeLike = np.float32,
    ) -> None:
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self._dtype = np.dtype(dtype)
        shape = self.state_shapes(num_features)["weight"]
        self.weight = Parameter(np.ones(shape, dtype=dtype))
        self.bias = Parameter(np.zeros(shape, dtype=dtype))
        self.register_buffer("running_mean", np.zeros(shape, dtype=dtype))
        self.register_buffer("running_var", np.ones(shape, dtype=dtype))

    @classmethod
    def state_shapes(  # type: ignore[override]
        cls, num_features: int, **_: Any
    ) -> dict[str, tuple[int, ...]]:
        names = ("weight", "bias", "running_mean", "running_var")
        return dict.fromkeys(names, (num_features,))

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != self.expected_ndim:
            raise ValueError(
                f"{type(self).__name__} expects {self.expected_ndim}-D input, got shape {x.shape}"
            )
        return self.normalise(x, BatchNorm(self.eps))

    def normalise(self, x: Tensor, node: BatchNorm) -> Tensor:
        """y in training by ``node`` (a node made for this call, with the batch's
        statistics), moving the running estimates; in eval, by the running estimates."""
        weight: Tensor | NDArray[Any]
        bias: Tensor | NDArray[Any]
        if self.weight is not None and self.bias is not None:
            weight, bias = self.weight, self.bias
        else:  # without affine: γ = 1 and β = 0 as constants, so the node stays one formula
            weight = np.ones(self.num_features, self._dtype)
            bias = np.zeros(self.num_features, self._dtype)
        if getattr(x, "dtype", None) != weight.dtype:
            check_dtype(type(self).__name__, x, weight)
        if not self.training:
            return BatchNorm(self.eps, self.running_mean, self.running_var)(x, weight, bias)
        y = apply(node, (x, weight, bias), fresh=True)  # node itself keeps the stats
        if self.running_mean is not None and self.running_var is not None:
            unbiased = node.batch_var * (node.count / max(node.count - 1, 1))
            self.running_mean *= 1 - self.momentum
            self.running_mean += self.momentum * node.batch_mean
            self.running_var *= 1 - self.momentum
            self.running_var += self.momentum * unbiased
        return y

    def config(self) -> dict[str, Any]:
        return {
            "num_features": self.num_features,
            "eps": self.eps,
            "momentum": self.momentum,
            "dtype": self._dtype.name,
        }

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(BatchNorm2d):
    """BatchNorm2d's computation for (N, C) inputs: statistics over the batch axis."""

    expected_ndim = 2


class SyncBatchNorm(BatchNorm2d):
    """y = γ · (x − μ) / √(σ² + ε) + β per channel, μ and σ² over the examples of every rank.

    PyTorch's ``nn.SyncBatchNorm``. In a data-parallel run (:mod:`compgraph.distributed`)
    a BatchNorm normalises each rank's share of the batch with that share's own
    statistics; this one sums them over the ranks, so training on N ranks normalises
    as one process would on the whole batch: two messages per layer in forward, one in
    backward (:class:`compgraph.nodes.SyncBatchNorm`). Every rank must call it (and
    backward) at every step, a rank whose share is empty too. The running estimates
    follow the global statistics (unbiased variance over all ranks' elements, as
    PyTorch), so they stay identical on every rank. In eval the running estimates are
    used and nothing is sent; a world of one gives exactly BatchNorm1d/2d's numbers.

    The state_dict names are BatchNorm2d's (``weight``, ``bias``, ``running_mean``,
    ``running_var``), so checkpoints load either way;
    :meth:`convert_sync_batchnorm` turns a model's BatchNorm layers into these.

    Args:
        num_features: C.
        eps: ε.
        momentum: weight of the newest batch in the running estimates.
        affine: whether to learn γ and β (else γ = 1, β = 0).
        track_running_stats: whether to keep running estimates; without them eval
            normalises with each rank's own batch statistics, as PyTorch.
        dtype: dtype of γ, β and the running estimates.

    Shape: (N, C, …) → same, N ≥ 0 on each rank ((N, C) and (N, C, H, W) alike).

    Attributes:
        weight: γ, ones (None without affine). bias: β, zeros (None without affine).
        running_mean: zeros. running_var: ones (both None without track_running_stats).

    Example:
        >>> import compgraph as cg
        >>> model = cg.nn.Sequential(cg.nn.Conv2d(1, 4, 3), cg.nn.BatchNorm2d(4))
        >>> model = cg.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        >>> model[1]
        SyncBatchNorm(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: DTypeLike = np.float32,
    ) -> None:
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self._dtype = np.dtype(dtype)
        shapes = self.state_shapes(num_features, affine, track_running_stats)
        self.weight = self.bias = None
        if affine:
            self.weight = Parameter(np.ones(shapes["weight"], dtype=dtype))
            self.bias = Parameter(np.zeros(shapes["bias"], dtype=dtype))
        self.running_mean = self.running_var = None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(shapes["running_mean"], dtype=dtype))
            self.register_buffer("running_var", np.ones(shapes["running_var"], dtype=dtype))

    @classmethod
    def state_shapes(  # type: ignore[override]
        cls, num_features: int, affine: bool = True, track_running_stats: bool = True, **_: Any
    ) -> dict[str, tuple[int, ...]]:
        names = ("weight", "bias") * affine + ("running_mean", "running_var") * track_running_stats
        return dict.fromkeys(names, (num_features,))

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 2:
            raise ValueError(
                f"SyncBatchNorm expects input of at least 2 dimensions (N, C, …), got shape "
                f"{x.shape}"
            )
        return self.normalise(x, SyncBatchNormNode(self.eps))

    @classmethod
    def convert_sync_batchnorm(cls, module: Module) -> Module:
        """``module`` with every BatchNorm1d/2d in it replaced by a SyncBatchNorm.

        As PyTorch's: each SyncBatchNorm takes over its BatchNorm's parameters and
        running estimates (the same objects, so an optimizer built on the model's
        parameters before still steps them), its eps, momentum and training mode.
        Containers are changed in place; a BatchNorm passed itself comes back
        converted. A BatchNorm used twice becomes one SyncBatchNorm used twice.
        """
        converted: dict[int, SyncBatchNorm] = {}

        def convert(norm: Module) -> Module:
            if not isinstance(norm, BatchNorm2d) or isinstance(norm, SyncBatchNorm):
                return norm
            if id(norm) not in converted:
                sync = cls(norm.num_features, norm.eps, norm.momentum, dtype=norm._dtype)
                sync.weight, sync.bias = norm.weight, norm.bias
                sync.running_mean, sync.running_var = norm.running_mean, norm.running_var
                sync.training = norm.training
                converted[id(norm)] = sync
            return converted[id(norm)]

        for parent in list(module.modules()):
            for name, child in list(parent.named_children()):
                replacement = convert(child)
                if replacement is child:
                    continue
                if isinstance(parent, ModuleList):  # containers keep their own index
                    parent[int(name)] = replacement
                elif isinstance(parent, ModuleDict):
                    parent[name] = replacement
                else:
                    setattr(parent, name, replacement)
        return convert(module)

    def config(self) -> dict[str, Any]:
        return {
            "num_features": self.num_features,
            "eps": self.eps,
            "momentum": self.momentum,
            "affine": self.affine,
            "track_running_stats": self.track_running_stats,
            "dtype": self._dtype.name,
        }

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )
