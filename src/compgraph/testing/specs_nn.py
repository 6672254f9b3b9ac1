"""Op specs for the nodes behind the layers a PyTorch user expects (LayerNorm, GELU, Dropout2d, …).

Gathered into :data:`compgraph.testing.specs.SPECS`; see :class:`~compgraph.testing.opspec.OpSpec`.
The references are written independently of the nodes: GELU's uses the standard
library's ``math.erf``, not the node's own erf.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph import nodes
from compgraph.testing import references as ref
from compgraph.testing.makers import uniform
from compgraph.testing.opspec import ELEMENTWISE, UNARY, OpSpec

Array = NDArray[Any]

# The standard library's erf, element by element: a test reference on a few dozen values.
_math_erf = np.frompyfunc(math.erf, 1, 1)


def gelu(x: Array) -> Array:
    erf = np.asarray(_math_erf(x / math.sqrt(2)), dtype=np.float64)
    result: Array = 0.5 * x * (1 + erf)
    return result


def gelu_tanh(x: Array) -> Array:
    result: Array = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return result


def layer_norm(x: Array, g: Array | None = None, b: Array | None = None, k: int = 1) -> Array:
    axes = tuple(range(x.ndim - k, x.ndim))
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    result: Array = (x - mean) / np.sqrt(var + 1e-5)
    if g is not None:
        result = result * g
    return result if b is None else result + b


def channel_mask(x: Any) -> Array:
    """The same Dropout2d mask (p = 0.5, kept channels scaled by 2) for every call on a shape."""
    keep = np.random.default_rng(0).random(x.shape[:2]) >= 0.5
    return (keep * 2.0).astype(x.dtype)


def _torch_gelu(approximate: str) -> Any:
    def fn(x: Any) -> Any:
        import torch.nn.functional as F

        return F.gelu(x, approximate=approximate)

    return fn


def _torch_layer_norm(x: Any, g: Any = None, b: Any = None, k: int = 1) -> Any:
    import torch.nn.functional as F

    return F.layer_norm(x, x.shape[x.ndim - k :], g, b, eps=1e-5)


def _torch_channel_dropout(x: Any) -> Any:
    import torch

    mask = torch.tensor(channel_mask(x.detach().numpy()))
    return x * mask.reshape(mask.shape + (1,) * (x.ndim - 2))


LAYER_NORM_CASES = (((3, 4), (4,), (4,)), ((1, 5), (5,), (5,)), ((2, 3, 4), (4,), (4,)))
LAYER_NORM_2D_CASES = (((2, 3, 4), (3, 4), (3, 4)), ((3, 4), (3, 4), (3, 4)))
WIDE = uniform(-8.0, 8.0)  # reaches all three of erf's ranges (|x/√2| > 4 beyond |x| ≈ 5.7)

NN_SPECS: list[OpSpec] = [
    # ---- GELU, exact (erf) and tanh-approximated
    OpSpec("gelu", lambda x: nodes.GELU()(x), ELEMENTWISE, (nodes.GELU,), gelu,
           torch_fn=_torch_gelu("none")),
    OpSpec("gelu_wide", lambda x: nodes.GELU()(x), (((4, 25),),), (nodes.GELU,), gelu,
           makers=(WIDE,), torch_fn=_torch_gelu("none")),
    OpSpec("gelu_tanh", lambda x: nodes.GELU("tanh")(x), ELEMENTWISE, (nodes.GELU,), gelu_tanh,
           torch_fn=_torch_gelu("tanh")),
    # ---- LayerNorm over the last axis, the last two, without affine, without shift
    OpSpec("layer_norm", lambda x, g, b: nodes.LayerNorm(g.shape)(x, g, b), LAYER_NORM_CASES,
           (nodes.LayerNorm,), layer_norm, torch_fn=_torch_layer_norm),
    OpSpec("layer_norm_2d", lambda x, g, b: nodes.LayerNorm(g.shape)(x, g, b),
           LAYER_NORM_2D_CASES, (nodes.LayerNorm,), lambda x, g, b: layer_norm(x, g, b, k=2),
           torch_fn=lambda x, g, b: _torch_layer_norm(x, g, b, k=2)),
    OpSpec("layer_norm_no_affine", lambda x: nodes.LayerNorm(x.shape[-1:])(x), UNARY,
           (nodes.LayerNorm,), layer_norm, torch_fn=_torch_layer_norm),
    OpSpec("layer_norm_no_bias", lambda x, g: nodes.LayerNorm(g.shape)(x, g),
           (((3, 4), (4,)), ((2, 3, 5), (5,))), (nodes.LayerNorm,), layer_norm,
           torch_fn=_torch_layer_norm),
    # ---- Dropout2d with a fixed mask per (sample, channel)
    OpSpec("dropout2d", lambda x: nodes.Dropout2d(channel_mask(x))(x),
           (((2, 3, 4, 5),), ((4, 6, 1, 1),), ((3, 4),)), (nodes.Dropout2d,),
           lambda x: x * channel_mask(x).reshape(x.shape[:2] + (1,) * (x.ndim - 2)),
           torch_fn=_torch_channel_dropout),
    # ---- SyncBatchNorm in a world of one: batch norm's numbers (on 2 ranks: see
    # tests/test_distributed_batchnorm.py); (N, C), (N, C, L) and (N, C, H, W)
    OpSpec("sync_batch_norm", lambda x, g, b: nodes.SyncBatchNorm()(x, g, b),
           (((6, 4), (4,), (4,)), ((4, 3, 5), (3,), (3,)), ((3, 2, 4, 5), (2,), (2,))),
           (nodes.SyncBatchNorm,), ref.batch_norm, torch_fn=ref.torch_batch_norm),
]  # fmt: skip
