"""Checksums of files, taken over their uncompressed content where they are gzip streams."""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


class ChecksumError(ValueError):
    """A file's content is not what its published checksum says it must be."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem


def is_gzip(path: str | os.PathLike[str]) -> bool:
    """Whether the file starts with the gzip magic bytes (its name is not consulted)."""
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def content_md5(path: str | os.PathLike[str]) -> str:
    """MD5 hex digest of the file's content, decompressed first if it is a gzip stream.

    Raises ``ChecksumError`` when a gzip stream is broken, since its content cannot then
    be known, let alone match.
    """
    digest = hashlib.md5(usedforsecurity=False)
    gzipped = is_gzip(path)
    try:
        with gzip.open(path, "rb") if gzipped else open(path, "rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ChecksumError(path, f"broken gzip stream ({exc})") from exc
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of the file's bytes exactly as they are on disk."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_md5(path: str | os.PathLike[str], expected: str) -> None:
    """Raise ``ChecksumError`` unless the uncompressed content of ``path`` has MD5 ``expected``."""
    actual = content_md5(path)
    if actual != expected:
        raise ChecksumError(
            path, f"checksum mismatch: content MD5 is {actual}, expected {expected}"
        )
