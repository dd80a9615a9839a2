"""Each study's finding, in numbers, computed from its table(s) alone (pandas only: no training here).

Used by the report (``nnbench.report``) for the captions and verdicts of its "Studies" section. Every
function takes the tables as written by ``nnbench studies`` and returns a dict of numbers plus
``caption``: sentences that state the finding with those numbers. Parts that a (small) config did not
produce are left out of the sentences.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas is imported where it is used: the Snakefile imports this registry (0.3 s)
    import pandas as pd


def _pct(x, digits: int = 1) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{100 * x:.{digits}f} %"


def _pts(x) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{100 * x:.1f}"


def _sci(x) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.1e}"


def mean_ci(values) -> tuple[float, float, float]:
    """(mean, low, high) with the 95 % Student-t interval over seeds (NaN bounds with one value)."""
    import pandas as pd

    from ..tables import t_interval

    mean, _, low, high = t_interval(pd.Series(values, dtype=float).dropna())
    return mean, low, high


# ----------------------------------------------------------------------------------------------
# 1. gradient checks


def gradcheck(table: pd.DataFrame, fail_on=("unexplained",)) -> dict:
    import pandas as pd

    t = table.copy()
    t["cause"] = t["cause"].astype(object).where(t["cause"].notna(), "").astype(str)
    threshold = float(t["threshold"].iloc[0]) if len(t) else 1e-7
    checked = t[t["status"] != "diverged"]
    over = t[t["status"] == "fail"]
    failing = over[over["cause"].isin(list(fail_on))]
    causes = over["cause"].value_counts().to_dict()
    out = {
        "checks": len(checked),
        "networks": int((t["stage"] == "init").sum()),
        "cells": int((t["stage"] == "trained").sum()),
        "passed": int((t["status"] == "pass").sum()),
        "over": len(over),
        "causes": causes,
        "failing": len(failing),
        "fail_on": list(fail_on),
        "diverged": int((t["status"] == "diverged").sum()),
        "threshold": threshold,
        "median": float(checked["difference"].median()) if len(checked) else math.nan,
        "max": float(checked["difference"].max()) if len(checked) else math.nan,
        "verdict": "red" if len(failing) else ("amber" if len(over) else "green"),
        "epochs": int(t.loc[t["stage"] == "trained", "epochs"].max()) if (t["stage"] == "trained").any() else 0,
    }
    ro = over[over["cause"] == "roundoff"]
    out["roundoff_drop"] = float((ro["difference"] / ro["difference_10eps"]).median()) if len(ro) else math.nan
    out["kink_rows"] = int((t["kinks"] > 0).sum())
    out["kink_inits"] = sorted(t.loc[t["kinks"] > 0, "init"].astype(str).unique())
    init_rows = checked[checked["stage"] == "init"]
    out["max_init"] = float(init_rows["difference"].max()) if len(init_rows) else math.nan
    parts = [
        f"{out['checks']} checks ({out['networks']} networks at their initial weights, {out['cells']} grid cells "
        f"after {out['epochs']} epochs of their own training): {out['passed']} "
        f"({_pct(out['passed'] / max(out['checks'], 1))}) within {threshold:g}; median difference "
        f"{_sci(out['median'])}, largest {_sci(out['max'])}."
    ]
    if out["diverged"]:
        parts.append(f"{out['diverged']} cells diverged before the second check.")
    if len(over):
        worst = over.sort_values("difference", ascending=False).iloc[0]
        where = " · ".join(str(worst[c]) for c in ("dataset", "init", "reg", "opt") if str(worst[c]) not in ("", "nan"))
        described = ", ".join(f"{n} {c}" for c, n in sorted(causes.items()))
        parts.append(f"{len(over)} above {threshold:g}: {described}.")
        if causes.get("roundoff"):
            best = ro["difference_best"] if "difference_best" in ro.columns else pd.Series(dtype=float)
            parts.append(
                f"Round-off rows cross no ReLU kink and their difference falls a median "
                f"{out['roundoff_drop']:.1f}-fold when ε grows tenfold, as floating-point error does "
                f"(a wrong gradient would not move)"
                + (
                    f"; over a sweep of steps up to 1e5·ε their difference bottoms out at a median "
                    f"{_sci(best.median())} (largest {_sci(best.max())}), the V of rounding and truncation, "
                    f"not the flat floor of a bug."
                    if best.notna().any()
                    else "."
                )
            )
        parts.append(
            f"The largest, {_sci(worst['difference'])} ({where}, {worst['stage']}), comes with a cost of "
            f"{worst['cost']:.3g} and a gradient norm of {worst['grad_norm']:.3g} on the checked batch."
        )
    if out["kink_rows"]:
        parts.append(
            f"ReLU kinks were crossed in {out['kink_rows']} checks (initializations: "
            f"{', '.join(out['kink_inits'])}), "
            + (
                "none of them above the threshold."
                if not causes.get("kink")
                else f"{causes['kink']} of them above the threshold because of it."
            )
        )
    parts.append(f"{len(failing)} checks fail the workflow (causes in fail_on: {', '.join(fail_on)}).")
    out["caption"] = " ".join(parts)
    out["verdict_text"] = (
        f"{len(failing)} of {out['checks']} checks fail for a cause in fail_on ({', '.join(fail_on)}): "
        "the backward pass is suspect — see the table below."
        if len(failing)
        else (
            f"{len(over)} of {out['checks']} checks exceed {threshold:g}, every one diagnosed ("
            + ", ".join(f"{n} {c}" for c, n in sorted(causes.items()))
            + "); none fails the workflow."
            if len(over)
            else f"All {out['checks']} checks within {threshold:g}."
        )
    )
    cols = [
        "dataset",
        "init",
        "reg",
        "opt",
        "stage",
        "difference",
        "difference_10eps",
        "kinks",
        "cost",
        "grad_norm",
        "cause",
    ]
    out["rows"] = over.sort_values("difference", ascending=False)[cols].to_dict("records")
    return out


# ----------------------------------------------------------------------------------------------
# 2. depth


def depth(runs: pd.DataFrame, layers: pd.DataFrame) -> dict:
    import pandas as pd

    g = runs.groupby(["init", "activation", "depth"])
    per = pd.DataFrame(
        {
            "test": g["test_acc"].mean(),
            "ok": g["status"].apply(lambda s: int((s == "ok").sum())),
            "runs": g.size(),
            "median": g["grad_median"].median(),
            "spread": g["grad_spread"].median(),
        }
    ).reset_index()
    depths = sorted(runs["depth"].unique())
    d0, d1 = int(depths[0]), int(depths[-1])
    out = {"shallow": d0, "deep": d1, "table": per}

    def at(init, act, d, col):
        row = per[(per["init"] == init) & (per["activation"] == act) & (per["depth"] == d)]
        return float(row[col].iloc[0]) if len(row) else math.nan

    name = {"he": "He", "xavier": "Xavier", "relu": "ReLU", "tanh": "tanh"}
    parts = []
    for act, good in (("relu", "he"), ("tanh", "xavier")):
        other = "xavier" if good == "he" else "he"
        if not ((per["activation"] == act) & per["init"].isin([good, other])).any():
            continue
        s = []
        for init in (good, other):
            if not ((per["init"] == init) & (per["activation"] == act)).any():
                continue
            m0, m1 = at(init, act, d0, "median"), at(init, act, d1, "median")
            change = max(m1, m0) / max(min(m1, m0), 1e-300)
            times = f"{change:,.0f}" if change >= 100 else f"{change:.2g}"
            s.append(
                f"{name.get(init, init)} + {name.get(act, act)}: median layer gradient norm {m0:.2g} with {d0} "
                f"hidden layers and {m1:.2g} with {d1} ({times}× {'larger' if m1 >= m0 else 'smaller'}), "
                f"hidden layers within "
                f"a factor {at(init, act, d1, 'spread'):.2g} of each other at depth {d1}; test accuracy "
                + ", ".join(f"{_pct(at(init, act, d, 'test'))} at depth {d}" for d in depths)
            )
            if act == "tanh":
                std = layers[(layers["init"] == init) & (layers["activation"] == act) & (layers["depth"] == d1)]
                std = std[std["layer"] <= d1].groupby("layer")["activation_std"].median()
                if len(std):
                    s[-1] += (
                        f"; tanh outputs' std {std.iloc[0]:.2g} in the first hidden layer, {std.iloc[-1]:.2g} "
                        f"in the last"
                    )
        parts.append("; ".join(s) + ".")
    if (per["init"] == "zeros").any():
        z = layers[layers["init"] == "zeros"]["grad_norm"]
        parts.append(
            f"zeros: every weight gradient is {'exactly 0' if (z == 0).all() else f'at most {z.abs().max():.2g}'} "
            f"at every depth, and the network stays at {_pct(per[per['init'] == 'zeros']['test'].mean())} "
            "(the majority class)."
        )
    if (per["init"] == "large").any():
        big = layers[(layers["init"] == "large") & (layers["depth"] == d1)]["grad_norm"]
        dead = per[(per["init"] == "large") & (per["ok"] == 0)]
        first_dead = {a: int(dead[dead["activation"] == a]["depth"].min()) for a in dead["activation"].unique()}
        parts.append(
            f"large (scale 10): gradient norms up to {big.max():.1e} at depth {d1}"
            + (
                "; every run diverged from depth " + ", ".join(f"{d} with {a}" for a, d in first_dead.items())
                if first_dead
                else ""
            )
            + "."
        )
    out["caption"] = " ".join(p[0].upper() + p[1:] for p in parts)
    return out


# ----------------------------------------------------------------------------------------------
# 3. search


METHOD_LABELS = {
    "grid": "grid search",
    "random": "random search (log scale)",
    "random_linear": "random search on a linear scale",
    "sobol": "Sobol (quasi-random) search",
    "halving": "successive halving",
}


def search(result: pd.DataFrame, trials: pd.DataFrame | None = None) -> dict:
    import pandas as pd

    rows = []
    for (method, budget), g in result.groupby(["method", "budget"], sort=False):
        v, t, gap = mean_ci(g["best_val"]), mean_ci(g["test_at_best"]), mean_ci(g["gap_to_best"])
        rows.append(
            {
                "method": method,
                "budget": int(budget),
                "seeds": len(g),
                "val": v[0],
                "val_low": v[1],
                "val_high": v[2],
                "test": t[0],
                "test_low": t[1],
                "test_high": t[2],
                "gap": gap[0],
            }
        )
    summary = pd.DataFrame(rows)
    budgets = sorted(result["budget"].unique())
    focus = 16 if 16 in budgets else int(budgets[min(1, len(budgets) - 1)])
    out = {
        "summary": summary,
        "budgets": [int(b) for b in budgets],
        "focus": focus,
        "seeds": int(result["seed"].nunique()),
    }

    def line(budget):
        s = summary[summary["budget"] == budget].set_index("method")
        return ", ".join(
            f"{METHOD_LABELS.get(m, m)} {_pct(s.loc[m, 'val'])} (within {_pts(s.loc[m, 'gap'])} points)"
            for m in s.index
        )

    parts = [
        f"At {focus} trials, the best validation accuracy found, on average over {out['seeds']} seeds, and its "
        f"distance to the best validation accuracy of any trial of the same seed: {line(focus)}."
    ]
    if len(budgets) > 1:
        by = summary.pivot_table(index="method", columns="budget", values="val", sort=False)
        parts.append(
            f"Mean best validation accuracy at {' / '.join(str(b) for b in budgets)} trials: "
            + "; ".join(
                f"{METHOD_LABELS.get(m, m)} " + " / ".join(_pts(by.loc[m, b]) for b in budgets) for m in by.index
            )
            + " %."
        )
    paired = result[result["budget"] == focus].pivot_table(index="seed", columns="method", values="best_val")
    if {"random", "grid"} <= set(paired.columns):
        diff = mean_ci(paired["random"] - paired["grid"])
        out["random_minus_grid"] = diff
        parts.append(
            f"Random minus grid at {focus} trials, paired by seed: {_pts(diff[0])} points "
            f"(95 % CI {_pts(diff[1])} to {_pts(diff[2])})."
        )
    for m_a, m_b in (("random", "grid"), ("random", "random_linear")):
        a = summary[summary["method"] == m_a].set_index("budget")["val"]
        b = summary[summary["method"] == m_b].set_index("budget")["val"]
        common = sorted(set(a.index) & set(b.index))
        if common:
            wins = sum(a[k] > b[k] for k in common)
            parts.append(
                f"{METHOD_LABELS[m_a].capitalize()} beats {METHOD_LABELS[m_b]} at {wins} of {len(common)} budgets."
            )
    if trials is not None and (trials["method"] == "grid").any():
        grid = trials[trials["method"] == "grid"]
        k = int(grid["budget"].max())
        cells = grid[grid["budget"] == k].groupby(["lr", "beta"])["val_acc"].mean().unstack()
        if cells.shape[0] > 1 and cells.shape[1] > 1:
            grand = cells.values.mean()
            total = np.nanvar(cells.values)
            lr_share = np.nanvar(cells.mean(axis=1).values) / total if total else math.nan
            beta_share = np.nanvar(cells.mean(axis=0).values) / total if total else math.nan
            out.update(lr_share=lr_share, beta_share=beta_share)
            best = cells.stack().idxmax()
            parts.append(
                f"On the {cells.shape[0]}×{cells.shape[1]} grid, the learning rate's main effect explains "
                f"{_pct(lr_share, 0)} of the variance of validation accuracy and β's {_pct(beta_share, 0)} "
                f"(mean {_pct(grand)}, best {_pct(cells.values.max())} at α = {best[0]:.2g}, β = {best[1]:.3g}): "
                f"a grid of √k × √k tries only √k learning rates."
            )
    out["caption"] = " ".join(parts)
    return out


# ----------------------------------------------------------------------------------------------
# 4. schedules and batch size


def schedules(table: pd.DataFrame) -> dict:
    t = table.copy()
    last = int(t["epochs"].max())
    out = {"epochs": last}
    parts = []
    s = t[(t["part"] == "schedule") & (t["epochs"] == last)]
    if len(s):
        final = s.groupby(["optimizer", "schedule"], sort=False)["test_acc"].mean().unstack()
        best = final.idxmax(axis=1)
        out["best_schedule"] = best.to_dict()
        out["final"] = final
        constant = final["constant"] if "constant" in final.columns else None
        desc = "; ".join(
            f"{o}: {best[o]} {_pct(final.loc[o, best[o]])}"
            + (f" (constant {_pct(constant[o])})" if constant is not None and best[o] != "constant" else "")
            for o in final.index
        )
        parts.append(
            f"After {last} epochs at batch size {int(s['batch_size'].iloc[0])}, the best schedule per optimizer "
            f"(mean test accuracy over seeds): {desc}."
        )
        if constant is not None:
            within = int(((final.max(axis=1) - constant) <= 0.01).sum())
            parts.append(
                f"The constant rate is best or within 1 point of the best for {within} of {len(final)} optimizers "
                f"with these decay settings."
            )
    b = t[t["part"] == "batch"]
    if len(b):
        b = b.assign(
            label=np.where(b["full_batch"].astype(str).str.lower() == "true", "full", b["batch_size"].astype(str))
        )
        end = b[b["epochs"] == last]
        acc = end.groupby("label", sort=False)["test_acc"].mean()
        per_epoch = (end.groupby("label", sort=False)["seconds"].mean() / last) * 1000
        out["batch_acc"], out["batch_ms_per_epoch"] = acc.to_dict(), per_epoch.to_dict()
        parts.append(
            "Batch size, constant rate, mean over optimizers after "
            f"{last} epochs: "
            + ", ".join(f"{lab} → {_pct(acc[lab])} ({per_epoch[lab]:.2g} ms per epoch)" for lab in acc.index)
            + "."
        )
        target = 0.9
        curve = (
            b.groupby(["optimizer", "label", "epochs"], sort=False)
            .agg(acc=("test_acc", "mean"), s=("seconds", "mean"))
            .reset_index()
        )
        reached = curve[curve["acc"] >= target]
        if len(reached):
            fastest = reached.sort_values("s").groupby("optimizer", sort=False).first()
            out["fastest_to_target"] = fastest["label"].to_dict()
            counts = fastest["label"].value_counts()
            parts.append(
                f"Fastest in wall time to {_pct(target, 0)} test accuracy (checkpoints only): "
                + ", ".join(
                    f"{'the full batch' if lab == 'full' else f'batch {lab}'} for {n} optimizer{'s' if n > 1 else ''}"
                    for lab, n in counts.items()
                )
                + f"; {len(set(curve['optimizer'])) - len(fastest)} never got there."
            )
    out["caption"] = " ".join(parts)
    return out


# ----------------------------------------------------------------------------------------------
# the time each study took (Snakemake benchmark files)


def benchmark_seconds(path) -> float | None:
    import pandas as pd

    try:
        frame = pd.read_csv(path, sep="\t")
        return float(frame["s"].iloc[0])
    except (OSError, ValueError, KeyError, IndexError, pd.errors.EmptyDataError):
        return None


# ----------------------------------------------------------------------------------------------
# each study's part of the report (nnbench.studies.Study: findings, figures, block), from its tables


def gradcheck_findings(tables: dict, settings: dict) -> dict:
    return gradcheck(tables["study_gradcheck"], settings.get("fail_on") or ["unexplained"])


def gradcheck_figures(tables: dict, found: dict) -> dict:
    from ..report.figures import studies as F

    return {"figure": (F.study_gradcheck, tables["study_gradcheck"], found["caption"])}


def gradcheck_block(tables: dict, found: dict) -> dict:
    from ..report.format import _isnum

    rows = [
        {
            "cell": " · ".join(str(r[c]) for c in ("dataset", "init", "reg", "opt") if str(r[c]) not in ("", "nan")),
            "stage": r["stage"],
            "difference": f"{r['difference']:.2e}",
            "d10": f"{r['difference_10eps']:.2e}" if _isnum(r["difference_10eps"]) else "—",
            "kinks": int(r["kinks"]),
            "cost": f"{r['cost']:.3g}",
            "grad": f"{r['grad_norm']:.3g}",
            "cause": r["cause"],
            "fails": r["cause"] in found["fail_on"],
        }
        for r in found["rows"]
    ]
    return {**{k: v for k, v in found.items() if k != "rows"}, "rows": rows[:15], "more": max(0, len(rows) - 15)}


def depth_findings(tables: dict, settings: dict) -> dict:
    return depth(tables["study_depth"], tables["study_depth_layers"])


def depth_figures(tables: dict, found: dict) -> dict:
    from ..report.figures import studies as F

    return {
        "figure": (F.study_depth, tables["study_depth_layers"], found["caption"]),
        "outcome": (F.study_depth_outcome, tables["study_depth"]),
    }


def depth_block(tables: dict, found: dict) -> dict:
    from ..report.format import fmt_pct

    per = found["table"]
    depths = sorted(per["depth"].unique())
    rows = []
    for (init, act), g in per.groupby(["init", "activation"], sort=False):
        g = g.set_index("depth")
        rows.append(
            {
                "init": init,
                "activation": act,
                "tests": [fmt_pct(g.loc[d, "test"]) if g.loc[d, "ok"] else "diverged" for d in depths],
                "median": f"{g.loc[depths[-1], 'median']:.2g}",
            }
        )
    return {"caption": found["caption"], "depths": depths, "rows": rows}


def search_findings(tables: dict, settings: dict) -> dict:
    return search(tables["study_search"], tables["study_search_trials"])


def search_figures(tables: dict, found: dict) -> dict:
    from ..report.figures import studies as F

    return {
        "figure": (F.study_search, found["summary"], tables["study_search_trials"], found["caption"], METHOD_LABELS)
    }


def search_block(tables: dict, found: dict) -> dict:
    from ..report.format import fmt_acc, fmt_pct

    summ = found["summary"]
    methods = list(dict.fromkeys(summ["method"]))
    rows = []
    for b in found["budgets"]:
        cells = []
        for m in methods:
            r = summ[(summ["method"] == m) & (summ["budget"] == b)]
            cells.append(
                {
                    "val": fmt_acc(r["val"].iloc[0], r["val_high"].iloc[0]) if len(r) else "—",
                    "test": fmt_pct(r["test"].iloc[0]) if len(r) else "—",
                }
            )
        rows.append({"budget": b, "cells": cells})
    return {
        "caption": found["caption"],
        "seeds": found["seeds"],
        "methods": [METHOD_LABELS.get(m, m) for m in methods],
        "rows": rows,
    }


def schedules_findings(tables: dict, settings: dict) -> dict:
    return schedules(tables["study_schedules"])


def schedules_figures(tables: dict, found: dict) -> dict:
    from ..report.figures import studies as F

    table = tables["study_schedules"]  # either figure may render to None (no rows of its part)
    return {"figure": (F.study_schedules, table, found["caption"]), "batch": (F.study_batch, table)}


def schedules_block(tables: dict, found: dict) -> dict:
    from ..report.format import fmt_pct

    final = found.get("final")
    rows = (
        [
            {
                "optimizer": o,
                "values": [fmt_pct(final.loc[o, c]) for c in final.columns],
                "best": found["best_schedule"][o],
            }
            for o in final.index
        ]
        if final is not None
        else []
    )
    return {
        "caption": found["caption"],
        "epochs": found["epochs"],
        "schedules": list(final.columns) if final is not None else [],
        "rows": rows,
    }
