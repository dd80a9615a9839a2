"""Sections 2 to 7, the grid per data set: statistics tables, plain-language findings, the ranking against the
best cell, main effects, the overfitting gap, and the learning curves' and decision boundaries' panels (read
from the cell files and the data sets' points)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from nnbench import stats

from ..format import _isnum, fmt_acc, fmt_p, fmt_pct
from ..inputs import ReportInputs

TOP_ROWS = 25  # rows of the "cannot be told apart from the best" table (the full ranking is folded below it)


def _cell_label(init, reg, opt) -> str:
    return f"{init} · {reg} · {opt}"


def stats_tables(
    summary: pd.DataFrame, dataset: str, regs: Sequence[str], inits: Sequence[str], opts: Sequence[str]
) -> list[dict]:
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
                    "key": f"{dataset}/{init}/{reg}/{opt}", "init": init, "opt": opt,
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


def dataset_comments(
    summary: pd.DataFrame, runs: pd.DataFrame, dataset: str, ranking: pd.DataFrame, effects: pd.DataFrame
) -> list[str]:
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
            out.append(
                f"Best cell: {b['init']} initialization, {b['reg']} regularization, {b['opt']} — test "
                f"{fmt_acc(c['test_mean'], c['test_ci_high'])} (train {fmt_pct(c['train_mean'])}); "
                f"{n_tied} other cell{'s' if n_tied != 1 else ''} cannot be told apart from it."
            )
        worst = ok.sort_values("test_mean").iloc[0]
        out.append(
            f"Worst cell that trained: {worst['init']} · {worst['reg']} · {worst['opt']} at "
            f"{fmt_pct(worst['test_mean'])} test accuracy."
        )
    comments = s["comment"].fillna("").astype(str)
    sym = s[comments.str.contains("fails to break symmetry")]
    stuck = s[comments.str.contains("does not learn")]
    if len(sym):
        out.append(
            f"{len(sym)} zeros-initialized cell{'s' if len(sym) != 1 else ''} stay at chance level: "
            "with every weight equal the hidden units never become different (no symmetry breaking)."
        )
    if len(stuck):
        inits = ", ".join(f"{k} ({v})" for k, v in stuck["init"].value_counts().items())
        out.append(
            f"{len(stuck)} other cell{'s' if len(stuck) != 1 else ''} do not learn (chance-level test "
            f"accuracy), by initialization: {inits}."
        )
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
                parts.append(
                    f"{names.get(axis, axis)} {100 * span:.1f} points ({lo['level']} "
                    f"{fmt_pct(lo['test_mean'])} → {hi['level']} {fmt_pct(hi['test_mean'])})"
                )
            out.append("What matters most (range of the marginal mean test accuracy): " + "; ".join(parts) + ".")
        reg = effects[(effects["axis"] == "reg")].dropna(subset=["gap_mean"])
        if len(reg) > 1:
            lo, hi = reg.loc[reg["gap_mean"].idxmin()], reg.loc[reg["gap_mean"].idxmax()]
            out.append(
                f"Overfitting gap (train − test, marginal): largest with {hi['level']} "
                f"({100 * hi['gap_mean']:+.1f} points), smallest with {lo['level']} "
                f"({100 * lo['gap_mean']:+.1f} points)."
            )
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
    return {
        "top": top[:TOP_ROWS],
        "more": max(0, len(top) - TOP_ROWS),
        "all": rows,
        "counts": counts,
        "test": "paired t-test" if test == "ttest" else "Wilcoxon signed-rank test",
        "alpha": alpha,
        "n_seeds": n_seeds,
        "n_cells": len(rows),
    }


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


def pick(preferred: str, levels: Sequence[str], effects: pd.DataFrame | None = None, axis: str = "") -> str | None:
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


def boundary_panel(inputs: ReportInputs, dataset, init, reg, opt, title: str, with_points: bool) -> dict | None:
    cell = inputs.cell(dataset, init, reg, opt)
    if not cell:
        return None
    runs = cell.get("runs", [])
    run = next((r for r in runs if r.get("status") == "ok" and r.get("boundary")), None)
    if run is None:
        return {"title": f"{title}\n(diverged)", "boundary": None, "points": None}
    acc = f"train {fmt_pct(run.get('train_accuracy'), 0)}, test {fmt_pct(run.get('test_accuracy'), 0)}"
    pts = inputs.points(dataset, run.get("spec") or {}, int(run.get("seed", 0))) if with_points else None
    return {"title": f"{title} (seed {run.get('seed')})\n{acc}", "boundary": run["boundary"], "points": pts}


def has_boundary(inputs: ReportInputs, dataset, inits, regs, opts) -> bool:
    for init in inits:
        for reg in regs:
            for opt in opts:
                cell = inputs.cell(dataset, init, reg, opt)
                if cell:
                    return any(r.get("boundary") for r in cell.get("runs", []))
    return False


def cross_rank_block(ranks: pd.DataFrame, datasets: Sequence[str]) -> dict:
    """The cross-data-set table (``nnbench.stats.cross_dataset_ranks``) as text: one row per cell, its rank in each
    data set (``—`` where the data set lacks the cell), mean rank, mean test accuracy."""
    shown = [d for d in datasets if f"rank_{d}" in ranks.columns]

    def num(v, fmt):
        return format(float(v), fmt) if _isnum(v) else "—"

    rows = [
        {
            "init": r["init"], "reg": r["reg"], "opt": r["opt"],
            "ranks": [num(r[f"rank_{d}"], "g") for d in shown],
            "mean_rank": num(r["mean_rank"], ".2f"),
            "mean_test": fmt_pct(r["mean_test"]),
        }
        for _, r in ranks.iterrows()
    ]  # fmt: skip
    return {"datasets": shown, "rows": rows, "n_cells": len(rows)}
