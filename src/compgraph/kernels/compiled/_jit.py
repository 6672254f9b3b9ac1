"""How compgraph compiles and runs a kernel: numba, cached on disk, split over threads.

Every compiled kernel is a loop over an outermost range (images of a batch, or
elements of a flat array) that takes the bounds ``start, stop`` as its last two
arguments. :func:`run` cuts the range into one chunk per thread and runs the
chunks on compgraph's own thread pool; numba releases the GIL inside the loops.
Chunks never write the same output, so the result is bit-identical whatever the
number of threads.

Why not numba's ``prange``: its OpenMP threads spin for milliseconds after each
parallel loop, and on a 2-core machine they then fight OpenBLAS's own spinning
workers for the cores — measured here, a CNN training step took 96 ms with
``prange`` kernels on OpenMP against 47 ms with the same kernels on one thread.
The pool's idle threads sleep instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np

from compgraph.kernels import threads

#: Below this much work (elements read and written) a kernel runs in the calling
#: thread alone. Handing a chunk to a pool thread and waiting for it costs about
#: 70 µs here (2-core VM, 2026-11-29), as long as a pass over 600,000 float32.
SPLIT_FROM = 1 << 21

#: The dtypes the kernels are compiled for (native byte order); others go to the reference.
FLOAT32, FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)

_pool: ThreadPoolExecutor | None = None
_pool_size = 0


def compilable(*arrays: Any) -> bool:
    """True when every array is float32 or float64 in native byte order."""
    # NumPy hands out one dtype object per native built-in type: identity suffices, and a
    # byte-swapped float32 is another object.
    return all(array.dtype is FLOAT32 or array.dtype is FLOAT64 for array in arrays)


def compile_kernel(function: Callable[..., Any]) -> Any:
    """``function`` compiled on first call (for the types it meets), cached on disk.

    ``error_model="numpy"``: x/0 gives inf or NaN, as in NumPy (the reference), where
    numba's default raises ZeroDivisionError — and that check kept loops with a
    division from vectorising (Adam's update over 204,800 float32: 0.76 → 0.11 ms).
    """
    return numba.njit(cache=True, nogil=True, error_model="numpy")(function)


def run(kernel: Any, count: int, work: int, *args: Any) -> None:
    """``kernel(*args, start, stop)`` over ``range(count)``, in chunks on the kernel threads.

    ``work`` is the number of elements the whole call touches; small calls run in
    this thread alone.
    """
    if work < SPLIT_FROM:
        kernel(*args, 0, count)
        return
    chunks = min(threads.kernel_threads(), count, work // SPLIT_FROM)
    if chunks <= 1:
        kernel(*args, 0, count)
        return
    bounds = [count * index // chunks for index in range(chunks + 1)]
    pool = _thread_pool(chunks - 1)
    futures = [
        pool.submit(kernel, *args, bounds[i], bounds[i + 1])  # type: ignore[call-arg]
        for i in range(1, chunks)
    ]
    kernel(*args, bounds[0], bounds[1])
    for future in futures:
        future.result()  # re-raises a chunk's exception here


def _thread_pool(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    if _pool is None or _pool_size < workers:
        if _pool is not None:
            _pool.shutdown(wait=True)
        _pool, _pool_size = ThreadPoolExecutor(workers, thread_name_prefix="compgraph"), workers
    return _pool


@functools.lru_cache(maxsize=64)
def coefficients(dtype: np.dtype[Any], *values: float) -> Any:
    """Python numbers as a read-only array of ``dtype``, for a compiled update to read.

    A float64 coefficient would promote a float32 update to float64 in a compiled loop,
    where NumPy keeps it float32; cast, both paths round the same way. Cached: an
    optimizer passes the same few numbers every step.
    """
    with np.errstate(over="ignore"):  # a learning rate of 1e300 is inf in float32, as in NumPy
        array = np.array(values, dtype)
    array.flags.writeable = False
    return array
