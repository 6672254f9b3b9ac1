"""Downloading dataset files over HTTP(S) from mirrors, verified before they get their names."""

from __future__ import annotations

import functools
import http.client
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tqdm import tqdm

from compgraph.data.catalog import DatasetSpec
from compgraph.data.checksums import ChecksumError, is_gzip, verify_md5
from compgraph.data.errors import PartialFetch, SourceError, SourceUnreachable
from compgraph.files import pending_file

_CHUNK = 1 << 16
_USER_AGENT = "compgraph-data (python urllib)"


class _Transient(SourceError):
    """A failure that another try of the same URL may not repeat."""


class _ReadTimeoutMixin:
    """Connect under the short timeout urllib passes, then wait longer for data.

    A host that cannot be reached should be given up on within seconds, but a slow,
    working server may pause for longer than that mid-transfer.
    """

    sock: socket.socket | None

    def __init__(self, *args: Any, read_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read_timeout = read_timeout

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        assert self.sock is not None
        self.sock.settimeout(self.read_timeout)


class _HTTPConnection(_ReadTimeoutMixin, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_ReadTimeoutMixin, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, read_timeout: float) -> None:
        super().__init__()
        self.read_timeout = read_timeout

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        factory = functools.partial(_HTTPConnection, read_timeout=self.read_timeout)
        return self.do_open(factory, req)  # type: ignore[arg-type]


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, read_timeout: float) -> None:
        super().__init__()
        self.read_timeout = read_timeout

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        factory = functools.partial(_HTTPSConnection, read_timeout=self.read_timeout)
        return self.do_open(factory, req, context=self._context)  # type: ignore[arg-type,attr-defined]


def _open(url: str, connect_timeout: float, read_timeout: float) -> http.client.HTTPResponse:
    """Open ``url``; failures become ``SourceUnreachable``, ``_Transient`` or ``SourceError``."""
    opener = urllib.request.build_opener(_HTTPHandler(read_timeout), _HTTPSHandler(read_timeout))
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        return opener.open(request, timeout=connect_timeout)  # type: ignore[no-any-return]
    except urllib.error.HTTPError as exc:
        exc.close()
        message = f"HTTP {exc.code} {exc.reason}"
        raise (_Transient(message) if exc.code >= 500 else SourceError(message)) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, socket.gaierror):
            raise SourceUnreachable(f"cannot resolve host ({reason.strerror})") from None
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise SourceUnreachable(f"no connection within {connect_timeout:g} s") from None
        raise SourceUnreachable(f"cannot connect ({reason})") from None
    except (OSError, http.client.HTTPException) as exc:
        raise _Transient(f"connection failed ({exc!r})") from None


def fetch_url(
    url: str,
    folder: Path,
    name: str,
    md5: str,
    *,
    connect_timeout: float = 5.0,
    read_timeout: float = 30.0,
    retries: int = 2,
    backoff: float = 1.0,
) -> Path:
    """Download ``url`` into ``folder`` as ``name`` (plus ``.gz`` when it is gzip) and verify it.

    The transfer streams into a temporary file beside the target, with a progress bar on
    a terminal; the file is renamed only after the MD5 of its uncompressed content equals
    ``md5``. Interrupted transfers and server errors are retried ``retries`` more times
    with growing pauses; a wrong checksum, a 4xx answer or an unreachable host are not.
    """
    attempts = max(retries, 0) + 1
    failure = SourceError("no attempt made")
    for attempt in range(attempts):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            return _fetch_once(url, folder, name, md5, connect_timeout, read_timeout)
        except _Transient as exc:
            failure = exc
    raise SourceError(f"{failure} (tried {attempts} times)")


def _fetch_once(
    url: str, folder: Path, name: str, md5: str, connect_timeout: float, read_timeout: float
) -> Path:
    with pending_file(folder / f"{name}.gz") as pending:
        response = _open(url, connect_timeout, read_timeout)
        length = response.length  # None when the server sends no Content-Length
        received = 0
        try:
            with (
                response,
                open(pending.path, "wb") as out,
                # disable=None: a bar on a terminal, silence in logs and pipes.
                tqdm(total=length, desc=name, unit="B", unit_scale=True, disable=None) as bar,
            ):
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        except (OSError, http.client.HTTPException) as exc:
            raise _Transient(f"transfer broke off after {received} bytes ({exc!r})") from None
        if length is not None and received < length:
            raise _Transient(f"transfer broke off after {received} bytes")
        try:
            verify_md5(pending.path, md5)
        except ChecksumError as exc:
            raise SourceError(exc.problem) from None
        if not is_gzip(pending.path):
            pending.target = folder / name
        return pending.target


class MirrorSource:
    """A web folder holding a dataset's files as ``<base_url><name>.gz``."""

    def __init__(self, base_url: str, **fetch_options: Any) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.fetch_options = fetch_options

    def __str__(self) -> str:
        return self.base_url

    def fetch(self, spec: DatasetSpec, names: list[str], folder: Path) -> dict[str, Path]:
        """Download each of ``names``; raise ``PartialFetch`` listing what failed, if any did."""
        got: dict[str, Path] = {}
        problems: list[str] = []
        for name in names:
            url = f"{self.base_url}{name}.gz"
            try:
                got[name] = fetch_url(url, folder, name, spec.md5[name], **self.fetch_options)
            except SourceUnreachable as exc:
                # Every other file would fail the same way; don't wait for each of them.
                problems.append(str(exc))
                break
            except SourceError as exc:
                problems.append(f"{name}.gz: {exc}")
        if problems:
            raise PartialFetch(got, "; ".join(problems))
        return got
