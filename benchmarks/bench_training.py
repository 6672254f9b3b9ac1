"""One training epoch of each preset in compgraph, PyTorch and a hand-written NumPy loop.

Run it as a user's machine would (the command unsets this host's
OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE for itself):

    python3 run.py bench benchmarks/bench_training.py [--presets softmax,mlp,cnn] [--repeats 5]

All three get the same architecture, the same initial weights, the same batches
(MNIST's 60,000 training images when cached, else a synthetic set of the same
size), float32 and the same thread count (``--threads``, default: what
``compgraph train`` uses). compgraph runs as ``compgraph train`` does: fit()'s own
step (``compgraph.train.loop.train_step``: forward, backward, update, the loss
value and the count of correct predictions), after ``compgraph.set_num_threads``
and ``compgraph.reuse_freed_memory``. PyTorch's and the hand-written loop do the
same bookkeeping. The hand-written loop (softmax and mlp only) is plain NumPy — no
graph, no numba, a fused softmax cross-entropy — the floor a NumPy engine can reach.

The frameworks train their epochs interleaved: ``--chunk`` steps of one, then the
same steps of the next (each pulling its own batches from its own loader, so the
batch gather is timed too), the order reversed at every chunk. Each framework's
epoch time is the sum of its chunks. Shared machines like this one switch between
a fast and a slow state (measured here: steps 40% slower for a second or two at a
time); timing whole epochs one after the other lets one framework sit in a slow
spell the others missed, while interleaved chunks give all of them the same spells.
Each turn starts after a short untimed pause: OpenBLAS's worker threads keep
spinning for about 0.1 s after NumPy's last matrix product (PyTorch's for under
10 ms), and without the pause that spin would steal a core from the next turn.

The table shows, over ``--repeats`` such epochs, the median seconds per epoch and
the median of the epochs' own ratios to PyTorch (with their range); then peak
resident memory of a separate one-epoch run of compgraph and PyTorch (a fresh
process each), and the achieved GFLOP/s beside the machine's measured float32
matrix-product peak. Before the table: the compiled kernels' first-use cost, from
fresh processes with an empty numba cache and then with the cache filled.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compgraph as cg
import training_workloads as work
from compgraph.kernels.threads import default_num_threads


def matmul_peak_gflops(size: int = 2048, repeats: int = 5) -> float:
    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    a @ a
    best = min(_timed(lambda: a @ a) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def _timed(function: Any) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


#: Idle time before each turn: longer than OpenBLAS's 0.1 s spin after a product.
SETTLE_SECONDS = 0.25


def interleaved_epoch(trainers: dict[str, Any], preset: str, chunk: int) -> dict[str, float]:
    """One epoch per trainer, in alternating chunks of steps; the seconds each one took."""
    # One loader each, drawing the same batches, so each gathers its own inside its time.
    loaders = {name: iter(work.epoch_batches(preset)) for name in trainers}
    seconds = dict.fromkeys(trainers, 0.0)
    order = list(trainers)
    while True:
        for name in order:
            time.sleep(SETTLE_SECONDS)  # the other framework's threads stop spinning (see above)
            start = time.perf_counter()
            steps = trainers[name].train(islice(loaders[name], chunk))
            seconds[name] += time.perf_counter() - start
        if steps < chunk:  # every loader ran out at the same step: the epoch is done
            return seconds
        order.reverse()


def peak_memory_mb(preset: str, framework: str, threads: int) -> float:
    """Peak RSS of a fresh process that trains one epoch (imports included)."""
    command = [sys.executable, __file__, "--memory-child", preset, framework,
               f"--threads={threads}"]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return float(output.strip().splitlines()[-1])


def memory_child(preset: str, framework: str) -> None:
    batches = work.epoch_batches(preset)
    if framework == "compgraph":
        trainer = work.CompgraphTrainer(preset)
    else:
        trainer = work.TorchTrainer(preset, work.CompgraphTrainer(preset).model)
    trainer.train(batches)
    print(peak_resident_mb())


def first_use_child(presets: list[str]) -> None:
    """Seconds of each preset's first training step minus its fifth: importing numba and
    compiling (or loading from numba's cache) the kernels the step uses."""
    for preset in presets:
        trainer = work.CompgraphTrainer(preset)
        batches = iter(work.epoch_batches(preset))
        seconds = [_timed(lambda t=trainer, b=batches: t.train(islice(b, 1))) for _ in range(5)]
        first, fifth = seconds[0], seconds[-1]
        print(json.dumps({"preset": preset, "seconds": first - fifth}), flush=True)


def first_use_seconds(presets: list[str], threads: int) -> dict[str, list[float]]:
    """Each preset's first-use cost in a fresh process: with an empty numba cache (what a
    user's first ``compgraph train --model PRESET`` pays), then with that cache filled."""
    results: dict[str, list[float]] = {}
    for preset in presets:
        results[preset] = []
        with tempfile.TemporaryDirectory() as cache:
            environment = {**os.environ, "NUMBA_CACHE_DIR": cache}
            command = [sys.executable, __file__, "--first-use-child", preset,
                       f"--threads={threads}"]  # fmt: skip
            for _ in ("empty cache", "filled cache"):
                output = subprocess.run(
                    command, capture_output=True, text=True, check=True, env=environment
                ).stdout
                results[preset].append(json.loads(output.splitlines()[-1])["seconds"])
    return results


def peak_resident_mb() -> float:
    """This process's peak resident memory. ru_maxrss would do, but Linux carries it over
    from the parent through fork and exec; VmHWM starts afresh with the new program."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def blas_description() -> str:
    from threadpoolctl import threadpool_info

    parts = [
        f"{info['internal_api']} {info.get('version')} ({info.get('architecture', '?')} "
        f"kernels, {info['num_threads']} threads)"
        for info in threadpool_info()
        if info["user_api"] == "blas"
    ]
    return "; ".join(parts) or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="softmax,mlp,cnn")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=50, help="steps per turn (see above)")
    parser.add_argument("--threads", type=int, default=default_num_threads())
    parser.add_argument("--memory-child", nargs=2, metavar=("PRESET", "FRAMEWORK"))
    parser.add_argument("--first-use-child", metavar="PRESETS")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    child = args.memory_child or args.first_use_child
    work.set_up_process(args.threads, with_torch=not child or "torch" in child)
    if args.memory_child:
        memory_child(*args.memory_child)
        return
    if args.first_use_child:
        first_use_child(args.first_use_child.split(","))
        return
    presets = args.presets.split(",")
    torch = work.import_torch()
    torch_version = torch.__version__ if torch else "not installed"
    print(f"date {time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, {args.threads} threads, Python {platform.python_version()}, "
          f"NumPy {np.__version__}, PyTorch {torch_version}")  # fmt: skip
    print(f"NumPy BLAS: {blas_description()}")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    reason = cg.kernels.why_not_compiled()
    print(f"kernels: {cg.kernels.mode()}" + (f" ({reason})" if reason else ""))
    if cg.kernels.mode() == "numba":
        first_use = first_use_seconds(presets, args.threads)
        costs = ", ".join(
            f"{preset} {empty:.1f} s ({filled:.2f} s cached)"
            for preset, (empty, filled) in first_use.items()
        )
        print(f"kernels' first use, in a fresh process (compiling, then from numba's "
              f"disk cache): {costs}")  # fmt: skip
    peak = matmul_peak_gflops()
    print(f"float32 matrix-product peak (2048², NumPy): {peak:.0f} GFLOP/s")
    header = (f"{'preset':<8}{'compgraph s':>12}{'PyTorch s':>11}{'NumPy s':>9}{'ratio':>7}"
              f"{'NumPy ratio':>12}{'cg MB':>7}{'torch MB':>9}{'cg GFLOP/s':>11}"
              f"{'torch GFLOP/s':>14}   epochs' ratios")  # fmt: skip
    print(header)
    results = []
    for preset in presets:
        batches = work.epoch_batches(preset)
        ours = work.CompgraphTrainer(preset)
        trainers: dict[str, Any] = {"compgraph": ours}
        if torch:
            trainers["torch"] = work.TorchTrainer(preset, ours.model)
        if preset in ("softmax", "mlp"):
            trainers["numpy"] = work.NumpyTrainer(preset, ours.model)
        for trainer in trainers.values():  # compiled kernels loaded, buffers allocated
            trainer.train(islice(iter(batches), 3))
        times: dict[str, list[float]] = {name: [] for name in trainers}
        for _ in range(args.repeats):
            for name, seconds in interleaved_epoch(trainers, preset, args.chunk).items():
                times[name].append(seconds)
        flops = work.training_flops(preset) * sum(len(y) for _, y in batches)
        row: dict[str, Any] = {"preset": preset}
        for name in trainers:
            row[f"{name}_s"] = statistics.median(times[name])
        row["compgraph_mb"] = peak_memory_mb(preset, "compgraph", args.threads)
        line = f"{preset:<8}{row['compgraph_s']:>12.2f}"
        if "torch" in times:
            row["torch_mb"] = peak_memory_mb(preset, "torch", args.threads)
            for name in ("compgraph", "numpy"):
                if name in times:
                    ratios = [a / b for a, b in zip(times[name], times["torch"], strict=True)]
                    row[f"{name}_ratios"] = ratios
                    row[f"{name}_ratio"] = statistics.median(ratios)
            numpy_s = f"{row['numpy_s']:.2f}" if "numpy" in times else "-"
            numpy_ratio = f"{row['numpy_ratio']:.2f}" if "numpy" in times else "-"
            achieved = flops / row["compgraph_s"] / 1e9, flops / row["torch_s"] / 1e9
            ratios = row["compgraph_ratios"]
            line += (f"{row['torch_s']:>11.2f}{numpy_s:>9}{row['compgraph_ratio']:>7.2f}"
                     f"{numpy_ratio:>12}{row['compgraph_mb']:>7.0f}{row['torch_mb']:>9.0f}"
                     f"{achieved[0]:>11.1f}{achieved[1]:>14.1f}"
                     f"   {min(ratios):.2f}–{max(ratios):.2f}")  # fmt: skip
        else:
            line += f"{'-':>11}{'-':>9}{'-':>7}{'-':>12}{row['compgraph_mb']:>7.0f}"
        print(line, flush=True)
        results.append(row)
    if args.json:
        args.json.write_text(json.dumps({"peak_gflops": peak, "results": results}, indent=1))


if __name__ == "__main__":
    main()
