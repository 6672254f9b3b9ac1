"""read_idx and write_idx: round trips, the on-disk layout, and every malformed case."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest
from dataset_helpers import idx_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compgraph.data import MNIST, IdxFormatError, read_idx, write_idx
from compgraph.data import idx as idx_module

DTYPES = ["u1", "i1", "i2", "i4", "f4", "f8"]


def sample(dtype: str, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype.startswith("f"):
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, endpoint=True, dtype=dtype)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_every_type(tmp_path: Path, dtype: str, compress: bool) -> None:
    array = sample(dtype, (3, 4, 5))
    path = write_idx(tmp_path / "a.idx", array, compress=compress)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype).newbyteorder("=")
    assert back.dtype.isnative
    np.testing.assert_array_equal(back, array)


@pytest.mark.parametrize("dtype", DTYPES)
def test_written_bytes_follow_the_format(tmp_path: Path, dtype: str) -> None:
    array = sample(dtype, (2, 7), seed=3)
    raw = write_idx(tmp_path / "raw", array)
    packed = write_idx(tmp_path / "packed.gz", array)
    assert raw.read_bytes() == idx_bytes(array)
    assert gzip.decompress(packed.read_bytes()) == idx_bytes(array)


@pytest.mark.parametrize("shape", [(0,), (5,), (1, 1), (0, 28, 28), (2, 1, 3, 1, 2)])
def test_round_trip_shapes(tmp_path: Path, shape: tuple[int, ...]) -> None:
    array = sample("i2", shape, seed=5)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "s.gz", array)), array)


def test_gzip_is_decided_by_magic_not_name(tmp_path: Path) -> None:
    array = sample("u1", (4, 28, 28))
    misnamed_gzip = tmp_path / "images-idx3-ubyte"
    misnamed_raw = tmp_path / "images-idx3-ubyte.gz"
    misnamed_gzip.write_bytes(gzip.compress(idx_bytes(array)))
    misnamed_raw.write_bytes(idx_bytes(array))
    np.testing.assert_array_equal(read_idx(misnamed_gzip), array)
    np.testing.assert_array_equal(read_idx(misnamed_raw), array)


def test_multi_member_gzip_is_one_stream(tmp_path: Path) -> None:
    data = idx_bytes(sample("f8", (10, 3)))
    path = tmp_path / "m.gz"
    path.write_bytes(gzip.compress(data[:30]) + gzip.compress(data[30:]))
    np.testing.assert_array_equal(read_idx(path), sample("f8", (10, 3)))


@pytest.mark.parametrize("compress", [False, True])
def test_hasher_sees_the_uncompressed_file(tmp_path: Path, compress: bool) -> None:
    array = sample("i4", (6, 2))
    digest = hashlib.md5()
    read_idx(write_idx(tmp_path / "h", array, compress=compress), hasher=digest)
    assert digest.hexdigest() == hashlib.md5(idx_bytes(array)).hexdigest()


def test_write_replaces_atomically_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "x.gz"
    write_idx(target, sample("u1", (2, 2)))
    with pytest.raises(TypeError, match="int64"):
        write_idx(target, np.zeros((2, 2), dtype=np.int64))
    np.testing.assert_array_equal(read_idx(target), sample("u1", (2, 2)))
    assert [p.name for p in tmp_path.iterdir()] == ["x.gz"]


def test_write_refuses_scalars(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="0"):
        write_idx(tmp_path / "s", np.uint8(3))


GOOD = idx_bytes(np.arange(12, dtype=np.int16).reshape(3, 4))
# An empty array whose other sizes multiply past what NumPy can index: no payload at all.
EMPTY_BUT_HUGE = b"\x00\x00\x08\x03" + struct.pack(">3I", 0, 2**32 - 1, 2**32 - 1)

MALFORMED = {
    "empty": (b"", "shorter than the 4-byte magic"),
    "bad magic": (b"\x01\x00" + GOOD[2:], "bad magic"),
    "unknown type code": (GOOD[:2] + b"\x0a" + GOOD[3:], "unknown element type code 0x0a"),
    "zero dimensions": (b"\x00\x00\x08\x00", "zero dimensions"),
    "too many dimensions": (b"\x00\x00\x08\x21" + b"\x00\x00\x00\x01" * 33, "33 dimensions"),
    "header cut short": (GOOD[:9], "2 dimensions but ends after 5 bytes of sizes"),
    "payload too short": (GOOD[:-1], "shorter than the header"),
    "payload too long": (GOOD + b"\x00", "longer than the header"),
    "huge shape": (b"\x00\x00\x0e\x02" + b"\xff\xff\xff\xff" * 2 + b"\x00" * 8, "shorter than"),
    "zero size beside huge ones": (
        EMPTY_BUT_HUGE,
        r"sizes \(0, 4294967295, 4294967295\) hold a zero",
    ),
}


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_files_raise_naming_the_file(tmp_path: Path, case: str, compress: bool) -> None:
    data, message = MALFORMED[case]
    path = tmp_path / "bad-file"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(IdxFormatError, match=message) as caught:
        read_idx(path)
    assert str(path) in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda z: z[:-12], id="truncated stream"),
        pytest.param(lambda z: z[:-8] + struct.pack("<I", 1234) + z[-4:], id="bad crc"),
        pytest.param(lambda z: z[:20] + bytes(b ^ 0x55 for b in z[20:40]) + z[40:], id="garbage"),
        pytest.param(lambda z: z[:3] + b"\xff" + z[4:], id="bad header flags"),
    ],
)
def test_broken_gzip_stream(tmp_path: Path, damage) -> None:
    valid = gzip.compress(idx_bytes(sample("f4", (50, 40))))
    path = tmp_path / "broken.gz"
    path.write_bytes(damage(valid))
    with pytest.raises(IdxFormatError, match="broken gzip stream") as caught:
        read_idx(path)
    assert str(path) in str(caught.value)


def test_gzip_payload_over_the_declared_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idx_module, "MAX_DECLARED_BYTES", 100)
    array = sample("u1", (10, 20))  # 200 bytes: too many to take on a gzip header's word
    with pytest.raises(IdxFormatError, match="more than the 100 read from a gzip file; gunzip"):
        read_idx(write_idx(tmp_path / "a.gz", array))
    # A raw file's own size vouches for its payload, so no such limit applies to it.
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "a", array)), array)


def test_broken_raw_file_beside_a_valid_gz_is_passed_over(
    fake_mnist, data_root: Path, announcements
) -> None:
    lines, announce = announcements
    fake_mnist.write(data_root / "mnist", compress=True)
    broken = data_root / "mnist" / "train-labels-idx1-ubyte"  # tried before the .gz beside it
    broken.write_bytes(EMPTY_BUT_HUGE)
    train = MNIST(download=False, announce=announce)
    np.testing.assert_array_equal(train.labels, fake_mnist.arrays["train-labels-idx1-ubyte"])
    assert any(f"passing over {broken}" in line and "hold a zero" in line for line in lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(
        st.binary(max_size=200),
        st.binary(max_size=200).map(lambda b: b"\x00\x00" + b),
        st.binary(max_size=200).map(lambda b: GOOD[:4] + b),
        st.binary(max_size=200).map(gzip.compress),
        st.binary(max_size=200).map(lambda b: b"\x1f\x8b" + b),
        st.binary(max_size=200).map(lambda b: gzip.compress(GOOD[:8] + b)),
    )
)
def test_arbitrary_bytes_give_an_array_or_idx_format_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "f"
    path.write_bytes(data)
    try:
        array = read_idx(path)
    except IdxFormatError:
        return
    # Only a well-formed file is accepted: re-encoding must reproduce its content.
    content = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    assert idx_bytes(array) == content
