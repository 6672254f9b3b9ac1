"""Errors raised while obtaining a dataset from its sources."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class SourceError(Exception):
    """One source could not supply one file (or any file); the message says why, briefly."""


class SourceUnreachable(SourceError):
    """The source cannot be reached at all, so its other files need not be tried."""


class PartialFetch(SourceError):
    """A source supplied some files (``got``, verified and in place) but not all."""

    def __init__(self, got: dict[str, Path], reason: str) -> None:
        super().__init__(reason)
        self.got = got


class DatasetUnavailableError(RuntimeError):
    """No source could supply a dataset's files.

    The message lists every source tried and why it failed, then says where to put the
    files by hand.
    """

    def __init__(
        self,
        title: str,
        missing: Sequence[str],
        attempts: Sequence[tuple[str, str]],
        folder: Path,
    ) -> None:
        lines = [f"{title}: could not obtain {', '.join(missing)}."]
        lines += [f"  - {source}: {reason}" for source, reason in attempts]
        names = ", ".join(f"{name}[.gz]" for name in missing)
        lines.append(
            f"To place the files by hand, copy {names} into {folder}, or into DIR/{folder.name}/ "
            "and pass --data-dir DIR (or set COMPGRAPH_DATA=DIR)."
        )
        super().__init__("\n".join(lines))
        self.missing = tuple(missing)
        self.attempts = tuple(attempts)
        self.folder = folder
