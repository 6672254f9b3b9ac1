"""Transforms applied to a whole batch of images at once (``DataLoader(..., transform=)``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


class Normalize:
    """y = (x − mean) / std, per channel: torchvision's ``transforms.Normalize``.

    Applied by ``DataLoader(..., transform=Normalize(0.1307, 0.3081))`` to each float32
    batch in one vectorised step, and callable on any floating-point array. ``mean`` and
    ``std`` are one number for every channel (``0.1307`` or torchvision's ``(0.1307,)``)
    or one per channel, for images whose channel axis is third from the end:
    (C, H, W) or (N, C, H, W), as torchvision's. Flattened batches (N, 784) take one
    number only.

    Args:
        mean: the mean to subtract: a number, or a sequence with one per channel.
        std: the standard deviation to divide by, each positive.

    Shape: (…) → same; the result is a new float32 array (float64 stays float64).

    Example:
        >>> import numpy as np
        >>> Normalize(0.5, 0.25)(np.array([0.5, 1.0], np.float32)).tolist()
        [0.0, 2.0]
    """

    def __init__(self, mean: ArrayLike, std: ArrayLike) -> None:
        self.mean = _per_channel("mean", mean)
        self.std = _per_channel("std", std)
        if self.mean.size != self.std.size and 1 not in (self.mean.size, self.std.size):
            raise ValueError(
                f"Normalize: {self.mean.size} means but {self.std.size} standard deviations"
            )
        if (self.std <= 0).any():
            raise ValueError(f"Normalize: std must be positive, got {self.std.tolist()}")

    def __call__(self, x: ArrayLike) -> NDArray[Any]:
        array = np.asarray(x)
        if array.dtype.kind != "f":
            raise TypeError(
                f"Normalize takes floating-point images, not {array.dtype}: convert bytes "
                "to [0, 1] first (the DataLoader does)"
            )
        dtype = array.dtype if array.dtype == np.float64 else np.float32
        mean, std = self.mean.astype(dtype), self.std.astype(dtype)
        channels = max(mean.size, std.size)
        if channels > 1:
            if array.ndim < 3 or array.shape[-3] != channels:
                raise ValueError(
                    f"Normalize: {channels} channels need images (…, C, H, W) with "
                    f"C = {channels}, got shape {array.shape}"
                )
            mean, std = mean.reshape(-1, 1, 1), std.reshape(-1, 1, 1)
        else:
            mean, std = mean.reshape(()), std.reshape(())
        result = np.subtract(array, mean, dtype=dtype)
        result /= std
        return result

    def __repr__(self) -> str:
        return f"Normalize(mean={tuple(self.mean.tolist())}, std={tuple(self.std.tolist())})"


def _per_channel(name: str, value: ArrayLike) -> NDArray[np.float64]:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim > 1 or array.size == 0:
        raise ValueError(f"Normalize: {name} must be a number or a sequence of numbers")
    return array.reshape(-1)
