"""Run folders: created exclusively, locked while a run uses them, never clobbered.

A folder that holds a run (any of :data:`RUN_FILES`) is continued only with
``--resume``, or replaced only with ``--overwrite``. Default names
(``runs/<timestamp>``) are created with an exclusive ``mkdir``, so two runs started
in the same second get two folders. While a run uses its folder it holds a lock that
the operating system releases when the process ends however it ends (``flock`` on
POSIX, ``msvcrt.locking`` on Windows), so a second process is kept out of a live run
with one clear line, and a run killed with ``kill -9`` leaves no stale lock behind.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

#: The files of a run; a folder holding any of them holds a run.
RUN_FILES = ("config.json", "metrics.jsonl", "model.npz", "curves.png")
LOCK_NAME = ".lock"


class RunFolderError(Exception):
    """A run folder that cannot be used as asked; the message says why and what to do."""


def holds_a_run(folder: Path) -> bool:
    return any((folder / name).exists() for name in RUN_FILES)


def shown(path: Path | str) -> str:
    """A path as an error message shows it: whole, or its two ends if it is very long."""
    text = str(path)
    return text if len(text) <= 120 else f"{text[:60]}…{text[-40:]} ({len(text)} characters)"


def check_folder(folder: Path, option: str = "--out") -> None:
    """Refuse a folder path that cannot hold a run, naming the option and the fix."""
    if str(folder) in ("", "."):
        raise RunFolderError(f"{option} is empty; give a folder, e.g. {option} runs/first")
    try:
        if folder.exists() and not folder.is_dir():
            raise RunFolderError(f"{option} {shown(folder)} is a file, not a folder")
        for parent in folder.parents:
            if parent.exists() and not parent.is_dir():
                raise RunFolderError(
                    f"{option} {shown(folder)}: {shown(parent)} is a file, not a folder"
                )
    except OSError as error:  # a name too long, a loop of links
        raise RunFolderError(f"{option} {shown(folder)}: {error.strerror}") from None


def create_folder(folder: Path, option: str = "--out") -> None:
    """Create ``folder`` (and its parents), or say in one line why it cannot be."""
    check_folder(folder, option)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunFolderError(
            f"{option} {shown(folder)}: cannot create it ({error.strerror})"
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise RunFolderError(f"{option} {shown(folder)}: not writable; choose another folder")


def new_run_folder(root: Path = Path("runs")) -> Path:
    """A new folder ``root/<timestamp>`` (``-2``, ``-3``, … for runs started together)."""
    create_folder(root, "runs folder")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for attempt in range(1, 1000):
        folder = root / (stamp if attempt == 1 else f"{stamp}-{attempt}")
        try:
            folder.mkdir()  # exclusive: fails if another run made it first
        except FileExistsError:
            continue
        except OSError as error:
            raise RunFolderError(f"cannot create {folder} ({error.strerror})") from None
        return folder
    raise RunFolderError(f"{root}: a thousand runs started in one second; use --out")


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s lock for the duration of the block.

    Raises:
        RunFolderError: another process holds it (its pid is named).
    """
    path = folder / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise RunFolderError(f"{folder}: cannot create its lock file ({error.strerror})") from None
    try:
        if not _try_lock(fd):
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() if _HAS_PREAD else "?"
            raise RunFolderError(
                f"{folder} is in use by another compgraph process (pid {owner or '?'}); "
                "wait for it to finish, or choose another --out"
            )
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


_HAS_PREAD = hasattr(os, "pread")


def _try_lock(fd: int) -> bool:
    """Take an exclusive, non-blocking lock on ``fd``; False if another process holds it."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        import fcntl
    except ImportError:  # neither POSIX nor Windows: runs are not protected from each other
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def clear_run(folder: Path) -> None:
    """Remove a finished run's files (``--overwrite``), under the folder's lock."""
    for name in RUN_FILES:
        (folder / name).unlink(missing_ok=True)
