#!/usr/bin/env python3
"""One entry point for a fresh machine that has nothing but ``python3``.

    python3 run.py train [ARGS...]   # the main job: ``compgraph train ARGS``
    python3 run.py test [PYTEST ARGS...]
    python3 run.py lint              # ruff check, ruff format --check, mypy
    python3 run.py bench [SCRIPT [ARGS...]]  # a script from benchmarks/ (default: all)

Each command creates (or reuses) the virtual environment ``.venv`` beside this
file and installs what it needs there, once: a stamp records what was
installed, so later runs start at once. Set ``COMPGRAPH_VENV`` to use another
folder.

The test command also installs PyTorch for the comparison tests, but only
when a wheel of it lies on this machine's disk (pip's ``find-links``): a
download would be gigabytes, and the tests skip the comparisons without it.
Set ``COMPGRAPH_TORCH=0`` to never install it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("COMPGRAPH_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
TORCH_PIN = "torch==2.13.0"

# What each command needs installed: the package's extras.
EXTRAS = {"train": "plot", "test": "test", "lint": "dev", "bench": "bench"}


def say(message: str) -> None:
    print(f"[run.py] {message}", file=sys.stderr, flush=True)


def pip(*args: str, quiet: bool = True) -> int:
    command = [str(PYTHON), "-m", "pip", *args]
    if quiet:
        command.insert(4, "-q")
    return subprocess.call(command, cwd=ROOT)


def ensure_venv() -> None:
    if PYTHON.exists():
        return
    say(f"creating a virtual environment in {VENV}")
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    except Exception as error:  # ensurepip missing on some Debian-style Pythons
        sys.exit(
            f"[run.py] could not create {VENV}: {error}\n"
            "On Debian/Ubuntu install the venv module first: apt-get install python3-venv"
        )


def stamp_for(extra: str) -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(f"{extra}|{os.environ.get('COMPGRAPH_TORCH', '1')}".encode())
    return digest.hexdigest()


def ensure_installed(command: str) -> None:
    extra = EXTRAS[command]
    stamp_file = VENV / f".compgraph-installed-{command}"
    stamp = stamp_for(extra)
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return
    target = f".[{extra}]" if extra else "."
    say(f"installing compgraph{'[' + extra + ']' if extra else ''} into {VENV}")
    if pip("install", "-e", target) != 0:
        sys.exit("[run.py] pip install failed; see the messages above")
    if command in ("test", "bench") and os.environ.get("COMPGRAPH_TORCH", "1") != "0":
        install_local_torch()
    stamp_file.write_text(stamp)


def install_local_torch() -> None:
    """Install PyTorch only when its wheel is on this machine's disk."""
    if subprocess.call([str(PYTHON), "-c", "import torch"], stderr=subprocess.DEVNULL) == 0:
        return
    # --no-index: never download torch itself; its small dependencies may come from the index.
    if pip("install", "--no-index", "--no-deps", TORCH_PIN) != 0:
        say("no local PyTorch wheel: the PyTorch comparison tests will be skipped")
        return
    if pip("install", TORCH_PIN) != 0:
        say("PyTorch's dependencies did not install: removing it, comparisons will be skipped")
        pip("uninstall", "-y", "torch")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in EXTRAS:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_venv()
    ensure_installed(command)
    if command == "train":
        return subprocess.call([str(BIN / "compgraph"), "train", *rest])
    if command == "test":
        return subprocess.call([str(PYTHON), "-m", "pytest", *rest], cwd=ROOT)
    if command == "lint":
        checks = [["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]]
        failures = [subprocess.call([str(PYTHON), "-m", *check], cwd=ROOT) for check in checks]
        return max(failures)
    # bench: run as a user's machine does, without the OpenBLAS overrides of this host.
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    }
    # `bench SCRIPT [ARGS...]` runs one script with its arguments; plain `bench`, all of them.
    runs = [rest] if rest else [[str(p)] for p in sorted((ROOT / "benchmarks").glob("bench_*.py"))]
    status = 0
    for script_and_arguments in runs:
        say(f"benchmark {' '.join(script_and_arguments)}")
        status |= subprocess.call([str(PYTHON), *script_and_arguments], cwd=ROOT, env=env)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
