"""fit() changes no process-wide setting: threads, memory, errors, signals, warnings."""

from __future__ import annotations

import json
import subprocess
import sys

SNAPSHOT = """
import gc, json, os, signal, sys, warnings
import numpy as np, threadpoolctl
from compgraph.kernels import memory, threads

def snapshot():
    return {
        "blas": sorted((i["filepath"], i["num_threads"]) for i in threadpoolctl.threadpool_info()
                       if i["user_api"] == "blas"),
        "compgraph threads": [threads._requested, threads._kernel_threads],
        "malloc tuned": memory._applied,
        "numpy errors": np.geterr(),
        "numpy print": repr(np.get_printoptions()),
        "sigint": repr(signal.getsignal(signal.SIGINT)),
        "warnings": repr(warnings.filters),
        "gc": [gc.isenabled(), gc.get_threshold()],
        "recursion": sys.getrecursionlimit(),
        "environment": dict(os.environ),
        "random": repr(np.random.get_state()[1][:4]),
    }
"""

FIT = """
import compgraph as cg
from compgraph import data, functional, optim, train
model = cg.nn.Sequential(cg.nn.Conv2d(1, 4, 3, rng=0), cg.nn.MaxPool2d(2), cg.nn.ReLU(),
                         cg.nn.Flatten(), cg.nn.Linear(4 * 13 * 13, 10, rng=0))
loader = data.DataLoader(data.Synthetic("train", n=256), 64, seed=0, flatten=False)
optimizer = optim.Adam(model.parameters())
functional.cross_entropy(model(cg.tensor(next(iter(loader))[0])), [0] * 64)  # kernels loaded
before = snapshot()
train.fit(model, functional.cross_entropy, optimizer, loader, loader, epochs=2)
print(json.dumps([before, snapshot()]))
"""


def test_fit_changes_no_process_wide_setting() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SNAPSHOT + FIT], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    before, after = json.loads(result.stdout.splitlines()[-1])
    changed = sorted(key for key in before if before[key] != after[key])
    assert not changed, {key: (before[key], after[key]) for key in changed}
    assert before["malloc tuned"] is False  # and nothing before fit() tuned it either
