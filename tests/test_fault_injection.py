"""A run killed with SIGKILL at any moment leaves a folder that resumes, or says why not.

Each of the kills lands at a seeded, logged moment: during start-up, training, an
evaluation, or the writing of metrics.jsonl or model.npz (the epochs are tiny, so
writes are frequent). After each kill the folder must be resumable — a valid
config.json, a checkpoint that reads and holds finite weights, no lock held — or,
killed before its first checkpoint, refused with one line; and after the next run
no temporary file of the killed one is left.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from compgraph import checkpoint
from compgraph.train import folder

KILLS = 24


def start_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "compgraph.cli", "train", *arguments, "--quiet"]


def start(*arguments: str) -> subprocess.Popen[str]:
    command = start_command(*arguments)
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_at_seeded_moments_always_leaves_a_resumable_folder(tmp_path) -> None:
    rng = np.random.default_rng(20261129)
    out = tmp_path / "run"

    def new_run(epochs: int) -> list[str]:
        return ["--dataset", "synthetic", "--model", "softmax", "--batch-size", "500",
                "--epochs", str(epochs), "--out", str(out), "--overwrite"]  # fmt: skip

    log, kinds = [], {"resume": 0, "new run": 0}
    for kill in range(KILLS):
        # Mostly resume what the last kill left; now and then start over, so that some
        # kills land before a run's first checkpoint.
        kind = "resume" if (out / "model.npz").exists() and rng.random() < 0.7 else "new run"
        kinds[kind] += 1
        process = start("--resume", str(out)) if kind == "resume" else start(*new_run(100_000))
        delay = float(rng.uniform(0.3, 3.0))
        time.sleep(delay)
        still_running = process.poll() is None
        process.send_signal(signal.SIGKILL)
        _, stderr = process.communicate(timeout=60)
        exited = "" if still_running else f" (had exited with {process.returncode}: {stderr!r})"
        log.append(f"kill {kill}: {kind}, after {delay:.2f} s{exited}")
        check_folder_after_a_kill(out, log)
    assert min(kinds.values()) >= 3, "\n".join(log)
    if not (out / "model.npz").exists():  # the last kill came before a first checkpoint
        finish = subprocess.run(start_command(*new_run(1)), timeout=300)
        assert finish.returncode == 0
    done = checkpoint.read_checkpoint(out / "model.npz").meta["loop"]["epoch"]
    result = subprocess.run(  # one last run to the end: the folder is whole and unlocked
        start_command("--resume", str(out), "--epochs", str(done + 2)),
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, "\n".join([*log, result.stderr])
    assert not list(out.glob(".*.part")), "a killed run's temporary file was left behind"
    with folder.locked(out):  # nobody holds the lock
        pass


def check_folder_after_a_kill(out, log: list[str]) -> None:
    context = "\n".join(log)
    with folder.locked(out):  # the kernel released the dead process's lock
        pass
    if not (out / "model.npz").exists():  # killed before its first checkpoint
        result = subprocess.run(
            [sys.executable, "-m", "compgraph.cli", "train", "--resume", str(out)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 2 and result.stderr.count("\n") == 1, context
        assert "holds no model.npz" in result.stderr, context
        return
    config = json.loads((out / "config.json").read_text())
    saved = checkpoint.read_checkpoint(out / "model.npz")
    assert saved.meta["config"] == config, context
    assert all(np.isfinite(array).all() for array in saved.model_state.values()), context
    metrics = out / "metrics.jsonl"
    lines = metrics.read_text().splitlines() if metrics.exists() else []
    assert all(json.loads(line)["epoch"] == n for n, line in enumerate(lines, 1)), context
    # The checkpoint is written first: metrics.jsonl lists its epochs, or one fewer.
    assert len(lines) in (saved.meta["loop"]["epoch"] - 1, saved.meta["loop"]["epoch"]), context
