"""Switch graph recording off and on: :func:`no_grad` and :func:`enable_grad`.

Inside ``no_grad()`` nodes still compute their forward, but record nothing, so
evaluation and optimizer updates keep no buffers alive. The switch is one
process-wide flag: compgraph, like the original notebook, runs one model in one thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

_enabled = True


def is_grad_enabled() -> bool:
    """Whether applying a node records it in the graph."""
    return _enabled


def set_grad_enabled(enabled: bool) -> None:
    global _enabled
    _enabled = bool(enabled)


@contextlib.contextmanager
def _grad_mode(enabled: bool) -> Iterator[None]:
    previous = is_grad_enabled()
    set_grad_enabled(enabled)
    try:
        yield
    finally:
        set_grad_enabled(previous)


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager (and decorator) under which no graph is built.

    >>> import compgraph as cg
    >>> x = cg.tensor([1.0, 2.0], requires_grad=True)
    >>> with cg.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """
    return _grad_mode(False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager that records the graph again inside a ``no_grad`` block."""
    return _grad_mode(True)
