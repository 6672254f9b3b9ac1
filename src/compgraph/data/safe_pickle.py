"""Loading pickles of NumPy arrays without letting the pickle run code of its choosing.

A pickle can name any importable callable and have it called; ``RestrictedUnpickler``
resolves only the handful that rebuild arrays, so a hostile pickle fails with
``UnpicklingError`` instead of executing anything.
"""

from __future__ import annotations

import codecs
import pickle
from typing import Any, Protocol

import numpy as np

# Taken from NumPy's own reduce methods instead of imported by module path, because the
# module moved (numpy.core became numpy._core in NumPy 2) and the old path now warns.
_RECONSTRUCT = np.empty(0).__reduce__()[0]
_FROMBUFFER = np.empty(1).__reduce_ex__(5)[0]


def _latin1_encode(text: str, encoding: str = "latin1", errors: str = "strict") -> bytes:
    """``_codecs.encode`` restricted to Latin-1, the one use protocol-2 pickles make of it."""
    if codecs.lookup(encoding).name != "iso8859-1":
        raise pickle.UnpicklingError(f"pickle asks for codec {encoding!r}; only latin-1 is allowed")
    return codecs.encode(text, "latin1", errors)


# Every global a pickle of plain arrays and dtypes refers to, under the NumPy 1 and
# NumPy 2 module names. Python 2 pickles (mnist.pkl.gz) need only the first three.
_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    # Protocol 5 rebuilds contiguous arrays from a buffer.
    ("numpy.core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy._core.numeric", "_frombuffer"): _FROMBUFFER,
    # Python 3 writes bytes into protocol-2 pickles as _codecs.encode(str, "latin1").
    ("_codecs", "encode"): _latin1_encode,
}


class _PickleStream(Protocol):
    def read(self, size: int, /) -> bytes: ...

    def readline(self) -> bytes: ...


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that admits NumPy array and dtype reconstruction and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"pickle refers to {module}.{name}; only NumPy array reconstruction is allowed"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("pickle uses persistent ids, which are not allowed")


def load_arrays(stream: _PickleStream) -> Any:
    """Unpickle ``stream`` with ``RestrictedUnpickler``.

    Strings from Python 2 pickles are decoded as Latin-1, which is what NumPy expects
    when it rebuilds array data pickled by Python 2. Arrays of Python objects are refused
    even though rebuilding them runs no code, because nothing here should contain them.
    """
    result = RestrictedUnpickler(stream, encoding="latin1").load()
    _refuse_object_arrays(result)
    return result


def _refuse_object_arrays(obj: Any, depth: int = 0) -> None:
    if depth > 8:
        raise pickle.UnpicklingError("pickle nests containers more than 8 deep")
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise pickle.UnpicklingError("pickle holds an array of Python objects")
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            _refuse_object_arrays(item, depth + 1)
    elif isinstance(obj, dict):
        for item in obj.values():
            _refuse_object_arrays(item, depth + 1)
