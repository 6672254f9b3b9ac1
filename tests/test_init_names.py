"""init="seed" became init="notebook": old checkpoints load quietly, old code is warned."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import compgraph as cg
from compgraph import nn
from compgraph.nn.config import from_config


def test_notebook_init_draws_the_original_notebooks_normal() -> None:
    layer = nn.Linear(400, 300, init="notebook", rng=0)
    assert layer.init == "notebook" and layer.config()["init"] == "notebook"
    assert abs(layer.weight.data.std() - 0.1) < 0.005
    assert abs(layer.bias.data.std() - 0.1) < 0.02


def test_the_old_name_warns_and_draws_the_same_weights() -> None:
    with pytest.warns(DeprecationWarning, match="init='seed' is now init='notebook'"):
        old = nn.Linear(6, 4, init="seed", rng=3)
    new = nn.Linear(6, 4, init="notebook", rng=3)
    assert old.init == "notebook"
    assert np.array_equal(old.weight.data, new.weight.data)
    assert np.array_equal(old.bias.data, new.bias.data)


def test_a_checkpoint_saved_with_the_old_name_loads_without_a_warning(tmp_path) -> None:
    model = nn.Sequential(nn.Linear(6, 4, init="notebook", rng=1))
    path = cg.save(tmp_path / "new.npz", model)
    # The file an earlier compgraph wrote: the same, with "seed" in its architecture.
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    architecture = json.loads(str(arrays["__architecture__"]))
    architecture["args"]["layers"][0]["args"]["init"] = "seed"
    arrays["__architecture__"] = np.array(json.dumps(architecture))
    old_path = tmp_path / "old.npz"
    with open(old_path, "wb") as file:
        np.savez(file, **arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a user cannot edit the file: no warning
        loaded = cg.load(old_path)
    assert isinstance(loaded, nn.Sequential)
    layer = loaded[0]
    assert isinstance(layer, nn.Linear) and layer.init == "notebook"  # saved again as new
    assert np.array_equal(layer.weight.data, model[0].weight.data)


def test_from_config_renames_only_init() -> None:
    sizes = {"in_features": 2, "out_features": 3}
    config = {"type": "Linear", "args": {**sizes, "init": "seed"}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer = from_config(config)
    assert isinstance(layer, nn.Linear) and layer.init == "notebook"
    assert config["args"]["init"] == "seed"  # the caller's dict is left as it was
    with pytest.raises(ValueError, match="unknown init 'bogus'"):
        from_config({"type": "Linear", "args": {**sizes, "init": "bogus"}})
