"""Hostile checkpoints are refused with one line, before anything big is allocated.

The payloads that would allocate gigabytes are loaded in a child process with a
memory limit and a timeout: on today's code they would be killed or run out of
memory there, instead of taking the test process with them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import compgraph as cg
from compgraph import checkpoint

resource = pytest.importorskip("resource", reason="needs POSIX resource limits")

LIMIT_BYTES = 1536 * 1024 * 1024


def load_in_child(path: Path) -> subprocess.CompletedProcess[str]:
    """compgraph.load(path) in a child limited to 1.5 GB of address space and 60 s."""
    code = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({LIMIT_BYTES}, {LIMIT_BYTES}))\n"
        "import compgraph\n"
        "try:\n"
        f"    compgraph.load({str(path)!r})\n"
        "except compgraph.CheckpointError as error:\n"
        "    print('refused:', error)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def member(archive: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    with archive.open(f"{name}.npy", "w") as file:
        np.lib.format.write_array(file, array, allow_pickle=False)


def write_checkpoint(path: Path, architecture: object, weights: dict[str, np.ndarray],
                     meta: object = None, compress: bool = False) -> Path:  # fmt: skip
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as archive:
        member(archive, "__format__", np.array(checkpoint.FORMAT))
        text = architecture if isinstance(architecture, str) else json.dumps(architecture)
        member(archive, "__architecture__", np.array(text))
        member(archive, "__meta__", np.array(json.dumps(meta or {})))
        for name, value in weights.items():
            member(archive, f"model/{name}", value)
    return path


def linear(inputs: int, outputs: int) -> dict:
    args = {"in_features": inputs, "out_features": outputs}
    return {"type": "Sequential", "args": {"layers": [{"type": "Linear", "args": args}]}}


def test_a_small_file_asking_for_a_huge_model_is_refused_before_building_it(tmp_path) -> None:
    # 36 KB of weights, an architecture of Linear(28000, 28000): 3 GB if built first.
    path = write_checkpoint(tmp_path / "big.npz", linear(28000, 28000),
                            {"0.weight": np.zeros((90, 100), np.float32),
                             "0.bias": np.zeros(28000, np.float32)})  # fmt: skip
    result = load_in_child(path)
    assert result.returncode == 0, result.stderr[-500:]
    assert "refused:" in result.stdout and "do not fit its architecture" in result.stdout
    assert "misshapen 0.weight" in result.stdout


def test_a_zip_bomb_is_refused_before_it_inflates(tmp_path) -> None:
    # 400 MB of zeros deflated to a few hundred KB, under an architecture that fits them.
    path = tmp_path / "bomb.npz"
    shape = (100_000, 1000)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        member(archive, "__format__", np.array(checkpoint.FORMAT))
        member(archive, "__architecture__", np.array(json.dumps(linear(*shape))))
        member(archive, "__meta__", np.array("{}"))
        member(archive, "model/0.bias", np.zeros(shape[1], np.float32))
        with archive.open("model/0.weight.npy", "w", force_zip64=True) as file:
            header = {"descr": "<f4", "fortran_order": False, "shape": shape}
            np.lib.format.write_array_header_1_0(file, header)
            chunk, total = bytes(1 << 20), 100_000 * 1000 * 4
            for start in range(0, total, len(chunk)):
                file.write(chunk[: total - start])
    assert path.stat().st_size < 2_000_000
    result = load_in_child(path)
    assert result.returncode == 0, result.stderr[-500:]
    assert "refused:" in result.stdout and "inflates" in result.stdout


@pytest.mark.parametrize(
    ("architecture", "meta", "words"),
    [
        ("{not json", None, "__architecture__ is not valid JSON"),
        (linear(4, 2), "[1, 2", "__meta__ is not valid JSON"),
        ([1, 2], None, "__architecture__ is not a JSON object"),
        ({"type": "Exec", "args": {}}, None, "unknown layer type 'Exec'"),
        ({"type": "Linear", "args": {"in_features": -4, "out_features": 2}}, None, "≥ 0"),
        ({"type": "Linear", "args": {"in_features": "4", "out_features": 2}}, None, "integers"),
        ({"type": "Linear", "args": {"size": 4}}, None, "bad architecture"),
    ],
)
def test_malformed_text_members_are_one_line_errors(tmp_path, architecture, meta, words) -> None:
    path = tmp_path / "bad.npz"
    weights = {"0.weight": np.zeros((4, 2), np.float32), "0.bias": np.zeros(2, np.float32)}
    with zipfile.ZipFile(path, "w") as archive:
        member(archive, "__format__", np.array(checkpoint.FORMAT))
        text = architecture if isinstance(architecture, str) else json.dumps(architecture)
        member(archive, "__architecture__", np.array(text))
        member(archive, "__meta__", np.array(meta if meta is not None else "{}"))
        for name, value in weights.items():
            member(archive, f"model/{name}", value)
    with pytest.raises(checkpoint.CheckpointError, match=words):
        cg.load(path)


@pytest.mark.parametrize(("depth", "words"), [(40, "nests modules more than 32 deep"),
                                             (400, "nests too deep to read")])  # fmt: skip
def test_deeply_nested_containers_are_refused(tmp_path, depth: int, words: str) -> None:
    # Written as text: json.dumps itself would overflow Python's stack at 400 levels.
    opening = '{"type": "Sequential", "args": {"layers": ['
    architecture = opening * depth + json.dumps(linear(4, 2)) + "]}}" * depth
    path = write_checkpoint(tmp_path / "deep.npz", architecture, {})
    with pytest.raises(checkpoint.CheckpointError, match=words):
        cg.load(path)


def test_members_that_are_not_plain_numbers_or_lie_about_their_size(tmp_path) -> None:
    path = tmp_path / "objects.npz"
    with zipfile.ZipFile(path, "w") as archive:
        member(archive, "__format__", np.array(checkpoint.FORMAT))
        with archive.open("model/x.npy", "w") as file:
            header = {"descr": "|O", "fortran_order": False, "shape": (2,)}
            np.lib.format.write_array_header_1_0(file, header)
            file.write(b"\x00" * 16)
    with pytest.raises(checkpoint.CheckpointError, match="not plain numbers"):
        checkpoint.read_checkpoint(path)
    path = tmp_path / "short.npz"
    with zipfile.ZipFile(path, "w") as archive:
        member(archive, "__format__", np.array(checkpoint.FORMAT))
        with archive.open("model/x.npy", "w") as file:
            header = {"descr": "<f4", "fortran_order": False, "shape": (1000, 1000)}
            np.lib.format.write_array_header_1_0(file, header)
            file.write(b"\x00" * 16)
    with pytest.raises(checkpoint.CheckpointError, match="its header declares"):
        checkpoint.read_checkpoint(path)


def test_what_compgraph_saves_still_loads(tmp_path) -> None:
    model = cg.nn.Sequential(cg.nn.Conv2d(1, 2, 3, rng=0), cg.nn.BatchNorm2d(2), cg.nn.Flatten(),
                             cg.nn.Linear(2 * 26 * 26, 10, rng=0))  # fmt: skip
    optimizer = cg.optim.Adam(model.parameters())
    checkpoint.save(tmp_path / "m.npz", model, optimizer, {"note": "kept"})
    loaded = checkpoint.read_checkpoint(tmp_path / "m.npz")
    assert loaded.meta == {"note": "kept"} and set(loaded.model_state) == set(model.state_dict())
    rebuilt = cg.load(tmp_path / "m.npz")
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(rebuilt.state_dict()[name], value)
