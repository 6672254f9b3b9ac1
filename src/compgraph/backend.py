"""Which array module computes: NumPy today, and one place to change for a GPU later.

Every node that allocates (``zeros``, ``ones``, ``arange``) asks
:func:`array_module` for the module of its inputs instead of naming ``numpy``
directly. A CuPy array then flows through the same nodes unchanged: CuPy mirrors
NumPy's API, so only this helper needs to know it exists.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np


def array_module(*arrays: Any) -> ModuleType:
    """Return the array module (``numpy`` or ``cupy``) that owns ``arrays``.

    The first argument that is not a NumPy array decides; plain Python numbers
    and NumPy arrays give ``numpy``.

    >>> array_module(np.zeros(3)) is np
    True
    """
    for array in arrays:
        module_name = type(array).__module__
        if module_name.startswith("cupy"):
            import cupy  # type: ignore[import-not-found]  # optional, only for CuPy arrays

            return cupy
    return np


def is_floating(dtype: Any) -> bool:
    """True for dtypes that can carry gradients (float16/32/64)."""
    return np.dtype(dtype).kind == "f"  # np.issubdtype is ten times slower on the hot path
