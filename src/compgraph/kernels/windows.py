"""Sliding-window geometry shared by the pooling and convolution kernels."""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

Array = NDArray[Any]


def output_size(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    """How many windows of side ``kernel``, ``stride`` apart, fit ``size`` + 2·``padding``."""
    return (size + 2 * padding - kernel) // stride + 1


def shifted_views(
    images: Array, kernel: tuple[int, int], stride: int, out_hw: tuple[int, int]
) -> dict[tuple[int, int], Array]:
    """For each offset (u, v) in the window, the view images[:, :, s·i + u, s·j + v].

    ``images`` is (N, C, H, W); each view is (N, C, Ho, Wo), and writing into a view
    writes into ``images``. Together the kh·kw views hold every window's elements:
    a window reduction is a reduction over the views, with no loop over pixels.
    """
    (kh, kw), (ho, wo), s = kernel, out_hw, stride
    return {
        (u, v): images[:, :, u : u + s * (ho - 1) + 1 : s, v : v + s * (wo - 1) + 1 : s]
        for u in range(kh)
        for v in range(kw)
    }
