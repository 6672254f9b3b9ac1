"""Keep freed memory for reuse, so each training step does not page-fault its buffers in again.

A training step frees and reallocates the same few large arrays (activations,
gradients, im2col patches) every time. glibc hands allocations above 128 KiB
to the kernel with mmap and returns them on free, so every step pays page
faults to map and zero them again: profiled here, about 40% of a CNN step.
Raising glibc's mmap and trim thresholds keeps those pages in the heap for the
next step, the same idea as PyTorch's caching allocator.

A process-wide setting, so compgraph makes it only where asked: ``compgraph
train`` does; in your own program call :func:`reuse_freed_memory`
(``compgraph.reuse_freed_memory``) once. glibc only: elsewhere (macOS, Windows,
musl) it does nothing and returns False.
"""

from __future__ import annotations

import ctypes
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest allowed value on 64-bit
_TRIM_THRESHOLD = 1024 * 1024 * 1024

_applied = False


def reuse_freed_memory() -> bool:
    """Ask glibc to keep freed blocks up to 32 MiB for reuse; True if it agreed.

    Process-wide and idempotent; memory stays at the run's peak instead of growing,
    because the same blocks are reused.
    """
    global _applied
    if _applied:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the process already runs on
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )
    return _applied
