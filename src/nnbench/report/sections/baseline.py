"""The section "What moved since the baseline" (``nnbench report --baseline DIR``): this run's cells against a
baseline run's, per cell the change in mean test accuracy with a paired test over seeds, Holm-corrected, and
whether anything changed at all (:mod:`nnbench.baseline`, where the definitions are)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nnbench import baseline as B

from ..format import _isnum, fmt_p, fmt_pct


def _pp(x) -> str:
    """A change in accuracy in percentage points, signed."""
    return f"{100 * float(x):+.2f} pp" if _isnum(x) else "—"


def _row(r: dict) -> dict:
    return {
        "cell": "/".join(str(r[k]) for k in ("dataset", "init", "reg", "opt")),
        **{k: r[k] for k in ("dataset", "init", "reg", "opt", "verdict", "n_pairs", "changed_runs")},
        "base": fmt_pct(r["base_mean"], 2),
        "cur": fmt_pct(r["cur_mean"], 2),
        "diff": _pp(r["diff"]),
        "p_raw": fmt_p(r["p_raw"]),
        "p_holm": fmt_p(r["p_holm"]),
        "diverged": f"{r['diverged_base']} → {r['diverged_cur']}",
        "runs": f"{r['runs_base']} → {r['runs_cur']}",
    }


def baseline_section(
    table: pd.DataFrame, folder, *, test: str = "ttest", alpha: float = 0.05, fail_on: str = "changed"
) -> dict:
    """The section's context from a :func:`nnbench.baseline.compare_cells` table: the counts, the verdict
    line, the cells that moved (most serious first) and every cell."""
    counts = B.counts(table)
    return {
        "folder": str(Path(folder)),
        "counts": counts,
        "verdict_line": B.verdict_line(table, fail_on),
        "failed": B.fails(counts, fail_on),
        "moved": [_row(r) for r in B.moved(table).to_dict("records")],
        "all": [_row(r) for r in table.to_dict("records")],
        "alpha": alpha,
        "test_name": "paired t-test" if test == "ttest" else "Wilcoxon signed-rank test",
    }
