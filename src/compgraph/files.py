"""Files written whole or not at all: every file compgraph writes goes through here.

A file is filled under a unique temporary name beside its target, flushed to disk,
renamed onto the target (atomic on POSIX and Windows within one folder) and the
folder's entry flushed too, so that a crash or a ``kill -9`` at any moment leaves
either the old file or the new one, never half of one. Temporary names carry the
writer's process id: a temporary whose process has died is a leftover, and
:func:`remove_stale_temporaries` deletes it — never one whose owner still runs.
Checkpoints, run metrics and configs, pictures and downloads all use this module.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: The suffix of every temporary file (``.model.npz.<pid>.<random>.part``).
TEMP_SUFFIX = ".part"
_TEMPORARY = re.compile(r"^\..+\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.part$")


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

    When the block ends normally the file is flushed to disk and renamed onto
    ``target``, and the folder is flushed; when it raises, the temporary file is
    removed and ``target`` is left as it was. The folder is created if missing.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Beside the target, not in /tmp, so the final rename never crosses file systems.
    fd, name = tempfile.mkstemp(
        prefix=f".{target.name}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=target.parent
    )
    os.close(fd)
    pending = PendingFile(Path(name), target)
    try:
        yield pending
        if pending.target.parent != target.parent:
            raise ValueError(f"{pending.target}: must stay in {target.parent}")
        _flush_file(pending.path)
        # mkstemp creates the file readable by its owner alone; these files are for all.
        os.chmod(pending.path, 0o644)
        os.replace(pending.path, pending.target)
        fsync_directory(pending.target.parent)
    except BaseException:
        pending.path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Like :func:`pending_file` when the final name is known: yield the temporary path."""
    with pending_file(target) as pending:
        yield pending.path


def write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` whole or not at all."""
    with atomic_path(target) as path:
        path.write_bytes(data)
    return Path(target)


def write_text(target: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` whole or not at all."""
    return write_bytes(target, text.encode("utf-8"))


def _flush_file(path: Path) -> None:
    with open(path, "rb+") as file:
        os.fsync(file.fileno())


def fsync_directory(folder: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (a rename into it) to disk.

    POSIX only: Windows cannot open a folder as a file, and its renames are flushed
    with the file system's journal; there this does nothing.
    """
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some file systems (network, FUSE) refuse to sync a folder
        pass
    finally:
        os.close(fd)


def process_is_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (True when that cannot be told)."""
    if sys.platform == "win32":  # os.kill(pid, 0) would send Ctrl-C there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, under another user
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files in ``folder`` whose writing process has died.

    Returns the files removed. Files of running processes are left alone; on Windows,
    where a process's liveness is not checked, nothing is removed.
    """
    removed = []
    with contextlib.suppress(OSError):
        for path in Path(folder).iterdir():
            match = _TEMPORARY.match(path.name)
            if match and not process_is_alive(int(match["pid"])):
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed.append(path)
    return removed
