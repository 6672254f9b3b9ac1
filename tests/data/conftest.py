"""Fixtures for the dataset tests; the helpers they use live in dataset_helpers.py."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from dataset_helpers import FakeDataset, Server, make_fake_arrays

from compgraph.data import catalog, sources


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty default root, with no system roots, so nothing outside tmp_path is seen."""
    root = tmp_path / "root"
    monkeypatch.setenv(sources.ENV_VAR, str(root))
    monkeypatch.setattr(sources, "SYSTEM_ROOTS", [])
    return root


@pytest.fixture
def fake_mnist(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> FakeDataset:
    """Fake MNIST data whose MD5s replace the real ones, with no network sources."""
    fake = FakeDataset(make_fake_arrays(seed=1))
    spec = replace(catalog.SPECS["mnist"], md5=fake.md5, mirrors=(), wheel=None)
    monkeypatch.setitem(catalog.SPECS, "mnist", spec)
    return fake


@pytest.fixture
def http_server() -> Iterator[Server]:
    """A web server on 127.0.0.1 for this test only, stopped when it ends."""
    server = Server()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def announcements() -> tuple[list[str], Callable[[str], None]]:
    """A list that collects announced lines, and the announcer that appends to it."""
    lines: list[str] = []
    return lines, lines.append
