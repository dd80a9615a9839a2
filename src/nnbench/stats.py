"""Statistics over result tables: rankings against the best cell, main effects, reproduction checks.

Analysis layer: works on the tables of ``nnbench.tables`` (``runs.csv``, ``summary.csv``) as pandas
DataFrames and never imports the trainer.

Rankings (:func:`rank_cells`), per data set
    The *best* cell is the one with the highest mean test accuracy among the cells none of whose runs
    diverged (if every cell has a diverged run: among the cells with the most ok runs). Every other
    cell is compared with it **paired over seeds** (run ``s`` of both cells shares the seed, hence the
    data split): a paired t-test (default; ``scipy.stats.ttest_rel``) or the Wilcoxon signed-rank test
    (``scipy.stats.wilcoxon``) on the seeds where both runs are ok. The p-values of a data set are
    corrected for the number of comparisons with Holm's step-down method (:func:`holm`). A cell
    *cannot be told apart from the best* ("tied") when its corrected p-value is ≥ ``alpha`` and none of
    its runs diverged; a cell with diverged runs is never tied (it is less reliable than the best, whatever
    its ok runs say). Degenerate pairs: identical differences on every seed give p = 1 when the
    difference is 0 and p = 0 otherwise (the t statistic is infinite); fewer than 2 common seeds give
    no test ("untestable").

    With 5 seeds the two-sided Wilcoxon test cannot go below p = 1/16, so it can never reject at
    α = 0.05: that is why the t-test is the default.

Main effects (:func:`main_effects`)
    For each axis (init, reg, opt) and each of its levels, the mean over the cells of that level of the
    cells' mean test accuracy — the marginal mean, each combination of the other axes weighted equally.
    Cells without an ok run are left out of the mean and counted in ``diverged_runs``.

Across data sets (:func:`cross_dataset_ranks`)
    Within each data set d, the rank r_d(c) of cell c = (init, reg, opt) by mean test accuracy, 1 = best
    (``pandas.Series.rank(ascending=False, method="average")``: tied cells share the mean of their places;
    cells whose every run diverged share the last places). The cell's mean rank is
    mean_d r_d(c) over the data sets d that have the cell: low = good everywhere, whatever each data set's scale.

Reproduction (:func:`reproduces`)
    Our number reproduces a published one when, rounded to the published number's printed precision,
    it equals it: the precision is the place of the last printed digit of the published text (``"0.83"``
    → 0.01, ``"0.915"`` → 0.001, ``"2.9e-07"`` → 1e-08), rounding half up. So 0.99333 reproduces
    ``"0.99"`` and 0.8267 reproduces ``"0.83"``, but 0.8249 does not. A published value above 1 next to
    our fraction is read as a percentage (``"83"`` means 0.83).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import numpy as np
import pandas as pd
from scipy import stats as _st

AXES = ("init", "reg", "opt")

RANK_COLUMNS = [
    "dataset", "init", "reg", "opt", "rank", "runs", "ok", "diverged", "test_mean", "test_ci_low",
    "test_ci_high", "diff", "n_pairs", "p_raw", "p_holm", "verdict",
]  # fmt: skip

CROSS_RANK_COLUMNS = ["init", "reg", "opt", "mean_rank", "best_rank", "worst_rank", "datasets", "mean_test"]
"""Followed by one ``rank_{dataset}`` column per data set (see :func:`cross_dataset_ranks`)."""

EFFECT_COLUMNS = ["dataset", "axis", "level", "cells", "test_mean", "train_mean", "gap_mean", "diverged_runs", "rank"]


# ----------------------------------------------------------------------------------------------
# multiple comparisons


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN stays NaN and does not count as a comparison)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    m = idx.size
    if m == 0:
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (m - k) * p[i]))
        out[i] = running
    return out


def paired_pvalue(a: Sequence[float], b: Sequence[float], test: str = "ttest") -> float:
    """Two-sided p-value of a paired test of ``a`` vs ``b`` (same length, no NaN)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = a - b
    if d.size < 2:
        return math.nan
    if np.allclose(d, d[0], rtol=0, atol=1e-12):
        return 1.0 if abs(d[0]) <= 1e-12 else 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if test == "ttest":
            p = _st.ttest_rel(a, b).pvalue
        elif test == "wilcoxon":
            nonzero = d[np.abs(d) > 1e-12]
            if nonzero.size == 0:
                return 1.0
            p = _st.wilcoxon(nonzero).pvalue
        else:
            raise ValueError(f"unknown test {test!r} (ttest or wilcoxon)")
    return float(p) if np.isfinite(p) else math.nan


# ----------------------------------------------------------------------------------------------
# rankings


def rank_cells(
    runs: pd.DataFrame,
    summary: pd.DataFrame,
    dataset: str,
    *,
    metric: str = "test_acc",
    test: str = "ttest",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Every cell of ``dataset`` against the best one (``RANK_COLUMNS``), best first.

    ``verdict`` is one of ``best``, ``tied`` (cannot be told apart from the best), ``worse``,
    ``unstable`` (some runs diverged), ``diverged`` (all runs diverged), ``untestable`` (< 2 paired seeds).
    """
    cells = summary[summary["dataset"] == dataset].copy()
    if cells.empty:
        return pd.DataFrame(columns=RANK_COLUMNS)
    r = runs[runs["dataset"] == dataset]
    ok_runs = r[r["status"] == "ok"]
    wide = ok_runs.pivot_table(index=["init", "reg", "opt"], columns="seed", values=metric, aggfunc="mean")

    cells["diverged"] = cells["diverged"].fillna(0).astype(int)
    stable = cells[(cells["diverged"] == 0) & cells["test_mean"].notna()]
    pool = stable if not stable.empty else cells[cells["ok"] == cells["ok"].max()]
    pool = pool[pool["test_mean"].notna()]
    best_key = None
    if not pool.empty:
        b = pool.sort_values(["test_mean", "test_std"], ascending=[False, True], kind="stable").iloc[0]
        best_key = (b["init"], b["reg"], b["opt"])

    def series(key):
        return wide.loc[key] if key in wide.index else pd.Series(dtype=float)

    best = series(best_key) if best_key is not None else pd.Series(dtype=float)
    rows = []
    for c in cells.to_dict("records"):
        key = (c["init"], c["reg"], c["opt"])
        row = {k: c.get(k) for k in RANK_COLUMNS if k in c}
        row.update(diff=math.nan, n_pairs=0, p_raw=math.nan)
        if best_key is not None and key != best_key:
            s = series(key)
            both = pd.concat([s, best], axis=1, keys=["cell", "best"]).dropna()
            row["n_pairs"] = len(both)
            if len(both):
                row["diff"] = float((both["cell"] - both["best"]).mean())
            row["p_raw"] = paired_pvalue(both["cell"], both["best"], test) if len(both) >= 2 else math.nan
        elif key == best_key:
            row["diff"], row["n_pairs"] = 0.0, len(best.dropna())
        rows.append(row)
    out = pd.DataFrame(rows)
    out["p_holm"] = holm(out["p_raw"].to_numpy())

    def verdict(row) -> str:
        if best_key is not None and (row["init"], row["reg"], row["opt"]) == best_key:
            return "best"
        if row["ok"] == 0 or pd.isna(row["test_mean"]):
            return "diverged"
        if row["diverged"] > 0:
            return "unstable"
        if pd.isna(row["p_holm"]):
            return "untestable"
        return "tied" if row["p_holm"] >= alpha else "worse"

    out["verdict"] = [verdict(row) for row in out.to_dict("records")]
    order = {"best": 0, "tied": 1, "untestable": 2, "worse": 3, "unstable": 4, "diverged": 5}
    out["_o"] = out["verdict"].map(order)
    out = out.sort_values(["_o", "test_mean"], ascending=[True, False], kind="stable", na_position="last")
    out = out.drop(columns="_o").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out["dataset"] = dataset
    return out[RANK_COLUMNS]


# ----------------------------------------------------------------------------------------------
# main effects


def main_effects(
    summary: pd.DataFrame, dataset: str, axes: Sequence[str] = AXES, orders: dict[str, Sequence[str]] | None = None
) -> pd.DataFrame:
    """Marginal mean test (and train) accuracy per level of each axis for one data set (``EFFECT_COLUMNS``).

    ``orders`` gives the level order of an axis (default: order of appearance); ``rank`` 1 = best level.
    """
    cells = summary[summary["dataset"] == dataset]
    frames = []
    for axis in axes:
        g = cells.groupby(axis, sort=False)
        eff = pd.DataFrame({
            "cells": g.size(),
            "test_mean": g["test_mean"].mean(),
            "train_mean": g["train_mean"].mean(),
            "gap_mean": g["gap_mean"].mean(),
            "diverged_runs": g["diverged"].sum().astype(int),
        })  # fmt: skip
        order = [lv for lv in (orders or {}).get(axis, []) if lv in eff.index]
        order += [lv for lv in eff.index if lv not in order]
        eff = eff.loc[order]
        eff["rank"] = eff["test_mean"].rank(ascending=False, method="min").astype("Int64")
        eff = eff.reset_index(names="level")
        eff.insert(0, "axis", axis)
        eff.insert(0, "dataset", dataset)
        frames.append(eff)
    if not frames:
        return pd.DataFrame(columns=EFFECT_COLUMNS)
    return pd.concat(frames, ignore_index=True)[EFFECT_COLUMNS]


def cross_dataset_ranks(summary: pd.DataFrame, datasets: Sequence[str] | None = None) -> pd.DataFrame:
    """Rank of every cell per data set and its mean rank (module docstring): ``CROSS_RANK_COLUMNS`` then
    ``rank_{dataset}`` for each data set (in ``datasets`` order, default order of appearance), best mean rank
    first (ties: order of appearance). ``mean_test`` is the mean over data sets of the cell's mean test
    accuracy (NaN where every run diverged is left out)."""
    missing = {"dataset", *AXES, "test_mean"} - set(summary.columns)
    if missing:
        raise ValueError(f"cross_dataset_ranks: summary lacks column(s) {sorted(missing)}")
    datasets = list(datasets) if datasets is not None else list(dict.fromkeys(summary["dataset"]))
    s = summary[summary["dataset"].isin(datasets)].copy()
    s["rank"] = s.groupby("dataset", sort=False)["test_mean"].rank(
        ascending=False, method="average", na_option="bottom"
    )
    wide = s.pivot_table(index=list(AXES), columns="dataset", values="rank", sort=False)
    wide = wide.reindex(columns=[d for d in datasets if d in wide.columns])
    cells = s.drop_duplicates(list(AXES))[list(AXES)].set_index(list(AXES)).index
    wide = wide.reindex(cells)
    out = pd.DataFrame({
        "mean_rank": wide.mean(axis=1),
        "best_rank": wide.min(axis=1),
        "worst_rank": wide.max(axis=1),
        "datasets": wide.notna().sum(axis=1).astype(int),
        "mean_test": s.groupby(list(AXES), sort=False)["test_mean"].mean().reindex(cells),
    }, index=cells)  # fmt: skip
    for d in wide.columns:
        out[f"rank_{d}"] = wide[d]
    out = out.reset_index()
    order = np.argsort(out["mean_rank"].to_numpy(), kind="stable")
    return out.iloc[order].reset_index(drop=True)


def effect_sizes(effects: pd.DataFrame) -> pd.Series:
    """Range (best − worst level) of the marginal test mean per axis, largest first."""
    rng = effects.groupby("axis", sort=False)["test_mean"].agg(lambda s: s.max() - s.min())
    return rng.sort_values(ascending=False)


# ----------------------------------------------------------------------------------------------
# reproduction of published numbers


def _decimal(text) -> Decimal | None:
    if text is None:
        return None
    if isinstance(text, float):
        if math.isnan(text):
            return None
        text = repr(text)
    text = str(text).strip().rstrip("%").strip()
    if not text or text.lower() in {"nan", "none", "null", "na"}:
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def published_exponent(published) -> int | None:
    """The power of ten of the last printed digit of a published number (``"0.83"`` → -2)."""
    d = _decimal(published)
    return None if d is None else int(d.as_tuple().exponent)


def round_like(ours: float, published) -> Decimal | None:
    """``ours`` rounded (half up) to the printed precision of ``published``, on its scale."""
    p = _decimal(published)
    if p is None or ours is None or (isinstance(ours, float) and not math.isfinite(ours)):
        return None
    o = _decimal(repr(float(ours)))
    if o is None:
        return None
    if abs(p) > 1 and abs(o) <= 1:  # published as a percentage, ours a fraction
        o = o.scaleb(2)
    return o.quantize(Decimal(1).scaleb(p.as_tuple().exponent), rounding=ROUND_HALF_UP)


def reproduces(ours: float, published, rtol: float | None = None) -> bool | None:
    """True/False: ``ours`` rounds to ``published`` at its printed precision, or, given a relative tolerance
    ``rtol`` (for a number printed with all its digits, which the printing machine's rounding set),
    |ours − published| ≤ rtol·|published|; None if either is missing."""
    r = round_like(ours, published)
    if r is None:
        return None
    if rtol is not None and not (isinstance(rtol, float) and math.isnan(rtol)):
        p = float(_decimal(published))
        return abs(float(ours) - p) <= float(rtol) * abs(p)
    return r == _decimal(published)
