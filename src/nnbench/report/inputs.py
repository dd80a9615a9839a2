"""The report's inputs: result files only (tables, cell files, the data sets' points, benchmarks, study tables).

Everything is read lazily and at most once. The report never trains, generates or downloads data: the points
drawn under the decision boundaries are the workflow's ``results/points/{dataset}.npz`` (``nnbench points``),
split as the run split them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from nnbench.config import seed_list

COURSE_ORDER = ["initialization", "regularization", "optimization", "gradient_checking", "gradient-checking"]


class ReportInputs:
    """Where the inputs are; everything is read lazily and at most once."""

    def __init__(
        self,
        results="results",
        tables=None,
        runs_dir=None,
        benchmarks=None,
        config=None,
        studies=None,
        studies_benchmarks=None,
        points_dir=None,
    ):
        results = Path(results)
        self.points_dir = Path(points_dir) if points_dir else results / "points"
        self.tables = Path(tables) if tables else results / "tables"
        self.runs_dir = Path(runs_dir) if runs_dir else results / "runs"
        self.benchmarks_path = Path(benchmarks) if benchmarks else results / "benchmarks.csv"
        self.config = dict(config or {})
        self.studies = Path(studies) if studies else self.tables  # study_*.csv (nnbench studies)
        self.studies_benchmarks = Path(studies_benchmarks) if studies_benchmarks else None  # {study}.tsv
        self._cells: dict[tuple, dict | None] = {}

    def read_summary(self) -> pd.DataFrame:
        from ..results import read_table
        from ..tables import CELL_KEYS, SUMMARY_COLUMNS

        df = read_table(
            self.tables / "summary.csv",
            {c: "str" if c in (*CELL_KEYS, "comment") else "number" for c in SUMMARY_COLUMNS},
        )
        for col in ("runs", "ok", "diverged"):
            df[col] = df[col].fillna(0).astype(int)
        return df

    def read_runs(self) -> pd.DataFrame:
        from ..results import read_table
        from ..tables import RUN_COLUMNS

        path = self.tables / "runs.csv"
        if not path.is_file():
            return pd.DataFrame(columns=["dataset", "init", "reg", "opt", "seed", "status", "test_acc"])
        text = ("dataset", "init", "reg", "opt", "status", "config_hash", "blas_kernel")
        return read_table(path, {c: "str" if c in text else "number" for c in RUN_COLUMNS})

    def read_benchmarks(self) -> pd.DataFrame | None:
        if not self.benchmarks_path.is_file():
            return None
        try:
            return pd.read_csv(self.benchmarks_path)
        except pd.errors.EmptyDataError:
            return None

    def course_files(self) -> list[tuple[str, Path]]:
        files = {p.stem[len("course_") :]: p for p in sorted(self.tables.glob("course_*.csv"))}
        order = [e for e in COURSE_ORDER if e in files] + sorted(e for e in files if e not in COURSE_ORDER)
        return [(e, files[e]) for e in order]

    def cell(self, dataset, init, reg, opt) -> dict | None:
        key = (dataset, init, reg, opt)
        if key not in self._cells:
            from ..results import read_cell

            path = self.runs_dir / dataset / init / reg / f"{opt}.json"
            # a missing cell is left out of its figure; a damaged one is refused (naming it), never drawn
            self._cells[key] = read_cell(path, from_path=True) if path.is_file() else None
        return self._cells[key]

    def points(self, dataset: str, spec: Mapping, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
        """All points (train, validation and test parts, features-first) of grid data set ``dataset`` as run with
        ``spec``, split with ``default_rng(seed)``, from the workflow's points file ``points_dir/{dataset}.npz``
        (``nnbench points``): None when the file is missing or holds other points, or the data are not 2-D."""
        from nnbench import data

        path = self.points_dir / f"{dataset}.npz"
        if "dataset" not in spec or not path.is_file():
            return None
        options = spec.get("dataset_options") or {}
        try:
            raw = data.read_points(path, spec["dataset"], options)
            split = data.load(spec["dataset"], options, np.random.default_rng(seed), points=raw)
        except ValueError:  # a points file of other options, or options this version refuses
            return None
        X = np.concatenate([split.X_train, split.X_val, split.X_test], axis=1)
        y = np.concatenate([split.y_train, split.y_val, split.y_test])
        return (X, y) if X.shape[0] == 2 else None

    def study_table(self, name: str) -> pd.DataFrame | None:
        """The study table ``name`` (``studies/{name}.csv``), or None when it is missing or unreadable."""
        path = self.studies / f"{name}.csv"
        if not path.is_file():
            return None
        try:
            return pd.read_csv(path, keep_default_na=False, na_values=[""])
        except (OSError, ValueError, pd.errors.EmptyDataError):
            return None

    def result_versions(self) -> list[dict]:
        """The distinct ``versions`` records of the runs in the cell files read so far."""
        seen = {}
        for cell in self._cells.values():
            for run in (cell or {}).get("runs", []):
                v = run.get("versions")
                if isinstance(v, dict):
                    seen.setdefault(json.dumps(v, sort_keys=True), v)
        return list(seen.values())


def axis_order(config: Mapping, key: str, present: Sequence[str]) -> list[str]:
    present = list(dict.fromkeys(present))
    wanted = [str(x) for x in (config.get(key) or []) if str(x) in present]
    return wanted + [x for x in present if x not in wanted]


def grid_seeds(config: Mapping, runs: pd.DataFrame) -> list[int]:
    """The config's seeds (``nnbench.config.seed_list``), or, without them, the seeds found in ``runs``."""
    if isinstance(config.get("seeds"), (int, list)) and not isinstance(config.get("seeds"), bool):
        return seed_list(config)
    return sorted(int(s) for s in runs["seed"].dropna().unique()) if "seed" in runs else []
