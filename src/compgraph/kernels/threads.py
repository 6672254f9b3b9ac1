"""How many threads compgraph computes with: BLAS's matrix products and the compiled kernels.

The two never run at the same time (a step alternates between products and
kernels), so they share one count. Nothing changes unless asked for:
:func:`set_num_threads`, ``COMPGRAPH_NUM_THREADS`` or ``compgraph train --threads``.
Until then the count is BLAS's own (OpenBLAS: one thread per core, or
``OPENBLAS_NUM_THREADS``), and the compiled kernels follow it.

On a machine shared with other work, use fewer threads than cores: OpenBLAS's
idle workers keep spinning for a while after each product, and when the cores are
busy a product waits for every one of its threads to be scheduled (measured on a
loaded 2-core machine: an MLP epoch took 18–44 s on two threads, 5.6 s on one).
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from pathlib import Path

#: The environment form of :func:`set_num_threads`, read by ``import compgraph``.
ENV_VAR = "COMPGRAPH_NUM_THREADS"

_requested: int | None = None
_kernel_threads: int | None = None


def set_num_threads(count: int) -> None:
    """Compute with ``count`` threads: BLAS's and the compiled kernels' alike.

    Process-wide, like ``torch.set_num_threads``; it stays until changed.

    Raises:
        ValueError: for a count below 1.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"the number of threads must be an integer ≥ 1, got {count!r}")
    global _requested, _kernel_threads
    _requested = _kernel_threads = count
    _blas_controller().select(user_api="blas").limit(limits=count)


def get_num_threads() -> int:
    """The number of threads BLAS and the compiled kernels use.

    The count set by :func:`set_num_threads` (or ``COMPGRAPH_NUM_THREADS``);
    otherwise BLAS's own, which the kernels follow.
    """
    if _requested is not None:
        return _requested
    counts = [lib.num_threads for lib in _blas_controller().select(user_api="blas").lib_controllers]
    return max(counts, default=1)


def default_num_threads() -> int:
    """The CPUs this process may use: its affinity mask, capped by a container's CPU quota.

    ``compgraph train`` uses this unless told otherwise; ``os.cpu_count()`` would
    count CPUs a container or ``taskset`` does not give the process.
    """
    if hasattr(os, "sched_getaffinity"):  # Linux; macOS and Windows have no affinity call
        count = len(os.sched_getaffinity(0))
    else:
        count = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    return max(1, min(count, math.ceil(quota))) if quota else max(1, count)


def _cgroup_cpu_quota() -> float | None:
    """CPUs granted by a cgroup v2 quota ('max' or no file: None). Linux only."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    return None if quota == "max" else int(quota) / int(period)


def environment_threads() -> int | None:
    """The count ``COMPGRAPH_NUM_THREADS`` asks for; None if unset.

    Raises:
        ValueError: naming the variable, when its value is not an integer ≥ 1.
    """
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        return None
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError(f"{ENV_VAR} must be an integer ≥ 1, not {value!r}")
    return count


def apply_environment() -> None:
    """Apply ``COMPGRAPH_NUM_THREADS`` if set; ``import compgraph`` calls this.

    An invalid value is ignored with a warning here (an import should not fail);
    ``compgraph train`` reports it as an error.
    """
    try:
        count = environment_threads()
    except ValueError as error:
        warnings.warn(f"{error}; ignored", stacklevel=3)
        return
    if count is not None:
        set_num_threads(count)


def kernel_threads() -> int:
    """The compiled kernels' thread count (cached: the kernels ask on every call)."""
    global _kernel_threads
    if _kernel_threads is None:
        _kernel_threads = get_num_threads()
    return _kernel_threads


def _blas_controller():  # type: ignore[no-untyped-def]
    from threadpoolctl import ThreadpoolController  # a few ms; only when threads are asked about

    return ThreadpoolController()
