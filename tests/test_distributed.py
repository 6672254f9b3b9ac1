"""Data-parallel training over MPI: the same result as one process, and no rank left behind.

The tests that need MPI start ``mpiexec -n 2`` (:mod:`tests.mpi.launch`) and are
skipped, saying why, where mpi4py or mpiexec is missing; CI installs both.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from compgraph import checkpoint, data, distributed, nn, optim
from compgraph.cli import main
from tests.mpi.launch import (
    compgraph_command,
    launch_command,
    mpi_environment,
    python_script,
    run_mpi,
)

# -- in one process ------------------------------------------------------------------------


def test_import_compgraph_never_imports_mpi4py() -> None:
    code = (
        "import sys, compgraph, compgraph.distributed as d; d.init(); "
        "assert d.size() == 1 and d.rank() == 0 and d.is_main(); "
        "assert d.get_world_size() == 1 and d.get_rank() == 0; "
        "print(sorted(m for m in sys.modules if m.startswith('mpi4py')))"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMI"))}
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True
    )
    assert shown.stdout.strip() == "[]"


def test_a_world_of_one_leaves_gradients_and_steps_as_they_are() -> None:
    rng = np.random.default_rng(0)
    model = nn.Linear(3, 2, rng=rng)
    for parameter in model.parameters():
        parameter.grad = rng.normal(size=parameter.data.shape).astype(np.float32)
    before = [p.grad.copy() for p in model.parameters()]
    assert distributed.allreduce_gradients(model, examples=7) == 7
    for parameter, grad in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(parameter.grad, grad)
    wrapped = distributed.DistributedOptimizer(optim.SGD(model.parameters(), lr=0.5))
    weights = [p.data.copy() for p in model.parameters()]
    wrapped.step(examples=7)
    for parameter, weight, grad in zip(model.parameters(), weights, before, strict=True):
        np.testing.assert_allclose(parameter.data, weight - 0.5 * grad, rtol=1e-6)
    wrapped.lr = 0.25
    assert wrapped.optimizer.lr == 0.25 and wrapped.param_groups[0]["lr"] == 0.25
    copied = copy.deepcopy(wrapped)  # no endless lookup of .optimizer on a bare instance
    assert copied.lr == 0.25 and copied.optimizer is not wrapped.optimizer


@pytest.mark.parametrize(("examples", "batch", "ranks"), [(70, 16, 3), (64, 32, 2), (5, 4, 3)])
def test_shards_put_together_are_the_single_process_batches(
    examples: int, batch: int, ranks: int
) -> None:
    x = np.arange(examples * 2, dtype=np.float32).reshape(examples, 2)
    y = np.arange(examples)
    single = list(data.DataLoader((x, y), batch, seed=4))
    shards = [list(data.DataLoader((x, y), batch, seed=4, shard=(r, ranks))) for r in range(ranks)]
    for parts in shards:
        assert len(parts) == len(single)
    for index, (whole_x, whole_y) in enumerate(single):
        np.testing.assert_array_equal(np.concatenate([s[index][1] for s in shards]), whole_y)
        np.testing.assert_array_equal(np.concatenate([s[index][0] for s in shards]), whole_x)
        sizes = [len(s[index][1]) for s in shards]
        assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("shard", [(2, 2), (-1, 2), (0, 0), "yes", (0.0, 2)])
def test_a_shard_outside_the_ranks_is_refused(shard: object) -> None:
    with pytest.raises(ValueError, match="shard is True, False or"):
        data.DataLoader((np.zeros((4, 2), np.float32), np.zeros(4, np.int64)), 2, shard=shard)


def test_distributed_without_mpi4py_says_how_to_install_it(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py now raises ImportError
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "0")
    status = main(["train", "--distributed", "--dataset", "synthetic", "--epochs", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert err == [
        "compgraph train: distributed training needs mpi4py: pip install 'compgraph[mpi]' "
        "(mpi4py and Open MPI from the package index), or pip install mpi4py built against "
        "your cluster's MPI"
    ]


def test_other_ranks_leave_an_argument_error_to_rank_0(monkeypatch, capsys) -> None:
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "1")
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--distributed", "--epochs", "0"])
    assert exit_.value.code == 2 and capsys.readouterr().err == ""


# -- under mpiexec -------------------------------------------------------------------------


def test_two_ranks_match_one_process_through_the_python_api(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    done = run_mpi(2, *python_script("api_equivalence.py"), str(out))
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["ranks"] == 2 and result["dtype"] == "float64"
    assert result["first_step_gradients"] <= 1e-12, result
    assert result["weights_after_20_steps"] <= 1e-10, result
    assert result["weights_moved"] > 1e-3, result  # the comparison compared something
    assert result["fit_with_an_empty_share"] <= 1e-10, result


def weights(run: Path) -> dict[str, np.ndarray]:
    return checkpoint.read_checkpoint(run / "model.npz").model_state


def largest_relative_difference(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    assert a.keys() == b.keys()
    return max(float(np.abs(a[k] - b[k]).max() / np.abs(b[k]).max()) for k in a)


# 2,000 synthetic examples in global batches of 100: each run is 20 steps.
TWENTY_STEPS = ("--dataset", "synthetic", "--epochs", "1", "--batch-size", "100", "--quiet")


@pytest.mark.parametrize(("model", "tolerance"), [("mlp", 1e-5), ("cnn", 1e-3)])
def test_the_command_line_on_two_ranks_matches_one_process(
    tmp_path: Path, model: str, tolerance: float
) -> None:
    require = [*compgraph_command(), "train", "--model", model, *TWENTY_STEPS]
    alone = subprocess.run(
        [*require, "--threads", "1", "--out", str(tmp_path / "one")],
        capture_output=True, text=True, env=mpi_environment(), timeout=240,
    )  # fmt: skip
    assert alone.returncode == 0, alone.stderr
    together = run_mpi(2, *require, "--distributed", "--out", str(tmp_path / "two"))
    assert together.returncode == 0, together.stderr
    assert together.stdout.count("final test accuracy") == 1  # rank 0 alone prints
    one, two = weights(tmp_path / "one"), weights(tmp_path / "two")
    assert largest_relative_difference(two, one) <= tolerance
    moved = checkpoint.read_checkpoint(tmp_path / "one" / "model.npz").meta["loop"]
    assert moved["epoch"] == 1 and len(moved["history"]) == 1


def ranks_of(launcher: subprocess.Popen[str]) -> dict[int, int]:
    """{rank: pid} of the processes mpiexec started (Linux: read from /proc)."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            environment = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if parent != launcher.pid:
            continue
        for variable in environment:
            if variable.startswith(b"OMPI_COMM_WORLD_RANK="):
                found[int(variable.split(b"=", 1)[1])] = int(entry.name)
    return found


def wait_for(condition, seconds: float, launcher: subprocess.Popen[str]) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if launcher.poll() is not None:
            raise AssertionError(f"the run ended early: {launcher.communicate()}")
        if time.monotonic() > deadline:
            launcher.kill()
            raise AssertionError(f"timed out: {launcher.communicate()}")
        time.sleep(0.05)


def start_long_run(
    out: Path, *command: str, environment: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """A 2-rank mlp run of 500 epochs of 200 steps: checkpoints are a small part of it."""
    return subprocess.Popen(
        launch_command(2, *command, "train", "--distributed", "--model", "mlp",
                       "--dataset", "synthetic", "--batch-size", "10", "--epochs", "500",
                       "--out", str(out)),
        env={**mpi_environment(), **(environment or {})},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finished_within(launcher: subprocess.Popen[str], seconds: float) -> tuple[int, str, str]:
    started = time.monotonic()
    try:
        out, err = launcher.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        launcher.kill()
        raise AssertionError(f"still running {seconds} s later: {launcher.communicate()}") from None
    assert time.monotonic() - started <= seconds
    return launcher.returncode, out, err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the ranks in /proc")
def test_a_killed_rank_stops_every_rank_and_keeps_the_checkpoint(tmp_path: Path) -> None:
    run = tmp_path / "run"
    launcher = start_long_run(run, *compgraph_command())
    wait_for(lambda: (run / "metrics.jsonl").exists(), 120, launcher)
    wait_for(lambda: 1 in ranks_of(launcher), 10, launcher)
    os.kill(ranks_of(launcher)[1], signal.SIGKILL)
    status, out, err = finished_within(launcher, 30)
    assert status != 0
    assert "1 thread per rank, 2 ranks (MPI)" in out.splitlines()[0]  # said once, by rank 0
    lines = [line for line in err.splitlines() if line.startswith("compgraph train:")]
    assert len(lines) == 1, err
    assert "mpiexec is ending the job" in lines[0] and "last good checkpoint" in lines[0]
    saved = checkpoint.read_checkpoint(run / "model.npz")
    assert saved.meta["loop"]["epoch"] >= 1


def test_an_uncaught_exception_on_one_rank_ends_the_job() -> None:
    started = time.monotonic()
    done = run_mpi(2, *python_script("raising_script.py"), timeout=60)
    assert done.returncode != 0 and time.monotonic() - started < 30
    assert "ValueError: injected failure on rank 1" in done.stderr
    assert "rank 1 of 2 raised ValueError; ending every rank" in done.stderr


def test_a_rank_that_raises_stops_every_rank_and_says_which(tmp_path: Path) -> None:
    out = tmp_path / "run"
    launcher = start_long_run(
        out, *python_script("failing_train.py"), environment={"FAIL_AT": "250"}
    )  # rank 1 raises 50 steps into epoch 2
    status, _, err = finished_within(launcher, 60)  # includes starting: 30 s after the failure
    assert status != 0
    lines = [line for line in err.splitlines() if line.startswith("compgraph train:")]
    assert any(
        line.startswith("compgraph train: rank 1 of 2: ValueError: injected failure")
        for line in lines
    ), err
    saved = checkpoint.read_checkpoint(out / "model.npz")  # epoch 1 ended at step 200
    assert saved.meta["loop"]["epoch"] >= 1


# Three epochs of 40 steps (synthetic data, global batch 50): long enough to interrupt.
INTERRUPTIBLE = ("--model", "mlp", "--dataset", "synthetic", "--epochs", "3", "--batch-size", "50")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    done = run_mpi(2, *compgraph_command(), "train", "--distributed", *INTERRUPTIBLE,
                   "--out", str(out), "--quiet")  # fmt: skip
    assert done.returncode == 0, done.stderr
    return weights(out)


@pytest.mark.parametrize("how", ["ctrl-c", "sigusr1"])
def test_an_interrupted_two_rank_run_resumed_on_one_rank_ends_as_if_never_stopped(
    tmp_path: Path, uninterrupted: dict[str, np.ndarray], how: str
) -> None:
    out = tmp_path / "run"
    launcher = subprocess.Popen(
        launch_command(2, *compgraph_command(), "train", "--distributed", *INTERRUPTIBLE,
                       "--out", str(out)),
        env=mpi_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for(lambda: (out / "metrics.jsonl").exists(), 120, launcher)  # epoch 1 is saved
    # Ctrl-C in a terminal reaches mpiexec alone (the ranks have process groups of their
    # own); mpiexec then ends the job. SIGUSR1 is forwarded to the ranks and ends nothing.
    launcher.send_signal(signal.SIGINT if how == "ctrl-c" else signal.SIGUSR1)
    status, _, err = finished_within(launcher, 30)
    saved = checkpoint.read_checkpoint(out / "model.npz").meta["loop"]
    assert (saved["epoch"], saved["step"]) < (3, 0), "the run ended before the interruption"
    assert saved["step"] > 0, "saved by the ranks' agreed stop, mid-epoch, not by an epoch's end"
    if how == "sigusr1":  # mpiexec passes on the ranks' status, and their output
        assert status == 130, err
        assert "checkpoint saved to" in err and "--resume" in err
    else:  # Open MPI's mpiexec exits with 1 and drops the ranks' output after Ctrl-C
        assert status != 0
    # On one rank after Ctrl-C, on two after SIGUSR1: any number of ranks continues a run.
    resume = [*compgraph_command(), "train", "--resume", str(out), "--quiet", "--threads", "1"]
    if how == "ctrl-c":
        resumed = subprocess.run(
            resume, capture_output=True, text=True, env=mpi_environment(), timeout=240
        )
    else:
        resumed = run_mpi(2, *resume, "--distributed")
    assert resumed.returncode == 0, resumed.stderr
    history = checkpoint.read_checkpoint(out / "model.npz").meta["loop"]["history"]
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert largest_relative_difference(weights(out), uninterrupted) <= 1e-5


def compgraph_lines(err: str) -> list[str]:
    """compgraph's lines on standard error (mpiexec adds notes of its own)."""
    return [line for line in err.splitlines() if line.startswith("compgraph")]


def test_two_ranks_without_distributed_are_refused_in_one_line(tmp_path: Path) -> None:
    done = run_mpi(2, *compgraph_command(), "train", "--dataset", "synthetic", cwd=tmp_path)
    assert done.returncode == 2  # mpiexec adds its own note about the ranks' status
    assert compgraph_lines(done.stderr) == [
        "compgraph train: started as 2 ranks (mpiexec -n 2) without --distributed, so each "
        "would train the whole run on its own; add --distributed"
    ], done.stderr
    assert not (tmp_path / "runs").exists()


def test_a_folder_rank_0_refuses_stops_every_rank_with_its_one_line(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = run_mpi(2, *compgraph_command(), "train", "--distributed", *TWENTY_STEPS,
                    "--out", str(out))  # fmt: skip
    assert first.returncode == 0, first.stderr
    again = run_mpi(2, *compgraph_command(), "train", "--distributed", *TWENTY_STEPS,
                    "--out", str(out))  # fmt: skip
    assert again.returncode == 2
    assert compgraph_lines(again.stderr) == [
        f"compgraph train: {out} holds a run; continue it with --resume {out}, replace it "
        "with --overwrite, or choose another --out"
    ], again.stderr


def test_kernels_are_compiled_by_rank_0_and_read_from_the_cache_by_the_others(
    tmp_path: Path,
) -> None:
    """A fresh numba cache: rank 0 compiles and saves every kernel, rank 1 only loads them."""
    done = run_mpi(
        2, *compgraph_command(), "train", "--distributed", *TWENTY_STEPS,
        "--out", str(tmp_path / "run"), flags=("--tag-output",),
        environment={"NUMBA_CACHE_DIR": str(tmp_path / "cache"), "NUMBA_DEBUG_CACHE": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    from compgraph import kernels

    if kernels.mode() != "numba":
        pytest.skip(f"the NumPy kernels run ({kernels.why_not_compiled()}): nothing is compiled")
    saved = {rank: done.stdout.count(f"[1,{rank}]<stdout>: [cache] data saved") for rank in (0, 1)}
    loaded = done.stdout.count("[1,1]<stdout>: [cache] data loaded")
    assert saved[0] > 0 and saved[1] == 0 and loaded >= saved[0], (saved, loaded)


def test_half_a_data_parallel_setup_is_refused_on_every_rank() -> None:
    done = run_mpi(2, *python_script("half_setup.py"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 2, done.stdout
    assert "DistributedOptimizer with a DataLoader that is not sharded" in lines[0]
    assert "sharded DataLoader with an optimizer that is not a DistributedOptimizer" in lines[1]
