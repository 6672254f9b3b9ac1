"""Save and load models and training state as ``.npz`` files, never with pickle.

A checkpoint holds the weights (``model/<name>``), optionally the optimizer's
state (``optimizer/<name>``), the architecture and free-form metadata as JSON
strings. It is written to a temporary file beside the target and renamed, so a
crash never leaves a half-written checkpoint under the real name.
"""

from __future__ import annotations

import contextlib
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from compgraph.nn.config import from_config, to_config
from compgraph.nn.module import Module

FORMAT = "compgraph-checkpoint-1"


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
    target = Path(path)
    arrays: dict[str, Any] = {"__format__": np.array(FORMAT)}
    with contextlib.suppress(TypeError):  # a custom module without config(): weights only
        arrays["__architecture__"] = np.array(json.dumps(to_config(model)))
    arrays["__meta__"] = np.array(json.dumps(meta or {}))
    arrays.update((f"model/{name}", value) for name, value in model.state_dict().items())
    if optimizer is not None:
        arrays.update((f"optimizer/{k}", v) for k, v in optimizer.state_dict().items())
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def read_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read every part of a checkpoint; raises CheckpointError for anything else."""
    try:
        with open(path, "rb") as file:
            if file.read(4) != b"PK\x03\x04":  # every .npz is a zip archive
                raise CheckpointError(f"{path}: not a compgraph checkpoint (not an .npz archive)")
        with np.load(path, allow_pickle=False) as archive:
            if not hasattr(archive, "files") or "__format__" not in archive.files:
                raise CheckpointError(f"{path}: not a compgraph checkpoint (no format marker)")
            if str(archive["__format__"]) != FORMAT:
                raise CheckpointError(f"{path}: unsupported format {archive['__format__']}")
            contents = {name: archive[name] for name in archive.files}
    except CheckpointError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"{path}: not a compgraph checkpoint ({error})") from error
    checkpoint = Checkpoint(model_state={})
    for name, value in contents.items():
        if name.startswith("model/"):
            checkpoint.model_state[name.removeprefix("model/")] = value
        elif name.startswith("optimizer/"):
            checkpoint.optimizer_state[name.removeprefix("optimizer/")] = value
    if "__architecture__" in contents:
        checkpoint.architecture = json.loads(str(contents["__architecture__"]))
    checkpoint.meta = json.loads(str(contents.get("__meta__", "{}")))
    return checkpoint


def load(path: str | os.PathLike[str]) -> Module:
    """Rebuild the model saved in ``path`` and load its weights.

    Raises:
        CheckpointError: the file is not a compgraph checkpoint, has no architecture,
            or its weights do not fit the architecture.
    """
    checkpoint = read_checkpoint(path)
    if checkpoint.architecture is None:
        raise CheckpointError(f"{path}: holds weights only; build the model and load_state_dict")
    try:
        model = from_config(checkpoint.architecture)
        model.load_state_dict(checkpoint.model_state)
    except (ValueError, TypeError) as error:
        raise CheckpointError(f"{path}: {error}") from error
    return model
