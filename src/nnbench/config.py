"""From the workflow's config to run specifications: one spec per grid cell, validated before any job.

A cell (dataset, init, reg, opt) merges the four names' definitions (``definitions.<axis>.<name>``, each a
partial RunSpec restricted to its axis's fields) into one :class:`~nnbench.spec.RunSpec` dict. A name
with no definition means the registry entry of the same name (``inits: [he]`` needs no definition).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import yaml

from .registry import SpecError

# axis → (the RunSpec field a bare name sets, the fields its definitions may set)
AXES = {
    "datasets": ("dataset", {"dataset", "dataset_options", "hidden", "activation", "epochs", "curve_every"}),
    "inits": ("init", {"init", "init_options"}),
    "regs": (None, {"l2", "keep_prob", "batchnorm"}),
    "optimizers": ("optimizer", {"optimizer", "optimizer_options", "lr", "schedule", "schedule_options", "batch_size"}),
}
BUILTIN_REGS = {"none": {}}


# The largest seed: the tables hold seeds as 64-bit integers.
MAX_SEED = 2**63 - 1
# The longest suffix the suite adds to a grid name within one path component: the temporary file of a
# seed table, ".{dataset}_init_by_opt.csv.XXXXXXXX.tmp" (nnbench.io.write_atomic); every other file name
# built from one name (cell files, figures, logs, benchmarks) adds less.
NAME_SUFFIX = len(".") + len("_init_by_opt.csv") + len(".XXXXXXXX.tmp")


def seed_list(config: dict, key: str = "seeds") -> list[int]:
    """The one reader of every seed setting (``config["seeds"]``: the grid's, a study's, ``nnbench train
    --seeds`` through :func:`parse_seeds`), errors naming ``key``: ``5`` means seeds 0..4; a list is taken
    as it is. Anything else (a float such as ``2.0``, a
    string, a bool, a negative or repeated seed, a seed above :data:`MAX_SEED`) is refused naming ``key``:
    integer-valued floats are refused, not rounded, as every other integer of a RunSpec is."""
    seeds = config.get("seeds", 5)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise SpecError(key, seeds, "a count of seeds must be at least 1")
        return list(range(seeds))
    if isinstance(seeds, float) and seeds.is_integer():
        raise SpecError(key, seeds, f"must be an integer count or a list of integers (write {int(seeds)})")
    if not isinstance(seeds, (list, tuple)) or not seeds:
        raise SpecError(key, seeds, "must be a positive count or a list of distinct non-negative integers")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= MAX_SEED:
            raise SpecError(key, seeds, f"seed {s!r} is not an integer in [0, 2**63 - 1]")
    if len(set(seeds)) != len(seeds):
        raise SpecError(key, seeds, "seeds must be distinct")
    return list(seeds)


def parse_seeds(key: str, text: str) -> list[int]:
    """Seeds written as on a command line: ``"0,2,5"``, with inclusive ranges ``"0-29999"`` (as
    :func:`seeds_text` writes them); check them with :func:`seed_list`."""
    seeds = []
    try:
        for item in (s.strip() for s in text.split(",")):
            if item:
                low, sep, high = item.partition("-")
                seeds += list(range(int(low), int(high) + 1)) if sep and low else [int(item)]
    except ValueError:
        raise SpecError(key, text, "must be comma-separated non-negative integers or ranges A-B") from None
    return seeds


def seeds_text(seeds) -> str:
    """Seeds as ``nnbench train --seeds`` takes them, runs of consecutive seeds as inclusive ranges
    (``0-29999``), so that a train job's command line does not grow with a count of seeds."""
    parts, seeds = [], list(seeds)
    i = 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts.append(f"{seeds[i]}-{seeds[j]}" if j > i else str(seeds[i]))
        i = j + 1
    return ",".join(parts)


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that repeats a key (``lr: 0.01`` then ``lr: 5.0``), which
    plain YAML loading resolves silently in favour of the last."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                continue  # PyYAML's own error follows
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"found duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def load_yaml(path):
    """A YAML (or JSON) config or spec file, refusing duplicate keys; every error is a ``ValueError`` naming
    the file and the line (``config/ci.yaml:12:3: found duplicate key 'lr' (first at line 9)``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: cannot be read ({err})") from None
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ValueError(f"{where}: {err.problem or err}" + (f" ({err.context})" if err.context else "")) from None
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML ({err})") from None


def check_files(paths) -> None:
    """The config files as written (Snakemake's own loader accepts duplicate keys): each refused, naming the
    file and line, on a YAML error or a repeated key."""
    for path in paths:
        load_yaml(path)


def check_name(key: str, name) -> None:
    """A grid name: a path component and a Snakemake wildcard value, never read as a command-line option.
    Letters, digits, ``_`` and ``-``, not starting with ``-``, and at most NAME_MAX (the file system's
    longest file name, 255 bytes on Linux) minus :data:`NAME_SUFFIX` bytes."""
    import os
    import re

    try:
        limit = os.pathconf(".", "PC_NAME_MAX") - NAME_SUFFIX
    except (OSError, ValueError, AttributeError):
        limit = 255 - NAME_SUFFIX
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]*", name):
        raise SpecError(key, name, "a name is letters, digits, '_' and '-', and does not start with '-'")
    if len(name.encode()) > limit:
        raise SpecError(
            key,
            f"{name[:20]}...",
            f"is {len(name.encode())} bytes long; a name is at most {limit} "
            f"bytes (the file system's longest file name, less the {NAME_SUFFIX} bytes the suite "
            f"adds to it)",
        )


def memory_bytes() -> int:
    """This machine's physical memory (bytes)."""
    import os

    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return 1 << 34


def check_epochs(key: str, epochs: int, n_seeds: int) -> None:
    """Refuse a number of epochs whose bookkeeping alone would not fit in memory: the trainer keeps three
    float64 values per epoch and run (the loss, the L2 penalty and the cost curve, ``nnbench.trainer.fit``),
    and they must take at most a quarter of this machine's physical memory."""
    need = 3 * 8 * int(epochs) * int(n_seeds)
    limit = memory_bytes() // 4
    if need > limit:
        raise SpecError(
            key,
            epochs,
            f"{n_seeds} run(s) of {epochs} epochs need {need / 2**30:.1f} GiB for the "
            f"per-epoch costs alone, over a quarter of this machine's memory ({limit / 2**30:.1f} GiB); "
            f"at most {limit // (24 * n_seeds)} epochs",
        )


def command_limit() -> int:
    """The longest command line a job may have: Snakemake runs each job's shell command as one argument of
    ``bash -c``, and Linux limits one argument to 32 pages (MAX_ARG_STRLEN, 128 KiB) and all of them to
    ARG_MAX; half the smaller is left for the environment and Snakemake's own additions."""
    import os

    page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
    arg_max = os.sysconf("SC_ARG_MAX") if hasattr(os, "sysconf") else 1 << 17
    return min(32 * page, arg_max) // 2


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
    batch-norm cells on numpy (the compiled engine has no batch norm); ``engine: auto`` is set on every cell
    and picks per cell when it trains (``trainer.choose_engine``). Each result's ``engine`` says which ran it.
    """
    spec = {}
    for axis, name in zip(AXES, (dataset, init, reg, opt)):
        d = definition(config, axis, name)
        for key in d:
            if key not in AXES[axis][1]:
                raise SpecError(
                    f"definitions.{axis}.{name}.{key}",
                    d[key],
                    f"a {axis} definition may set only {', '.join(sorted(AXES[axis][1]))}",
                )
        spec.update(d)
    engine = config.get("engine", "numpy")
    if engine != "numpy" and not (engine == "numba" and spec.get("batchnorm")):
        spec["engine"] = engine
    return spec


def spec_hash(spec: dict) -> str:
    """SHA-256 of a spec's canonical JSON: equal specs, equal hashes."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def cell_spec_hash(config: dict, dataset: str, init: str, reg: str, opt: str) -> str:
    """The ``config_hash`` a cell file made from ``config`` carries: the hash of the cell's resolved
    RunSpec (every field, defaults filled in), without its seed."""
    from .spec import RunSpec

    spec = RunSpec.from_dict({**cell_spec(config, dataset, init, reg, opt), "seed": 0}).to_dict()
    return spec_hash({k: v for k, v in spec.items() if k != "seed"})


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
        for name in names:
            check_name(axis, name)
    check_engine(config.get("engine", "numpy"))
    seeds = seed_list(config)
    for study, study_config in (config.get("studies") or {}).items():
        if isinstance(study_config, dict) and "seeds" in study_config:
            seed_list(study_config, key=f"studies.{study}.seeds")
    checked = {}
    for cell in cells(config):
        for axis, name in zip(AXES, cell):
            if (axis, name) in checked:
                continue
            spec = cell_spec(config, *cell)
            try:
                check_epochs("epochs", RunSpec.from_dict({**spec, "seed": seeds[0]}).epochs, len(seeds))
            except SpecError as err:
                # name the definition the bad field came from
                field = err.field.split(".")[0].split("_options")[0]
                for ax, nm in zip(AXES, cell):
                    fields = AXES[ax][1]
                    if field in fields or f"{field}_options" in fields:
                        where = (
                            f"definitions.{ax}.{nm}" if nm in ((config.get("definitions") or {}).get(ax) or {}) else ax
                        )
                        raise SpecError(f"{where}: {err.field}", err.value, err.reason) from None
                raise
            checked[(axis, name)] = True
    _check_command_length(config, seeds)
    for name in config["datasets"]:
        _check_data_file(config, name, seeds[0])
    path = config.get("football_mat") or ""
    if path and not Path(path).is_file():
        raise SpecError("football_mat", path, "no such file (the course's data.mat)")
    if path:
        _check_football_mat(path)
    if config.get("baseline"):
        check_baseline(config["baseline"])


def check_baseline(folder, results: str = "results") -> None:
    """The config's ``baseline``: a folder holding ``runs/`` or ``tables/runs.csv``, and not this run's own
    results folder (:func:`nnbench.baseline.check_folder`); the error names the key and the folder."""
    from .baseline import check_folder

    check_folder(folder, "baseline")
    if Path(folder).resolve() == Path(results).resolve():
        raise SpecError(
            "baseline",
            folder,
            f"is this run's own results folder; copy the baseline elsewhere first (cp -r {results} baseline)",
        )


def _check_command_length(config: dict, seeds) -> None:
    """A train job's command line holds every optimizer's resolved spec and the seeds (as ranges): refuse a
    grid whose longest job would exceed :func:`command_limit` (``Argument list too long`` in every job)."""
    limit = command_limit()
    for dataset, init, reg in itertools.product(config["datasets"], config["inits"], config["regs"]):
        size = len(seeds_text(seeds)) + sum(
            len(json.dumps(cell_spec(config, dataset, init, reg, opt))) + 200 + 3 * len(dataset + init + reg + opt)
            for opt in config["optimizers"]
        )
        if size > limit:
            raise SpecError(
                "seeds" if len(seeds_text(seeds)) > limit // 2 else "optimizers",
                config.get("seeds") if len(seeds_text(seeds)) > limit // 2 else config["optimizers"],
                f"the train job {dataset}/{init}/{reg} would need a command line of ~{size} bytes, over "
                f"this system's limit of {limit} (half of MAX_ARG_STRLEN/ARG_MAX); use fewer seeds "
                f"(or a count, passed as a range) or fewer optimizers per job",
            )


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
        raise SpecError(
            "football_mat",
            path,
            f"needs 2 features and 2 classes (the course's network "
            f"[2, 20, 3, 1]), has {split.n_features} features and {split.n_classes} classes",
        )
