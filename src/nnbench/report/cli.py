"""``nnbench report``: the command line (see :mod:`nnbench.report` for the inputs and the output)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from nnbench.io import read_mapping, write_atomic

from .inputs import ReportInputs
from .render import build_report, write_figures, write_tables


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
    p = argparse.ArgumentParser(
        prog="nnbench report", description="Render the self-contained HTML report from the tables and cell files."
    )
    p.add_argument(
        "--results", default="results", help="results folder: tables/, runs/, benchmarks.csv (default: results)"
    )
    p.add_argument("--tables", help="folder of summary.csv, runs.csv, course_*.csv (default: RESULTS/tables)")
    p.add_argument("--runs-dir", help="folder of the cell files (default: RESULTS/runs)")
    p.add_argument("--points-dir", help="folder of the data sets' points {dataset}.npz (default: RESULTS/points)")
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
    p.add_argument(
        "--baseline",
        metavar="DIR",
        help="a baseline run's results folder (its runs/ or tables/runs.csv): adds the section 'What moved since "
        "the baseline' (nnbench.baseline) and, with --tables-out, baseline_comparison.csv",
    )
    p.add_argument(
        "--jobs",
        type=_jobs,
        default=1,
        metavar="N",
        help="render the figures in N forked worker processes, longest first (default: 1, in this "
        "process); the output is byte-identical whatever N",
    )
    p.add_argument(
        "--usage",
        help="when done, write the job's wall and CPU seconds (with its figure workers') and the largest "
        "process's peak memory here, as a Snakemake benchmark file (TSV)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0 < args.alpha < 1:
        parser.error("--alpha must be in (0, 1)")
    try:
        config = read_mapping(args.config_json, "--config-json") if args.config_json else {}
    except ValueError as err:
        parser.error(str(err))
    inputs = ReportInputs(
        args.results,
        args.tables,
        args.runs_dir,
        args.benchmarks,
        config,
        args.studies,
        args.studies_benchmarks,
        args.points_dir,
    )
    if not (inputs.tables / "summary.csv").is_file():
        parser.error(f"{inputs.tables / 'summary.csv'} not found (run `nnbench tables` first)")
    source = (
        args.config_json
        if args.config_json and not args.config_json.lstrip().startswith("{")
        else ("inline --config-json" if args.config_json else "")
    )
    from ..results import ResultFileError

    try:
        html, extras = build_report(
            inputs,
            test=args.test,
            alpha=args.alpha,
            with_points=not args.no_points,
            title=args.title,
            config_source=source,
            jobs=args.jobs,
            baseline=args.baseline,
        )
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
    if args.usage:
        from ..cli import write_usage

        write_usage(args.usage, started, children=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
