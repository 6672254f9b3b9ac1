"""Plain NumPy (and, inside functions, PyTorch) versions of the operations, for the specs.

Each is written independently of the node it checks. PyTorch is imported only
inside the ``torch_*`` functions, so importing this module never imports it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]


def fixed_mask(x: Any) -> Array:
    """The same dropout mask (p = 0.5, kept elements scaled by 2) for every call on this shape."""
    keep = np.random.default_rng(0).random(x.shape) >= 0.5
    return (keep * 2.0).astype(x.dtype)


def softmax(x: Array, axis: int = -1) -> Array:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x: Array, axis: int = -1) -> Array:
    return np.log(softmax(x, axis))


def softmax_cross_entropy_labels(z: Array, labels: Array) -> Array:
    return -np.take_along_axis(log_softmax(z), labels[..., None], axis=-1)[..., 0]


def conv2d(x: Array, w: Array, b: Array | None, stride: int = 1, padding: int = 0) -> Array:
    """Convolution by the definition: a sum over kernel offsets, written independently."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    kh, kw = w.shape[2:]
    ho = (x.shape[2] - kh) // stride + 1
    wo = (x.shape[3] - kw) // stride + 1
    out = np.zeros((x.shape[0], w.shape[0], ho, wo))
    for u in range(kh):
        for v in range(kw):
            patch = x[:, :, u : u + stride * ho : stride, v : v + stride * wo : stride]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, u, v])
    return out if b is None else out + b[None, :, None, None]


def pool2d(x: Array, k: int, s: int, reduce: Any) -> Array:
    from numpy.lib.stride_tricks import sliding_window_view

    windows = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]
    result: Array = reduce(windows, axis=(4, 5))
    return result


def batch_norm(x: Array, g: Array, b: Array, running: bool = False) -> Array:
    axes = (0, *range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if running:
        mean = np.linspace(-1, 1, x.shape[1]).reshape(shape)
        var = np.linspace(0.5, 2, x.shape[1]).reshape(shape)
    else:
        mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    result: Array = (x - mean) / np.sqrt(var + 1e-5) * g.reshape(shape) + b.reshape(shape)
    return result


# ---- PyTorch versions, imported only when called
def torch_mask(x: Any) -> Any:
    import torch

    return torch.tensor(fixed_mask(x.detach().numpy()))


def torch_conv(x: Any, w: Any, b: Any, stride: int = 1, padding: int = 0) -> Any:
    import torch.nn.functional as F

    return F.conv2d(x, w, b, stride=stride, padding=padding)


def torch_pool(name: str, x: Any, k: int, s: int) -> Any:
    import torch.nn.functional as F

    return getattr(F, name)(x, k, s)


def torch_batch_norm(x: Any, g: Any, b: Any) -> Any:
    import torch.nn.functional as F

    return F.batch_norm(x, None, None, g, b, training=True, eps=1e-5)


def torch_softmax_cross_entropy_labels(z: Any, labels: Any) -> Any:
    import torch.nn.functional as F

    return F.cross_entropy(
        z.reshape(-1, z.shape[-1]), labels.reshape(-1), reduction="none"
    ).reshape(labels.shape)
