"""The result files we wrote, read back carefully: every reader verifies what it reads and names the file.

A file the workflow wrote earlier may since have been truncated by a full disk, edited by hand, flipped by a
bad disk or swapped for another; nothing in it is trusted until it is checked. Every reader here raises one
exception type, :class:`ResultFileError` (the file, what is wrong with it, and the fix), which the command
line prints as one line (exit status 2), never as a traceback.

Cell files (``results/runs/{dataset}/{init}/{reg}/{opt}.json``, docs/design.md contract 2)
    :func:`cell_record` builds the record the training job writes; its ``digest`` is the SHA-256 of the
    canonical JSON of the rest of the record (:func:`canonical_json`: keys sorted, no spaces, UTF-8), so
    that any edit or bit flip of the content is detected. :func:`read_cell` checks, in order: readable JSON;
    the schema; the digest; the cell's identity against the path (when read from a runs folder) and the
    expected labels; the config hash against the config's resolved spec (when the config is given); one run
    per seed, no seed twice (and exactly the config's seeds, when given); every value in range (accuracies in
    [0, 1], costs and seconds finite and >= 0, for an ``ok`` run; accuracies and costs ``null`` for a
    ``diverged`` one).
Points files (``results/points/{dataset}.npz``)
    :func:`read_points_file`: any damage (a truncated zip, a bad CRC, a missing array) is refused.
Tables (``results/tables/runs.csv``, ``summary.csv``)
    :func:`read_table`: the expected columns, with numeric columns numeric.
A whole results folder, for your own analysis (Jupyter, pandas)
    :func:`load` (``nnbench.results.load("results")``): tidy DataFrames of the runs, the summary, the cost
    curves and the study tables, every one read through the readers above; :func:`read_results_runs` the runs
    alone (what ``nnbench compare --baseline`` reads).

The fix for a damaged intermediate is the one command that re-makes it: the user's own ``snakemake``
command with ``--forcerun FILE`` (:func:`remake_fix`), which re-runs the job that writes the file and every
job downstream of it.
"""

from __future__ import annotations

import hashlib
import json
import math
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CELL_SCHEMA = "nnbench.cell/2"
CELL_KEYS = ("dataset", "init", "reg", "opt")
STATUSES = ("ok", "diverged")
ACCURACIES = ("train_accuracy", "val_accuracy", "test_accuracy")
COSTS = ("train_cost", "test_cost")


class ResultFileError(ValueError):
    """A result file that cannot be trusted: ``path``, ``problem`` and ``fix`` (the command or step that
    repairs it). ``str()`` is the one line the command line prints."""

    def __init__(self, path, problem: str, fix: str = ""):
        self.path, self.problem, self.fix = str(path), problem, fix
        super().__init__(f"{self.path}: {problem}" + (f"; {fix}" if fix else ""))


def remake_fix(path) -> str:
    """The one command that re-makes a workflow file: the user's snakemake command plus ``--forcerun``."""
    return (
        f"re-make it by adding `--forcerun {Path(path).as_posix()}` to your snakemake command "
        f"(e.g. snakemake --cores 8 --forcerun {Path(path).as_posix()})"
    )


# ----------------------------------------------------------------------------------------------
# cell files


def canonical_json(obj) -> bytes:
    """The bytes a digest is taken over: keys sorted, no spaces, no NaN or infinity, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode()


def cell_digest(record: Mapping) -> str:
    """SHA-256 (hex) of the canonical JSON of ``record`` without its ``digest`` field."""
    return hashlib.sha256(canonical_json({k: v for k, v in record.items() if k != "digest"})).hexdigest()


def cell_record(cell: Mapping | None, config_hash: str, runs: Sequence[Mapping]) -> dict:
    """The record a training job writes for one cell (contract 2), with its content digest."""
    record = {
        "schema": CELL_SCHEMA,
        "cell": dict(cell) if cell is not None else None,
        "config_hash": config_hash,
        "runs": list(runs),
    }
    record["digest"] = cell_digest(record)
    return record


def path_cell(path) -> dict:
    """The cell a path ``.../{dataset}/{init}/{reg}/{opt}.json`` names."""
    parts = Path(path).with_suffix("").parts[-4:]
    return dict(zip(CELL_KEYS, parts)) if len(parts) == 4 else {}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_run(i: int, run, where: str) -> str | None:
    """What is wrong with run ``i`` of a cell, or None."""
    if not isinstance(run, dict):
        return f"run {i} is not an object"
    seed = run.get("seed")
    if not _is_int(seed) or seed < 0:
        return f"run {i}: seed {seed!r} is not a non-negative integer"
    status = run.get("status")
    if status not in STATUSES:
        return f"seed {seed}: status {status!r} is not one of {', '.join(STATUSES)}"
    if not _is_int(run.get("epochs_run")) or run["epochs_run"] < 0:
        return f"seed {seed}: epochs_run {run.get('epochs_run')!r} is not a non-negative integer"
    spec = run.get("spec")
    if not isinstance(spec, dict):
        return f"seed {seed}: spec is not an object"
    if "seed" in spec and spec["seed"] != seed:
        return f"seed {seed}: its spec says seed {spec['seed']!r}"
    for key in (*ACCURACIES, *COSTS):
        value = run.get(key)
        if status == "diverged":
            if value is not None:
                return f"seed {seed}: a diverged run with {key} {value!r} (must be null)"
            continue
        if value is None and key in ("val_accuracy", "test_cost", "test_accuracy"):
            continue  # no validation or test part
        if not _is_number(value):
            return f"seed {seed}: {key} {value!r} is not a finite number"
        if key in ACCURACIES and not 0 <= value <= 1:
            return f"seed {seed}: {key} {value!r} is outside [0, 1]"
        if key in COSTS and value < 0:
            return f"seed {seed}: {key} {value!r} is negative"
    seconds = run.get("seconds")
    if not _is_number(seconds) or seconds < 0:
        return f"seed {seed}: seconds {seconds!r} is not a finite number >= 0"
    curve = run.get("cost_curve")
    if not isinstance(curve, list) or not all(_is_number(c) for c in curve):
        return f"seed {seed}: cost_curve is not a list of finite numbers"
    return None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def read_cell(
    path,
    *,
    expect: Mapping | None = None,
    config_hash: str | None = None,
    seeds: Sequence[int] | None = None,
    from_path: bool = False,
) -> dict:
    """One cell file, verified (see the module docstring), as its record.

    ``expect``: the labels the cell must carry (e.g. from ``--cell``); ``from_path``: the cell must be the one
    its path names; ``config_hash``: the hash of the config's resolved spec for this cell; ``seeds``: the
    seeds it must hold, exactly.
    """
    path = Path(path)
    fix = remake_fix(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ResultFileError(path, "missing", fix) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ResultFileError(path, f"unreadable ({err})", fix) from None
    try:
        record = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as err:
        what = "truncated" if not text.rstrip().endswith("}") else "not valid JSON"
        raise ResultFileError(path, f"{what} (line {err.lineno}, column {err.colno}: {err.msg})", fix) from None
    except ValueError as err:
        raise ResultFileError(path, f"not valid JSON ({err})", fix) from None
    if not isinstance(record, dict):
        raise ResultFileError(path, "is not a cell record (a JSON object)", fix)
    schema = record.get("schema")
    if schema != CELL_SCHEMA:
        raise ResultFileError(
            path,
            f"schema is {schema!r}, expected {CELL_SCHEMA!r} (written by another "
            f"version of nnbench, or not a cell file)",
            fix,
        )
    digest = record.get("digest")
    if not isinstance(digest, str) or digest != cell_digest(record):
        raise ResultFileError(
            path, "content does not match its digest (edited or damaged after the training job wrote it)", fix
        )
    cell = record.get("cell")
    if cell is not None and (not isinstance(cell, dict) or not all(isinstance(cell.get(k, ""), str) for k in cell)):
        raise ResultFileError(path, f"cell {cell!r} is not a mapping of names", fix)
    wanted = {**(path_cell(path) if from_path else {}), **dict(expect or {})}
    if wanted:
        have = {k: (cell or {}).get(k) for k in wanted}
        if have != wanted:
            shown = ", ".join(f"{k}={v}" for k, v in have.items())
            raise ResultFileError(
                path,
                f"holds the cell {shown}, not {', '.join(f'{k}={v}' for k, v in wanted.items())}"
                " (a copied or misplaced file)",
                fix,
            )
    if config_hash is not None and record.get("config_hash") != config_hash:
        raise ResultFileError(
            path, "was made from another config (its config_hash is not the hash of this cell's resolved spec)", fix
        )
    runs = record.get("runs")
    if not isinstance(runs, list) or not runs:
        raise ResultFileError(path, "holds no runs", fix)
    for i, run in enumerate(runs):
        problem = _check_run(i, run, str(path))
        if problem:
            raise ResultFileError(path, problem, fix)
    have_seeds = [run["seed"] for run in runs]
    dup = sorted({s for s in have_seeds if have_seeds.count(s) > 1})
    if dup:
        raise ResultFileError(path, f"seed(s) {dup} appear more than once", fix)
    if seeds is not None and sorted(have_seeds) != sorted(seeds):
        raise ResultFileError(path, f"holds seeds {sorted(have_seeds)}, the config asks for {sorted(seeds)}", fix)
    return record


def read_cells(paths: Iterable, **kwargs) -> list[dict]:
    """Several cell files, each verified, refusing two files of the same cell."""
    records, seen = [], {}
    for path in paths:
        record = read_cell(path, **kwargs)
        cell = record.get("cell")
        key = tuple(sorted(cell.items())) if cell else None
        if key is not None and key in seen:
            raise ResultFileError(
                path,
                f"holds the same cell as {seen[key]} ({', '.join(f'{k}={v}' for k, v in cell.items())})",
                "give each cell once; delete the copy",
            )
        seen[key] = str(path)
        records.append(record)
    return records


def cell_labels(text: str) -> dict:
    """``--cell dataset=circles,init=he,...`` as a dict, refusing anything else (naming the option)."""
    labels = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(
                f"--cell {text!r}: expected NAME=VALUE,NAME=VALUE,... (e.g. dataset=circles,init=he,reg=none,opt=adam)"
            )
        if key in labels:
            raise ValueError(f"--cell {text!r}: {key!r} given twice")
        labels[key.strip()] = value.strip()
    return labels


# ----------------------------------------------------------------------------------------------
# points files


def read_points_file(path) -> dict:
    """The arrays of a points ``.npz`` (``nnbench points``), every one read in full (so that a bad CRC or a
    truncated member is found here, not during training)."""
    path = Path(path)
    fix = remake_fix(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise ResultFileError(path, "missing", fix) from None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, RuntimeError) as err:
        raise ResultFileError(path, f"damaged ({type(err).__name__}: {err})", fix) from None


# ----------------------------------------------------------------------------------------------
# tables


def read_table(path, columns: Mapping[str, str], *, fix: str | None = None):
    """A CSV table the workflow wrote, with at least ``columns`` (name -> ``"str"`` or ``"number"``):
    a missing column, or a non-numeric value in a numeric column, is refused naming the file."""
    import pandas as pd

    path = Path(path)
    fix = remake_fix(path) if fix is None else fix
    try:
        df = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=str)
    except FileNotFoundError:
        raise ResultFileError(path, "missing", fix) from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ResultFileError(path, f"not a readable CSV table ({str(err).strip().splitlines()[0]})", fix) from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ResultFileError(path, f"lacks the column(s) {', '.join(missing)}", fix)
    for col, kind in columns.items():
        if kind == "number":
            values = pd.to_numeric(df[col], errors="coerce")
            bad = df[col].notna() & values.isna()
            if bad.any():
                row = int(bad.idxmax())
                raise ResultFileError(path, f"line {row + 2}, column {col}: {df[col][row]!r} is not a number", fix)
            df[col] = values
        else:
            df[col] = df[col].fillna("")
    return df


# ----------------------------------------------------------------------------------------------
# a whole results folder as tidy DataFrames


def _no_results(folder: Path) -> ResultFileError:
    return ResultFileError(
        folder,
        "holds neither runs/ (the cell files) nor tables/runs.csv",
        "give the results folder of a finished run (the workflow's results/, or a copy of it)",
    )


def _folder(folder) -> Path:
    folder = Path(folder)
    if not folder.exists():
        raise ResultFileError(folder, "no such folder", "give the results folder of a finished run (e.g. results)")
    if not folder.is_dir():
        raise ResultFileError(folder, "is not a folder", "give the results folder of a finished run (e.g. results)")
    return folder


def cell_file_paths(folder) -> list[Path]:
    """The cell files ``folder/runs/{dataset}/{init}/{reg}/{opt}.json``, sorted (empty without runs/)."""
    runs = Path(folder) / "runs"
    return sorted(runs.glob("*/*/*/*.json")) if runs.is_dir() else []


def read_results_runs(source):
    """The runs of a results folder (one row per run, ``nnbench.tables.RUN_COLUMNS``): its cell files
    ``runs/{dataset}/{init}/{reg}/{opt}.json`` when it has any (each verified, against its path too), else its
    ``tables/runs.csv`` (:func:`read_table`); ``source`` may also be a ``runs.csv`` file itself.
    A folder with neither, or a damaged file, is refused (:class:`ResultFileError`)."""
    from .tables import RUN_COLUMNS, read_runs

    source = Path(source)
    if source.is_file():
        return _read_runs_csv(source)
    folder = _folder(source)
    paths = cell_file_paths(folder)
    if paths:
        return read_runs(paths, from_path=True)[RUN_COLUMNS]
    if (folder / "tables" / "runs.csv").is_file():
        return _read_runs_csv(folder / "tables" / "runs.csv")
    raise _no_results(folder)


def _read_runs_csv(path: Path):
    from .tables import RUN_COLUMNS

    text = ("dataset", "init", "reg", "opt", "status", "config_hash", "blas_kernel")
    df = read_table(path, {c: "str" if c in text else "number" for c in RUN_COLUMNS})[RUN_COLUMNS]
    df["seed"] = df["seed"].astype("int64")
    for col in ("epochs", "epochs_run", "diverged_epoch"):
        df[col] = df[col].astype("Int64")
    return df


CURVE_COLUMNS = ["dataset", "init", "reg", "opt", "seed", "status", "epoch", "cost"]


@dataclass(frozen=True)
class Results:
    """A results folder as tidy pandas DataFrames (:func:`load`); ``folder`` is where they were read."""

    folder: Path
    runs: object  # pd.DataFrame
    summary: object  # pd.DataFrame
    curves: object  # pd.DataFrame
    studies: dict  # name -> pd.DataFrame


def load(folder="results") -> Results:
    """``nnbench.results.load("results")``: a results folder as tidy DataFrames, one row per observation.

    Every file goes through the verified readers of this module: a damaged cell file or table is refused
    (:class:`ResultFileError`, naming the file), never skipped or summarized without it.

    ========== =========================================================================================
    frame      columns (one row per ...)
    ========== =========================================================================================
    runs       run (cell x seed): ``dataset, init, reg, opt`` (the cell), ``seed``, ``status`` (``ok`` or
               ``diverged``), ``train_acc, val_acc, test_acc`` (fractions in [0, 1], NaN when diverged or
               when there is no validation part), ``train_cost, test_cost`` (final cross-entropy),
               ``final_cost`` (last recorded training cost), ``epochs`` (asked), ``epochs_run``,
               ``diverged_epoch`` (<NA> when ok), ``seconds`` (training wall time), ``config_hash`` (the
               cell's resolved spec), ``blas_kernel``. From ``runs/**.json``, else ``tables/runs.csv``.
    summary    cell: ``dataset, init, reg, opt, runs, ok, diverged``, ``train_mean, train_std,
               train_ci_low, train_ci_high``, the same four for ``test_``, ``gap_mean`` (train − test mean),
               ``comment`` (``nnbench.tables``: mean over ok seeds, sample std, 95 % t-interval).
               ``tables/summary.csv``; without it, computed from ``runs`` (:func:`nnbench.tables.summarize`).
    curves     recorded point of a run's training cost: the cell, ``seed``, ``status``, ``epoch`` (0,
               ``curve_every``, 2·``curve_every``, ...) and ``cost`` (the training cost of that epoch, as the
               trainer recorded it; NaN-free: a diverged run's curve stops where it diverged). From the cell files; empty (these columns) without ``runs/``.
    studies    dict: study table name (``study_depth``, ``study_search_best``, ...) -> that CSV of
               ``tables/study_*.csv`` as written by ``nnbench studies`` (columns: the study module's
               docstring, ``nnbench.studies``).
    ========== =========================================================================================

    A missing folder, or one with neither ``runs/`` nor ``tables/runs.csv``, raises :class:`ResultFileError`.
    """
    import pandas as pd

    from .tables import RUN_COLUMNS, SUMMARY_COLUMNS, runs_frame, summarize

    folder = _folder(folder)
    paths = cell_file_paths(folder)
    records = read_cells(paths, from_path=True)  # read and verified once: the runs and the curves
    runs = runs_frame(paths, records)[RUN_COLUMNS] if paths else read_results_runs(folder)
    summary_path = folder / "tables" / "summary.csv"
    if summary_path.is_file():
        summary = read_table(
            summary_path, {c: "str" if c in (*CELL_KEYS, "comment") else "number" for c in SUMMARY_COLUMNS}
        )[SUMMARY_COLUMNS]
        for col in ("runs", "ok", "diverged"):
            summary[col] = summary[col].astype("int64")
    else:
        summary = summarize(runs.assign(layers=pd.NA))[SUMMARY_COLUMNS]
    rows = []
    for record in records:
        key = {k: record["cell"][k] for k in CELL_KEYS}
        for run in record["runs"]:
            every = run.get("curve_every") or 1
            for i, cost in enumerate(run["cost_curve"]):
                rows.append({**key, "seed": run["seed"], "status": run["status"], "epoch": i * every, "cost": cost})
    curves = pd.DataFrame(rows, columns=CURVE_COLUMNS)
    curves = curves.astype({"seed": "int64", "epoch": "int64", "cost": "float64"})
    studies = {}
    for path in sorted((folder / "tables").glob("study_*.csv")):
        try:
            studies[path.stem] = pd.read_csv(path, keep_default_na=False, na_values=[""])
        except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
            raise ResultFileError(path, f"not a readable CSV table ({str(err).strip()})", remake_fix(path)) from None
    return Results(folder, runs, summary, curves, studies)
