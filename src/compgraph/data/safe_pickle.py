"""Loading pickles of plain number arrays without letting the pickle decide what runs.

A pickle names callables and hands state to what they build, and NumPy trusts that state: a
dtype rebuilt with its flags cleared reads an array's bytes as object pointers, and
``numpy.ndarray(shape, dtype, buffer, 0, strides)`` lays terabytes over eight bytes. So the
globals a pickle may name resolve to stand-ins (:mod:`compgraph.data.pickle_globals`) that
accept only a number dtype with NumPy's
own state, a shape, and exactly the bytes it needs; ``load_arrays`` then swaps in the arrays
built, checks each again, and holds their total size to the bytes read. Every refusal is a
``pickle.UnpicklingError`` saying what was refused.
"""

from __future__ import annotations

import pickle
from pickle import UnpicklingError
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from compgraph.data.pickle_globals import (
    _ALLOWED,
    _NUMBER_SIZES,
    _NUMBERS_ONLY,
    _PLAIN_VALUES,
    MAX_DIMS,
    MAX_NESTING,
    _Array,
    _Dtype,
)


class _PickleStream(Protocol):
    def read(self, size: int, /) -> bytes: ...

    def readline(self) -> bytes: ...


class _CountingReader:
    """Passes reads on to a stream and counts the bytes, which the arrays may not outgrow."""

    def __init__(self, stream: _PickleStream) -> None:
        self.stream = stream
        self.count = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self.stream.read(size)
        self.count += len(data)
        return data

    def readinto(self, buffer: memoryview, /) -> int:
        """Read straight into the unpickler's buffer where the stream can: no second copy."""
        if hasattr(self.stream, "readinto"):
            got = int(self.stream.readinto(buffer) or 0)
        else:
            got = len(data := self.stream.read(len(buffer)))
            buffer[:got] = data
        self.count += got
        return got

    def readline(self) -> bytes:
        line = self.stream.readline()
        self.count += len(line)
        return line


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only ``_ALLOWED``; what it loads holds stand-ins that ``load_arrays`` swaps."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnpicklingError(
                f"pickle refers to {module}.{name}; only NumPy array reconstruction is allowed"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnpicklingError("pickle uses persistent ids, which are not allowed")


def load_arrays(stream: _PickleStream) -> Any:
    """Unpickle ``stream``, admitting number arrays (and dtypes), numbers and strings in
    tuples, lists and dicts, and nothing else.

    Python 2 strings are decoded as Latin-1, as NumPy expects of the array data in them.
    """
    reader = _CountingReader(stream)
    loaded = _RestrictedUnpickler(reader, encoding="latin1").load()
    arrays: list[NDArray[Any]] = []
    result = _settle(loaded, 0, {}, arrays)
    held = sum(array.nbytes for array in arrays)
    if held > reader.count:
        raise UnpicklingError(
            f"pickle's arrays hold {held} bytes, more than the {reader.count} bytes read: "
            "they share data"
        )
    return result


def _settle(obj: Any, depth: int, done: dict[int, Any], arrays: list[NDArray[Any]]) -> Any:
    """``obj`` with each stand-in swapped for what it built, checked, and containers copied.

    ``done`` maps what is settled to its result, so a pickle that repeats one container
    many times over costs one visit, not one per path to it.
    """
    if id(obj) in done:
        return done[id(obj)]
    result: Any = obj
    if isinstance(obj, _Array):
        if obj.array is None:
            raise UnpicklingError("pickle rebuilds an array but never gives its contents")
        check_array(obj.array)
        arrays.append(result := obj.array)
    elif isinstance(obj, _Dtype):
        result = obj.dtype
    elif type(obj) in (tuple, list, dict):
        if depth >= MAX_NESTING:
            raise UnpicklingError(f"pickle nests containers more than {MAX_NESTING} deep")
        if type(obj) is dict:
            if not all(type(key) in _PLAIN_VALUES for key in obj):
                raise UnpicklingError("pickle holds a dict keyed by more than plain values")
            result = {key: _settle(value, depth + 1, done, arrays) for key, value in obj.items()}
        else:
            items = [_settle(item, depth + 1, done, arrays) for item in obj]
            result = items if type(obj) is list else tuple(items)
    elif type(obj) not in _PLAIN_VALUES:
        raise UnpicklingError(
            f"pickle holds a {type(obj).__name__}; only arrays, numbers and strings "
            "in tuples, lists and dicts are allowed"
        )
    done[id(obj)] = result
    return result


def check_array(array: NDArray[Any]) -> None:
    """Refuse ``array`` unless it is a bool, integer or float array laid out without gaps.

    The stand-ins build nothing else; this checks what they built without relying on them,
    so that a flaw in one of their checks does not let a crafted array through.
    """
    dtype = array.dtype
    if (
        type(array) is not np.ndarray
        or dtype.itemsize not in _NUMBER_SIZES.get(dtype.kind, ())
        or dtype.hasobject
        or dtype.flags
        or dtype.fields is not None
        or dtype.subdtype is not None
    ):
        raise UnpicklingError(
            f"pickle holds an array of dtype {dtype} (kind {dtype.kind!r}, "
            f"{dtype.itemsize} bytes); {_NUMBERS_ONLY}"
        )
    if array.ndim > MAX_DIMS:
        raise UnpicklingError(f"pickle holds an array of {array.ndim} dimensions, over {MAX_DIMS}")
    shape, strides, itemsize = array.shape, array.strides, dtype.itemsize
    if array.size and not (
        _packed(shape, strides, itemsize) or _packed(shape[::-1], strides[::-1], itemsize)
    ):
        raise UnpicklingError(
            f"pickle holds an array of shape {shape} with strides {strides}; "
            "only C- or F-ordered arrays without gaps are allowed"
        )


def _packed(shape: tuple[int, ...], strides: tuple[int, ...], itemsize: int) -> bool:
    """Whether these strides step through memory as a new C-ordered array of ``shape`` does."""
    step = itemsize
    for size, stride in zip(reversed(shape), reversed(strides), strict=True):
        if size > 1 and stride != step:  # a length-1 axis is never stepped along
            return False
        step *= size
    return True
