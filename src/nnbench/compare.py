"""Compare the per-run metrics of two result sets and print every cell that differs.

    nnbench compare RESULTS_A RESULTS_B [--tolerance T]
    nnbench compare --baseline BASELINE [CURRENT] [--fail-on changed|significant|never] [--out CSV]

The second form (:mod:`nnbench.baseline`) compares the results folder ``CURRENT`` (default ``results``) with a
baseline run's folder, cell by cell: the change in mean test accuracy with a paired test over seeds (Holm
corrected), the cells that changed at all (bit level), and a last line ``verdict: ... -> PASS|FAIL`` for a CI
job. Its exit status: 0 pass, 1 the ``--fail-on`` condition is met (default ``changed``), 2 error (a missing,
unreadable or damaged input). The rest of this docstring is about the first form.

Each side is a results folder (its ``runs/**/*.json`` cell files), a ``runs.csv`` table, or any CSV with
the key columns ``dataset, init, reg, opt, seed``. Exit status 0 when they agree, 1 when any run's
metric moved by more than the tolerance or a run is on one side only: what makes a CI benchmark
reproducible (``tests/reference/ci_runs.csv`` holds the CI grid's metrics).

Without ``--tolerance`` the numerical contract decides (``nnbench.contract``): runs made on the same BLAS
kernel must agree bit for bit; runs made on different kernels (the ``blas_kernel`` column, or the cell
files' ``versions``; a side without it counts as another kernel) within ``contract.CROSS_KERNEL``.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd

from . import contract
from .tables import CELL_KEYS

KEYS = [*CELL_KEYS, "seed"]  # a run: its cell and seed
METRICS = ["status", "train_acc", "val_acc", "test_acc", "train_cost", "test_cost", "final_cost", "epochs_run"]
KERNEL = "blas_kernel"


def load_metrics(source) -> pd.DataFrame:
    """Runs with their key and metric columns, indexed by the key."""
    from .tables import read_runs

    path = Path(source)
    if path.is_dir():
        files = sorted((path / "runs").rglob("*.json") if (path / "runs").is_dir() else path.rglob("*.json"))
        if not files:
            raise FileNotFoundError(f"no cell files (*.json) under {str(path)!r}")
        runs = read_runs(files)
    elif path.suffix == ".json" and path.is_file():
        runs = read_runs([path])
    elif path.is_file():
        try:
            runs = pd.read_csv(path)
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
            raise ValueError(f"{str(path)!r} is not a readable CSV table ({str(err).strip()})") from None
    else:
        raise FileNotFoundError(f"{str(path)!r} is neither a results folder nor a CSV file")
    missing = [c for c in KEYS if c not in runs.columns]
    if missing:
        raise ValueError(f"{str(path)!r} lacks the key columns {missing}")
    columns = [c for c in [*METRICS, KERNEL] if c in runs.columns]
    return runs.set_index(KEYS)[columns].sort_index()


def metric_moved(a, b, tolerance: float = 0.0) -> bool:
    """Whether a metric moved from ``a`` to ``b`` by more than ``tolerance`` (strings: any change; missing
    values — None, NaN, pd.NA — equal to each other, different from any number). ``tolerance`` 0: bit level."""
    if isinstance(a, str) or isinstance(b, str):
        return a != b
    a_nan, b_nan = pd.isna(a), pd.isna(b)
    if a_nan or b_nan:
        return a_nan != b_nan
    return abs(a - b) > tolerance


def _fmt(v) -> str:
    return v if isinstance(v, str) else "missing" if pd.isna(v) else f"{float(v):.12g}"


def tolerances(a, b, tolerance: float | None = None) -> dict[str, float]:
    """Per metric, how far a run may move between ``a`` and ``b`` (two runs' rows or two frames): the given
    ``tolerance`` for every metric, else the contract's: 0 on the same BLAS kernel, ``CROSS_KERNEL`` on
    different (or unknown) kernels."""
    if tolerance is not None:
        return dict.fromkeys(METRICS, tolerance)
    if same_kernel(a, b):
        return dict.fromkeys(METRICS, 0.0)
    return dict(contract.CROSS_KERNEL)


def kernels(x) -> set[str]:
    """The BLAS kernels of a frame's runs ({"unknown"} without the column)."""
    if KERNEL not in getattr(x, "columns", ()):
        return {"unknown"}
    return {str(k) if isinstance(k, str) and k else "unknown" for k in x[KERNEL]}


def same_kernel(a, b) -> bool:
    ka, kb = kernels(a), kernels(b)
    return ka == kb and len(ka) == 1 and "unknown" not in ka


def differences(a: pd.DataFrame, b: pd.DataFrame, tolerance: float | None = 0.0) -> list[str]:
    """One line per run that differs: a metric that moved (with by how much) or a run on one side only.
    ``tolerance=None``: the numerical contract's tolerances (:func:`tolerances`)."""
    tol = tolerances(a, b, tolerance)
    lines = []
    for key in a.index.difference(b.index):
        lines.append(f"{'/'.join(map(str, key[:4]))} seed {key[4]}: only in the first")
    for key in b.index.difference(a.index):
        lines.append(f"{'/'.join(map(str, key[:4]))} seed {key[4]}: only in the second")
    common = [c for c in a.columns if c in b.columns and c in METRICS]
    for key in a.index.intersection(b.index):
        for col in common:
            x, y = a.at[key, col], b.at[key, col]
            if metric_moved(x, y, tol[col]):
                delta = (
                    "" if isinstance(x, str) or isinstance(y, str) or pd.isna(x) or pd.isna(y) else f" ({y - x:+.3g})"
                )
                lines.append(f"{'/'.join(map(str, key[:4]))} seed {key[4]}: {col} {_fmt(x)} -> {_fmt(y)}{delta}")
    return lines


def _tolerance(text: str) -> float:
    """``--tolerance``: a finite number >= 0 (NaN would hide every difference, a negative one invent them)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number >= 0")
    return value


def largest_changes(a: pd.DataFrame, b: pd.DataFrame) -> dict[str, float]:
    """Per numeric metric, the largest absolute change of a run present in both (NaN on both sides: none)."""
    both = a.index.intersection(b.index)
    out = {}
    for col in METRICS:
        if col in a.columns and col in b.columns and col != "status":
            x = pd.to_numeric(a.loc[both, col], errors="coerce")
            y = pd.to_numeric(b.loc[both, col], errors="coerce")
            out[col] = float((x - y).abs().max()) if len(both) else 0.0
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="nnbench compare", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("first", nargs="?", help="the first result set (with --baseline: the current results)")
    parser.add_argument("second", nargs="?", help="the second result set (not with --baseline)")
    parser.add_argument(
        "--tolerance",
        type=_tolerance,
        default=None,
        help="largest allowed absolute change of every metric, finite and >= 0 (default: the "
        "numerical contract's: 0 on the same BLAS kernel, nnbench.contract.CROSS_KERNEL across "
        "kernels)",
    )
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="compare the results folder FIRST (default: results) with this baseline results folder, "
        "cell by cell, with a paired test over seeds (nnbench.baseline)",
    )
    parser.add_argument(
        "--fail-on",
        choices=["changed", "significant", "never"],
        default="changed",
        help="with --baseline: exit 1 when any cell changed at all (default), moved significantly, or never",
    )
    parser.add_argument("--alpha", type=float, default=0.05, help="with --baseline: family-wise error rate (Holm)")
    parser.add_argument("--test", choices=["ttest", "wilcoxon"], default="ttest", help="with --baseline: paired test")
    parser.add_argument("--out", help="with --baseline: also write the per-cell table here (CSV, atomically)")
    args = parser.parse_args(argv)
    if args.baseline is not None:
        if args.second is not None:
            parser.error("with --baseline give at most one results folder (the current one)")
        if args.tolerance is not None:
            parser.error("--tolerance goes with the two-folder form, not --baseline")
        if not 0 < args.alpha < 1:
            parser.error("--alpha must be in (0, 1)")
        return compare_baseline(args.baseline, args.first or "results", args.fail_on, args.alpha, args.test, args.out)
    if args.first is None or args.second is None:
        parser.error("give two result sets (RESULTS_A RESULTS_B), or --baseline DIR [CURRENT]")
    try:
        a, b = load_metrics(args.first), load_metrics(args.second)
        lines = differences(a, b, args.tolerance)
    except (OSError, ValueError) as err:
        print(f"nnbench compare: error: {err}", file=sys.stderr)
        return 2
    if args.tolerance is None:
        ka, kb = ", ".join(sorted(kernels(a))), ", ".join(sorted(kernels(b)))
        rule = "bit for bit" if same_kernel(a, b) else "within the numerical contract's cross-kernel tolerances"
        print(f"BLAS kernels: {ka} | {kb}: compared {rule}")
    changes = largest_changes(a, b)
    if changes:
        print("largest change per metric: " + ", ".join(f"{k} {v:.3g}" for k, v in changes.items()))
    for line in lines:
        print(line)
    print(f"{len(lines)} difference(s)" if lines else "no differences")
    return 1 if lines else 0


def compare_baseline(baseline, current, fail_on: str, alpha: float = 0.05, test: str = "ttest", out=None) -> int:
    """``nnbench compare --baseline``: the cells that moved, one line each, then the verdict line; the exit
    status (0 pass, 1 fail-on met, 2 error) of :mod:`nnbench.baseline`."""
    from . import baseline as B
    from .io import write_csv
    from .results import ResultFileError, read_results_runs

    try:
        base, cur = read_results_runs(baseline), read_results_runs(current)
        table = B.compare_cells(base, cur, test=test, alpha=alpha)
    except (ResultFileError, OSError, ValueError) as err:
        print(f"nnbench compare: error: {err}", file=sys.stderr)
        return 2
    if out:
        write_csv(out, table)
    kb, kc = ", ".join(sorted(kernels(base))), ", ".join(sorted(kernels(cur)))
    note = "" if same_kernel(base, cur) else " (different or unknown kernels: last-bit changes are expected)"
    print(f"baseline {baseline} vs current {current}; BLAS kernels: {kb} | {kc}{note}")
    for line in B.format_lines(table):
        print(line)
    print(B.verdict_line(table, fail_on))
    return 1 if B.fails(B.counts(table), fail_on) else 0
