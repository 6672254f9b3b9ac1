"""Downloads from mirrors on a local web server: good, wrong, cut off, missing, unreachable."""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from dataset_helpers import FakeDataset, Server, closed_port

from compgraph.data import DatasetUnavailableError, MirrorSource, download, read_idx
from compgraph.data.catalog import SPECS
from compgraph.data.errors import SourceError
from compgraph.data.idx import write_idx

FAST = {"retries": 1, "backoff": 0.0, "connect_timeout": 2.0, "read_timeout": 2.0}


def serve(server: Server, prefix: str, fake: FakeDataset, behaviour: str = "ok") -> MirrorSource:
    for name, data in fake.encoded.items():
        server.routes[f"{prefix}{name}.gz"] = (behaviour, gzip.compress(data))
    return MirrorSource(server.url(prefix), **FAST)


def assert_only_final_files(folder: Path, names: set[str]) -> None:
    present = {p.name for p in folder.iterdir()} if folder.exists() else set()
    assert present == names


def all_gz(fake: FakeDataset) -> set[str]:
    return {f"{name}.gz" for name in fake.encoded}


def test_good_mirror(fake_mnist, data_root, http_server, announcements) -> None:
    lines, announce = announcements
    mirror = serve(http_server, "/good/", fake_mnist)
    paths = download("mnist", sources=[mirror], announce=announce)
    folder = data_root / "mnist"
    assert_only_final_files(folder, all_gz(fake_mnist))
    for name, array in fake_mnist.arrays.items():
        assert paths[name] == folder / f"{name}.gz"
        np.testing.assert_array_equal(read_idx(paths[name]), array)
    assert any("trying http://127.0.0.1" in line for line in lines)
    # A second call finds every file in the root and asks no server.
    count = len(http_server.requests)
    download("mnist", sources=[mirror], announce=announce)
    assert len(http_server.requests) == count


def test_a_killed_downloads_partial_file_is_removed_by_the_next(
    fake_mnist, data_root, http_server, announcements
) -> None:
    folder = data_root / "mnist"
    folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    partial = folder / f".train-images-idx3-ubyte.gz.{dead}.k1ll3d.part"
    partial.write_bytes(b"half a download")
    download("mnist", sources=[serve(http_server, "/good/", fake_mnist)], announce=lambda _: 0)
    assert_only_final_files(folder, all_gz(fake_mnist))


def test_wrong_checksum_moves_on_to_next_mirror(fake_mnist, data_root, http_server, announcements):
    lines, announce = announcements
    impostor = FakeDataset(dict(fake_mnist.arrays))
    impostor.encoded = {n: b[:-1] + bytes([b[-1] ^ 1]) for n, b in impostor.encoded.items()}
    bad = serve(http_server, "/bad/", impostor)
    good = serve(http_server, "/good/", fake_mnist)
    paths = download("mnist", sources=[bad, good], announce=announce)
    for name, array in fake_mnist.arrays.items():
        np.testing.assert_array_equal(read_idx(paths[name]), array)
    failure = next(line for line in lines if "/bad/ failed" in line)
    assert "checksum mismatch" in failure
    assert_only_final_files(data_root / "mnist", all_gz(fake_mnist))


def test_wrong_checksum_alone_is_an_error_and_leaves_nothing(fake_mnist, data_root, http_server):
    impostor = FakeDataset({n: a[::-1].copy() for n, a in fake_mnist.arrays.items()})
    bad = serve(http_server, "/bad/", impostor)
    with pytest.raises(DatasetUnavailableError, match="checksum mismatch") as caught:
        download("mnist", sources=[bad], announce=lambda _: None)
    assert bad.base_url in str(caught.value)
    assert_only_final_files(data_root / "mnist", set())


def test_dropped_connection_is_retried_then_next_mirror(fake_mnist, data_root, http_server):
    cut = serve(http_server, "/cut/", fake_mnist, behaviour="drop")
    good = serve(http_server, "/good/", fake_mnist)
    paths = download("mnist", sources=[cut, good], announce=lambda _: None)
    name = "train-images-idx3-ubyte"
    assert http_server.requests.count(f"/cut/{name}.gz") == FAST["retries"] + 1
    np.testing.assert_array_equal(read_idx(paths[name]), fake_mnist.arrays[name])
    assert_only_final_files(data_root / "mnist", all_gz(fake_mnist))


def test_dropped_connection_alone_leaves_no_partial_file(fake_mnist, data_root, http_server):
    cut = serve(http_server, "/cut/", fake_mnist, behaviour="drop")
    with pytest.raises(DatasetUnavailableError, match="broke off") as caught:
        download("mnist", sources=[cut], announce=lambda _: None)
    assert "tried 2 times" in str(caught.value)
    assert_only_final_files(data_root / "mnist", set())


def test_not_found_everywhere_lists_each_source(fake_mnist, data_root, http_server):
    first = MirrorSource(http_server.url("/a/"), **FAST)
    second = MirrorSource(http_server.url("/b/"), **FAST)
    with pytest.raises(DatasetUnavailableError) as caught:
        download("mnist", sources=[first, second], announce=lambda _: None)
    message = str(caught.value)
    assert f"{first.base_url}: train-images-idx3-ubyte.gz: HTTP 404" in message
    assert f"{second.base_url}: train-images-idx3-ubyte.gz: HTTP 404" in message
    assert "files already in a data root" in message
    assert "--data-dir" in message and str(data_root / "mnist") in message
    # A 404 is an answer, not a transient failure: one request per file and mirror.
    assert len(http_server.requests) == 2 * len(fake_mnist.encoded)
    assert_only_final_files(data_root / "mnist", set())


def test_uncompressed_file_keeps_its_plain_name(fake_mnist, data_root, http_server):
    for name, data in fake_mnist.encoded.items():
        http_server.routes[f"/plain/{name}.gz"] = ("ok", data)
    paths = download("mnist", sources=[MirrorSource(http_server.url("/plain/"), **FAST)])
    assert_only_final_files(data_root / "mnist", set(fake_mnist.encoded))
    name = "t10k-labels-idx1-ubyte"
    np.testing.assert_array_equal(read_idx(paths[name]), fake_mnist.arrays[name])


def test_unreachable_host_is_given_up_quickly(fake_mnist, data_root, announcements):
    lines, announce = announcements
    mirror = MirrorSource(f"http://127.0.0.1:{closed_port()}/", **FAST)
    start = time.monotonic()
    with pytest.raises(DatasetUnavailableError, match="cannot connect"):
        download("mnist", sources=[mirror], announce=announce)
    assert time.monotonic() - start < 2
    # One reason for the host, not one per file.
    assert sum("failed" in line for line in lines) == 1
    assert lines[-1].count("cannot connect") == 1


def test_stalled_transfer_times_out(fake_mnist, data_root, http_server):
    stalled = serve(http_server, "/stall/", fake_mnist, behaviour="stall")
    stalled.fetch_options = {**FAST, "retries": 0, "read_timeout": 0.3}
    start = time.monotonic()
    with pytest.raises(SourceError, match="broke off"):
        stalled.fetch(SPECS["mnist"], ["t10k-labels-idx1-ubyte"], data_root / "mnist")
    assert time.monotonic() - start < 2.5
    assert_only_final_files(data_root / "mnist", set())


def test_existing_verified_file_is_not_fetched_again(fake_mnist, data_root, http_server):
    folder = data_root / "mnist"
    name = "train-images-idx3-ubyte"
    write_idx(folder / name, fake_mnist.arrays[name])  # uncompressed, as a user may leave it
    good = serve(http_server, "/good/", fake_mnist)
    paths = download("mnist", sources=[good], announce=lambda _: None)
    assert paths[name] == folder / name
    assert f"/good/{name}.gz" not in http_server.requests
    assert len(http_server.requests) == 3
