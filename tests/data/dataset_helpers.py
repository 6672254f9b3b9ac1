"""Helpers for the dataset tests: IDX bytes made by hand, fake datasets, a local web server.

IDX bytes are built here with ``struct`` from the format's definition, independently of
``compgraph.data.idx``, so the tests compare the library against the format itself.
"""

from __future__ import annotations

import gzip
import hashlib
import socket
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

# Type codes from the IDX definition, with the big-endian element layout of each.
IDX_CODES = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """The uncompressed IDX encoding of ``array``, built from the format's definition."""
    code = IDX_CODES[f"{array.dtype.kind}{array.dtype.itemsize}"]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@dataclass
class FakeDataset:
    """Small MNIST-shaped splits, their IDX encodings and the MD5s that go with them."""

    arrays: dict[str, np.ndarray]
    encoded: dict[str, bytes] = field(init=False)
    md5: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.encoded = {name: idx_bytes(a) for name, a in self.arrays.items()}
        self.md5 = {name: hashlib.md5(b).hexdigest() for name, b in self.encoded.items()}

    def write(self, folder: Path, *, compress: bool = True) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self.encoded.items():
            if compress:
                (folder / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (folder / name).write_bytes(data)


def make_fake_arrays(seed: int, n_train: int = 6, n_test: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.routes``: path -> (behaviour, body)."""

    server: Server
    timeout = 5  # a stuck client cannot hold a server thread for long

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        behaviour, body = self.server.routes.get(self.path, ("404", b""))
        if behaviour == "404":
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if behaviour == "drop":
            # Half the promised bytes, then the connection closes.
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        if behaviour == "stall":
            self.wfile.flush()
            self.server.release.wait(3)
            return
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, tuple[str, bytes]] = {}
        self.requests: list[str] = []
        self.release = threading.Event()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def py2_array(array: np.ndarray) -> bytes:
    """Opcodes that Python 2 with NumPy 1 wrote for ``array`` (as in mnist.pkl.gz)."""
    shape = (
        b"".join(b"J" + struct.pack("<i", n) for n in array.shape)
        + b"\x85\x86"[array.ndim - 1 : array.ndim]
    )
    dtype = b"cnumpy\ndtype\nU\x02" + array.dtype.str[1:].encode() + b"K\x00K\x01\x87R"
    dtype += b"(K\x03U\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    data = (
        b"T"
        + struct.pack("<I", array.nbytes)
        + array.astype(array.dtype.newbyteorder("<")).tobytes()
    )
    head = b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R"
    return head + b"(K\x01" + shape + dtype + b"\x89" + data + b"tb"
