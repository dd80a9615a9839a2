"""The report's "Fair comparison" section (nnbench.tuning, nnbench.tuned_tables): per data set and
regularizer, the seed table's shape (initializations × optimizers) at every budget beside the untuned grid's
numbers; per problem, the optimizers ranked at each budget with the paired, Holm-corrected tests of the
statistics section (``nnbench.stats.rank_cells`` over the evaluation seeds); the performance profiles and
their scores; and each optimizer's accuracy against its learning rate. Absent when tuning is disabled or its
tables are missing."""

from __future__ import annotations

import math

import pandas as pd

from nnbench import stats
from nnbench.results import read_table

from .. import figures as F
from ..figures.fair import fair_profiles, fair_sensitivity
from ..figures.pool import FigureTask
from ..format import fmt_acc, fmt_p

TABLES = {
    "tuned_summary": {"dataset": "str", "init": "str", "reg": "str", "opt": "str", "budget": "number",
                      "trial": "number", "lr": "number", "test_mean": "number", "test_std": "number",
                      "test_ci_high": "number", "runs": "number", "ok": "number", "diverged": "number"},
    "tuned_eval_runs": {"dataset": "str", "init": "str", "reg": "str", "opt": "str", "budget": "number",
                        "seed": "number", "status": "str", "test_acc": "number"},
    "tuned_runs": {"dataset": "str", "opt": "str", "trial": "number", "lr": "number", "val_accuracy": "number"},
    "performance_profiles": {"metric": "str", "method": "str", "tau": "number", "rho": "number"},
    "tuning_scores": {"metric": "str", "method": "str", "score": "number", "solved": "number", "problems": "number"},
}  # fmt: skip
PROBLEM = ["dataset", "init", "reg"]


def _hp_text(row, keys) -> str:
    parts = []
    for k in keys:
        v = row.get(k)
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            parts.append(f"{'α' if k == 'lr' else k} {float(v):.3g}")
    return ", ".join(parts)


def fair_section(inputs, test: str = "ttest", alpha: float = 0.05) -> dict | None:
    """The section's context (with its figure tasks under ``tasks``), or None when there is nothing to show."""
    cfg = inputs.config
    if not (cfg.get("tuning") or {}).get("enabled"):
        return None
    paths = {name: inputs.tables / f"{name}.csv" for name in TABLES}
    if not all(p.is_file() for p in paths.values()):
        return None
    t = {name: read_table(paths[name], cols) for name, cols in TABLES.items()}
    summary, evals = t["tuned_summary"], t["tuned_eval_runs"]
    budgets = sorted(int(b) for b in summary["budget"].unique())
    opts = list(dict.fromkeys(summary["opt"]))
    hp_keys = [c for c in summary.columns if c not in TABLES["tuned_summary"] or c == "lr"]
    hp_keys = [c for c in hp_keys if c not in ("val_accuracy", "test_ci_low")]
    grid = inputs.read_summary() if (inputs.tables / "summary.csv").is_file() else pd.DataFrame()

    # the seed table's shape: per data set x reg, rows init x budget (and the untuned grid), columns optimizers
    seed_tables = []
    for (ds, reg), part in summary.groupby(["dataset", "reg"], sort=False):
        rows = []
        for init in dict.fromkeys(part["init"]):
            if len(grid):
                g = grid[(grid["dataset"] == ds) & (grid["reg"] == reg) & (grid["init"] == init)]
                cells = []
                for o in opts:
                    c = g[g["opt"] == o]
                    cells.append(
                        {"acc": fmt_acc(c["test_mean"].iloc[0], c["test_ci_high"].iloc[0]) if len(c) else "—", "hp": ""}
                    )
                rows.append({"label": f"{init}, grid (untuned, all training data)", "cells": cells, "grid": True})
            for b in budgets:
                p = part[(part["init"] == init) & (part["budget"] == b)]
                cells = []
                for o in opts:
                    c = p[p["opt"] == o]
                    if not len(c):
                        cells.append({"acc": "—", "hp": ""})
                        continue
                    r = c.iloc[0].to_dict()
                    cells.append(
                        {
                            "acc": fmt_acc(r["test_mean"], r["test_ci_high"]),
                            "hp": f"trial {int(r['trial'])}: {_hp_text(r, hp_keys)}; sd {100 * r['test_std']:.1f}"
                            + (f"; {int(r['diverged'])} diverged" if r["diverged"] else ""),
                        }
                    )
                rows.append({"label": f"{init}, budget {b}", "cells": cells, "grid": False})
        seed_tables.append({"dataset": ds, "reg": reg, "rows": rows})

    # rankings per problem and budget: paired over the evaluation seeds, Holm-corrected (stats.rank_cells)
    rankings = []
    for key, part in summary.groupby(PROBLEM, sort=False):
        per_budget = []
        for b in budgets:
            s = part[part["budget"] == b].copy()
            r = evals[(evals["budget"] == b)]
            for k, v in zip(PROBLEM, key):
                r = r[r[k] == v]
            ranked = stats.rank_cells(r, s, key[0], test=test, alpha=alpha)
            per_budget.append(
                {
                    "budget": b,
                    "order": [
                        {
                            "opt": x["opt"],
                            "verdict": x["verdict"],
                            "test": fmt_acc(x["test_mean"], x["test_ci_high"]),
                            "p": fmt_p(x["p_holm"]),
                        }
                        for x in ranked.to_dict("records")
                    ],  # fmt: skip
                }
            )
        rankings.append({"problem": "/".join(key), "keys": dict(zip(PROBLEM, key)), "budgets": per_budget})

    scores = t["tuning_scores"]
    score_rows = []
    for o in opts:
        row = {"opt": o}
        for metric in ("epochs", "seconds"):
            s = scores[(scores["method"] == o) & (scores["metric"] == metric)]
            row[metric] = f"{float(s['score'].iloc[0]):.3f}" if len(s) else "—"
            row["solved"] = f"{int(s['solved'].iloc[0])}/{int(s['problems'].iloc[0])}" if len(s) else "—"
        score_rows.append(row)
    best = scores[scores["metric"] == "epochs"].sort_values("score", ascending=False)
    caption = (
        f"Performance profiles at budget {budgets[-1]}: the share of problems ({len(rankings)}) on which each optimizer "
        "reaches the data set's validation target within τ× the fastest optimizer's time (median over the evaluation "
        "seeds; a problem nobody solves counts against everyone). In brackets the area score on [1, τ_max] / (τ_max − 1)"
        + (f"; best on epochs: {best['method'].iloc[0]} ({best['score'].iloc[0]:.2f})." if len(best) else ".")
    )
    profiles_task = FigureTask(fair_profiles, t["performance_profiles"], scores, caption)
    sens_task = FigureTask(
        fair_sensitivity,
        t["tuned_runs"],
        "Every trial's validation accuracy (mean over the tuning seeds) against its learning rate, per optimizer; "
        "the hollow marker is trial 0, the configured definition. A flat curve: an optimizer that forgives its "
        "learning rate.",
    )
    return {
        "budgets": budgets,
        "opts": opts,
        "seed_tables": seed_tables,
        "rankings": rankings,
        "scores": score_rows,
        "tau_max": (cfg.get("tuning") or {}).get("tau_max", 4),
        "profiles": profiles_task,
        "sensitivity": sens_task,
        "tasks": [profiles_task, sens_task],
        "id": F.safe_name("fair"),
    }
