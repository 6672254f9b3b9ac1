"""The globals a pickle of plain number arrays may name, as checking stand-ins.

NumPy trusts the state a pickle hands it: a dtype rebuilt with its flags cleared reads an
array's bytes as object pointers, and ``numpy.ndarray(shape, dtype, buffer, 0, strides)``
lays terabytes over eight bytes. So each global :mod:`compgraph.data.safe_pickle` resolves
is a stand-in here that accepts only a number dtype with NumPy's own state, a shape, and
exactly the bytes it needs; the arrays are built from those, never by the pickle.
"""

from __future__ import annotations

import codecs
import math
import reprlib
import sys
from collections.abc import Callable
from pickle import UnpicklingError
from typing import Any

import numpy as np
from numpy.typing import NDArray

MAX_DIMS = 32
"""The most dimensions an array may have (the most every NumPy since 1.x supports)."""

MAX_NESTING = 8
"""The most levels of tuples, lists and dicts around the arrays."""

_NUMBER_SIZES = {"b": (1,), "i": (1, 2, 4, 8), "u": (1, 2, 4, 8), "f": (2, 4, 8)}
_NUMBER_NAMES = {f"{kind}{size}" for kind, sizes in _NUMBER_SIZES.items() for size in sizes}
_NUMBERS_ONLY = "only bool, integer and float arrays are allowed"

# NumPy's pickled state of a number dtype, after the version and byte order: no subarray,
# names or fields, size and alignment left to the type, no flags. Anything else rewrites
# the type (a negative size, an object type marked as holding no objects).
_NUMBER_STATE = (None, None, None, -1, -1, 0)
_PLAIN_VALUES = (type(None), bool, int, float, str, bytes)


def _brief(value: Any) -> str:
    """``repr(value)`` cut short, so a message stays one line whatever the pickle holds."""
    return reprlib.repr(value)


class _Dtype:
    """Stands in for ``numpy.dtype(name)`` while unpickling; its state may set only a byte order."""

    def __init__(self, dtype: np.dtype[Any]) -> None:
        self.dtype = dtype

    def __setstate__(self, state: Any) -> None:
        if not (
            isinstance(state, tuple)
            and len(state) in (8, 9)  # version 4 adds metadata, which must be absent
            and state[0] in (3, 4)
            and state[1] in ("<", ">", "=", "|")
            and state[2:8] == _NUMBER_STATE
            and state[8:] in ((), (None,))
        ):
            raise UnpicklingError(
                f"pickle gives dtype {self.dtype} the state {_brief(state)}; "
                f"only a byte order may be set, as in {(3, '<', *_NUMBER_STATE)}"
            )
        self.dtype = self.dtype.newbyteorder(state[1])


class _Array:
    """Stands in for an array while unpickling: made by ``_frombuffer``, or filled by BUILD."""

    def __init__(self, array: NDArray[Any] | None = None) -> None:
        self.array = array

    def __setstate__(self, state: Any) -> None:
        """Fill the array from NumPy's state, ``([1,] shape, dtype, fortran_order, data)``."""
        if self.array is not None:
            raise UnpicklingError("pickle sets the contents of one array twice")
        if isinstance(state, tuple) and len(state) == 5 and state[0] == 1:
            state = state[1:]
        if not (isinstance(state, tuple) and len(state) == 4 and state[2] in (0, 1)):
            raise UnpicklingError(f"pickle gives an array the state {_brief(state)}")
        shape, dtype, fortran, data = state
        if isinstance(data, str):  # Python 2 wrote bytes as str; NumPy reads it as Latin-1 too
            try:
                data = data.encode("latin1")
            except UnicodeEncodeError:
                raise UnpicklingError("pickle gives array data as non-Latin-1 text") from None
        numpy_dtype, shape = _checked_layout(dtype, shape, data)
        array: Any = np.empty(0, dtype=np.int8)  # Any: NumPy's stubs want a NumPy bool flag
        array.__setstate__((1, shape, numpy_dtype, bool(fortran), data))
        self.array = array


def _checked_layout(dtype: Any, shape: Any, data: Any) -> tuple[np.dtype[Any], tuple[int, ...]]:
    """The dtype and shape of an array to be made from ``data``, once they are known to fit it."""
    if not (
        isinstance(dtype, _Dtype)
        and isinstance(data, (bytes, bytearray))
        and isinstance(shape, tuple)
        and all(type(n) is int for n in shape)
    ):
        raise UnpicklingError(
            f"pickle gives an array shape {_brief(shape)}, dtype {_brief(dtype)} and data of "
            f"type {type(data).__name__}; expected integers, a number dtype and bytes"
        )
    if len(shape) > MAX_DIMS:
        raise UnpicklingError(f"pickle gives an array {len(shape)} dimensions, over {MAX_DIMS}")
    itemsize = dtype.dtype.itemsize
    # Zero-length axes make an empty array, but NumPy still needs the others to fit an index.
    if not all(0 <= n <= sys.maxsize for n in shape) or (
        math.prod(max(n, 1) for n in shape) * itemsize > sys.maxsize
    ):
        raise UnpicklingError(
            f"pickle gives an array the shape {_brief(shape)}; "
            "sizes must be non-negative and describe fewer than 2**63 bytes"
        )
    if len(data) != math.prod(shape) * itemsize:
        raise UnpicklingError(
            f"pickle gives an array of shape {shape} and dtype {dtype.dtype} {len(data)} bytes, "
            f"but it needs {math.prod(shape) * itemsize}"
        )
    return dtype.dtype, shape


def _dtype(name: Any, align: Any = False, copy: Any = True) -> _Dtype:
    """``numpy.dtype(name, align, copy)`` as pickles call it, for the number types only."""
    if not (isinstance(name, str) and name in _NUMBER_NAMES):
        raise UnpicklingError(
            f"pickle asks for dtype {_brief(name)}; {_NUMBERS_ONLY}, "
            "not arrays of Python objects, strings or records"
        )
    return _Dtype(np.dtype(name))


def _ndarray(*args: Any) -> None:
    """``numpy.ndarray`` as a pickle may name it: an argument to ``_reconstruct``, never called."""
    raise UnpicklingError(
        "pickle calls numpy.ndarray directly, which lays any shape and strides over any bytes; "
        "only arrays as NumPy pickles them are allowed"
    )


def _reconstruct(cls: Any, shape: Any, typecode: Any) -> _Array:
    """``_reconstruct`` as NumPy's pickles call it: an empty array that BUILD then fills."""
    # Any other shape would be allocated here, before the pickle has shown any data.
    if cls is not _NDARRAY or shape != (0,) or typecode not in (b"b", "b"):
        raise UnpicklingError(
            f"pickle calls _reconstruct with shape {_brief(shape)} and type code "
            f"{_brief(typecode)}; only NumPy's own (numpy.ndarray, (0,), b'b') is allowed"
        )
    return _Array()


def _frombuffer(data: Any, dtype: Any, shape: Any, order: Any, axis_order: Any = None) -> _Array:
    """``_frombuffer``, protocol 5's form of an array, with its arguments checked first."""
    numpy_dtype, shape = _checked_layout(dtype, shape, data)
    flat = np.frombuffer(data, dtype=numpy_dtype)
    if order in ("C", "F") and axis_order is None:
        return _Array(flat.reshape(shape, order=order))
    if (
        order == "K"
        and isinstance(axis_order, tuple)
        and all(type(axis) is int for axis in axis_order)
        and sorted(axis_order) == list(range(len(shape)))
    ):
        # NumPy 2 keeps a permuted layout; a C-ordered copy is the one layout checked later.
        return _Array(np.ascontiguousarray(flat.reshape(shape).transpose(axis_order)))
    raise UnpicklingError(f"pickle lays out an array in order {_brief(order)} {_brief(axis_order)}")


def _latin1_encode(text: Any, encoding: Any = "latin1", errors: Any = "strict") -> bytes:
    """``_codecs.encode`` restricted to Latin-1, the one use protocol-2 pickles make of it."""
    if not (isinstance(text, str) and isinstance(encoding, str)) or (
        codecs.lookup(encoding).name != "iso8859-1"
    ):
        raise UnpicklingError(f"pickle asks for codec {_brief(encoding)}; only latin-1 is allowed")
    return codecs.encode(text, "latin1")


def _empty_bytes(*args: Any) -> bytes:
    """``bytes()``, which protocol 2 writes for ``b""`` (an empty array's data, for one)."""
    if args:  # bytes(n) would allocate n bytes
        raise UnpicklingError(f"pickle calls bytes{_brief(args)}; only bytes() is allowed")
    return b""


class _Global:
    """A stand-in as a pickle sees it: callable, but closed to BUILD, which would otherwise
    set attributes (``__defaults__``, say) on the function itself for every later load."""

    __slots__ = ("function",)

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function

    def __call__(self, *args: Any) -> Any:
        return self.function(*args)

    def __setstate__(self, state: Any) -> None:
        raise UnpicklingError(f"pickle sets the state of {self.function.__name__}")


_NDARRAY = _Global(_ndarray)

# Every global a pickle of plain arrays refers to, under the NumPy 1 and NumPy 2 module
# names. Python 2 pickles (mnist.pkl.gz) need only _reconstruct, ndarray and dtype.
_ALLOWED: dict[tuple[str, str], _Global] = {
    ("numpy.core.multiarray", "_reconstruct"): _Global(_reconstruct),
    ("numpy._core.multiarray", "_reconstruct"): _Global(_reconstruct),
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _Global(_dtype),
    ("numpy.core.numeric", "_frombuffer"): _Global(_frombuffer),
    ("numpy._core.numeric", "_frombuffer"): _Global(_frombuffer),
    ("_codecs", "encode"): _Global(_latin1_encode),
    ("__builtin__", "bytes"): _Global(_empty_bytes),
    ("builtins", "bytes"): _Global(_empty_bytes),
}
