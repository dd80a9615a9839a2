"""What moved between a baseline run's results and this run's: per cell, the change in mean test accuracy with a
paired test over seeds, the cells that moved significantly after correction, and the cells that moved at all.

    nnbench compare --baseline BASELINE [CURRENT] [--fail-on changed|significant|never] [--out CSV]
    nnbench report --baseline BASELINE ...            (the same table as a section of the report)
    snakemake ... --config baseline=BASELINE           (both, in the workflow)

``BASELINE`` and ``CURRENT`` (default ``results``) are results folders: their cell files ``runs/**.json`` when
they have any, else their ``tables/runs.csv`` (:func:`nnbench.results.read_results_runs`, which verifies
every file); ``CURRENT`` may also be a ``runs.csv`` file.

Per cell (dataset, init, reg, opt), :func:`compare_cells` (columns ``COLUMNS``)
    ``base_mean``, ``cur_mean``: mean test accuracy over each side's ``ok`` runs. ``diff``: the mean over the
    *paired* seeds (a seed ``ok`` on both sides; same seed, hence the same data split and initialization) of
    current − baseline, ``n_pairs`` their number. ``p_raw``: two-sided paired test of the paired test
    accuracies (:func:`nnbench.stats.paired_pvalue`, the paired t-test by default, as the report's ranking):
    fewer than 2 pairs give no test (NaN); identical differences on every seed give p = 1 when they are 0 and
    p = 0 otherwise. ``p_holm``: Holm's correction (:func:`nnbench.stats.holm`) over the cells tested: those on
    both sides, with ≥ 2 pairs, that changed at all (below). A cell whose every run is bit-identical on both
    sides did not move, with certainty: it keeps p = 1 and does not count as a comparison (counting it would
    only lower the power to see the cells that did move). ``significant``: ``p_holm < alpha`` (0.05).

    ``changed`` (bit level): some run of the cell differs in any metric of ``nnbench.compare.METRICS``
    (status, the accuracies, the costs, epochs run; exact float equality, NaN equal to NaN) or is on one side
    only; ``changed_runs`` counts those seeds. Runs made on the same BLAS kernel are reproducible bit for bit
    (docs/design.md, the numerical contract), so an unchanged code base changes nothing; across kernels
    every cell may change in its last bits, and only ``significant`` is meaningful.

    ``diverged_base``, ``diverged_cur``: each side's diverged runs. A cell whose count differs is flagged
    ``diverged``: a seed that diverges on one side only is a change of outcome that the test, which sees only
    paired ``ok`` seeds, cannot weigh.

    ``verdict``: the first that applies of ``only baseline``, ``only current`` (the cell is on one side
    only), ``diverged``, ``significant``, ``untestable`` (changed, fewer than 2 pairs), ``changed``,
    ``unchanged``.

The verdict line (:func:`verdict_line`), last line of ``nnbench compare --baseline``, for a CI job to read::

    verdict: cells=16 changed=4 significant=2 diverged=0 only_baseline=0 only_current=0 -> FAIL (--fail-on significant)

``changed`` counts the cells on both sides that changed at all, ``significant`` and ``diverged`` those so
flagged. ``--fail-on changed`` fails when any cell changed, diverged differently or is on one side only;
``--fail-on significant`` when any cell moved significantly, diverged differently or is on one side only;
``--fail-on never`` never fails.

Exit status of ``nnbench compare --baseline``: **0** pass, **1** the ``--fail-on`` condition is met, **2** error
(a missing, unreadable or damaged results folder or file, :class:`nnbench.results.ResultFileError`, or a bad
option).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .compare import METRICS, metric_moved
from .stats import holm, paired_pvalue
from .tables import CELL_KEYS

COLUMNS = [
    "dataset", "init", "reg", "opt", "verdict", "base_mean", "cur_mean", "diff", "n_pairs", "p_raw", "p_holm",
    "significant", "changed", "changed_runs", "diverged_base", "diverged_cur", "runs_base", "runs_cur",
]  # fmt: skip

FAIL_ON = ("changed", "significant", "never")
COUNTS = ("cells", "changed", "significant", "diverged", "only_baseline", "only_current")
VERDICT_ORDER = ["only baseline", "only current", "diverged", "significant", "untestable", "changed", "unchanged"]


def _cell_runs(runs: pd.DataFrame) -> dict[tuple, pd.DataFrame]:
    return {key: g.set_index("seed") for key, g in runs.groupby(list(CELL_KEYS), sort=False)}


def _changed_seeds(base: pd.DataFrame, cur: pd.DataFrame) -> int:
    """Seeds of one cell that are on one side only or differ in any metric."""
    seeds = set(base.index) ^ set(cur.index)
    metrics = [m for m in METRICS if m in base.columns and m in cur.columns]
    for seed in set(base.index) & set(cur.index):
        if any(metric_moved(base.at[seed, m], cur.at[seed, m]) for m in metrics):
            seeds.add(seed)
    return len(seeds)


def compare_cells(
    baseline: pd.DataFrame, current: pd.DataFrame, *, test: str = "ttest", alpha: float = 0.05
) -> pd.DataFrame:
    """One row per cell of either side (``COLUMNS``; see the module docstring), sorted by dataset, init, reg, opt
    (the same order whichever files the runs were read from); ``verdict`` as in the module docstring."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    base_cells, cur_cells = _cell_runs(baseline), _cell_runs(current)
    keys = sorted(set(cur_cells) | set(base_cells))
    rows = []
    for key in keys:
        b, c = base_cells.get(key), cur_cells.get(key)
        row = dict(zip(CELL_KEYS, key))
        row.update(
            base_mean=math.nan, cur_mean=math.nan, diff=math.nan, n_pairs=0, p_raw=math.nan,
            changed=True, changed_runs=0, diverged_base=0, diverged_cur=0, runs_base=0, runs_cur=0,
        )  # fmt: skip
        for side, df in (("base", b), ("cur", c)):
            if df is not None:
                ok = df[df["status"] == "ok"]["test_acc"].dropna()
                row[f"{side}_mean"] = float(ok.mean()) if len(ok) else math.nan
                row[f"diverged_{side}"] = int((df["status"] == "diverged").sum())
                row[f"runs_{side}"] = len(df)
        if b is not None and c is not None:
            row["changed_runs"] = _changed_seeds(b, c)
            row["changed"] = row["changed_runs"] > 0
            pb = b[(b["status"] == "ok") & b["test_acc"].notna()]["test_acc"]
            pc = c[(c["status"] == "ok") & c["test_acc"].notna()]["test_acc"]
            both = pd.concat([pb, pc], axis=1, keys=["base", "cur"], join="inner").sort_index()
            row["n_pairs"] = len(both)
            if len(both):
                row["diff"] = float((both["cur"] - both["base"]).mean())
            if len(both) >= 2:
                row["p_raw"] = paired_pvalue(both["cur"], both["base"], test)
        else:
            row["changed_runs"] = len(b if b is not None else c)
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return pd.DataFrame(columns=COLUMNS)
    tested = (out["changed"] & out["p_raw"].notna()).to_numpy()
    p_holm = out["p_raw"].to_numpy(dtype=float).copy()  # unchanged cells: p = 1 (or NaN, < 2 pairs), as is
    p_holm[tested] = holm(p_holm[tested])
    out["p_holm"] = p_holm
    out["significant"] = (out["p_holm"] < alpha).fillna(False).astype(bool)
    out["verdict"] = [_verdict(r, key in base_cells, key in cur_cells) for r, key in zip(out.to_dict("records"), keys)]
    for col in ("n_pairs", "changed_runs", "diverged_base", "diverged_cur", "runs_base", "runs_cur"):
        out[col] = out[col].astype("int64")
    out["changed"] = out["changed"].astype(bool)
    return out[COLUMNS]


def _verdict(row: Mapping, in_base: bool, in_cur: bool) -> str:
    if not in_cur:
        return "only baseline"
    if not in_base:
        return "only current"
    if row["diverged_base"] != row["diverged_cur"]:
        return "diverged"
    if row["significant"]:
        return "significant"
    if row["changed"]:
        return "untestable" if row["n_pairs"] < 2 else "changed"
    return "unchanged"


def counts(table: pd.DataFrame) -> dict[str, int]:
    """``COUNTS`` of a :func:`compare_cells` table: every cell, the cells on both sides that changed at all /
    moved significantly / diverged differently, and the cells on one side only."""
    both = ~table["verdict"].isin(["only baseline", "only current"])
    return {
        "cells": len(table),
        "changed": int((table["changed"] & both).sum()),
        "significant": int((table["significant"] & both).sum()),
        "diverged": int((table["verdict"] == "diverged").sum()),
        "only_baseline": int((table["verdict"] == "only baseline").sum()),
        "only_current": int((table["verdict"] == "only current").sum()),
    }


def fails(n: Mapping[str, int], fail_on: str) -> bool:
    """Whether the ``--fail-on`` condition holds for the counts ``n`` (module docstring)."""
    if fail_on not in FAIL_ON:
        raise ValueError(f"--fail-on {fail_on!r}: expected one of {', '.join(FAIL_ON)}")
    one_side = n["only_baseline"] + n["only_current"] + n["diverged"]
    if fail_on == "changed":
        return n["changed"] + one_side > 0
    if fail_on == "significant":
        return n["significant"] + one_side > 0
    return False


def verdict_line(table: pd.DataFrame, fail_on: str) -> str:
    """``verdict: cells=.. changed=.. significant=.. diverged=.. only_baseline=.. only_current=.. -> PASS|FAIL
    (--fail-on ...)``: the one line a CI job reads."""
    n = counts(table)
    word = "FAIL" if fails(n, fail_on) else "PASS"
    return "verdict: " + " ".join(f"{k}={n[k]}" for k in COUNTS) + f" -> {word} (--fail-on {fail_on})"


def moved(table: pd.DataFrame) -> pd.DataFrame:
    """The cells that are not ``unchanged``, most serious verdict first, then by size of the change."""
    out = table[table["verdict"] != "unchanged"].copy()
    out["_o"] = out["verdict"].map({v: i for i, v in enumerate(VERDICT_ORDER)})
    out["_d"] = -out["diff"].abs().fillna(np.inf)
    return out.sort_values(["_o", "_d"], kind="stable").drop(columns=["_o", "_d"]).reset_index(drop=True)


def format_lines(table: pd.DataFrame) -> list[str]:
    """One line per cell that moved (:func:`moved`), for the terminal."""
    lines = []
    for r in moved(table).to_dict("records"):
        cell = "/".join(str(r[k]) for k in CELL_KEYS)
        pct = lambda v: "—" if pd.isna(v) else f"{100 * v:.2f} %"  # noqa: E731
        p = lambda v: "—" if pd.isna(v) else f"{v:.3g}"  # noqa: E731
        diff = "—" if pd.isna(r["diff"]) else f"{100 * r['diff']:+.2f} pp"
        lines.append(
            f"{cell}: {r['verdict']}: test {pct(r['base_mean'])} -> {pct(r['cur_mean'])} ({diff} over "
            f"{r['n_pairs']} paired seeds, p {p(r['p_raw'])}, Holm {p(r['p_holm'])}); "
            f"{r['changed_runs']} run(s) changed, diverged {r['diverged_base']} -> {r['diverged_cur']}"
        )
    return lines


def check_folder(folder, where: str = "baseline") -> None:
    """A baseline folder as the config names it: it exists and holds ``runs/`` or ``tables/runs.csv``
    (:class:`nnbench.registry.SpecError` naming ``where`` and the folder, otherwise)."""
    from pathlib import Path

    from .registry import SpecError

    path = Path(folder)
    if not path.is_dir():
        raise SpecError(where, str(folder), "no such folder (give a results folder of an earlier run)")
    if not (path / "runs").is_dir() and not (path / "tables" / "runs.csv").is_file():
        raise SpecError(where, str(folder), "holds neither runs/ (cell files) nor tables/runs.csv")
