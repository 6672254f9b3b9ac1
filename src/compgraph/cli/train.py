"""``compgraph train``: a new run in a new (or an empty) folder, or ``--resume`` of one."""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compgraph.cli import usage

if TYPE_CHECKING:
    from compgraph.train.run import TrainingRun

#: Options that decide a run's result, so ``--resume`` refuses them: the run keeps its own.
RESULT_OPTIONS = {
    "model": "--model", "dataset": "--dataset", "optimizer": "--optimizer", "lr": "--lr",
    "batch_size": "--batch-size", "seed": "--seed", "out": "--out", "overwrite": "--overwrite",
}  # fmt: skip
NOT_GIVEN = (None, False)  # an option left out: its default


def train_command(args: argparse.Namespace) -> int:
    if args.distributed:
        return distributed_train(args)
    from compgraph.distributed.world import launch_size

    if launch_size() > 1:
        usage(
            f"started as {launch_size()} ranks (mpiexec -n {launch_size()}) without "
            "--distributed, so each would train the whole run on its own; add --distributed"
        )
    compute = set_up_process(args.threads)
    return plan_run(args, compute).execute()


def plan_run(args: argparse.Namespace, compute: str, world: Any = None) -> TrainingRun:
    """A new run, or ``--resume``: its settings and folder, ready to execute."""
    from compgraph.train import folder
    from compgraph.train.config import TrainConfig
    from compgraph.train.run import TrainingRun

    if args.resume is not None:
        return plan_resume(args, compute, world)
    config = TrainConfig.for_preset(
        args.model,
        dataset=args.dataset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        optimizer=args.optimizer,
        seed=args.seed,
        data_dir=None if args.data_dir is None else str(args.data_dir),
    )
    check_data_dir(config.dataset, args.data_dir)
    if args.out is not None:
        folder.create_folder(args.out)
        out = args.out
    else:
        out = folder.new_run_folder()
    if not args.quiet:
        print(compute, flush=True)
    return TrainingRun(config, out, quiet=args.quiet, overwrite=args.overwrite, world=world)


def distributed_train(args: argparse.Namespace) -> int:
    """``mpiexec -n N compgraph train --distributed``: rank 0 decides the settings and the
    folder, as a single process would, and tells the other ranks."""
    from compgraph import distributed
    from compgraph.train.run import TrainingRun, tell_the_others

    # Before joining: a mistake found here is every rank's, and each stops by itself.
    compute = set_up_process(args.threads, default=1)  # one thread per rank unless told
    world = distributed.init()  # DistributedUnavailable: one line saying what to install
    ranks = f"{world.size} rank{'s' if world.size > 1 else ''}"
    compute = f"{compute} per rank, {ranks} (MPI)"
    if not distributed.launched_by_mpi():
        compute += "; not launched by mpiexec, so training as one process"
    if world.rank != 0:
        outcome, settings = world.broadcast_object(None)
        if outcome == "error":
            world.barrier()  # until rank 0 has printed why
            return int(settings)
        config, out, resume, overwrite = settings
        run = TrainingRun(config, out, quiet=True, resume=resume, overwrite=overwrite, world=world)
        return int(run.execute())
    try:
        run = plan_run(args, compute, world)
    except Exception as error:
        tell_the_others(world, error)  # they wait for the settings, never to come
        raise
    world.broadcast_object(("ok", (run.config, run.out, run.resume, run.overwrite)))
    return int(run.execute())


def plan_resume(args: argparse.Namespace, compute: str, world: Any = None) -> TrainingRun:
    from compgraph.train.config import TrainConfig
    from compgraph.train.run import TrainingRun

    run_dir: Path = args.resume
    given = [flag for name, flag in RESULT_OPTIONS.items() if getattr(args, name) not in NOT_GIVEN]
    if given:
        usage(
            f"--resume continues {run_dir} with its own settings, and {', '.join(given)} would "
            "change its result; leave them out, or start a new run"
        )
    if not (run_dir.is_dir() and (run_dir / "model.npz").is_file()):
        usage(f"--resume {run_dir}: holds no model.npz to continue from")
    config = TrainConfig.from_file(run_dir / "config.json")
    if args.data_dir is not None:  # where the data lives does not change the result
        config = dataclasses.replace(config, data_dir=str(args.data_dir))
    check_data_dir(config.dataset, None if config.data_dir is None else Path(config.data_dir))
    if args.epochs is not None and args.epochs != config.epochs:
        if not args.quiet:
            print(f"training to {args.epochs} epochs (the run was set for {config.epochs})")
        config = dataclasses.replace(config, epochs=args.epochs)
    if not args.quiet:
        print(compute, flush=True)
    return TrainingRun(config, run_dir, quiet=args.quiet, resume=True, world=world)


def set_up_process(threads: int | None, default: int | None = None) -> str:
    """What ``compgraph train`` sets in its own process: the kernels, the threads, and freed
    memory kept for reuse. Returns one line that says which kernels run on how many threads.

    ``threads`` is --threads; without it ``COMPGRAPH_NUM_THREADS``, else ``default``, else
    the CPUs this process may use.
    """
    from compgraph import kernels
    from compgraph.kernels import memory
    from compgraph.kernels import threads as thread_settings

    try:
        if threads is None:
            threads = thread_settings.environment_threads()
        mode = kernels.mode()  # COMPGRAPH_KERNELS, checked before any data is loaded
    except ValueError as error:
        usage(str(error))
    threads = threads or default or thread_settings.default_num_threads()
    thread_settings.set_num_threads(threads)
    memory.reuse_freed_memory()
    on = f"{threads} thread{'s' if threads > 1 else ''}"
    if mode == "numba":
        return f"compiled kernels (numba), {on}"
    return f"NumPy kernels ({kernels.why_not_compiled()}), {on}"


def check_data_dir(dataset: str, data_dir: Path | None) -> None:
    """Refuse a data folder that is a file or cannot be created, before any work."""
    from compgraph.data.sources import ENV_VAR, default_root

    if dataset == "synthetic":
        return
    option = "--data-dir" if data_dir is not None else ENV_VAR
    root = data_dir if data_dir is not None else default_root()
    if data_dir is None and ENV_VAR not in os.environ:
        option = "the data folder"
    if root.exists() and not root.is_dir():
        usage(f"{option} {root} is a file, not a folder")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        usage(f"{option} {root}: cannot create it ({error.strerror})")
