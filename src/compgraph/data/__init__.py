"""Datasets: the IDX format, MNIST and Fashion-MNIST, batching and batch transforms.

This package stands alone: it needs NumPy, tqdm and the standard library, and from the
rest of compgraph only ``compgraph.random`` (the generator ``manual_seed`` seeds).

>>> from compgraph.data import MNIST, DataLoader
>>> train = MNIST(split="train")  # doctest: +SKIP
>>> for x, y in DataLoader(train, batch_size=100, seed=0):  # doctest: +SKIP
...     ...  # x: float32 (100, 784) in [0, 1]; y: int64 (100,)
"""

from compgraph.data.catalog import SPECS, DatasetSpec, WheelSpec
from compgraph.data.checksums import ChecksumError, content_md5
from compgraph.data.datasets import MNIST, FashionMNIST, IdxImageDataset
from compgraph.data.download import MirrorSource
from compgraph.data.errors import DatasetUnavailableError, SourceError
from compgraph.data.idx import IdxFormatError, read_idx, write_idx
from compgraph.data.loader import DataLoader, one_hot
from compgraph.data.package_index import PackageIndexSource
from compgraph.data.sources import SYSTEM_ROOTS, default_root, download, search_roots
from compgraph.data.synthetic import Synthetic
from compgraph.data.transforms import Normalize

__all__ = [
    "MNIST",
    "SPECS",
    "SYSTEM_ROOTS",
    "ChecksumError",
    "DataLoader",
    "DatasetSpec",
    "DatasetUnavailableError",
    "FashionMNIST",
    "IdxFormatError",
    "IdxImageDataset",
    "MirrorSource",
    "Normalize",
    "PackageIndexSource",
    "SourceError",
    "Synthetic",
    "WheelSpec",
    "content_md5",
    "default_root",
    "download",
    "one_hot",
    "read_idx",
    "search_roots",
    "write_idx",
]
