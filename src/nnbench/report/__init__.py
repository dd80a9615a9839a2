"""``nnbench report``: the tables and cell files -> one self-contained HTML report.

Inputs (``--results DIR``, default ``results``; each can be given on its own):

* ``DIR/tables/summary.csv``, ``DIR/tables/runs.csv`` (``nnbench.tables``), ``DIR/tables/course_*.csv``
  (``nnbench course``), ``DIR/benchmarks.csv`` (Snakemake's benchmarks, gathered by ``nnbench tables``);
* the cell files ``DIR/runs/{dataset}/{init}/{reg}/{opt}.json`` (contract 2) — only the few cells the
  learning curves and decision boundaries need are read;
* ``--config-json`` the config as run (a file, or an inline JSON object);
* the study tables ``study_*.csv`` (``nnbench studies``; ``--studies DIR``, default the tables folder) and,
  optionally, their Snakemake benchmarks ``--studies-benchmarks DIR/{study}.tsv``: section 8, "Studies".

Output: ``--out reports/report.html`` — CSS and figures inline (SVG, PNG for decision boundaries),
nothing fetched from the network. Optionally ``--figures-dir`` (every figure as its own file, one folder
per category, for Snakemake's ``--report``) and ``--tables-out`` (rankings, main effects, course
reproduction as CSV).

The numbers in the statistics tables are ``summary.csv``'s, printed as ``mean ± (ci_high − mean)`` in
percent with one decimal (the same format as ``nnbench.tables``). Every string from a config or a file
goes through Jinja2 with autoescape on. Statistics: :mod:`nnbench.stats`.

Figures: the sections do not draw; they put a :class:`FigureTask` (a function of
:mod:`nnbench.report.figures` and its arguments) where a figure goes. :func:`render_figures` renders every
task at one place — in this process with ``--jobs 1`` (the default), in ``--jobs N`` forked worker processes
otherwise, longest first — and the results take the tasks' places. Every figure is deterministic (no metadata,
SVG ids salted with the figure's name), so the report and the figure files are byte-identical whatever N.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import multiprocessing
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from nnbench import stats
from nnbench.io import write_atomic

__all__ = ["main", "build_report", "render_figures", "FigureTask", "ReportInputs"]

COURSE_ORDER = ["initialization", "regularization", "optimization", "gradient_checking", "gradient-checking"]
COURSE_TITLES = {
    "initialization": "Initialization (the seed's table)",
    "regularization": "Regularization",
    "optimization": "Optimization",
    "gradient_checking": "Gradient checking",
    "gradient-checking": "Gradient checking",
}
INIT_COMPARISON = ["zeros", "large", "he"]
REG_COMPARISON = ["none", "l2", "dropout"]
FOOTBALL_HINT = ("set football_mat in config/config.yaml, or run "
                 "snakemake --cores all --config football_mat=path/to/data.mat")
TOP_ROWS = 25  # rows of the "cannot be told apart from the best" table (the full ranking is folded below it)
PACKAGES = ["nnbench", "numpy", "scipy", "scikit-learn", "pandas", "matplotlib", "seaborn", "jinja2", "pyyaml",
            "snakemake"]


# ----------------------------------------------------------------------------------------------
# formatting


def _isnum(x) -> bool:
    try:
        return x is not None and not pd.isna(x) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def fmt_acc(mean, ci_high) -> str:
    """``"97.3 ± 1.2 %"`` (mean ± (ci_high − mean), percent) — ``nnbench.tables.format_accuracy``'s format."""
    if not _isnum(mean):
        return "—"
    if not _isnum(ci_high):
        return f"{100 * float(mean):.1f} %"
    return f"{100 * float(mean):.1f} ± {100 * (float(ci_high) - float(mean)):.1f} %"


def fmt_pct(x, digits: int = 1) -> str:
    return f"{100 * float(x):.{digits}f} %" if _isnum(x) else "—"


def fmt_p(p) -> str:
    if not _isnum(p):
        return "—"
    p = float(p)
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def fmt_seconds(s) -> str:
    if not _isnum(s):
        return "—"
    s = float(s)
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.2f} h"


def fmt_mb(x) -> str:
    return f"{float(x):,.0f} MB" if _isnum(x) else "—"


def _published_display(published: str, ours, kind: str) -> tuple[str, str]:
    """(published, ours) as printed. Accuracies in percent: the published one at its own precision (at most
    2 decimals on screen; the comparison uses every printed digit), ours with one more decimal (at most 2).
    Differences in scientific notation with 4 significant digits. When ours does not reproduce the published
    number but both would print the same, digits are added until they differ."""
    exp = stats.published_exponent(published)
    differs = _isnum(ours) and exp is not None and stats.reproduces(ours, published) is False
    if kind == "difference":
        if exp is None:
            return "—", (f"{float(ours):.3e}" if _isnum(ours) else "—")
        digits = 3
        while differs and digits < 17 and f"{float(ours):.{digits}e}" == f"{float(published):.{digits}e}":
            digits += 1
        return f"{float(published):.{digits}e}", (f"{float(ours):.{digits}e}" if _isnum(ours) else "—")
    if exp is None:
        return "—", (fmt_pct(ours, 1) if _isnum(ours) else "—")
    value = float(published)
    scale = 1 if abs(value) > 1 else 100  # printed as a percentage already, or a fraction
    digits = max(0, -exp - (0 if scale == 1 else 2))
    shown, ours_digits = min(digits, 2), min(digits + 1, 2)
    def misleading(d: int) -> bool:  # ours, as shown, would look like it reproduces the published number
        return bool(stats.reproduces(float(f"{100 * float(ours):.{d}f}") / 100, published))

    def same(d: int, p: int) -> bool:  # both print alike
        return f"{100 * float(ours):.{d}f}" == f"{scale * value:.{p}f}"

    while differs and ours_digits < 15 and (misleading(ours_digits) or same(ours_digits, shown)):
        ours_digits += 1
        shown = max(shown, min(digits, ours_digits))
    ours_text = f"{100 * float(ours):.{ours_digits}f} %" if _isnum(ours) else "—"
    return f"{scale * value:.{shown}f} %", ours_text


# ----------------------------------------------------------------------------------------------
# inputs


class ReportInputs:
    """Where the inputs are; everything is read lazily and at most once."""

    def __init__(self, results="results", tables=None, runs_dir=None, benchmarks=None, config=None,
                 studies=None, studies_benchmarks=None):
        results = Path(results)
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

        df = read_table(self.tables / "summary.csv", {c: "str" if c in (*CELL_KEYS, "comment") else "number"
                                                      for c in SUMMARY_COLUMNS})
        for col in ("runs", "ok", "diverged"):
            df[col] = df[col].fillna(0).astype(int)
        return df

    def read_runs(self) -> pd.DataFrame:
        from ..results import read_table
        from ..tables import RUN_COLUMNS

        path = self.tables / "runs.csv"
        if not path.is_file():
            return pd.DataFrame(columns=["dataset", "init", "reg", "opt", "seed", "status", "test_acc"])
        text = ("dataset", "init", "reg", "opt", "status", "config_hash")
        return read_table(path, {c: "str" if c in text else "number" for c in RUN_COLUMNS})

    def read_benchmarks(self) -> pd.DataFrame | None:
        if not self.benchmarks_path.is_file():
            return None
        try:
            return pd.read_csv(self.benchmarks_path)
        except pd.errors.EmptyDataError:
            return None

    def course_files(self) -> list[tuple[str, Path]]:
        files = {p.stem[len("course_"):]: p for p in sorted(self.tables.glob("course_*.csv"))}
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


def load_config(value: str | None) -> dict:
    """``--config-json``: a file name, or an inline JSON object (``{...}``)."""
    if not value:
        return {}
    text = value if value.lstrip().startswith("{") else Path(value).read_text(encoding="utf-8")
    cfg = json.loads(text)
    if not isinstance(cfg, dict):
        raise ValueError("--config-json: expected a JSON object")
    return cfg


def _axis_order(config: Mapping, key: str, present: Sequence[str]) -> list[str]:
    present = list(dict.fromkeys(present))
    wanted = [str(x) for x in (config.get(key) or []) if str(x) in present]
    return wanted + [x for x in present if x not in wanted]


def _seed_list(config: Mapping, runs: pd.DataFrame) -> list[int]:
    seeds = config.get("seeds")
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        return list(range(seeds))
    if isinstance(seeds, list):
        return [int(s) for s in seeds]
    return sorted(int(s) for s in runs["seed"].dropna().unique()) if "seed" in runs else []


# ----------------------------------------------------------------------------------------------
# figures: tasks, rendered at one place (in this process, or in --jobs worker processes)

# rough seconds per figure on the default config (21 figures, ~15 s in all, most of it savefig): with
# --jobs N > 1 the costliest start first, so that the workers finish together
FIGURE_COST = {"study_depth": 1.7, "study_batch": 1.2, "heatmap": 1.0, "learning_curves": 0.8,
               "overfitting_gap": 0.7, "main_effects": 0.5, "study_search": 0.5, "study_schedules": 0.4,
               "study_gradcheck": 0.35, "decision_boundaries": 0.2, "study_depth_outcome": 0.2}


class FigureTask:
    """A figure still to draw: ``func(*args, **kwargs)``, ``func`` a function of :mod:`nnbench.report.figures` (plain
    tables and arrays in, a ``Figure`` or None out). It stands where the figure goes in the report's context
    until :func:`render_figures` has run; compared and hashed by identity."""

    __slots__ = ("func", "args", "kwargs")

    def __init__(self, func: Callable, *args, **kwargs):
        self.func, self.args, self.kwargs = func, args, kwargs

    @property
    def cost(self) -> float:
        return FIGURE_COST.get(self.func.__name__, 0.5)

    def render(self):
        return self.func(*self.args, **self.kwargs)

    def __repr__(self) -> str:
        return f"FigureTask({self.func.__name__})"


_worker_tasks: Sequence[FigureTask] = ()


def _start_worker(tasks: Sequence[FigureTask]) -> None:
    """A worker's initializer: keep the tasks (forked memory: fork does not pickle ``initargs``) and set the
    figures' theme — inherited from the parent under fork, set here all the same."""
    from nnbench.report import figures as F

    global _worker_tasks
    _worker_tasks = tasks
    F.setup()


def _render_in_worker(index: int):
    return _worker_tasks[index].render()  # only the index goes to the worker; the Figure comes back pickled


def render_figures(tasks: Sequence[FigureTask], jobs: int = 1) -> dict:
    """``{task: its Figure (or None)}``. ``jobs == 1``: one after the other in this process, in the given order.
    ``jobs > 1``: in ``min(jobs, len(tasks))`` forked worker processes, the costliest first. The figures are the
    same bytes either way (each is deterministic and sets its own SVG hash salt)."""
    from nnbench.report import figures as F

    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    tasks = list(tasks)
    if jobs == 1 or len(tasks) < 2:
        F.setup()
        return {task: task.render() for task in tasks}
    order = sorted(range(len(tasks)), key=lambda i: -tasks[i].cost)  # stable: ties keep the report's order
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=multiprocessing.get_context("fork"),
                               initializer=_start_worker, initargs=(tasks,))
    try:
        futures = {i: pool.submit(_render_in_worker, i) for i in order}
        return {tasks[i]: futures[i].result() for i in range(len(tasks))}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # after a failure: drop the figures not started yet


def _fill(obj, rendered: Mapping):
    """``obj`` (nested dicts and lists) with every :class:`FigureTask` in it replaced by its rendered figure."""
    if isinstance(obj, FigureTask):
        return rendered[obj]
    if isinstance(obj, dict):
        return {k: _fill(v, rendered) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_fill(v, rendered) for v in obj]
    return obj


# ----------------------------------------------------------------------------------------------
# section 1: the course


def course_section(inputs: ReportInputs) -> dict:
    from ..results import read_table

    tables = []
    for experiment, path in inputs.course_files():
        df = read_table(path, {"experiment": "str", "model": "str"}).fillna("")
        kind = "difference" if "difference" in df.columns else "accuracy"
        metrics = ([("difference", "difference")] if kind == "difference"
                   else [("train", "train_accuracy"), ("test", "test_accuracy")])
        rows = []
        for r in df.to_dict("records"):
            row = {"model": r.get("model", ""), "note": r.get("note", ""), "metrics": {}}
            verdicts = []
            for short, col in metrics:
                ours_text = (r.get(col) or "").strip()
                ours = float(ours_text) if _isnum_text(ours_text) else math.nan
                pub = (r.get(f"published_{col}") or "").strip()
                pub_disp, ours_disp = _published_display(pub, ours, kind)
                ok = stats.reproduces(ours, pub) if _isnum(ours) else None
                row["metrics"][short] = {"ours": ours_disp, "published": pub_disp, "reproduced": ok,
                                         "ours_value": ours_text, "published_value": pub}
                if stats.published_exponent(pub) is not None:
                    verdicts.append(ok)
            if not verdicts:
                row["verdict"] = "n/a"
            elif any(v is None for v in verdicts):
                row["verdict"] = "not run"
            else:
                row["verdict"] = "reproduced" if all(verdicts) else "not reproduced"
            rows.append(row)
        ran = any(m["ours_value"] for row in rows for m in row["metrics"].values())
        # a metric with neither our number nor a published one in any row gets no columns
        shown = {k: any(row["metrics"][k]["ours_value"] or row["metrics"][k]["published_value"] for row in rows)
                 for k, _ in metrics}
        tables.append({"experiment": experiment, "title": COURSE_TITLES.get(experiment, experiment.replace("_", " ")),
                       "kind": kind, "rows": rows, "file": path.name, "ran": ran, "shown": shown,
                       "n_reproduced": sum(r["verdict"] == "reproduced" for r in rows),
                       "n_compared": sum(r["verdict"] in ("reproduced", "not reproduced") for r in rows)})
    lead = next((t for t in tables if t["experiment"] == "initialization"), None)
    others = [t for t in tables if t is not lead]
    reg = next((t for t in tables if t["experiment"] == "regularization"), None)
    football = str(inputs.config.get("football_mat") or "")
    football_missing = (not football and "football_mat" in inputs.config) or reg is None or not reg["ran"]
    return {"lead": lead, "others": others, "football_missing": football_missing, "football_hint": FOOTBALL_HINT,
            "football_mat": football, "has_any": bool(tables)}


def _isnum_text(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except (TypeError, ValueError):
        return False


# ----------------------------------------------------------------------------------------------
# sections 2, 3, 5, 7: statistics per data set


def _cell_label(init, reg, opt) -> str:
    return f"{init} · {reg} · {opt}"


def stats_tables(summary: pd.DataFrame, dataset: str, regs: Sequence[str], inits: Sequence[str],
                 opts: Sequence[str]) -> list[dict]:
    cells = summary[summary["dataset"] == dataset].set_index(["init", "reg", "opt"], drop=False)
    blocks = []
    for reg in regs:
        rows = []
        for init in inits:
            for opt in opts:
                if (init, reg, opt) not in cells.index:
                    continue
                c = cells.loc[(init, reg, opt)]
                rows.append({
                    "key": f"{dataset}/{init}/{reg}/{opt}",
                    "model": f"{init} initialization, {opt}",
                    "train": fmt_acc(c["train_mean"], c["train_ci_high"]),
                    "test": fmt_acc(c["test_mean"], c["test_ci_high"]),
                    "test_mean": c["test_mean"], "train_mean": c["train_mean"],
                    "ci": (f"95 % CI [{fmt_pct(c['test_ci_low'])}, {fmt_pct(c['test_ci_high'])}]"
                           if _isnum(c["test_ci_low"]) else "no interval (fewer than 2 ok runs)"),
                    "ok": int(c["ok"]), "runs": int(c["runs"]), "diverged": int(c["diverged"]),
                    "comment": c.get("comment", ""),
                    "best": "best in table" in str(c.get("comment", "")),
                })  # fmt: skip
        if rows:
            blocks.append({"reg": reg, "rows": rows})
    return blocks


def dataset_comments(summary: pd.DataFrame, runs: pd.DataFrame, dataset: str, ranking: pd.DataFrame,
                     effects: pd.DataFrame) -> list[str]:
    """Plain-language findings derived from the numbers."""
    s = summary[summary["dataset"] == dataset]
    out = []
    ok = s[s["test_mean"].notna()]
    if not ok.empty:
        b = ranking[ranking["verdict"] == "best"]
        if not b.empty:
            b = b.iloc[0]
            c = s[(s["init"] == b["init"]) & (s["reg"] == b["reg"]) & (s["opt"] == b["opt"])].iloc[0]
            n_tied = int((ranking["verdict"] == "tied").sum())
            out.append(f"Best cell: {b['init']} initialization, {b['reg']} regularization, {b['opt']} — test "
                       f"{fmt_acc(c['test_mean'], c['test_ci_high'])} (train {fmt_pct(c['train_mean'])}); "
                       f"{n_tied} other cell{'s' if n_tied != 1 else ''} cannot be told apart from it.")
        worst = ok.sort_values("test_mean").iloc[0]
        out.append(f"Worst cell that trained: {worst['init']} · {worst['reg']} · {worst['opt']} at "
                   f"{fmt_pct(worst['test_mean'])} test accuracy.")
    comments = s["comment"].fillna("").astype(str)
    sym = s[comments.str.contains("fails to break symmetry")]
    stuck = s[comments.str.contains("does not learn")]
    if len(sym):
        out.append(f"{len(sym)} zeros-initialized cell{'s' if len(sym) != 1 else ''} stay at chance level: "
                   "with every weight equal the hidden units never become different (no symmetry breaking).")
    if len(stuck):
        inits = ", ".join(f"{k} ({v})" for k, v in stuck["init"].value_counts().items())
        out.append(f"{len(stuck)} other cell{'s' if len(stuck) != 1 else ''} do not learn (chance-level test "
                   f"accuracy), by initialization: {inits}.")
    n_runs, n_div = int(s["runs"].sum()), int(s["diverged"].sum())
    if n_div:
        by = s[s["diverged"] > 0]
        worst_axis = []
        for axis, name in (("init", "initialization"), ("opt", "optimizer"), ("reg", "regularizer")):
            counts = by.groupby(axis)["diverged"].sum().sort_values(ascending=False)
            if len(counts):
                worst_axis.append(f"{name} {counts.index[0]} ({int(counts.iloc[0])})")
        out.append(f"{n_div} of {n_runs} runs diverged; the most divergent " + ", ".join(worst_axis) + ".")
    else:
        out.append(f"No run diverged ({n_runs} runs).")
    if not effects.empty:
        sizes = stats.effect_sizes(effects)
        names = {"init": "initialization", "reg": "regularization", "opt": "optimizer"}
        if len(sizes) and _isnum(sizes.iloc[0]):
            parts = []
            for axis, span in sizes.items():
                e = effects[effects["axis"] == axis].dropna(subset=["test_mean"])
                if e.empty:
                    continue
                hi, lo = e.loc[e["test_mean"].idxmax()], e.loc[e["test_mean"].idxmin()]
                parts.append(f"{names.get(axis, axis)} {100 * span:.1f} points ({lo['level']} "
                             f"{fmt_pct(lo['test_mean'])} → {hi['level']} {fmt_pct(hi['test_mean'])})")
            out.append("What matters most (range of the marginal mean test accuracy): " + "; ".join(parts) + ".")
        reg = effects[(effects["axis"] == "reg")].dropna(subset=["gap_mean"])
        if len(reg) > 1:
            lo, hi = reg.loc[reg["gap_mean"].idxmin()], reg.loc[reg["gap_mean"].idxmax()]
            out.append(f"Overfitting gap (train − test, marginal): largest with {hi['level']} "
                       f"({100 * hi['gap_mean']:+.1f} points), smallest with {lo['level']} "
                       f"({100 * lo['gap_mean']:+.1f} points).")
    return out


def ranking_block(ranking: pd.DataFrame, test: str, alpha: float, n_seeds: int) -> dict:
    rows = []
    for r in ranking.to_dict("records"):
        rows.append({
            "rank": r["rank"], "cell": _cell_label(r["init"], r["reg"], r["opt"]),
            "init": r["init"], "reg": r["reg"], "opt": r["opt"],
            "test": fmt_acc(r["test_mean"], r["test_ci_high"]),
            "diff": f"{100 * r['diff']:+.1f}" if _isnum(r["diff"]) else "—",
            "n_pairs": r["n_pairs"], "p_raw": fmt_p(r["p_raw"]), "p_holm": fmt_p(r["p_holm"]),
            "verdict": r["verdict"], "diverged": int(r["diverged"]), "runs": int(r["runs"]),
        })  # fmt: skip
    top = [r for r in rows if r["verdict"] in ("best", "tied", "untestable")]
    counts = ranking["verdict"].value_counts().to_dict()
    return {"top": top[:TOP_ROWS], "more": max(0, len(top) - TOP_ROWS), "all": rows, "counts": counts, "test": "paired t-test" if test == "ttest" else "Wilcoxon signed-rank test",
            "alpha": alpha, "n_seeds": n_seeds, "n_cells": len(rows)}


def effects_block(effects: pd.DataFrame) -> list[dict]:
    names = {"init": "Initialization", "reg": "Regularization", "opt": "Optimizer"}
    blocks = []
    for axis, e in effects.groupby("axis", sort=False):
        best = e["test_mean"].max()
        blocks.append({"axis": names.get(axis, axis), "rows": [{
            "level": r["level"], "test": fmt_pct(r["test_mean"]), "train": fmt_pct(r["train_mean"]),
            "delta": f"{100 * (r['test_mean'] - best):+.1f}" if _isnum(r["test_mean"]) else "—",
            "rank": r["rank"] if _isnum(r["rank"]) else "—", "cells": int(r["cells"]),
            "diverged": int(r["diverged_runs"]), "top": _isnum(r["test_mean"]) and r["test_mean"] == best,
        } for r in e.to_dict("records")]})  # fmt: skip
    return blocks


def gap_table(summary: pd.DataFrame, datasets: Sequence[str], regs: Sequence[str]) -> list[dict]:
    rows = []
    for ds in datasets:
        for reg in regs:
            s = summary[(summary["dataset"] == ds) & (summary["reg"] == reg) & summary["test_mean"].notna()]
            if s.empty:
                continue
            b = s.sort_values("test_mean", ascending=False).iloc[0]
            rows.append({
                "dataset": ds, "reg": reg, "cells": len(s),
                "train": fmt_pct(s["train_mean"].mean()), "test": fmt_pct(s["test_mean"].mean()),
                "gap": f"{100 * s['gap_mean'].mean():+.1f}",
                "best": f"{b['init']} · {b['opt']}", "best_train": fmt_pct(b["train_mean"]),
                "best_test": fmt_pct(b["test_mean"]), "best_gap": f"{100 * b['gap_mean']:+.1f}",
            })  # fmt: skip
    return rows


# ----------------------------------------------------------------------------------------------
# sections 4 and 6: figures from the cell files


def _pick(preferred: str, levels: Sequence[str], effects: pd.DataFrame | None = None, axis: str = "") -> str | None:
    if preferred in levels:
        return preferred
    if effects is not None and not effects.empty:
        e = effects[effects["axis"] == axis].dropna(subset=["test_mean"])
        if not e.empty:
            return str(e.loc[e["test_mean"].idxmax(), "level"])
    return levels[0] if levels else None


def curve_panels(inputs: ReportInputs, dataset: str, init: str, regs, opts) -> dict:
    panels = {}
    for reg in regs:
        for opt in opts:
            cell = inputs.cell(dataset, init, reg, opt)
            if not cell:
                continue
            curves = [r.get("cost_curve") or [] for r in cell.get("runs", [])]
            curves = [[math.nan if v is None else v for v in c] for c in curves if c]
            if curves:
                every = int(cell["runs"][0].get("curve_every") or 1)
                panels.setdefault(reg, {})[opt] = (curves, every)
    return panels


def _points(spec: Mapping, seed: int):
    """All points of the run's data set (train, validation and test), via nnbench.data only."""
    try:
        from nnbench import data

        split = data.load(spec["dataset"], spec.get("dataset_options") or {}, np.random.default_rng(seed))
    except Exception:  # noqa: BLE001 - the points are optional decoration
        return None
    X = np.concatenate([split.X_train, split.X_val, split.X_test], axis=1)
    y = np.concatenate([split.y_train, split.y_val, split.y_test])
    return (X, y) if X.shape[0] == 2 else None


def boundary_panel(inputs: ReportInputs, dataset, init, reg, opt, title: str, with_points: bool) -> dict | None:
    cell = inputs.cell(dataset, init, reg, opt)
    if not cell:
        return None
    runs = cell.get("runs", [])
    run = next((r for r in runs if r.get("status") == "ok" and r.get("boundary")), None)
    if run is None:
        return {"title": f"{title}\n(diverged)", "boundary": None, "points": None}
    acc = f"train {fmt_pct(run.get('train_accuracy'), 0)}, test {fmt_pct(run.get('test_accuracy'), 0)}"
    pts = _points(run.get("spec") or {}, int(run.get("seed", 0))) if with_points else None
    return {"title": f"{title} (seed {run.get('seed')})\n{acc}", "boundary": run["boundary"], "points": pts}


def has_boundary(inputs: ReportInputs, dataset, inits, regs, opts) -> bool:
    for init in inits:
        for reg in regs:
            for opt in opts:
                cell = inputs.cell(dataset, init, reg, opt)
                if cell:
                    return any(r.get("boundary") for r in cell.get("runs", []))
    return False


# ----------------------------------------------------------------------------------------------
# section 8: provenance


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def _git(cwd: Path) -> dict:
    def run(*args):
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True).stdout.strip()

    try:
        commit = run("rev-parse", "HEAD")
    except Exception:  # noqa: BLE001
        return {"commit": "unknown (no git commit found)", "short": "unknown", "dirty": None}
    try:
        dirty = bool(run("status", "--porcelain", "--untracked-files=no"))
    except Exception:  # noqa: BLE001
        dirty = None
    return {"commit": commit, "short": commit[:12], "dirty": dirty}


def _machine() -> dict:
    info = {"host": platform.node(), "platform": platform.platform(), "machine": platform.machine(),
            "processor": platform.processor() or "", "cpus": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["processor"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory"] = f"{int(line.split()[1]) / 1024 ** 2:.1f} GB"
                break
    except OSError:
        pass
    return info


def _now() -> _dt.datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc)
    return _dt.datetime.now(_dt.timezone.utc)


def benchmarks_block(bench: pd.DataFrame | None) -> dict | None:
    if bench is None or bench.empty or "s" not in bench.columns:
        return None
    b = bench.copy()
    b["s"] = pd.to_numeric(b["s"], errors="coerce")
    rss = pd.to_numeric(b["max_rss"], errors="coerce") if "max_rss" in b.columns else pd.Series(np.nan, index=b.index)
    b["max_rss"] = rss
    b["rule"] = b["rule"].astype(str) if "rule" in b.columns else "?"
    b["wildcards"] = b["wildcards"].fillna("").astype(str) if "wildcards" in b.columns else ""
    per_rule = []
    for rule, g in b.groupby("rule", sort=True):
        per_rule.append({"rule": rule, "jobs": len(g), "total": fmt_seconds(g["s"].sum()),
                         "mean": fmt_seconds(g["s"].mean()), "max": fmt_seconds(g["s"].max()),
                         "rss": fmt_mb(g["max_rss"].max())})
    slow = b.sort_values("s", ascending=False).head(10)
    return {
        "jobs": len(b), "total": fmt_seconds(b["s"].sum()), "max_rss": fmt_mb(b["max_rss"].max()),
        "cpu": fmt_seconds(pd.to_numeric(b["cpu_time"], errors="coerce").sum()) if "cpu_time" in b.columns else None,
        "per_rule": per_rule,
        "slowest": [{"rule": r["rule"], "wildcards": r["wildcards"], "s": fmt_seconds(r["s"]),
                     "rss": fmt_mb(r["max_rss"])} for r in slow.to_dict("records")],
    }


def _result_versions(inputs: ReportInputs) -> list[dict]:
    seen = {}
    for cell in inputs._cells.values():
        for run in (cell or {}).get("runs", []):
            v = run.get("versions")
            if isinstance(v, dict):
                seen.setdefault(json.dumps(v, sort_keys=True), v)
    return list(seen.values())


def provenance(inputs: ReportInputs, runs: pd.DataFrame, seeds: list[int], config_source: str) -> dict:
    cfg = inputs.config
    hashes = runs["config_hash"].dropna().nunique() if "config_hash" in runs.columns else 0
    return {
        "config": json.dumps(cfg, indent=2, ensure_ascii=False, default=str) if cfg else "",
        "config_source": config_source,
        "seeds": seeds,
        "seeds_seen": sorted(int(s) for s in runs["seed"].dropna().unique()) if "seed" in runs.columns else [],
        "n_runs": len(runs), "n_cells": hashes,
        "versions": _versions(),
        "result_versions": _result_versions(inputs),
        "git": _git(Path.cwd()),
        "machine": _machine(),
        "date": _now().strftime("%Y-%m-%d %H:%M:%S UTC"),
    }


# ----------------------------------------------------------------------------------------------
# section 8: the studies beyond the grid (nnbench.studies: tables -> findings -> figures)


STUDY_TITLES = {"gradcheck": "Gradient checks of every grid cell", "depth": "Depth: vanishing and exploding gradients",
                "search": "Random vs grid search at equal budget", "schedules": "Schedules and batch size"}


def _read_study(inputs: ReportInputs, name: str) -> pd.DataFrame | None:
    path = inputs.studies / f"{name}.csv"
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (OSError, ValueError, pd.errors.EmptyDataError):
        return None


def studies_section(inputs: ReportInputs) -> dict:
    """One block per study whose table exists: caption (the finding in numbers), figure(s), a small table and
    the wall time its Snakemake job took; ``verdict`` of the gradient checks (red: a check fails the workflow).
    The figures are :class:`FigureTask` s, also listed under ``tasks`` (for :func:`render_figures`)."""
    from nnbench.report import figures as F
    from nnbench.studies import findings

    cfg = inputs.config.get("studies") if isinstance(inputs.config.get("studies"), Mapping) else {}
    blocks, tasks = {}, []

    def seconds(name):
        if inputs.studies_benchmarks is None:
            return None
        return findings.benchmark_seconds(inputs.studies_benchmarks / f"{name}.tsv")

    table = _read_study(inputs, "study_gradcheck")
    if table is not None and len(table):
        fail_on = (cfg.get("gradcheck") or {}).get("fail_on") or ["unexplained"]
        f = findings.gradcheck(table, fail_on)
        fig = FigureTask(F.study_gradcheck, table, f["caption"])
        tasks.append(fig)
        rows = [{"cell": " · ".join(str(r[c]) for c in ("dataset", "init", "reg", "opt") if str(r[c]) not in ("", "nan")),
                 "stage": r["stage"], "difference": f"{r['difference']:.2e}",
                 "d10": f"{r['difference_10eps']:.2e}" if _isnum(r["difference_10eps"]) else "—",
                 "kinks": int(r["kinks"]), "cost": f"{r['cost']:.3g}", "grad": f"{r['grad_norm']:.3g}",
                 "cause": r["cause"], "fails": r["cause"] in fail_on} for r in f["rows"]]
        blocks["gradcheck"] = {**{k: v for k, v in f.items() if k != "rows"}, "figure": fig, "rows": rows[:15],
                               "more": max(0, len(rows) - 15), "seconds": fmt_seconds(seconds("gradcheck"))}
    runs, layers = _read_study(inputs, "study_depth"), _read_study(inputs, "study_depth_layers")
    if runs is not None and layers is not None and len(runs):
        f = findings.depth(runs, layers)
        fig, outcome = FigureTask(F.study_depth, layers, f["caption"]), FigureTask(F.study_depth_outcome, runs)
        tasks += [fig, outcome]
        per = f["table"]
        depths = sorted(per["depth"].unique())
        rows = []
        for (init, act), g in per.groupby(["init", "activation"], sort=False):
            g = g.set_index("depth")
            rows.append({"init": init, "activation": act,
                         "tests": [fmt_pct(g.loc[d, "test"]) if g.loc[d, "ok"] else "diverged" for d in depths],
                         "median": f"{g.loc[depths[-1], 'median']:.2g}"})
        blocks["depth"] = {"caption": f["caption"], "figure": fig, "outcome": outcome, "depths": depths,
                           "rows": rows, "seconds": fmt_seconds(seconds("depth"))}
    result, trials = _read_study(inputs, "study_search"), _read_study(inputs, "study_search_trials")
    if result is not None and len(result):
        f = findings.search(result, trials)
        fig = FigureTask(F.study_search, f["summary"], trials, f["caption"], findings.METHOD_LABELS)
        tasks.append(fig)
        summ = f["summary"]
        methods = list(dict.fromkeys(summ["method"]))
        rows = []
        for b in f["budgets"]:
            cells = []
            for m in methods:
                r = summ[(summ["method"] == m) & (summ["budget"] == b)]
                cells.append({"val": fmt_acc(r["val"].iloc[0], r["val_high"].iloc[0]) if len(r) else "—",
                              "test": fmt_pct(r["test"].iloc[0]) if len(r) else "—"})
            rows.append({"budget": b, "cells": cells})
        blocks["search"] = {"caption": f["caption"], "figure": fig, "seeds": f["seeds"],
                            "methods": [findings.METHOD_LABELS.get(m, m) for m in methods], "rows": rows,
                            "seconds": fmt_seconds(seconds("search"))}
    table = _read_study(inputs, "study_schedules")
    if table is not None and len(table):
        f = findings.schedules(table)
        fig, batch = FigureTask(F.study_schedules, table, f["caption"]), FigureTask(F.study_batch, table)
        tasks += [fig, batch]  # either may render to None (no rows of its part)
        final = f.get("final")
        rows = ([{"optimizer": o, "values": [fmt_pct(final.loc[o, c]) for c in final.columns],
                  "best": f["best_schedule"][o]} for o in final.index] if final is not None else [])
        blocks["schedules"] = {"caption": f["caption"], "figure": fig, "batch": batch, "epochs": f["epochs"],
                               "schedules": list(final.columns) if final is not None else [], "rows": rows,
                               "seconds": fmt_seconds(seconds("schedules"))}
    return {"blocks": blocks, "tasks": tasks, "titles": STUDY_TITLES,
            "verdict": blocks["gradcheck"]["verdict"] if "gradcheck" in blocks else None}


# ----------------------------------------------------------------------------------------------
# assembling


def build_report(inputs: ReportInputs, *, test: str = "ttest", alpha: float = 0.05, with_points: bool = True,
                 title: str = "nnbench report", config_source: str = "", jobs: int = 1) -> tuple[str, dict]:
    """Render the report; returns (html, extras) where extras holds the figures and the stats tables.

    The sections collect :class:`FigureTask` s; :func:`render_figures` renders them all at once, in ``jobs``
    worker processes if ``jobs > 1`` (the same bytes whatever ``jobs``), and the figures take their places."""
    from nnbench.report import figures as F

    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    summary = inputs.read_summary()
    runs = inputs.read_runs()
    cfg = inputs.config
    datasets = _axis_order(cfg, "datasets", summary["dataset"])
    inits = _axis_order(cfg, "inits", summary["init"])
    regs = _axis_order(cfg, "regs", summary["reg"])
    opts = _axis_order(cfg, "optimizers", summary["opt"])
    orders = {"init": inits, "reg": regs, "opt": opts}
    seeds = _seed_list(cfg, runs)

    tasks: list[FigureTask] = []  # in the report's order
    per_dataset = []
    rank_frames, effect_frames = [], []
    for ds in datasets:
        ranking = stats.rank_cells(runs, summary, ds, test=test, alpha=alpha) if len(runs) else \
            pd.DataFrame(columns=stats.RANK_COLUMNS)
        effects = stats.main_effects(summary, ds, orders=orders)
        rank_frames.append(ranking)
        effect_frames.append(effects)
        n_seeds = int(runs[runs["dataset"] == ds]["seed"].nunique()) if len(runs) else 0
        d = {"name": ds, "id": F.safe_name(ds), "description": _describe(cfg, ds),
             "tables": stats_tables(summary, ds, regs, inits, opts),
             "comments": dataset_comments(summary, runs, ds, ranking, effects),
             "ranking": ranking_block(ranking, test, alpha, n_seeds), "effects": effects_block(effects)}
        d["heatmap"] = FigureTask(F.heatmap, summary, ds, inits, regs, opts)
        tasks.append(d["heatmap"])
        curve_init = _pick("he", inits, effects, "init")
        panels = curve_panels(inputs, ds, curve_init, regs, opts)
        d["curves"] = FigureTask(F.learning_curves, ds, curve_init, panels, opts) if panels else None
        d["curve_init"] = curve_init
        if d["curves"]:
            tasks.append(d["curves"])
        d["boundaries"] = None
        opt = _pick("gd", opts, effects, "opt")
        base_reg = _pick("none", regs, effects, "reg")
        base_init = _pick("he", inits, effects, "init")
        if has_boundary(inputs, ds, [base_init], [base_reg], [opt]):
            rows = []
            row = [boundary_panel(inputs, ds, i, base_reg, opt, f"init = {i}", with_points)
                   for i in INIT_COMPARISON if i in inits]
            if any(row):
                rows.append((f"reg {base_reg}, {opt}", [p for p in row if p]))
            row = [boundary_panel(inputs, ds, base_init, r, opt, f"reg = {r}", with_points)
                   for r in REG_COMPARISON if r in regs]
            if any(row):
                rows.append((f"init {base_init}, {opt}", [p for p in row if p]))
            if rows:
                d["boundaries"] = FigureTask(F.decision_boundaries, ds, rows)
                d["boundary_setup"] = {"opt": opt, "reg": base_reg, "init": base_init}
                tasks.append(d["boundaries"])
        per_dataset.append(d)

    all_effects = pd.concat(effect_frames, ignore_index=True) if effect_frames else pd.DataFrame()
    gap_fig = FigureTask(F.overfitting_gap, summary, datasets, regs) if datasets else None
    eff_fig = FigureTask(F.main_effects, all_effects, level_orders=orders) if not all_effects.empty else None
    tasks += [f for f in (gap_fig, eff_fig) if f]
    studies = studies_section(inputs)
    tasks += studies.pop("tasks")

    rendered = render_figures(tasks, jobs)  # the figures, all at one place; then they take the tasks' places
    per_dataset, studies = _fill(per_dataset, rendered), _fill(studies, rendered)
    gap_fig, eff_fig = _fill([gap_fig, eff_fig], rendered)
    figures = [rendered[t] for t in tasks if rendered[t] is not None]

    course = course_section(inputs)
    ctx = {
        "title": title,
        "course": course,
        "datasets": per_dataset,
        "grid": {"datasets": datasets, "inits": inits, "regs": regs, "opts": opts, "seeds": seeds,
                 "cells": len(summary), "runs": int(summary["runs"].sum()), "diverged": int(summary["diverged"].sum())},
        "gap": {"figure": gap_fig, "rows": gap_table(summary, datasets, regs)},
        "effects_figure": eff_fig,
        "alpha": alpha,
        "test_name": "paired t-test" if test == "ttest" else "Wilcoxon signed-rank test",
        "bench": benchmarks_block(inputs.read_benchmarks()),
        "prov": provenance(inputs, runs, seeds, config_source),
        "has_boundaries": any(d["boundaries"] for d in per_dataset),
        "studies": studies,
    }
    html = render(ctx)
    rankings = pd.concat([f for f in rank_frames if len(f)], ignore_index=True) if any(len(f) for f in rank_frames) \
        else pd.DataFrame(columns=stats.RANK_COLUMNS)
    extras = {"figures": figures, "rankings": rankings, "effects": all_effects, "course": course}
    return html, extras


def _describe(cfg: Mapping, name: str) -> str:
    defn = ((cfg.get("definitions") or {}).get("datasets") or {}).get(name) or {}
    dataset = defn.get("dataset", name)
    try:
        from nnbench.data import DATASETS

        info = DATASETS.get(dataset)
        return info.description if info else ""
    except Exception:  # noqa: BLE001
        return ""


def render(ctx: dict) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("nnbench.report", "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = fmt_pct
    return env.get_template("report.html.j2").render(**ctx)


# ----------------------------------------------------------------------------------------------
# writing + command line


FIGURE_DIRS = {"Heat maps": "heatmaps", "Learning curves": "curves", "Regularization": "regularization", "Studies": "studies",
               "Decision boundaries": "boundaries", "Rankings": "rankings"}


def write_figures(figures, out_dir: Path) -> list[Path]:
    """Every figure as its own file, ``out_dir/{category folder}/{name}.{svg,png}`` (all folders created)."""
    paths = []
    for sub in FIGURE_DIRS.values():
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    for f in figures:
        path = out_dir / FIGURE_DIRS.get(f.category, "other") / f.filename
        data = f.data if f.kind == "png" else '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + f.data
        write_atomic(path, data)
        paths.append(path)
    return paths


def write_tables(extras: dict, out_dir: Path, inputs: ReportInputs | None = None) -> None:
    """``rankings.csv``, ``main_effects.csv``, ``course_reproduction.csv`` — and copies of the input
    ``summary.csv`` and ``course_*.csv``, so that Snakemake's report shows every table in one place."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if inputs is not None:
        sources = [inputs.tables / "summary.csv", *(p for _, p in inputs.course_files()),
                   *sorted(inputs.studies.glob("study_*.csv"))]
        for src in sources:
            if src.is_file():
                write_atomic(out_dir / src.name, src.read_bytes())
    write_atomic(out_dir / "rankings.csv", extras["rankings"].to_csv(index=False, lineterminator="\n"))
    write_atomic(out_dir / "main_effects.csv", extras["effects"].to_csv(index=False, lineterminator="\n"))
    rows = []
    course = extras["course"]
    for t in ([course["lead"]] if course["lead"] else []) + course["others"]:
        for r in t["rows"]:
            row = {"experiment": t["experiment"], "model": r["model"]}
            for k, m in r["metrics"].items():
                row[f"{k}_ours"] = m["ours_value"]
                row[f"{k}_published"] = m["published_value"]
            row["verdict"] = r["verdict"]
            row["note"] = r["note"]
            rows.append(row)
    write_atomic(out_dir / "course_reproduction.csv",
                  pd.DataFrame(rows, columns=None if rows else ["experiment", "model", "verdict", "note"])
                  .to_csv(index=False, lineterminator="\n"))


def _jobs(text: str) -> int:
    """``--jobs``: a whole number of worker processes, at least 1."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (the number of processes), got {n}")
    return n


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nnbench report",
                                description="Render the self-contained HTML report from the tables and cell files.")
    p.add_argument("--results", default="results", help="results folder: tables/, runs/, benchmarks.csv (default: results)")
    p.add_argument("--tables", help="folder of summary.csv, runs.csv, course_*.csv (default: RESULTS/tables)")
    p.add_argument("--runs-dir", help="folder of the cell files (default: RESULTS/runs)")
    p.add_argument("--benchmarks", help="gathered benchmarks CSV (default: RESULTS/benchmarks.csv)")
    p.add_argument("--config-json", help="the config as run: a JSON file or an inline JSON object")
    p.add_argument("--out", default="reports/report.html", help="the HTML file (default: reports/report.html)")
    p.add_argument("--figures-dir", help="also write every figure as a file here, one folder per category")
    p.add_argument("--tables-out", help="also write rankings.csv, main_effects.csv, course_reproduction.csv here")
    p.add_argument("--test", choices=["ttest", "wilcoxon"], default="ttest", help="paired test vs the best cell")
    p.add_argument("--alpha", type=float, default=0.05, help="family-wise error rate (Holm) of the ranking")
    p.add_argument("--no-points", action="store_true", help="decision boundaries without the data points")
    p.add_argument("--title", default="nnbench report")
    p.add_argument("--studies", help="folder of the study tables study_*.csv (default: the --tables folder)")
    p.add_argument("--studies-benchmarks", help="folder of the studies' Snakemake benchmarks {study}.tsv (optional)")
    p.add_argument("--jobs", type=_jobs, default=1, metavar="N",
                   help="render the figures in N forked worker processes, longest first (default: 1, in this "
                        "process); the output is byte-identical whatever N")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0 < args.alpha < 1:
        parser.error("--alpha must be in (0, 1)")
    try:
        config = load_config(args.config_json)
    except (OSError, ValueError) as err:
        parser.error(f"--config-json: {err}")
    inputs = ReportInputs(args.results, args.tables, args.runs_dir, args.benchmarks, config, args.studies,
                          args.studies_benchmarks)
    if not (inputs.tables / "summary.csv").is_file():
        parser.error(f"{inputs.tables / 'summary.csv'} not found (run `nnbench tables` first)")
    source = args.config_json if args.config_json and not args.config_json.lstrip().startswith("{") else \
        ("inline --config-json" if args.config_json else "")
    from ..results import ResultFileError

    try:
        html, extras = build_report(inputs, test=args.test, alpha=args.alpha, with_points=not args.no_points,
                                    title=args.title, config_source=source, jobs=args.jobs)
    except ResultFileError as err:
        print(f"nnbench report: error: {err}", file=sys.stderr)
        return 2
    out = Path(args.out)
    write_atomic(out, html)
    if args.figures_dir:
        write_figures(extras["figures"], Path(args.figures_dir))
    if args.tables_out:
        write_tables(extras, Path(args.tables_out), inputs)
    print(f"wrote {out} ({len(html.encode('utf-8')) / 1e6:.2f} MB, {len(extras['figures'])} figures)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
