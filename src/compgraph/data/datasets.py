"""MNIST and Fashion-MNIST as arrays: verified on every load, downloaded when missing."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from compgraph.data.catalog import SPLITS, get_spec
from compgraph.data.checksums import ChecksumError
from compgraph.data.idx import IdxFormatError, read_idx
from compgraph.data.sources import Announce, Source, obtain, print_announcement


def read_verified_idx(path: Path, md5: str) -> NDArray[Any]:
    """Read an IDX file and check the MD5 of its uncompressed content in the same pass."""
    digest = hashlib.md5(usedforsecurity=False)
    array = read_idx(path, hasher=digest)
    if digest.hexdigest() != md5:
        raise ChecksumError(
            path, f"checksum mismatch: content MD5 is {digest.hexdigest()}, expected {md5}"
        )
    return array


class IdxImageDataset:
    """One split of an MNIST-like dataset: 28×28 uint8 images and uint8 labels.

    Files are looked for in ``<root>/<dataset>/`` (``root`` defaults to
    ``$COMPGRAPH_DATA``, else ``~/.cache/compgraph``) and in read-only system roots such
    as ``/usr/share/datasets``; if missing and ``download`` is true they are fetched.
    Every file is verified against the MD5 of its uncompressed content as it is read.
    """

    dataset: ClassVar[str]

    images: NDArray[np.uint8]
    labels: NDArray[np.uint8]

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        split: str = "train",
        download: bool = True,
        *,
        sources: Sequence[Source] | None = None,
        announce: Announce = print_announcement,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {sorted(SPLITS)}, not {split!r}")
        spec = get_spec(self.dataset)
        image_file, label_file = spec.files(split)
        loaded = obtain(
            spec,
            [image_file, label_file],
            root,
            read_verified_idx,
            download=download,
            sources=sources,
            announce=announce,
        )
        images, labels = loaded[image_file], loaded[label_file]
        # The checksums make these hold for the real files; a spec swapped in by a test
        # or a future dataset might not, and the rest of the library relies on them.
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise IdxFormatError(
                f"{spec.dirname}/{image_file}",
                f"expected uint8 N×28×28 images, got {images.dtype} {images.shape}",
            )
        if labels.dtype != np.uint8 or labels.shape != images.shape[:1]:
            raise IdxFormatError(
                f"{spec.dirname}/{label_file}",
                f"expected {len(images)} uint8 labels, got {labels.dtype} {labels.shape}",
            )
        self.split = split
        self.classes: list[str] = list(spec.classes)
        self.images = images
        self.labels = labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: Any) -> tuple[Any, Any]:
        """``(image, label)`` for an integer; ``(images, labels)`` for a slice or index array."""
        return self.images[index], self.labels[index]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(split={self.split!r}, images={self.images.shape})"


class MNIST(IdxImageDataset):
    """Handwritten digits: 60,000 training and 10,000 test images, classes ``"0"``–``"9"``."""

    dataset = "mnist"


class FashionMNIST(IdxImageDataset):
    """Zalando's clothing images: 60,000 training and 10,000 test images in ten classes."""

    dataset = "fashion-mnist"
