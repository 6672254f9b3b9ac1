"""Data-parallel training over MPI: examples per second at 1 and 2 ranks, the allreduce, a model.

Run it as a user's machine would (the command unsets this host's
OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE for itself; by hand, start it with
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE``):

    python3 run.py bench benchmarks/bench_distributed.py [--presets softmax,mlp,cnn]
        [--steps N] [--rounds 3] [--latency-us 20]

Needs mpi4py and an ``mpiexec`` (``pip install 'compgraph[mpi]'``). For each preset,
with its model, optimizer and global batch (MNIST when cached, else a synthetic set of
the same size), it times ``--steps`` training steps three ways, each after a few untimed
steps that compile (or load) the kernels:

- one process, one thread (``compgraph.set_num_threads(1)``), stepping as ``compgraph
  train`` does (``compgraph.train.loop.train_step``);
- one process, two threads;
- ``mpiexec -n 2`` of this script, one thread per rank, stepping as ``compgraph train
  --distributed`` does (a sharded DataLoader, ``DistributedOptimizer``,
  ``compgraph.train.loop.parallel_step``); rank 0 reports.

Every case trains on global batches of the preset's size from the same seeded shuffle,
so the work per step is the same.
The cases take turns, ``--rounds`` times, the order reversed each round, and the
table gives the median examples per second and the median (and range) of each
round's own ratios: this is a shared 2-core machine whose speed moves by tens of
percent from one second to the next, so only ratios measured in one run mean much.

The first 2-rank launch of each preset also measures, with the ranks meeting at a
barrier before each repetition, the allreduce of the flat float32 buffer
``compgraph.distributed.gradients.reduce_step`` sends (every gradient and 4 numbers),
as compgraph makes it and as MPI's blocking ``Allreduce``; one backward pass of each
rank's half batch; and the two at once (an ``Iallreduce`` started before the backward
pass, waited for after it by MPI's ``Wait`` or compgraph's polling wait): what
overlapping the reduction with back propagation would buy here, without a progress
thread.

From the 1-thread step time and the gradient's size it then models the speed-up at
8, 32 and 64 ranks on 10 and 100 Gbit/s networks (the assumptions are printed with
it). The output is markdown, for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

import compgraph as cg
from compgraph import data, functional
from compgraph import distributed as dist
from compgraph.distributed import DistributedOptimizer
from compgraph.tensor import Tensor
from compgraph.train.loop import parallel_step, train_step
from compgraph.train.presets import PRESETS
from compgraph.train.run import build_optimizer

#: Steps per timed case: 0.5–5 s each on one thread here (2 threads on a busy machine: more).
DEFAULT_STEPS = {"softmax": 1000, "mlp": 400, "cnn": 60}
WARM_UP_STEPS = 5
#: Untimed pause before each case: OpenBLAS's workers spin ~0.1 s after a product.
SETTLE_SECONDS = 0.25
REPETITIONS = 200  # of the isolated allreduce
DETAIL_STEPS = 30  # of each way of the overlap experiment
MODEL_RANKS = (8, 32, 64)
NETWORKS_GBIT = (10, 100)
CASES = ("1 process, 1 thread", "1 process, 2 threads", "2 ranks, 1 thread each")


def training_set() -> Any:
    try:
        return data.MNIST(split="train", download=False, announce=lambda _: None)
    except Exception:  # not cached: a stand-in of the same size keeps the timing meaningful
        return data.Synthetic("train", n=60_000)


class Workload:
    """A preset's model (seed 0), optimizer and endless global batches, as ``compgraph train``
    builds them; with ``shard=True`` a rank draws its part of every global batch."""

    def __init__(self, preset: str, train_set: Any, batch_size: int | None = None) -> None:
        settings = PRESETS[preset]
        self.model = settings.build(np.random.default_rng(0))
        self.optimizer = build_optimizer(settings.optimizer, self.model.parameters(), settings.lr)
        self.batch_size = batch_size or settings.batch_size
        self.loader = data.DataLoader(
            train_set, self.batch_size, seed=0, flatten=not settings.images, shard=True
        )
        self.batches = self._endless()

    def _endless(self) -> Iterator[tuple[Any, Any]]:
        while True:
            yield from self.loader

    def parameter_count(self) -> int:
        return sum(p.data.size for p in self.model.parameters())

    def seconds(self, steps: int) -> float:
        """``steps`` of train_step, one process, batch gathering included."""
        start = time.perf_counter()
        for x, y in islice(self.batches, steps):
            train_step(self.model, functional.cross_entropy, self.optimizer, x, y)
        return time.perf_counter() - start


class TimedOptimizer(DistributedOptimizer):
    """A DistributedOptimizer that records how long each reduction took (waiting included)."""

    def __init__(self, optimizer: Any) -> None:
        super().__init__(optimizer)
        self.reductions: list[float] = []

    def synchronize(self, examples: int | None = None, extras: Any = ()) -> Any:
        start = time.perf_counter()
        result = super().synchronize(examples, extras)
        self.reductions.append(time.perf_counter() - start)
        return result


def slowest(world: Any, seconds: list[float]) -> list[float]:
    """Each repetition's time on the slower rank: what the step waits for."""
    array = np.array(seconds)
    world.comm.Allreduce(world.mpi.IN_PLACE, array, op=world.mpi.MAX)
    return [float(value) for value in array]


def ranks_child(preset: str, steps: int, detail: bool) -> None:
    """One 2-rank case under mpiexec: timed steps, then (``detail``) the reduction itself."""
    world = dist.init()
    work = Workload(preset, training_set())
    dist.broadcast_parameters(work.model)
    optimizer = TimedOptimizer(work.optimizer)
    model, loss_fn = work.model, functional.cross_entropy
    for x, y in islice(work.batches, WARM_UP_STEPS):
        parallel_step(model, loss_fn, optimizer, x, y, False)
    optimizer.reductions.clear()
    world.barrier()
    start = time.perf_counter()
    for x, y in islice(work.batches, steps):
        parallel_step(model, loss_fn, optimizer, x, y, False)
    world.barrier()
    seconds = time.perf_counter() - start
    reductions = slowest(world, optimizer.reductions)
    result: dict[str, Any] = {
        "examples_per_s": steps * work.batch_size / seconds,
        "reduction_in_training_s": statistics.median(reductions),
        "reduction_in_training_mean_s": statistics.fmean(reductions),
        "cpus": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "mpi": world.mpi.Get_library_version().split(",")[0].strip(),
    }
    if detail:
        result.update(reduction_details(world, work))
    if world.rank == 0:
        print(json.dumps(result), flush=True)


def reduction_details(world: Any, work: Workload) -> dict[str, float]:
    """Medians over repetitions, each started together at a barrier: the allreduce alone
    (compgraph's, the same Iallreduce with MPI's Wait, MPI's blocking one), one rank's
    backward pass, and the backward pass with an Iallreduce under way."""
    buffer = np.zeros(work.parameter_count() + 4, np.float32)  # reduce_step's message
    ways = {
        "allreduce_s": lambda: world.allreduce_sum(buffer),
        "iallreduce_wait_s": lambda: world.comm.Iallreduce(
            world.mpi.IN_PLACE, buffer, op=world.mpi.SUM
        ).Wait(),
        "blocking_allreduce_s": lambda: world.comm.Allreduce(
            world.mpi.IN_PLACE, buffer, op=world.mpi.SUM
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(REPETITIONS):
        for name, reduce in ways.items():
            world.barrier()
            start = time.perf_counter()
            reduce()
            times[name].append(time.perf_counter() - start)
    # The backward pass alone, then with an Iallreduce of the same size started before it
    # and waited for after it: by MPI's Wait, and by compgraph's polling wait.
    waits = {"backward_s": None, "overlap_mpi_wait_s": "mpi", "overlap_polling_s": "polling"}
    times.update({name: [] for name in waits})
    for x, y in islice(work.batches, DETAIL_STEPS):
        for name, wait in waits.items():
            work.optimizer.zero_grad()
            loss = functional.cross_entropy(work.model(Tensor(x)), y)
            world.barrier()
            start = time.perf_counter()
            if wait is None:
                loss.backward()
            else:
                request = world.comm.Iallreduce(world.mpi.IN_PLACE, buffer, op=world.mpi.SUM)
                loss.backward()
                if wait == "mpi":
                    request.Wait()
                else:
                    world.wait(request)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(slowest(world, seconds)) for name, seconds in times.items()}


def mpiexec() -> list[str]:
    beside = Path(sys.executable).parent / "mpiexec"
    command = [str(beside) if beside.exists() else "mpiexec", "--oversubscribe"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(1, "--allow-run-as-root")
    return command


def run_ranks(preset: str, steps: int, detail: bool) -> dict[str, Any]:
    command = [*mpiexec(), "-n", "2", sys.executable, __file__, "--ranks-child", preset,
               f"--steps={steps}", *(["--detail"] if detail else [])]  # fmt: skip
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                   "COMPGRAPH_NUM_THREADS": "1"}  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=environment)
    if done.returncode != 0:
        sys.exit(f"mpiexec -n 2 failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure_preset(preset: str, steps: int, rounds: int, train_set: Any) -> dict[str, Any]:
    """Examples per second of the three cases over ``rounds``, the reduction's details, and
    the 1-thread step at each modelled rank count's share of the global batch."""
    one, two = Workload(preset, train_set), Workload(preset, train_set)
    for work, threads in ((one, 1), (two, 2)):
        cg.set_num_threads(threads)
        work.seconds(WARM_UP_STEPS)
    batch = one.batch_size
    rates: dict[str, list[float]] = {case: [] for case in CASES}
    order, details = list(CASES), {}
    for round_ in range(rounds):
        for case in order:
            time.sleep(SETTLE_SECONDS)
            if case == CASES[2]:
                result = run_ranks(preset, steps, detail=round_ == 0)
                details = details or result
                rates[case].append(result["examples_per_s"])
                continue
            work, threads = (one, 1) if case == CASES[0] else (two, 2)
            cg.set_num_threads(threads)
            rates[case].append(steps * batch / work.seconds(steps))
        order.reverse()
        print(f"{preset} round {round_ + 1}: "
              + ", ".join(f"{rates[c][-1]:.0f}" for c in CASES), file=sys.stderr)  # fmt: skip
    cg.set_num_threads(1)
    small_steps = {}
    for ranks in MODEL_RANKS:  # what one of N ranks computes under strong scaling
        part = Workload(preset, train_set, math.ceil(batch / ranks))
        part.seconds(WARM_UP_STEPS)
        time.sleep(SETTLE_SECONDS)
        small_steps[ranks] = part.seconds(steps) / steps
    return {"preset": preset, "batch": batch, "parameters": one.parameter_count(),
            "rates": rates, "details": details, "small_step_s": small_steps}  # fmt: skip


def ring_allreduce_s(ranks: int, size_bytes: float, gbit: float, latency_s: float) -> float:
    return 2 * (ranks - 1) / ranks * size_bytes / (gbit * 1e9 / 8) + 2 * (ranks - 1) * latency_s


def ratio_cell(numerators: list[float], denominators: list[float]) -> str:
    ratios = [a / b for a, b in zip(numerators, denominators, strict=True)]
    return f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})"


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def print_tables(results: list[dict[str, Any]], latency_s: float) -> None:
    print("\n### Examples per second\n")
    print("| preset | global batch | 1 process, 1 thread | 1 process, 2 threads | "
          "2 ranks, 1 thread each | 2 threads / 1 thread | 2 ranks / 1 thread |")  # fmt: skip
    print("|:--|--:|--:|--:|--:|--:|--:|")
    for r in results:
        rates = r["rates"]
        medians = " | ".join(f"{statistics.median(rates[c]):,.0f}" for c in CASES)
        print(f"| {r['preset']} | {r['batch']} | {medians} | "
              f"{ratio_cell(rates[CASES[1]], rates[CASES[0]])} | "
              f"{ratio_cell(rates[CASES[2]], rates[CASES[0]])} |")  # fmt: skip
    print("\nMedians over the rounds; the ratios are the median (and range) of each round's "
          "own ratio.\n\n### The reduction on 2 ranks\n")  # fmt: skip
    print("| preset | gradient + 4 numbers | allreduce (compgraph) | Iallreduce, MPI Wait | "
          "MPI_Allreduce (blocking) | synchronize() in training: median, mean | "
          "step, 2 ranks |")  # fmt: skip
    print("|:--|--:|--:|--:|--:|--:|--:|")
    for r in results:
        d, count = r["details"], r["parameters"] + 4
        step = r["batch"] / statistics.median(r["rates"][CASES[2]])
        print(f"| {r['preset']} | {count:,} floats, {count * 4 / 1e6:.2f} MB | "
              f"{milliseconds(d['allreduce_s'])} | {milliseconds(d['iallreduce_wait_s'])} | "
              f"{milliseconds(d['blocking_allreduce_s'])} | "
              f"{milliseconds(d['reduction_in_training_s'])}, "
              f"{milliseconds(d['reduction_in_training_mean_s'])} | "
              f"{milliseconds(step)} |")  # fmt: skip
    print(f"""
The allreduce alone: median of {REPETITIONS} repetitions, each started together at a
barrier and timed on the slower rank; compgraph's is the one `reduce_step` makes (an
`Iallreduce` polled with `Test`, so that signal handlers run), beside the same
`Iallreduce` waited for by MPI's `Wait`, and MPI's blocking `Allreduce`, of the same
buffer. `synchronize()` in training: `DistributedOptimizer.synchronize` inside the
timed steps of the first 2-rank round (packing the gradients, the allreduce, and
waiting for the other rank), the longer of the two ranks' each step.

### Overlapping the reduction with back propagation, on 2 ranks
""")
    print("| preset | backward (half batch) | allreduce | at most min(both): of the step | "
          "backward with Iallreduce, MPI Wait | same, compgraph's wait | saved |")  # fmt: skip
    print("|:--|--:|--:|--:|--:|--:|--:|")
    for r in results:
        d = r["details"]
        step = r["batch"] / statistics.median(r["rates"][CASES[2]])
        bound = min(d["allreduce_s"], d["backward_s"])
        best = min(d["overlap_mpi_wait_s"], d["overlap_polling_s"])
        saved = d["allreduce_s"] + d["backward_s"] - best
        print(f"| {r['preset']} | {milliseconds(d['backward_s'])} | "
              f"{milliseconds(d['allreduce_s'])} | {milliseconds(bound)}: {bound / step:.1%} | "
              f"{milliseconds(d['overlap_mpi_wait_s'])} | {milliseconds(d['overlap_polling_s'])} "
              f"| {saved * 1e3:+.2f} ms: {saved / step:+.1%} |")  # fmt: skip
    print(f"""
Medians of {DETAIL_STEPS} repetitions, each started together at a barrier and timed on the
slower rank: one rank's backward pass alone, then the same pass with an `Iallreduce` of
the whole gradient's size started before it and waited for after it (the most any
overlap could hide: a real one would start each layer's reduction when that layer's
gradient is ready). 'Saved': backward + allreduce - the faster of the two overlapped
times; no progress thread (Open MPI's default).

### A model of more ranks
""")
    print(f"Speed-up over one rank at {' / '.join(map(str, MODEL_RANKS))} ranks:\n")
    print("| preset | network | ring allreduce | strong, linear | strong, measured "
          "per-rank step | weak |")  # fmt: skip
    print("|:--|:--|--:|--:|--:|--:|")
    for r in results:
        one_step = r["batch"] / statistics.median(r["rates"][CASES[0]])
        size = (r["parameters"] + 4) * 4
        for gbit in NETWORKS_GBIT:
            reduce = {n: ring_allreduce_s(n, size, gbit, latency_s) for n in MODEL_RANKS}
            linear = [one_step / (one_step / n + reduce[n]) for n in MODEL_RANKS]
            measured = [one_step / (r["small_step_s"][n] + reduce[n]) for n in MODEL_RANKS]
            weak = [n * one_step / (one_step + reduce[n]) for n in MODEL_RANKS]
            cells = [" / ".join(f"{reduce[n] * 1e3:.2f}" for n in MODEL_RANKS) + " ms"]
            for row in (linear, measured, weak):
                cells.append(" / ".join(f"{value:.1f}" for value in row))
            print(f"| {r['preset']} | {gbit} Gbit/s | {' | '.join(cells)} |")
    print("\nThe 1-thread steps the model starts from, at the preset's batch and at its share "
          f"on {' / '.join(map(str, MODEL_RANKS))} ranks:\n")  # fmt: skip
    for r in results:
        one_step = r["batch"] / statistics.median(r["rates"][CASES[0]])
        shares = " / ".join(str(math.ceil(r["batch"] / n)) for n in MODEL_RANKS)
        small = " / ".join(f"{r['small_step_s'][n] * 1e3:.2f}" for n in MODEL_RANKS)
        print(f"- {r['preset']}: {milliseconds(one_step)} at {r['batch']} examples; "
              f"{small} ms at {shares}")  # fmt: skip
    print(f"""
Assumptions:
- Identical ranks, one per machine, one thread each, nothing else running; no stragglers,
  no other traffic on the network, data loading free.
- A step is the rank's compute, then one ring allreduce of the float32 gradients and 4
  numbers (what `reduce_step` sends), with no overlap.
- Ring allreduce of B bytes on N ranks: 2(N-1)/N x B / bandwidth + 2(N-1) x latency, at
  the full nominal bandwidth (TCP reaches 70-90% of it) and {latency_s * 1e6:.0f} µs per hop
  (TCP over Ethernet; RDMA is nearer 2-5 µs).
- One rank's step: the 1-process, 1-thread step measured above.
- Strong scaling (the preset's global batch split over N ranks). 'Linear': a rank computes
  batch/N x the measured time per example, as if every cost of a step shrank with the
  batch. 'Measured per-rank step': a 1-thread step measured here at batch/N examples
  (rounded up), which keeps what does not shrink (Python per node, the optimizer's update
  of every weight, BLAS's efficiency on thin products).
- Weak scaling: every rank keeps the preset's batch (the global batch grows to N x batch);
  the speed-up is in examples per second.""")


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]  # fmt: skip
        cpu = names[0] if names else cpu
    return f"{cpu}, {os.cpu_count()} cores"


def load_average() -> str:
    """The 1, 5 and 15-minute load averages: how busy the shared machine was."""
    if not hasattr(os, "getloadavg"):
        return "?"
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="softmax,mlp,cnn")
    parser.add_argument("--steps", type=int, help=f"timed steps per case (default {DEFAULT_STEPS})")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-us", type=float, default=20.0, help="per hop, in the model")
    parser.add_argument("--ranks-child", metavar="PRESET", help=argparse.SUPPRESS)
    parser.add_argument("--detail", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    cg.reuse_freed_memory()
    if args.ranks_child:
        cg.set_num_threads(1)
        ranks_child(args.ranks_child, args.steps, args.detail)
        return
    started, load_before = time.time(), load_average()
    train_set = training_set()
    results = []
    for preset in args.presets.split(","):
        steps = args.steps or DEFAULT_STEPS[preset]
        results.append(measure_preset(preset, steps, args.rounds, train_set))
    details = results[0]["details"]
    dataset = "MNIST" if isinstance(train_set, data.MNIST) else "synthetic data (MNIST not cached)"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=Path(__file__).parent).stdout.strip()  # fmt: skip
    steps = ", ".join(f"{r['preset']} {args.steps or DEFAULT_STEPS[r['preset']]}" for r in results)
    print(f"## Data-parallel training, {time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}")
    print(f"""
- {machine_line()}, shared with other work: its speed moves by tens of percent from one
  minute to the next, so only ratios measured in one run mean something.
- Load average (1 / 5 / 15 min) {load_before} before, {load_average()} after; the ranks
  could run on CPUs {details['cpus']}.
- Python {platform.python_version()}, NumPy {np.__version__}, compgraph {cg.__version__} \
({commit or 'no git'}), {details['mpi']}, \
OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}.
- {dataset}; timed steps per case: {steps}; {args.rounds} rounds; \
{time.time() - started:.0f} s in all.""")  # fmt: skip
    print_tables(results, args.latency_us * 1e-6)
    if args.json:
        args.json.write_text(json.dumps({"latency_us": args.latency_us, "results": results}))


if __name__ == "__main__":
    main()
