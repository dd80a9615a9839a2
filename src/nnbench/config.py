"""From the workflow's config to run specifications: one spec per grid cell, validated before any job.

A cell (dataset, init, reg, opt) merges the four names' definitions (``definitions.<axis>.<name>``, each a
partial RunSpec restricted to its axis's fields) into one :class:`~nnbench.spec.RunSpec` dict. A name
with no definition means the registry entry of the same name (``inits: [he]`` needs no definition).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping
from pathlib import Path

from .registry import SpecError

# axis → (the RunSpec field a bare name sets, the fields its definitions may set)
AXES = {
    "datasets": ("dataset", {"dataset", "dataset_options", "hidden", "activation", "epochs", "curve_every"}),
    "inits": ("init", {"init", "init_options"}),
    "regs": (None, {"l2", "keep_prob", "batchnorm"}),
    "optimizers": ("optimizer", {"optimizer", "optimizer_options", "lr", "schedule", "schedule_options", "batch_size"}),
}
BUILTIN_REGS = {"none": {}}


def seed_list(config: Mapping, key: str = "seeds") -> list[int]:
    """The seeds of ``config[key]`` (default 5), the one reader of every seed setting (the grid's, a study's,
    ``--seeds``): ``5`` means seeds 0..4; a list is taken as it is; a string is a comma-separated list
    (``"0,2,5"``, as on a command line). A string that is not one is refused (ValueError naming ``key``)."""
    seeds = config.get(key, 5)
    if isinstance(seeds, str):
        try:
            return [int(s) for s in seeds.split(",") if s.strip()]
        except ValueError:
            raise ValueError(f"{key} = {seeds!r}: not a comma-separated list of integers") from None
    return list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]


def definition(config: dict, axis: str, name: str) -> dict:
    """The partial spec that ``name`` stands for on ``axis``."""
    defs = (config.get("definitions") or {}).get(axis) or {}
    if name in defs:
        return dict(defs[name] or {})
    if axis == "regs":
        if name in BUILTIN_REGS:
            return dict(BUILTIN_REGS[name])
        raise SpecError("regs", name, "has no definition under definitions.regs")
    return {AXES[axis][0]: name}


def cell_spec(config: dict, dataset: str, init: str, reg: str, opt: str) -> dict:
    """The RunSpec dict (without seed) of one grid cell.

    The config's ``engine`` (default numpy) is set on every cell it can train: ``engine: numba`` leaves
    batch-norm cells on numpy (the compiled engine has no batch norm); each result's spec says which ran it.
    """
    spec = {}
    for axis, name in zip(AXES, (dataset, init, reg, opt)):
        d = definition(config, axis, name)
        for key in d:
            if key not in AXES[axis][1]:
                raise SpecError(f"definitions.{axis}.{name}.{key}", d[key],
                                f"a {axis} definition may set only {', '.join(sorted(AXES[axis][1]))}")
        spec.update(d)
    engine = config.get("engine", "numpy")
    if engine != "numpy" and not (engine == "numba" and spec.get("batchnorm")):
        spec["engine"] = engine
    return spec


def spec_hash(spec: dict) -> str:
    """SHA-256 of a spec's canonical JSON: equal specs, equal hashes."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def cells(config: dict):
    return itertools.product(config["datasets"], config["inits"], config["regs"], config["optimizers"])


def check(config: dict) -> None:
    """Refuse a config whose grid names or values cannot make a valid RunSpec, naming key and value.

    Called at the top of the Snakefile (after the JSON schema), so nothing runs on a bad config.
    """
    from .spec import RunSpec, check_engine

    for axis in AXES:
        names = config.get(axis)
        if not names:
            raise SpecError(axis, names, "the grid needs at least one name on every axis")
        if len(set(names)) != len(names):
            raise SpecError(axis, names, "names must be distinct")
    check_engine(config.get("engine", "numpy"))
    seeds = seed_list(config)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise SpecError("seeds", config.get("seeds"), "must be a positive count or a list of distinct non-negative integers")
    checked = {}
    for cell in cells(config):
        for axis, name in zip(AXES, cell):
            if (axis, name) in checked:
                continue
            spec = cell_spec(config, *cell)
            try:
                RunSpec.from_dict({**spec, "seed": seeds[0]})
            except SpecError as err:
                # name the definition the bad field came from
                field = err.field.split(".")[0].split("_options")[0]
                for ax, nm in zip(AXES, cell):
                    fields = AXES[ax][1]
                    if field in fields or f"{field}_options" in fields:
                        where = f"definitions.{ax}.{nm}" if nm in ((config.get("definitions") or {}).get(ax) or {}) else ax
                        raise SpecError(f"{where}: {err.field}", err.value, err.reason) from None
                raise
            checked[(axis, name)] = True
    for name in config["datasets"]:
        _check_data_file(config, name, seeds[0])
    path = config.get("football_mat") or ""
    if path and not Path(path).is_file():
        raise SpecError("football_mat", path, "no such file (the course's data.mat)")
    if path:
        _check_football_mat(path)


def _check_data_file(config: dict, name: str, seed: int) -> None:
    """Load a data set that reads a file (option ``path``) once, so that a file that is unreadable, of the
    wrong shape, with NaN or with labels the network cannot take is refused before any job, not in every one."""
    import numpy as np

    from . import data
    from .spec import RunSpec

    first = next(cell for cell in cells(config) if cell[0] == name)
    spec = RunSpec.from_dict({**cell_spec(config, *first), "seed": seed})
    path = spec.dataset_options.get("path")
    if path is None:
        return
    try:
        data.load(spec.dataset, spec.dataset_options, np.random.default_rng(0))
    except (ValueError, TypeError, OSError) as err:
        raise SpecError(f"definitions.datasets.{name}.dataset_options.path", path, str(err)) from None


def _check_football_mat(path: str) -> None:
    """The course's data.mat as its regularization experiment needs it: X, y and the test set Xval, yval,
    finite, 2 features and 2 classes (its network is [2, 20, 3, 1])."""
    import numpy as np

    from . import data

    try:
        options = data.check_options("file", {"path": path, "standardize": False})
        split = data.load("file", options, np.random.default_rng(0))
        if data.DATASETS["file"].loader(options).X_test is None:
            raise ValueError("has no Xval/yval arrays (the course's test set)")
    except (ValueError, TypeError, OSError) as err:
        raise SpecError("football_mat", path, str(err)) from None
    if split.n_features != 2 or split.n_classes != 2:
        raise SpecError("football_mat", path, f"needs 2 features and 2 classes (the course's network "
                        f"[2, 20, 3, 1]), has {split.n_features} features and {split.n_classes} classes")
