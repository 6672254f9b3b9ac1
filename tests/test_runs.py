"""Run folders: never clobbered, locked while in use, files written whole, resumed honestly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from compgraph import checkpoint, files
from compgraph.cli import main
from compgraph.train import folder
from compgraph.train.config import TrainConfig
from compgraph.train.run import TrainingRun

SMALL = {"dataset": "synthetic", "epochs": 2, "batch_size": 64}


def train(*arguments: str) -> subprocess.CompletedProcess[str]:
    """``compgraph train`` in a fresh process: on synthetic data, unless resuming."""
    data = [] if "--resume" in arguments else ["--dataset", "synthetic"]
    return subprocess.run(
        [sys.executable, "-m", "compgraph.cli", "train", *data, *arguments],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_a_finished_run_is_refused_unless_overwritten(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    arguments = ["train", "--dataset", "synthetic", "--epochs", "1", "--out", str(out)]
    assert main([*arguments, "--quiet"]) == 0
    before = (out / "model.npz").read_bytes()
    assert main([*arguments, "--quiet"]) == 2
    assert "holds a run; continue it with --resume" in capsys.readouterr().err
    assert (out / "model.npz").read_bytes() == before  # untouched
    assert main([*arguments, "--quiet", "--seed", "6", "--overwrite"]) == 0
    assert json.loads((out / "config.json").read_text())["seed"] == 6


def test_runs_started_together_get_folders_of_their_own(tmp_path) -> None:
    made = {folder.new_run_folder(tmp_path / "runs") for _ in range(5)}
    assert len(made) == 5 and all(path.is_dir() for path in made)
    # Two real runs started at once, without --out, in the same working folder.
    command = [sys.executable, "-m", "compgraph.cli", "train", "--dataset", "synthetic",
               "--epochs", "1", "--quiet"]  # fmt: skip
    processes = [
        subprocess.Popen([*command, "--seed", str(seed)], cwd=tmp_path, stderr=subprocess.PIPE)
        for seed in (1, 2)
    ]
    assert [process.wait(timeout=300) for process in processes] == [0, 0]
    runs = sorted(path for path in (tmp_path / "runs").iterdir() if path not in made)
    assert len(runs) == 2
    seeds = set()
    for run in runs:  # each folder's config and checkpoint come from the same run
        config = json.loads((run / "config.json").read_text())
        saved = checkpoint.read_checkpoint(run / "model.npz").meta["config"]
        assert saved == config
        seeds.add(config["seed"])
    assert seeds == {1, 2}


def test_a_second_process_is_kept_out_of_a_live_run_folder(tmp_path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    with folder.locked(out):
        result = train("--out", str(out), "--epochs", "1")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"compgraph train: {out} is in use by another compgraph process (pid {os.getpid()}); "
        "wait for it to finish, or choose another --out"
    )
    assert train("--out", str(out), "--epochs", "1", "--quiet").returncode == 0  # lock released


def test_stale_temporaries_are_removed_but_a_live_writers_are_not(tmp_path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    stale = tmp_path / f".model.npz.{dead}.abc123.part"
    live = tmp_path / f".model.npz.{os.getpid()}.def456.part"
    other = tmp_path / "notes.part"
    for path in (stale, live, other):
        path.write_text("")
    assert files.remove_stale_temporaries(tmp_path) == [stale]
    assert not stale.exists() and live.exists() and other.exists()


def test_a_failed_write_leaves_neither_half_a_file_nor_a_temporary(tmp_path) -> None:
    target = tmp_path / "metrics.jsonl"
    files.write_text(target, "old\n")
    with pytest.raises(RuntimeError), files.atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("crash while writing")
    assert target.read_text() == "old\n"
    assert [path.name for path in tmp_path.iterdir()] == ["metrics.jsonl"]


def test_weights_blown_up_by_the_last_update_are_never_saved(tmp_path, capsys) -> None:
    # One batch per epoch and a learning rate of 1e300: the first update makes the
    # weights infinite after the loss (finite) was checked.
    config = TrainConfig.for_preset("softmax", dataset="synthetic", epochs=3, lr=1e300,
                                    batch_size=2000)  # fmt: skip
    assert TrainingRun(config, tmp_path / "run", quiet=True).execute() == 1
    err = capsys.readouterr().err
    assert "became NaN or infinite in epoch 1" in err and "no checkpoint was saved" in err
    assert not (tmp_path / "run" / "model.npz").exists()


def test_resume_says_what_it_does_and_refuses_result_changing_options(tmp_path) -> None:
    out = tmp_path / "run"
    assert train("--epochs", "1", "--out", str(out), "--quiet").returncode == 0
    result = train("--resume", str(out), "--epochs", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "training to 2 epochs (the run was set for 1)" in lines
    assert f"resuming {out} at epoch 2, step 0 (of 2 epochs)" in lines
    for option in (["--model", "mlp"], ["--optimizer", "adam"], ["--batch-size", "7"],
                   ["--seed", "3"], ["--out", str(tmp_path / "x")], ["--overwrite"]):  # fmt: skip
        refused = train("--resume", str(out), *option)
        assert refused.returncode == 2 and f"{option[0]} would change its result" in refused.stderr
    shrunk = train("--resume", str(out), "--epochs", "1")
    assert shrunk.returncode == 2 and "trained 2 epochs already" in shrunk.stderr


def test_checkpoint_format_versions(tmp_path) -> None:
    model_path = tmp_path / "model.npz"
    run = TrainingRun(TrainConfig.for_preset("softmax", **SMALL), tmp_path / "run", quiet=True)
    checkpoint.save(model_path, run.model)
    assert checkpoint.load(model_path) is not None  # the version this compgraph writes
    with np.load(model_path) as archive:
        contents = {name: archive[name] for name in archive.files}
    for version, words in ((99, "reads formats 1 to 1; upgrade compgraph"), (0, "reads formats")):
        contents["__format__"] = np.array(f"compgraph-checkpoint-{version}")
        np.savez(tmp_path / "other.npz", **contents)
        with pytest.raises(checkpoint.CheckpointError, match=f"format {version}.*{words}"):
            checkpoint.load(tmp_path / "other.npz")


def test_eval_takes_the_dataset_from_the_checkpoint_and_accepts_a_run_folder(
    tmp_path, capsys
) -> None:
    out = tmp_path / "run"
    assert main(["train", "--dataset", "synthetic", "--epochs", "1", "--out", str(out),
                 "--quiet"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["eval", str(out)]) == 0  # the folder; no --dataset
    report = capsys.readouterr().out
    assert report.startswith("dataset: synthetic (as recorded in the checkpoint")
    assert "(500 images)" in report  # the synthetic test split, not MNIST's 10,000


@pytest.mark.parametrize("trial", range(3))
def test_two_concurrent_runs_on_one_folder_never_mix_files(tmp_path, trial: int) -> None:
    out = tmp_path / "run"
    command = [sys.executable, "-m", "compgraph.cli", "train", "--dataset", "synthetic",
               "--epochs", "2", "--quiet", "--out", str(out)]  # fmt: skip
    processes = [
        subprocess.Popen([*command, "--seed", str(seed)], stderr=subprocess.PIPE, text=True)
        for seed in (11, 12)
    ]
    results = [(process.wait(timeout=300), process.stderr.read()) for process in processes]
    statuses = sorted(status for status, _ in results)
    assert statuses == [0, 2], results  # one ran; the other was refused with one line
    refused = next(err for status, err in results if status == 2)
    assert "in use by another compgraph process" in refused or "holds a run" in refused
    config = json.loads((out / "config.json").read_text())
    saved = checkpoint.read_checkpoint(out / "model.npz").meta["config"]
    assert saved == config  # the files of one run only
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2
    assert not list(out.glob("*.part"))


def test_the_run_folder_is_printed_when_a_run_starts(tmp_path) -> None:
    result = train("--epochs", "1", "--out", str(tmp_path / "r"))
    assert f"run folder: {tmp_path / 'r'}" in result.stdout.splitlines()


def assert_no_lock_held(out: Path) -> None:
    with folder.locked(out):
        pass
