"""``detect_anomaly()``: stop at the first node whose forward or backward is not finite.

Off by default because checking every array costs a pass over memory. When on,
each node also remembers the line of user code that applied it, so the error
points at the model's source, not at the engine.
"""

from __future__ import annotations

import contextlib
import os
import traceback
from collections.abc import Iterator
from typing import Any

import numpy as np

_enabled = False


class AnomalyError(FloatingPointError):
    """A node produced NaN or Inf while :func:`detect_anomaly` was active."""


def is_anomaly_enabled() -> bool:
    return _enabled


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise :class:`AnomalyError` naming the first node that produces NaN or Inf.

    >>> import compgraph as cg
    >>> x = cg.tensor([1.0, -1.0], requires_grad=True)
    >>> with cg.detect_anomaly():
    ...     x.log()
    Traceback (most recent call last):
    ...
    compgraph.anomaly.AnomalyError: Log: forward output has 1 NaN/Inf value(s) (shape (2,)); ...
    """
    global _enabled
    previous = _enabled
    _enabled = True
    try:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            yield
    finally:
        _enabled = previous


#: The folder of the installed package: frames from files under it are compgraph's own.
#: (Not a folder *named* compgraph: a user's clone of the repository is one too.)
_PACKAGE = os.path.realpath(os.path.dirname(__file__)) + os.sep


def creation_site() -> str:
    """The innermost frame outside compgraph itself, as ``file:line``."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.realpath(frame.filename).startswith(_PACKAGE):
            return f"{frame.filename}:{frame.lineno}"
    return "<unknown>"


def check_finite(array: Any, node: Any, where: str) -> None:
    """Raise AnomalyError if ``array`` holds NaN or Inf.

    ``where`` names the array, e.g. ``"forward output"`` or ``"backward gradient for input 1"``.
    """
    if array is None or not np.issubdtype(array.dtype, np.inexact):
        return
    finite = np.isfinite(array)
    if finite.all():
        return
    bad = int(array.size - np.count_nonzero(finite))
    site = getattr(node, "_created_at", "<unknown>")
    raise AnomalyError(
        f"{type(node).__name__}: {where} has {bad} NaN/Inf value(s) (shape {array.shape}); "
        f"the node was applied at {site}"
    )
