"""Save and load models and training state as ``.npz`` files, never with pickle.

A checkpoint holds the weights (``model/<name>``), optionally the optimizer's
state (``optimizer/<name>``: its arrays, and its name and parameter groups' settings
as JSON text), the architecture and free-form metadata as JSON
strings, and a format marker ``compgraph-checkpoint-<version>``. It is written
through :mod:`compgraph.files`, so a crash never leaves half a checkpoint.

Reading trusts nothing in the file: every member's header (dtype, shape) and its
sizes in the archive are checked, and the architecture's weight shapes compared
with the weights present, before any array is read or any model is built — so a
small file cannot make compgraph allocate gigabytes.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npy
from numpy.typing import NDArray

from compgraph import files
from compgraph.nn.config import from_config, state_shapes, to_config
from compgraph.nn.module import Module

FORMAT_PREFIX = "compgraph-checkpoint-"
#: The version this compgraph writes, and the oldest it reads.
FORMAT_VERSION, OLDEST_VERSION = 1, 1
FORMAT = f"{FORMAT_PREFIX}{FORMAT_VERSION}"

#: compgraph stores members uncompressed; a member inflating more than this is a zip bomb.
_MAX_INFLATION = 100
#: Text members (the format, architecture and metadata) are small.
_MAX_TEXT_BYTES = 16 * 1024 * 1024
_NUMERIC_KINDS = "biuf"


class CheckpointError(ValueError):
    """A file that is not a compgraph checkpoint, or one that does not fit the model."""


@dataclass
class Checkpoint:
    """What :func:`read_checkpoint` finds in a file."""

    model_state: dict[str, NDArray[Any]]
    optimizer_state: dict[str, NDArray[Any]] = field(default_factory=dict)
    architecture: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def save(
    path: str | os.PathLike[str],
    model: Module,
    optimizer: Any = None,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` (and ``optimizer``'s state, and ``meta``) to ``path`` atomically."""
    arrays: dict[str, Any] = {"__format__": np.array(FORMAT)}
    with contextlib.suppress(TypeError):  # a custom module without config(): weights only
        arrays["__architecture__"] = np.array(json.dumps(to_config(model)))
    arrays["__meta__"] = np.array(json.dumps(meta or {}))
    arrays.update((f"model/{name}", value) for name, value in model.state_dict().items())
    if optimizer is not None:
        arrays.update((f"optimizer/{k}", _array(v)) for k, v in optimizer.state_dict().items())
    with files.atomic_path(path) as temporary, open(temporary, "wb") as file:
        np.savez(file, **arrays)  # a file object: np.savez would add .npz to a name
    return Path(path)


def _array(value: Any) -> Any:
    """An optimizer's state entry as an array: settings (``param_groups``) as JSON text."""
    return value if isinstance(value, np.ndarray) else np.array(json.dumps(value))


def read_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read every part of a checkpoint; raises CheckpointError for anything else."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        raise CheckpointError(f"{path}: cannot read it ({error.strerror})") from None
    if not stat.S_ISREG(mode):  # a FIFO or a device would block or never end
        raise CheckpointError(f"{path}: not a regular file")
    try:
        with zipfile.ZipFile(path) as archive:
            headers = {_member_name(info): _header(archive, info) for info in archive.infolist()}
            text = {name: _text(archive, name, headers) for name in _TEXT_MEMBERS}
            checkpoint = _parse_text(path, text)
            _check_shapes(path, checkpoint, headers)
            for name in headers:
                if name.startswith(("model/", "optimizer/")):
                    state = checkpoint.model_state if name[0] == "m" else checkpoint.optimizer_state
                    with archive.open(f"{name}.npy") as member:
                        state[name.split("/", 1)[1]] = npy.read_array(member, allow_pickle=False)
    except CheckpointError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as error:
        raise CheckpointError(f"{path}: not a compgraph checkpoint ({error})") from None
    return checkpoint


_TEXT_MEMBERS = ("__format__", "__architecture__", "__meta__")


def _member_name(info: zipfile.ZipInfo) -> str:
    if not info.filename.endswith(".npy"):
        raise CheckpointError(f"unexpected member {info.filename!r} in the archive")
    return info.filename.removesuffix(".npy")


def _header(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[tuple[int, ...], Any]:
    """A member's shape and dtype from its .npy header, its sizes checked against both."""
    with archive.open(info) as member:
        version = npy.read_magic(member)
        read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, _, dtype = read_header(member)  # reads the header only, of a bounded size
        offset = member.tell()
    nbytes = math.prod(shape) * dtype.itemsize
    if dtype.kind not in _NUMERIC_KINDS + "U" or dtype.hasobject or dtype.fields:
        raise CheckpointError(f"member {info.filename} has dtype {dtype}, not plain numbers")
    if info.file_size != offset + nbytes:
        raise CheckpointError(
            f"member {info.filename} is {info.file_size} bytes, but its header declares "
            f"{shape} {dtype} ({offset + nbytes} bytes)"
        )
    if info.file_size > _MAX_INFLATION * max(info.compress_size, 1) + 4096:
        raise CheckpointError(
            f"member {info.filename} inflates {info.file_size} bytes from "
            f"{info.compress_size}: not a checkpoint compgraph wrote"
        )
    return shape, dtype


def _text(archive: zipfile.ZipFile, name: str, headers: dict[str, Any]) -> str | None:
    if name not in headers:
        return None
    shape, dtype = headers[name]
    if shape != () or dtype.kind != "U" or dtype.itemsize > _MAX_TEXT_BYTES:
        raise CheckpointError(f"member {name} is not a short text")
    with archive.open(f"{name}.npy") as member:
        return str(npy.read_array(member, allow_pickle=False))


def _parse_text(path: Any, text: dict[str, str | None]) -> Checkpoint:
    marker = text["__format__"] or ""
    if not marker.startswith(FORMAT_PREFIX) or not marker[len(FORMAT_PREFIX) :].isdigit():
        raise CheckpointError(f"{path}: not a compgraph checkpoint (no format marker)")
    version = int(marker[len(FORMAT_PREFIX) :])
    if not OLDEST_VERSION <= version <= FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format {version}, but this compgraph reads formats "
            f"{OLDEST_VERSION} to {FORMAT_VERSION}"
            + ("; upgrade compgraph to read it" if version > FORMAT_VERSION else "")
        )
    checkpoint = Checkpoint(model_state={})
    for name in ("__architecture__", "__meta__"):
        if text[name] is None:
            continue
        try:
            value = json.loads(text[name])  # type: ignore[arg-type]
        except ValueError:
            raise CheckpointError(f"{path}: {name} is not valid JSON") from None
        except RecursionError:
            raise CheckpointError(f"{path}: {name} nests too deep to read") from None
        if not isinstance(value, dict):
            raise CheckpointError(f"{path}: {name} is not a JSON object")
        if name == "__architecture__":
            checkpoint.architecture = value
        else:
            checkpoint.meta = value
    return checkpoint


def _check_shapes(path: Any, checkpoint: Checkpoint, headers: dict[str, Any]) -> None:
    """The architecture's weights against those in the file, before reading any of them."""
    if checkpoint.architecture is None:
        return
    try:
        expected = state_shapes(checkpoint.architecture)
    except (ValueError, RecursionError) as error:
        raise CheckpointError(f"{path}: bad architecture ({error})") from None
    present = {
        name.removeprefix("model/"): shape
        for name, (shape, _) in headers.items()
        if name.startswith("model/")
    }
    if present != expected:
        missing = sorted(set(expected) - set(present))
        extra = sorted(set(present) - set(expected))
        wrong = sorted(n for n in set(expected) & set(present) if expected[n] != present[n])
        detail = "; ".join(
            f"{what} {', '.join(names[:4])}"
            for what, names in (("missing", missing), ("unexpected", extra), ("misshapen", wrong))
            if names
        )
        raise CheckpointError(f"{path}: weights do not fit its architecture ({detail})")


def load(path: str | os.PathLike[str]) -> Module:
    """Rebuild the model saved in ``path`` and load its weights.

    Raises:
        CheckpointError: the file is not a compgraph checkpoint, has no architecture,
            or its weights do not fit the architecture.
    """
    return build(read_checkpoint(path), path)


def build(checkpoint: Checkpoint, path: str | os.PathLike[str]) -> Module:
    """The model a checkpoint read from ``path`` describes, with its weights loaded."""
    if checkpoint.architecture is None:
        raise CheckpointError(f"{path}: holds weights only; build the model and load_state_dict")
    try:
        model = from_config(checkpoint.architecture)
        model.load_state_dict(checkpoint.model_state)
    except (ValueError, TypeError) as error:
        raise CheckpointError(f"{path}: {error}") from error
    return model
