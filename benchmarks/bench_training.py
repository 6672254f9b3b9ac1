"""One training epoch of each preset in compgraph and in PyTorch, alternating, in one run.

Run it as a user's machine would (the command unsets this host's
OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE for itself):

    python3 run.py bench benchmarks/bench_training.py [--presets softmax,mlp,cnn] [--repeats 5]

Both frameworks get the same architecture, the same initial weights, the same
batches (MNIST's 60,000 training images when cached, else a synthetic set of
the same size), float32 and the same thread count.

The two frameworks train their epochs interleaved: ``--chunk`` steps of one,
then the same steps of the other (each pulling its own batches from its own
loader, so the batch gather is timed too), compgraph first in even chunks and
PyTorch first in odd ones. Each framework's epoch time is the sum of its
chunks. Shared machines like this one switch between a fast and a slow state
(measured here: steps 40% slower for a second or two at a time); timing whole
epochs one after the other lets one framework sit in a slow spell the other
missed, while interleaved chunks give both the same spells. Each turn starts
after a short untimed pause: OpenBLAS's worker threads keep spinning for about
0.1 s after NumPy's last matrix product (PyTorch's for under 10 ms), and
without the pause that spin would steal a core from the next framework's turn.

The table shows, over ``--repeats`` such epochs, the median seconds per epoch and
the median of the epochs' own ratios (with their range); then peak resident
memory of a separate one-epoch run of each framework (a fresh process each), and
the achieved GFLOP/s beside the machine's measured float32 matrix-product peak.
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
import time
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import training_workloads as work


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


def peak_memory_mb(preset: str, framework: str) -> float:
    """Peak RSS of a fresh process that trains one epoch (imports included)."""
    command = [sys.executable, __file__, "--memory-child", preset, framework]
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
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
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
    parser.add_argument("--memory-child", nargs=2, metavar=("PRESET", "FRAMEWORK"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child)
        return
    torch = work.import_torch()
    threads = os.cpu_count() or 1
    print(f"date {time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
          f"{threads} cores, Python {platform.python_version()}, NumPy {np.__version__}, "
          f"PyTorch {torch.__version__ if torch else 'not installed'}")  # fmt: skip
    print(f"NumPy BLAS: {blas_description()}")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    peak = matmul_peak_gflops()
    print(f"float32 matrix-product peak (2048², NumPy): {peak:.0f} GFLOP/s")
    header = (f"{'preset':<8}{'compgraph s':>12}{'PyTorch s':>11}{'ratio':>7}"
              f"{'cg MB':>8}{'torch MB':>9}{'cg GFLOP/s':>11}{'torch GFLOP/s':>14}"
              f"   epochs' ratios")  # fmt: skip
    print(header)
    results = []
    for preset in args.presets.split(","):
        batches = work.epoch_batches(preset)
        ours = work.CompgraphTrainer(preset)
        trainers = {"compgraph": ours}
        if torch:
            trainers["torch"] = work.TorchTrainer(preset, ours.model)
        times: dict[str, list[float]] = {name: [] for name in trainers}
        for _ in range(args.repeats):
            for name, seconds in interleaved_epoch(trainers, preset, args.chunk).items():
                times[name].append(seconds)
        flops = work.training_flops(preset) * sum(len(y) for _, y in batches)
        row = {"preset": preset, "compgraph_s": statistics.median(times["compgraph"]),
               "compgraph_mb": peak_memory_mb(preset, "compgraph")}  # fmt: skip
        line = f"{preset:<8}{row['compgraph_s']:>12.2f}"
        if "torch" in times:
            row["torch_s"] = statistics.median(times["torch"])
            row["torch_mb"] = peak_memory_mb(preset, "torch")
            epochs = zip(times["compgraph"], times["torch"], strict=True)
            row["epoch_ratios"] = [ours_s / theirs_s for ours_s, theirs_s in epochs]
            row["ratio"] = statistics.median(row["epoch_ratios"])
            line += f"{row['torch_s']:>11.2f}{row['ratio']:>7.2f}"
            line += f"{row['compgraph_mb']:>8.0f}{row['torch_mb']:>9.0f}"
            achieved = flops / row["compgraph_s"] / 1e9, flops / row["torch_s"] / 1e9
            line += f"{achieved[0]:>11.1f}{achieved[1]:>14.1f}"
            line += f"   {min(row['epoch_ratios']):.2f}–{max(row['epoch_ratios']):.2f}"
        else:
            line += f"{'-':>11}{'-':>7}{row['compgraph_mb']:>8.0f}{'-':>9}"
            line += f"{flops / row['compgraph_s'] / 1e9:>11.1f}{'-':>14}"
        print(line, flush=True)
        results.append(row)
    if args.json:
        args.json.write_text(json.dumps({"peak_gflops": peak, "results": results}, indent=1))


if __name__ == "__main__":
    main()
