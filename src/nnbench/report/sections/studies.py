"""Section 8, the studies beyond the grid (nnbench.studies: tables -> findings -> figures)."""

from __future__ import annotations

from collections.abc import Mapping

from ..figures import FigureTask
from ..format import _isnum, fmt_acc, fmt_pct, fmt_seconds
from ..inputs import ReportInputs

STUDY_TITLES = {"gradcheck": "Gradient checks of every grid cell", "depth": "Depth: vanishing and exploding gradients",
                "search": "Random vs grid search at equal budget", "schedules": "Schedules and batch size"}


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

    table = inputs.study_table("study_gradcheck")
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
    runs, layers = inputs.study_table("study_depth"), inputs.study_table("study_depth_layers")
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
    result, trials = inputs.study_table("study_search"), inputs.study_table("study_search_trials")
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
    table = inputs.study_table("study_schedules")
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

