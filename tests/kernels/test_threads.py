"""Thread settings: set_num_threads, COMPGRAPH_NUM_THREADS, --threads, and what they promise."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import compgraph as cg
from compgraph import functional, optim
from compgraph.cli import main
from compgraph.kernels import threads
from compgraph.train.presets import PRESETS


def blas_threads() -> set[int]:
    return {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}


@pytest.fixture
def restore_threads() -> Iterator[None]:
    requested, kernel_threads, blas = threads._requested, threads._kernel_threads, blas_threads()
    yield
    threads._requested, threads._kernel_threads = requested, kernel_threads
    threads._blas_controller().select(user_api="blas").limit(limits=max(blas))


@pytest.mark.parametrize("count", [1, 2, 3])
def test_set_num_threads_sets_blas_and_the_kernels(count: int, restore_threads) -> None:
    cg.set_num_threads(count)
    assert cg.get_num_threads() == count
    assert blas_threads() == {count}
    assert threads.kernel_threads() == count


@pytest.mark.parametrize("count", [0, -1, 1.5, True, "2"])
def test_set_num_threads_rejects_what_is_not_a_count(count, restore_threads) -> None:
    with pytest.raises(ValueError, match="integer ≥ 1"):
        cg.set_num_threads(count)


def run_python(code: str, **environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env={**os.environ, **environment}, check=False,
    )  # fmt: skip


def test_the_environment_variable_sets_the_count_at_import() -> None:
    code = (
        "import compgraph, threadpoolctl\n"
        "from compgraph.kernels import threads\n"
        "blas = {i['num_threads'] for i in threadpoolctl.threadpool_info()"
        " if i['user_api'] == 'blas'}\n"
        "print(compgraph.get_num_threads(), threads.kernel_threads(), sorted(blas))"
    )
    result = run_python(code, COMPGRAPH_NUM_THREADS="1")
    assert result.stdout.split() == ["1", "1", "[1]"], result.stderr


def test_an_invalid_environment_variable_warns_at_import_and_stops_train(tmp_path) -> None:
    result = run_python("import compgraph", COMPGRAPH_NUM_THREADS="many")
    assert result.returncode == 0
    assert "COMPGRAPH_NUM_THREADS must be an integer ≥ 1, not 'many'; ignored" in result.stderr
    command = "import sys; from compgraph.cli import main; sys.exit(main(['train']))"
    result = run_python(command, COMPGRAPH_NUM_THREADS="0")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "compgraph train: COMPGRAPH_NUM_THREADS must be an integer ≥ 1, not '0'"
    )


def test_train_threads_option_sets_the_count_and_says_so(tmp_path, capsys, restore_threads):
    arguments = ["train", "--dataset", "synthetic", "--epochs", "1", "--threads", "1"]
    assert main([*arguments, "--out", str(tmp_path / "run")]) == 0
    assert cg.get_num_threads() == 1 and blas_threads() == {1}
    first_line = capsys.readouterr().out.splitlines()[0]
    assert first_line in ("compiled kernels (numba), 1 thread", "NumPy kernels") or (
        first_line.startswith("NumPy kernels (") and first_line.endswith("), 1 thread")
    ), first_line
    with pytest.raises(SystemExit) as caught:  # argparse checks the option itself
        main(["train", "--threads", "0"])
    assert caught.value.code == 2


def train_cnn_steps(count: int) -> dict[str, np.ndarray]:
    cg.set_num_threads(count)
    model = PRESETS["cnn"].build(np.random.default_rng(0))
    optimizer = optim.Adam(model.parameters())
    rng = np.random.default_rng(1)
    for _ in range(3):
        x = rng.random((64, 1, 28, 28), dtype=np.float32)
        optimizer.zero_grad()
        functional.cross_entropy(model(cg.tensor(x)), rng.integers(0, 10, 64)).backward()
        optimizer.step()
    return model.state_dict()


def test_weights_are_bit_identical_for_one_thread_count_and_close_across_counts(
    restore_threads,
) -> None:
    # What the README states: the same seed and the same thread count give the same bits;
    # another thread count may change the last bits (OpenBLAS splits products by thread).
    one, again, two = train_cnn_steps(1), train_cnn_steps(1), train_cnn_steps(2)
    for name in one:
        np.testing.assert_array_equal(one[name], again[name])
        np.testing.assert_allclose(one[name], two[name], rtol=1e-4, atol=1e-6)


def test_default_num_threads_counts_the_cpus_this_process_may_use() -> None:
    count = threads.default_num_threads()
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert 1 <= count <= (allowed or 1)


def test_import_compgraph_imports_no_optional_dependency() -> None:
    optional = ["numba", "llvmlite", "threadpoolctl", "mpi4py", "matplotlib", "graphviz",
                "playwright", "torch"]  # fmt: skip
    code = f"import sys, compgraph; print([m for m in {optional!r} if m in sys.modules])"
    result = run_python(code)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_kernels_without_numba_fall_back_or_say_how_to_install(monkeypatch) -> None:
    code = (
        "import sys; sys.modules['numba'] = None\n"  # import numba raises ImportError
        "import compgraph, numpy as np\n"
        "print(compgraph.kernels.mode(), '|', compgraph.kernels.why_not_compiled())\n"
        "print(compgraph.tensor(np.array([-1.0, 2.0])).relu().data)"
    )
    result = run_python(code)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("numpy | numba does not import") and "pip install numba" in lines[0]
    assert lines[1] == "[0. 2.]"
    result = run_python(code, COMPGRAPH_KERNELS="numba")
    assert result.returncode == 1
    assert "COMPGRAPH_KERNELS=numba, but numba does not import" in result.stderr
    assert "pip install numba" in result.stderr
    result = run_python("import compgraph; compgraph.kernels.mode()", COMPGRAPH_KERNELS="fast")
    assert "COMPGRAPH_KERNELS must be 'numpy' or 'numba', not 'fast'" in result.stderr
