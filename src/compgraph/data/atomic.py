"""Writing a file under a temporary name beside its target and renaming it into place.

A reader therefore sees either no file or a complete one: an interrupted download, a
failed checksum or a crash while converting leaves nothing under the final name.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PART_SUFFIX = ".part"


@dataclass
class PendingFile:
    """A temporary file being filled (``path``) and the name it will get (``target``).

    ``target`` may be changed inside the block, to a name in the same folder, when the
    right name depends on what was written (a download that turns out not to be gzip).
    """

    path: Path
    target: Path


@contextlib.contextmanager
def pending_file(target: str | os.PathLike[str]) -> Iterator[PendingFile]:
    """Yield a fresh temporary file beside ``target`` for the caller to fill.

    When the block ends normally the temporary file is renamed onto ``target`` (an
    atomic replace on POSIX, since both are in one folder); when it raises, the
    temporary file is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Beside the target, not in /tmp, so the final rename never crosses file systems.
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=PART_SUFFIX, dir=target.parent)
    os.close(fd)
    pending = PendingFile(Path(name), target)
    try:
        yield pending
        if pending.target.parent != target.parent:
            raise ValueError(f"{pending.target}: must stay in {target.parent}")
        # mkstemp creates the file readable by its owner alone; data files are for all.
        os.chmod(pending.path, 0o644)
        os.replace(pending.path, pending.target)
    except BaseException:
        pending.path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Like ``pending_file`` when the final name is known: yield just the temporary path."""
    with pending_file(target) as pending:
        yield pending.path
