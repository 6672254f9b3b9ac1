"""The IDX file format of MNIST and its relatives: reading and writing every element type.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 per dimension, then the elements, big-endian, in C
order. Files may be gzip-compressed; that is decided by their first two bytes.
"""

from __future__ import annotations

import gzip
import math
import os
import sys
import zlib
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from compgraph.data.checksums import GZIP_MAGIC
from compgraph.files import atomic_path

IDX_TYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type code -> element type on disk."""

_CODES: dict[tuple[str, int], int] = {
    (dt.kind, dt.itemsize): code for code, dt in IDX_TYPES.items()
}

MAX_DIMS = 32
"""The most dimensions accepted: every NumPy since 1.x can make arrays with this many."""

MAX_DECLARED_BYTES = 2**33
"""The most bytes a header may declare that the file's size cannot vouch for: a gzip file's
payload (MNIST's largest is 47 MB), or what the other axes of an empty shape describe."""

# Deflate cannot expand data more than 1032-fold, so a header that promises more than
# this many bytes per compressed byte is refused before anything is allocated.
_MAX_INFLATION = 1100
_CHUNK = 1 << 20


class IdxFormatError(ValueError):
    """A file is not a well-formed IDX file; the message names the file and the fault."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        super().__init__(f"{path}: not a valid IDX file: {problem}")
        self.path = Path(path)
        self.problem = problem


class _ByteStream(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...

    def readinto(self, buffer: memoryview, /) -> int | None: ...


class Hasher(Protocol):
    """Anything with ``update(bytes)``, such as the objects ``hashlib`` returns."""

    def update(self, data: Any, /) -> None: ...


def read_idx(path: str | os.PathLike[str], *, hasher: Hasher | None = None) -> NDArray[Any]:
    """Read an IDX file, raw or gzip-compressed, into a native-endian NumPy array.

    The payload is read straight into the result, which is the only copy made. If
    ``hasher`` is given it is fed every uncompressed byte of the file, header included,
    so a caller can verify a checksum without reading the file twice.

    Raises ``IdxFormatError`` for every malformed file, including a broken gzip stream,
    before allocating anything the file cannot fill: a raw file's header is held to the
    file's size, a gzip file's to ``MAX_DECLARED_BYTES``.
    """
    path = Path(path)
    with open(path, "rb") as raw:
        size = os.fstat(raw.fileno()).st_size
        gzipped = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        if not gzipped:
            return _read_stream(raw, path, size, hasher, compressed=False)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _read_stream(stream, path, size * _MAX_INFLATION, hasher, compressed=True)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise IdxFormatError(path, f"broken gzip stream ({exc})") from exc


def _read_stream(
    stream: _ByteStream, path: Path, limit: int, hasher: Hasher | None, *, compressed: bool
) -> NDArray[Any]:
    """Parse one IDX stream whose uncompressed length can be at most ``limit`` bytes."""
    magic = stream.read(4)
    if len(magic) < 4:
        raise IdxFormatError(path, f"{len(magic)} bytes long, shorter than the 4-byte magic number")
    if magic[0] or magic[1]:
        raise IdxFormatError(
            path, f"bad magic number 0x{magic.hex()}: must start with two zero bytes"
        )
    code, ndim = magic[2], magic[3]
    if code not in IDX_TYPES:
        raise IdxFormatError(path, f"unknown element type code 0x{code:02x}")
    if ndim == 0:
        raise IdxFormatError(path, "zero dimensions")
    if ndim > MAX_DIMS:
        raise IdxFormatError(path, f"{ndim} dimensions, more than the {MAX_DIMS} supported")
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise IdxFormatError(
            path, f"header declares {ndim} dimensions but ends after {len(dims)} bytes of sizes"
        )
    shape = tuple(int(n) for n in np.frombuffer(dims, dtype=">u4"))
    dtype = IDX_TYPES[code]
    expected = _declared_size(path, shape, dtype.itemsize, limit - 4 - 4 * ndim, compressed)
    result = np.empty(shape, dtype=dtype)
    buffer = result.reshape(-1).view(np.uint8).data
    got = 0
    while got < expected:
        count = stream.readinto(buffer[got : got + _CHUNK])
        if not count:
            break
        got += count
    if got < expected:
        raise IdxFormatError(
            path,
            f"payload shorter than the header says: {got} bytes, shape {shape} needs {expected}",
        )
    # Reading past the payload also makes gzip check its CRC and length trailer.
    if stream.read(1):
        raise IdxFormatError(
            path, f"payload longer than the header says: shape {shape} needs only {expected} bytes"
        )
    if hasher is not None:
        hasher.update(magic)
        hasher.update(dims)
        hasher.update(buffer)
    if dtype.byteorder == ">" and sys.byteorder == "little":
        result.byteswap(inplace=True)
        result = result.view(dtype.newbyteorder("="))
    return result


def _declared_size(
    path: Path, shape: tuple[int, ...], itemsize: int, available: int, compressed: bool
) -> int:
    """The payload size a header declares, refused before allocating if it cannot be right.

    A corrupt header could otherwise ask for terabytes, or (with a zero among its sizes) a
    shape NumPy cannot make at all.
    """
    expected = math.prod(shape) * itemsize
    if expected > available:
        raise IdxFormatError(
            path,
            f"payload shorter than the header says: shape {shape} needs {expected} bytes, "
            f"the file can hold at most {available}",
        )
    if compressed and expected > MAX_DECLARED_BYTES:
        raise IdxFormatError(
            path,
            f"header declares {expected} bytes (shape {shape}), more than the "
            f"{MAX_DECLARED_BYTES} read from a gzip file; gunzip it to read it uncompressed",
        )
    span = math.prod(max(n, 1) for n in shape) * itemsize
    if span > max(expected, MAX_DECLARED_BYTES):  # only with a zero size among huge ones
        raise IdxFormatError(
            path,
            f"dimension sizes {shape} hold a zero beside sizes that multiply to {span} "
            f"bytes, more than the {MAX_DECLARED_BYTES} allowed; the header is corrupt: "
            "delete the file and fetch it again",
        )
    return expected


def idx_header(array: NDArray[Any]) -> bytes:
    """The magic number and dimension sizes that ``write_idx`` puts before ``array``'s data."""
    code = _CODES.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        kinds = "uint8, int8, int16, int32, float32, float64"
        raise TypeError(f"IDX cannot store dtype {array.dtype}; it stores {kinds}")
    if not 1 <= array.ndim <= MAX_DIMS:
        raise ValueError(f"IDX stores arrays of 1 to {MAX_DIMS} dimensions, not {array.ndim}")
    if max(array.shape) >= 2**32:
        raise ValueError(f"IDX dimension sizes must fit in 32 bits; shape is {array.shape}")
    sizes = np.asarray(array.shape, dtype=">u4").tobytes()
    return bytes([0, 0, code, array.ndim]) + sizes


def write_idx(
    path: str | os.PathLike[str],
    array: NDArray[Any],
    *,
    compress: bool | None = None,
    compresslevel: int = 6,
) -> Path:
    """Write ``array`` as an IDX file, gzip-compressed if ``compress`` (default: name ends .gz).

    The file is written under a temporary name beside ``path`` and renamed when
    complete. The gzip header carries no name or time, so equal arrays give equal files.
    """
    path = Path(path)
    array = np.asarray(array)
    header = idx_header(array)
    data = np.ascontiguousarray(array, dtype=IDX_TYPES[header[2]])
    payload = data.reshape(-1).view(np.uint8).data
    if compress is None:
        compress = path.name.endswith(".gz")
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        if compress:
            with gzip.GzipFile(
                filename="", fileobj=handle, mode="wb", compresslevel=compresslevel, mtime=0
            ) as stream:
                stream.write(header)
                stream.write(payload)
        else:
            handle.write(header)
            handle.write(payload)
    return path
