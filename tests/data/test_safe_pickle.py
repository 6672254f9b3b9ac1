"""load_arrays against hostile pickles written opcode by opcode, and the pickles it must read.

Each hostile payload is what NumPy itself writes with one argument or one piece of state
changed. Those that could crash or exhaust the interpreter are loaded in a child process
with a time and memory limit, so that a regression fails its test instead of killing pytest.
"""

from __future__ import annotations

import io
import os
import pickle
import pickletools
import struct
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from dataset_helpers import py2_array

from compgraph.data.safe_pickle import check_array, load_arrays

try:
    import resource
except ImportError:  # not POSIX: children run without a memory limit
    resource = None  # type: ignore[assignment]


def ops(value: Any) -> bytes:
    """The opcodes that push ``value`` onto the unpickler's stack (no PROTO, STOP or memo)."""
    return pickletools.optimize(pickle.dumps(value, protocol=3))[2:-1]


def payload(*parts: bytes) -> bytes:
    return b"\x80\x03" + b"".join(parts) + b"."


def state(byteorder: str = "<", *rest: Any) -> tuple[Any, ...]:
    """A dtype's pickled state: NumPy's own for a plain number type unless ``rest`` is given."""
    return (3, byteorder, *(rest or (None, None, None, -1, -1, 0)))


def dtype_ops(spec: str, dtype_state: tuple[Any, ...] | None = None) -> bytes:
    """``numpy.dtype(spec, False, True)`` then BUILD with its state, as NumPy pickles a dtype."""
    made = b"cnumpy\ndtype\n" + ops((spec, False, True)) + b"R"
    return made + ops(dtype_state or state("|" if spec[-1] == "1" else "<")) + b"b"


def array_ops(shape: Any, dtype: bytes, data: bytes | None) -> bytes:
    """``_reconstruct(ndarray, (0,), b"b")``, then BUILD with ``(1, shape, dtype, False, data)``.

    ``data`` holds the opcodes that push the array's bytes; None leaves the BUILD out.
    """
    made = b"cnumpy.core.multiarray\n_reconstruct\n(cnumpy\nndarray\n" + ops((0,)) + ops(b"b")
    made += b"tR"
    if data is None:
        return made
    return made + b"(" + ops(1) + ops(shape) + dtype + ops(False) + data + b"tb"


def ndarray_call(shape: Any, dtype: bytes, buffer: bytes, strides: tuple[int, ...]) -> bytes:
    """``numpy.ndarray(shape, dtype, buffer, 0, strides)``: any layout over any buffer."""
    return b"cnumpy\nndarray\n(" + ops(shape) + dtype + ops(buffer) + ops(0) + ops(strides) + b"tR"


def frombuffer_ops(data: bytes, dtype: bytes, shape: tuple[int, ...]) -> bytes:
    """``_frombuffer(data, dtype, shape, "C")``, the protocol-5 form of a contiguous array."""
    head = b"cnumpy._core.numeric\n_frombuffer\n(" + ops(data) + dtype
    return head + ops(shape) + ops("C") + b"tR"


# An object dtype whose flags say it holds no objects: the array's bytes become pointers.
OBJECT_UNFLAGGED = dtype_ops("O8", state("|", None, None, None, -1, -1, 0))
NEGATIVE_ITEMSIZE = dtype_ops("V8", state("|", None, None, None, -8, 1, 0))
POINTERS = struct.pack("<2Q", 0x4141414141414141, 0x4242424242424242)
SHARED = b"(" + ops(b"x" * 4096) + b"q\x00"  # a list whose first item is memo entry 0

# Payloads that cannot hurt the interpreter loading them, and what the refusal names.
REFUSED = {
    "structured dtype": (
        array_ops(
            (2,), dtype_ops("V1", state("|", None, ("a",), {"a": ("u1", 0)}, 1, 1, 16)), ops(b"xy")
        ),
        "'V1'",
    ),
    "subarray dtype": (
        array_ops(
            (1,),
            dtype_ops("V8", state("|", (np.dtype("u1"), (8,)), None, None, 8, 1, 0)),
            ops(b"x" * 8),
        ),
        "'V8'",
    ),
    "fields set on a number dtype": (
        array_ops(
            (2,),
            dtype_ops("u1", state("|", None, ("a",), {"a": (np.dtype("u1"), 0)}, 1, 1, 16)),
            ops(b"xy"),
        ),
        "state",
    ),
    "subarray set on a number dtype": (
        array_ops(
            (1,),
            dtype_ops("u1", state("|", (np.dtype("u1"), (8,)), None, None, 8, 1, 0)),
            ops(b"x" * 8),
        ),
        "state",
    ),
    "negative itemsize": (array_ops((0,), NEGATIVE_ITEMSIZE, ops(b"")), "'V8'"),
    "object flags on a float dtype": (
        dtype_ops("f8", state("<", None, None, None, -1, -1, 63)),
        "state",
    ),
    "byte order swapped in the state": (dtype_ops("f8", state("!")), "state"),
    "strides that skip bytes": (ndarray_call((4,), ops("u1"), b"abcdefgh", (2,)), "numpy.ndarray"),
    "shape larger than its data": (
        array_ops((1 << 20,), dtype_ops("f8"), ops(b"x" * 8)),
        "8 bytes",
    ),
    "zero dimension beside huge ones": (
        array_ops((0, 1 << 62, 1 << 62), dtype_ops("u1"), ops(b"")),
        "shape",
    ),
    "negative dimension": (array_ops((-1,), dtype_ops("f8"), ops(b"")), "shape"),
    "33 dimensions": (array_ops((1,) * 33, dtype_ops("i1"), ops(b"x")), "33 dimensions"),
    "array never given its contents": (array_ops((), b"", None), "contents"),
    "one buffer read as 100 arrays": (
        SHARED + b"".join(array_ops((512,), dtype_ops("f8"), b"h\x00") for _ in range(100)) + b"l",
        "more than the",
    ),
    "a set": (b"\x8f(" + ops(1) + b"\x90", "set"),
    "state set on a stand-in": (
        b"cnumpy\ndtype\n" + ops((None, {"__defaults__": ()})) + b"b",
        "dtype",
    ),
    "os.system": (b"cos\nsystem\n" + ops(("true",)) + b"R", "os.system"),
    "persistent id": (ops("42") + b"Q", "persistent"),
    "nested 20 deep": (b"]" * 20 + b"a" * 19, "8 deep"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_hostile_payload_is_refused(case: str) -> None:
    body, reason = REFUSED[case]
    with pytest.raises(pickle.UnpicklingError, match=reason):
        load_arrays(io.BytesIO(payload(body)))


CHILD = """
import pickle, reprlib, sys
from compgraph.data.safe_pickle import load_arrays
try:
    loaded = load_arrays(sys.stdin.buffer)
except pickle.UnpicklingError as exc:
    print("refused:", exc)
else:
    print("loaded:", reprlib.repr(loaded))  # reads array elements, as any use of them would
"""

MEMORY_LIMIT = 2 << 30


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def load_in_child(data: bytes) -> subprocess.CompletedProcess[bytes]:
    """Run load_arrays on ``data`` in a fresh interpreter given 60 s and 2 GiB of address space."""
    return subprocess.run(
        [sys.executable, "-c", CHILD],
        input=data,
        capture_output=True,
        timeout=60,
        # One BLAS thread: each reserves address space, which the limit counts.
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
        preexec_fn=_limit_memory if resource is not None else None,
        check=False,
    )


# Payloads that crashed, hung or exhausted the interpreter that loaded them.
CRASHERS = {
    "object dtype with zeroed flags": (array_ops((2,), OBJECT_UNFLAGGED, ops(POINTERS)), "'O8'"),
    "object dtype with zeroed flags, protocol 5": (
        frombuffer_ops(POINTERS, OBJECT_UNFLAGGED, (2,)),
        "'O8'",
    ),
    "object flags on a float array": (
        array_ops((2,), dtype_ops("f8", state("<", None, None, None, -1, -1, 63)), ops(POINTERS)),
        "state",
    ),
    "negative itemsize over a buffer": (
        ndarray_call((4,), NEGATIVE_ITEMSIZE, b"x" * 8, (-8,)),
        "'V8'",
    ),
    "stride 0, 8 TB": (ndarray_call((1 << 40,), ops("f8"), bytes(8), (0,)), "numpy.ndarray"),
    "shape allocated before its data": (
        b"cnumpy.core.multiarray\n_reconstruct\n(cnumpy\nndarray\n"
        + ops((1 << 40,))
        + ops(b"b")
        + b"tR",
        "_reconstruct",
    ),
}


@pytest.mark.parametrize("case", sorted(CRASHERS))
def test_crashing_payload_is_refused_in_a_child(case: str) -> None:
    body, reason = CRASHERS[case]
    done = load_in_child(payload(body))
    out = done.stdout.decode(errors="replace")
    assert done.returncode == 0, f"child exited {done.returncode}: {done.stderr.decode()[-500:]}"
    assert out.startswith("refused:"), out
    assert reason in out


def test_containers_shared_many_times_are_walked_once() -> None:
    # Eight levels of 1,000 references each to the level below: 10**24 paths, 8,000 lists.
    body = ops(1)
    for _ in range(8):
        body += b"q\x00(" + b"h\x00" * 1000 + b"l"  # memoize the level below, then repeat it
    done = load_in_child(payload(body))
    assert done.returncode == 0, done.stderr.decode()[-500:]
    assert done.stdout.startswith(b"loaded:")


def mnist_like(count: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
    return images, rng.integers(0, 10, count, dtype=np.int64)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_images_and_labels_load(protocol: int) -> None:
    images, labels = mnist_like()
    data = pickle.dumps(
        ((images, labels), [images.transpose(1, 0, 2), labels[:0]]), protocol=protocol
    )
    (got_images, got_labels), (transposed, empty) = load_arrays(io.BytesIO(data))
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    np.testing.assert_array_equal(transposed, images.transpose(1, 0, 2))
    assert got_labels.dtype == np.int64 and empty.shape == (0,)


def test_python2_pickle_loads() -> None:
    images, labels = mnist_like()
    images = images.reshape(len(images), -1)  # flat, as in mnist.pkl.gz (and py2_array)
    data = b"\x80\x02" + py2_array(images) + py2_array(labels) + b"\x86."
    got_images, got_labels = load_arrays(io.BytesIO(data))
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


@pytest.mark.parametrize("dtype", ["?", "i1", "<i2", ">i4", "i8", "u2", ">u4", "u8", "f2", ">f4"])
def test_every_plain_dtype_loads(dtype: str) -> None:
    array = np.arange(6).reshape(2, 3).astype(dtype)
    np.testing.assert_array_equal(load_arrays(io.BytesIO(pickle.dumps(array))), array)


def test_check_array_is_the_last_line_of_defence() -> None:
    # Arrays that only a bug in the unpickler's own checks could let through.
    zero_stride = np.lib.stride_tricks.as_strided(np.zeros(1), (1000,), (0,))
    tampered = np.dtype("O", copy=True)
    tampered.__setstate__(state("|", None, None, None, -1, -1, 0))
    for array, reason in [
        (zero_stride, "strides"),
        (np.zeros((4, 4))[:, ::2], "strides"),
        (np.empty(0, dtype=tampered), "'O'"),
        (np.zeros(2, dtype=[("a", "u1")]), "dtype"),
        (np.zeros((1,) * 33, dtype="u1"), "33 dimensions"),
    ]:
        with pytest.raises(pickle.UnpicklingError, match=reason):
            check_array(array)
    check_array(np.asfortranarray(np.zeros((3, 4))))
