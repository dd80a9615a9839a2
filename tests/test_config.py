"""nnbench.config: a grid cell's spec and the config's engine."""

from pathlib import Path

import pytest
import yaml

from nnbench import trainer
from nnbench.config import cell_spec, check
from nnbench.registry import SpecError
from nnbench.spec import RunSpec

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
SMALL = {**DEFAULT, "datasets": ["moons"], "inits": ["he"], "optimizers": ["gd"]}


def test_cell_spec_merges_the_four_definitions():
    spec = cell_spec(DEFAULT, "circles", "large", "l2_dropout", "adam")
    assert spec == {
        "dataset": "circles",
        "dataset_options": {"n_samples": 400, "noise": 0.05},
        "hidden": [10, 5],
        "epochs": 200,
        "init": "large",
        "init_options": {"scale": 10},
        "l2": 0.05,
        "keep_prob": 0.8,
        "optimizer": "adam",
        "optimizer_options": {"beta1": 0.9, "beta2": 0.999},
        "lr": 0.01,
        "batch_size": 64,
    }


def test_engine_numba_applies_to_every_cell_but_batch_norm():
    pytest.importorskip("numba")
    config = {**DEFAULT, "engine": "numba"}
    assert cell_spec(config, "moons", "he", "dropout", "gd")["engine"] == "numba"
    assert "engine" not in cell_spec(config, "moons", "he", "batchnorm", "gd")  # the default, numpy
    assert RunSpec.from_dict(cell_spec(config, "moons", "he", "batchnorm", "gd")).engine == "numpy"
    assert "engine" not in cell_spec({**DEFAULT, "engine": "numpy"}, "moons", "he", "none", "gd")
    check({**SMALL, "engine": "numba"})


def test_check_refuses_a_bad_engine(monkeypatch):
    with pytest.raises(SpecError, match="engine = 'jax': unknown engine; known: numpy, numba, auto"):
        check({**SMALL, "engine": "jax"})
    with pytest.raises(SpecError, match="engine = 'Auto': unknown engine"):
        check({**SMALL, "engine": "Auto"})
    monkeypatch.setattr(trainer, "numba_installed", lambda: False)
    with pytest.raises(SpecError, match="engine = 'numba': needs the numba package"):
        check({**SMALL, "engine": "numba"})
    check(SMALL)  # numpy needs nothing


def test_engine_auto_applies_to_every_cell_and_needs_no_numba(monkeypatch):
    config = {**DEFAULT, "engine": "auto"}
    for reg in ("none", "batchnorm"):  # batch norm too: auto picks numpy there when the cell trains
        assert RunSpec.from_dict(cell_spec(config, "moons", "he", reg, "gd")).engine == "auto"
    check({**SMALL, "engine": "auto"})
    monkeypatch.setattr(trainer, "numba_installed", lambda: False)
    check({**SMALL, "engine": "auto"})  # without numba, auto trains on numpy
