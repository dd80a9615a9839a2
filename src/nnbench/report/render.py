"""The report assembled: every section's context, the figures rendered at one place, the HTML (Jinja2, autoescape
on) and the optional files beside it (every figure, the statistics tables)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from nnbench import stats
from nnbench.baseline import compare_cells
from nnbench.io import write_atomic, write_csv
from nnbench.results import read_results_runs

from . import figures as F
from .figures import FigureTask, fill, render_figures
from .format import fmt_pct
from .inputs import ReportInputs, axis_order, grid_seeds
from .sections.baseline import baseline_section
from .sections.course import course_section
from .sections.fair import fair_section
from .sections.grid import (
    boundary_panel,
    cross_rank_block,
    curve_panels,
    dataset_comments,
    effects_block,
    gap_table,
    has_boundary,
    pick,
    ranking_block,
    stats_tables,
)
from .sections.provenance import benchmarks_block, provenance
from .sections.studies import studies_section

INIT_COMPARISON = ["zeros", "large", "he"]
REG_COMPARISON = ["none", "l2", "dropout"]


def build_report(
    inputs: ReportInputs,
    *,
    test: str = "ttest",
    alpha: float = 0.05,
    with_points: bool = True,
    title: str = "nnbench report",
    config_source: str = "",
    jobs: int = 1,
    baseline=None,
) -> tuple[str, dict]:
    """Render the report; returns (html, extras) where extras holds the figures and the stats tables.

    The sections collect :class:`FigureTask` s; :func:`render_figures` renders them all at once, in ``jobs``
    worker processes if ``jobs > 1`` (the same bytes whatever ``jobs``), and the figures take their places.
    ``baseline``: a baseline run's results folder; the section "What moved since the baseline" compares this
    run's runs with its runs (:mod:`nnbench.baseline`), and extras["baseline"] holds the table."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    summary = inputs.read_summary()
    runs = inputs.read_runs()
    cfg = inputs.config
    datasets = axis_order(cfg, "datasets", summary["dataset"])
    inits = axis_order(cfg, "inits", summary["init"])
    regs = axis_order(cfg, "regs", summary["reg"])
    opts = axis_order(cfg, "optimizers", summary["opt"])
    orders = {"init": inits, "reg": regs, "opt": opts}
    seeds = grid_seeds(cfg, runs)

    tasks: list[FigureTask] = []  # in the report's order
    per_dataset = []
    rank_frames, effect_frames = [], []
    for ds in datasets:
        ranking = (
            stats.rank_cells(runs, summary, ds, test=test, alpha=alpha)
            if len(runs)
            else pd.DataFrame(columns=stats.RANK_COLUMNS)
        )
        effects = stats.main_effects(summary, ds, orders=orders)
        rank_frames.append(ranking)
        effect_frames.append(effects)
        n_seeds = int(runs[runs["dataset"] == ds]["seed"].nunique()) if len(runs) else 0
        d = {
            "name": ds,
            "id": F.safe_name(ds),
            "description": _describe(cfg, ds),
            "tables": stats_tables(summary, ds, regs, inits, opts),
            "comments": dataset_comments(summary, runs, ds, ranking, effects),
            "ranking": ranking_block(ranking, test, alpha, n_seeds),
            "effects": effects_block(effects),
        }
        d["heatmap"] = FigureTask(F.heatmap, summary, ds, inits, regs, opts)
        tasks.append(d["heatmap"])
        curve_init = pick("he", inits, effects, "init")
        panels = curve_panels(inputs, ds, curve_init, regs, opts)
        d["curves"] = FigureTask(F.learning_curves, ds, curve_init, panels, opts) if panels else None
        d["curve_init"] = curve_init
        if d["curves"]:
            tasks.append(d["curves"])
        d["boundaries"] = None
        opt = pick("gd", opts, effects, "opt")
        base_reg = pick("none", regs, effects, "reg")
        base_init = pick("he", inits, effects, "init")
        if has_boundary(inputs, ds, [base_init], [base_reg], [opt]):
            rows = []
            row = [
                boundary_panel(inputs, ds, i, base_reg, opt, f"init = {i}", with_points)
                for i in INIT_COMPARISON
                if i in inits
            ]
            if any(row):
                rows.append((f"reg {base_reg}, {opt}", [p for p in row if p]))
            row = [
                boundary_panel(inputs, ds, base_init, r, opt, f"reg = {r}", with_points)
                for r in REG_COMPARISON
                if r in regs
            ]
            if any(row):
                rows.append((f"init {base_init}, {opt}", [p for p in row if p]))
            if rows:
                d["boundaries"] = FigureTask(F.decision_boundaries, ds, rows)
                d["boundary_setup"] = {"opt": opt, "reg": base_reg, "init": base_init}
                tasks.append(d["boundaries"])
        per_dataset.append(d)

    all_effects = pd.concat(effect_frames, ignore_index=True) if effect_frames else pd.DataFrame()
    cross_ranks = stats.cross_dataset_ranks(summary, datasets)
    cross = cross_rank_block(cross_ranks, datasets) if len(datasets) > 1 and len(cross_ranks) else None
    if cross:
        cross["figure"] = FigureTask(F.cross_dataset_ranks, cross_ranks, datasets)
        tasks.append(cross["figure"])
    gap_fig = FigureTask(F.overfitting_gap, summary, datasets, regs) if datasets else None
    eff_fig = FigureTask(F.main_effects, all_effects, level_orders=orders) if not all_effects.empty else None
    tasks += [f for f in (gap_fig, eff_fig) if f]
    studies = studies_section(inputs)
    tasks += studies.pop("tasks")
    fair = fair_section(inputs, test=test, alpha=alpha)  # None without tuning
    tasks += fair.pop("tasks") if fair else []

    rendered = render_figures(tasks, jobs)  # the figures, all at one place; then they take the tasks' places
    per_dataset, studies, fair = fill(per_dataset, rendered), fill(studies, rendered), fill(fair, rendered)
    gap_fig, eff_fig = fill([gap_fig, eff_fig], rendered)
    cross = fill(cross, rendered)
    figures = [rendered[t] for t in tasks if rendered[t] is not None]

    course = course_section(inputs)
    base_table = None
    if baseline is not None:
        base_table = compare_cells(read_results_runs(baseline), runs, test=test, alpha=alpha)
    ctx = {
        "baseline": baseline_section(base_table, baseline, test=test, alpha=alpha) if base_table is not None else None,
        "title": title,
        "course": course,
        "datasets": per_dataset,
        "grid": {
            "datasets": datasets,
            "inits": inits,
            "regs": regs,
            "opts": opts,
            "seeds": seeds,
            "cells": len(summary),
            "runs": int(summary["runs"].sum()),
            "diverged": int(summary["diverged"].sum()),
        },
        "gap": {"figure": gap_fig, "rows": gap_table(summary, datasets, regs)},
        "effects_figure": eff_fig,
        "alpha": alpha,
        "test_name": "paired t-test" if test == "ttest" else "Wilcoxon signed-rank test",
        "bench": benchmarks_block(inputs.read_benchmarks()),
        "prov": provenance(inputs, runs, seeds, config_source),
        "has_boundaries": any(d["boundaries"] for d in per_dataset),
        "studies": studies,
        "cross": cross,
        "explore_js": explore_js(),
        "fair": fair,
    }
    html = render(ctx)
    rankings = (
        pd.concat([f for f in rank_frames if len(f)], ignore_index=True)
        if any(len(f) for f in rank_frames)
        else pd.DataFrame(columns=stats.RANK_COLUMNS)
    )
    extras = {
        "figures": figures,
        "rankings": rankings,
        "effects": all_effects,
        "course": course,
        "cross_ranks": cross_ranks,
    }
    if base_table is not None:
        extras["baseline"] = base_table
    return html, extras


def _describe(cfg: Mapping, name: str) -> str:
    """The data set's description (``nnbench.data.DATASETS``) for grid data set ``name``."""
    from nnbench.data import DATASETS

    defn = ((cfg.get("definitions") or {}).get("datasets") or {}).get(name) or {}
    info = DATASETS.get(defn.get("dataset", name))
    return info.description if info else ""


def explore_js() -> str:
    """The report's own script (``explore.js``: sorting, filtering, panel picking, hover tips), inlined."""
    from importlib.resources import files

    return files("nnbench.report").joinpath("explore.js").read_text(encoding="utf-8")


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


FIGURE_DIRS = {
    "Heat maps": "heatmaps",
    "Learning curves": "curves",
    "Regularization": "regularization",
    "Studies": "studies",
    "Decision boundaries": "boundaries",
    "Rankings": "rankings",
    "Fair comparison": "fair",
}


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
    """``rankings.csv``, ``main_effects.csv``, ``cross_dataset_ranks.csv``, ``course_reproduction.csv`` (and
    ``baseline_comparison.csv`` with a baseline) — and copies of the input
    ``summary.csv`` and ``course_*.csv``, so that Snakemake's report shows every table in one place."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if inputs is not None:
        sources = [
            inputs.tables / "summary.csv",
            *(p for _, p in inputs.course_files()),
            *sorted(inputs.studies.glob("study_*.csv")),
        ]
        for src in sources:
            if src.is_file():
                write_atomic(out_dir / src.name, src.read_bytes())
    write_csv(out_dir / "rankings.csv", extras["rankings"])
    write_csv(out_dir / "main_effects.csv", extras["effects"])
    if "cross_ranks" in extras:
        write_csv(out_dir / "cross_dataset_ranks.csv", extras["cross_ranks"])
    if extras.get("baseline") is not None:
        write_csv(out_dir / "baseline_comparison.csv", extras["baseline"])
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
    write_csv(
        out_dir / "course_reproduction.csv",
        pd.DataFrame(rows, columns=None if rows else ["experiment", "model", "verdict", "note"]),
    )
