"""Result records -> tables (``results/tables/``) and Snakemake benchmarks -> ``results/benchmarks.csv``.

This module knows only the cell files of contract 2 (``docs/design.md``) and Snakemake's benchmark TSVs;
it never imports the trainer or the data sets.

Statistics (over the ``ok`` runs of a cell, i.e. over seeds)
    mean, sample standard deviation (ddof = 1) and the 95 % Student-t interval
    ``mean ± t(0.975, n − 1) · std / √n``. With one ok run the std and the interval are NaN; with none,
    every statistic is NaN. Diverged runs count in ``runs`` and ``diverged`` and nowhere else.

Comments (``summary.csv`` and the seed-shaped tables), derived from the numbers:
    * ``chance`` of a data set: the accuracy of a constant predictor. The records do not carry the class
      frequencies, so it is taken from the runs themselves: the median test mean of the data set's
      ``zeros``-initialised cells. A network whose weights all start at zero cannot break the symmetry;
      it learns only the output bias and predicts the majority class, so these cells sit at the
      majority-class rate (which, unlike ``1 / n_classes``, is right for imbalanced data such as
      breast_cancer). ``--chance NAME=RATE`` overrides it; without a zeros cell and without an override the
      chance level is unknown and the chance-based comments are left out.
    * ``fails to break symmetry``: a zeros-init cell whose test mean is within 0.05 of chance.
    * ``does not learn``: any other cell whose test mean is within 0.05 of chance.
    * ``underfits``: train mean more than 0.1 below the best train mean of the data set.
    * ``overfits``: train mean − test mean > 0.1.
    * ``diverged (k of n runs)``: k > 0 of the cell's n runs diverged (all of them: the only comment).
    * ``best in table``: the highest test mean of its table (one data set, one regularizer).
    Several comments are joined with ``"; "``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .io import write_atomic, write_csv

CELL_KEYS = ("dataset", "init", "reg", "opt")

RUN_COLUMNS = [
    "dataset", "init", "reg", "opt", "seed", "status",
    "train_acc", "val_acc", "test_acc", "train_cost", "test_cost", "final_cost",
    "epochs", "epochs_run", "diverged_epoch", "seconds", "config_hash", "blas_kernel",
]  # fmt: skip

SUMMARY_COLUMNS = [
    "dataset", "init", "reg", "opt", "runs", "ok", "diverged",
    "train_mean", "train_std", "train_ci_low", "train_ci_high",
    "test_mean", "test_std", "test_ci_low", "test_ci_high", "gap_mean", "comment",
]  # fmt: skip

SEED_COLUMNS = ["Regularization", "Model", "Train accuracy", "Test accuracy", "Problem/Comment"]

CHANCE_TOLERANCE = 0.05  # |test mean - chance| within this: "at chance"
OVERFIT_GAP = 0.10  # train mean - test mean above this: "overfits"
UNDERFIT_MARGIN = 0.10  # train mean this far below the data set's best train mean: "underfits"
CONFIDENCE = 0.95


# ----------------------------------------------------------------------------------------------
# writing


def write_csv_atomic(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """``df`` as CSV (no index), written atomically (:func:`nnbench.io.write_csv`)."""
    write_csv(path, df)


# ----------------------------------------------------------------------------------------------
# runs


def _number(value) -> float:
    """A JSON number (or null, or a non-finite value) as a float, NaN for missing / non-finite."""
    if value is None:
        return math.nan
    try:
        value = float(value)
    except (TypeError, ValueError):
        return math.nan
    return value if math.isfinite(value) else math.nan


def cell_paths(
    runs_dir: str | os.PathLike,
    datasets: Sequence[str],
    inits: Sequence[str],
    regs: Sequence[str],
    opts: Sequence[str],
) -> list[Path]:
    """The cell files of a grid, in grid order: ``{runs_dir}/{dataset}/{init}/{reg}/{opt}.json``."""
    root = Path(runs_dir)
    return [root / d / i / r / f"{o}.json" for d in datasets for i in inits for r in regs for o in opts]


def cell_rows(record: Mapping) -> list[dict]:
    """One verified cell record (:func:`nnbench.results.read_cell`) -> one row per run (the ``runs.csv``
    columns plus ``layers``)."""
    key = {k: str(record["cell"][k]) for k in CELL_KEYS}
    rows = []
    for run in record["runs"]:
        spec = run.get("spec") or {}
        ok = run.get("status") == "ok"
        curve = run.get("cost_curve") or []
        acc = (lambda name: _number(run.get(name))) if ok else (lambda name: math.nan)
        diverged_epoch = run.get("diverged_epoch")
        rows.append(
            {
                **key,
                "seed": int(run["seed"]),
                "status": str(run.get("status")),
                "train_acc": acc("train_accuracy"),
                "val_acc": acc("val_accuracy"),
                "test_acc": acc("test_accuracy"),
                "train_cost": acc("train_cost"),
                "test_cost": acc("test_cost"),
                "final_cost": _number(curve[-1]) if curve else math.nan,
                "epochs": spec.get("epochs"),
                "epochs_run": run.get("epochs_run"),
                "diverged_epoch": diverged_epoch,
                "seconds": _number(run.get("seconds")),
                "config_hash": record.get("config_hash", ""),
                "blas_kernel": (run.get("versions") or {}).get("blas_kernel", ""),
                "layers": len(spec.get("hidden") or ()) + 1,
            }
        )
    return rows


def read_runs(
    paths: Iterable[str | os.PathLike], config: Mapping | None = None, from_path: bool = False
) -> pd.DataFrame:
    """Cell files -> runs DataFrame (one row per run, file order; ``RUN_COLUMNS`` + ``layers``).

    Every file is verified first (:func:`nnbench.results.read_cell`: digest, cell identity, one run per seed,
    values in range; against its path when ``from_path``, and against ``config``'s resolved spec and seeds
    when given); the same cell twice is refused. Accuracies and costs of diverged runs are NaN.
    """
    from .results import read_cells

    paths = list(paths)
    return runs_frame(paths, read_cells(paths, from_path=from_path), config)


def runs_frame(paths: Sequence, records: Sequence[Mapping], config: Mapping | None = None) -> pd.DataFrame:
    """:func:`read_runs` of cell files already read and verified (``records``, from ``paths``, in order): each
    must name its cell (and match ``config`` when given); one row per run."""
    from .results import ResultFileError

    for path, record in zip(paths, records):
        if not isinstance(record.get("cell"), dict) or any(k not in record["cell"] for k in CELL_KEYS):
            raise ResultFileError(
                path, f"'cell' must name {', '.join(CELL_KEYS)}", "give the cell files the workflow writes"
            )
        if config is not None:
            _check_against_config(path, record, config)
    rows = [row for record in records for row in cell_rows(record)]
    df = pd.DataFrame(rows, columns=[*RUN_COLUMNS, "layers"])
    for col in ("epochs", "epochs_run", "diverged_epoch", "layers"):
        df[col] = df[col].astype("Int64")
    df["seed"] = df["seed"].astype("int64")
    for col in ("train_acc", "val_acc", "test_acc", "train_cost", "test_cost", "final_cost", "seconds"):
        df[col] = df[col].astype("float64")
    return df


def _check_against_config(path, record: Mapping, config: Mapping) -> None:
    """A cell file against the config as run: its config hash is its resolved spec's, its seeds the grid's."""
    from .config import cell_spec_hash, seed_list
    from .results import ResultFileError, remake_fix

    cell = record["cell"]
    expected = cell_spec_hash(config, *(cell[k] for k in CELL_KEYS))
    if record.get("config_hash") != expected:
        raise ResultFileError(
            path,
            "was made from another config (its config_hash is not the hash of this cell's resolved spec)",
            remake_fix(path),
        )
    have, want = sorted(r["seed"] for r in record["runs"]), sorted(seed_list(config))
    if have != want:
        raise ResultFileError(path, f"holds seeds {have}, the config asks for {want}", remake_fix(path))


# ----------------------------------------------------------------------------------------------
# summary


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float, float, float]:
    """(mean, std, low, high) of ``values``: sample std (ddof 1) and the Student-t interval.

    Empty: all NaN. One value: std, low and high NaN.
    """
    x = np.asarray(values, dtype=float)
    n = x.size
    if n == 0:
        return (math.nan,) * 4
    mean = float(x.mean())
    if n == 1:
        return mean, math.nan, math.nan, math.nan
    std = float(x.std(ddof=1))
    from scipy import stats  # here, not at the top: the Snakefile imports this module's importers (0.5 s)

    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * std / math.sqrt(n)
    return mean, std, mean - half, mean + half


def chance_levels(runs: pd.DataFrame, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """Chance accuracy per data set: ``overrides`` first, else the median test mean of its zeros cells."""
    overrides = dict(overrides or {})
    levels = {}
    for dataset, group in runs.groupby("dataset", sort=False):
        if dataset in overrides:
            levels[dataset] = float(overrides[dataset])
            continue
        zeros = group[(group["init"] == "zeros") & (group["status"] == "ok")]
        cell_means = zeros.groupby(["reg", "opt"], sort=False)["test_acc"].mean().dropna()
        levels[dataset] = float(cell_means.median()) if len(cell_means) else math.nan
    return levels


def _comment(row: Mapping, chance: float, best_train: float) -> str:
    n, ok, k = int(row["runs"]), int(row["ok"]), int(row["diverged"])
    if ok == 0:
        return f"diverged ({k} of {n} runs)"
    parts = []
    train, test = row["train_mean"], row["test_mean"]
    at_chance = not math.isnan(chance) and abs(test - chance) <= CHANCE_TOLERANCE
    if at_chance:
        parts.append("fails to break symmetry" if row["init"] == "zeros" else "does not learn")
    elif not math.isnan(best_train) and train < best_train - UNDERFIT_MARGIN:
        parts.append("underfits")
    if train - test > OVERFIT_GAP:
        parts.append("overfits")
    if k:
        parts.append(f"diverged ({k} of {n} runs)")
    return "; ".join(parts)


def summarize(runs: pd.DataFrame, chance: Mapping[str, float] | None = None) -> pd.DataFrame:
    """One row per cell (``SUMMARY_COLUMNS`` + ``layers``), in the order the cells first appear."""
    records = []
    for key, group in runs.groupby(list(CELL_KEYS), sort=False):
        ok = group[group["status"] == "ok"]
        train = t_interval(ok["train_acc"].dropna())
        test = t_interval(ok["test_acc"].dropna())
        records.append(
            {
                **dict(zip(CELL_KEYS, key)),
                "runs": len(group),
                "ok": len(ok),
                "diverged": int((group["status"] == "diverged").sum()),
                "train_mean": train[0],
                "train_std": train[1],
                "train_ci_low": train[2],
                "train_ci_high": train[3],
                "test_mean": test[0],
                "test_std": test[1],
                "test_ci_low": test[2],
                "test_ci_high": test[3],
                "gap_mean": train[0] - test[0],
                "layers": group["layers"].iloc[0],
            }  # fmt: skip
        )
    summary = pd.DataFrame(records, columns=[*SUMMARY_COLUMNS[:-1], "layers"])
    levels = chance_levels(runs, chance)
    best_train = summary.groupby("dataset", sort=False)["train_mean"].max().to_dict()
    comments = [
        _comment(row, levels.get(row["dataset"], math.nan), best_train.get(row["dataset"], math.nan))
        for row in summary.to_dict("records")
    ]
    # the top test mean of each seed-shaped table (one data set, one regularizer)
    top = summary.groupby(["dataset", "reg"], sort=False)["test_mean"].transform("max")
    for i, is_best in enumerate((summary["test_mean"] >= top - 1e-12).fillna(False)):
        if is_best:
            comments[i] = "; ".join(filter(None, [comments[i], "best in table"]))
    summary.insert(len(SUMMARY_COLUMNS) - 1, "comment", comments)
    return summary


# ----------------------------------------------------------------------------------------------
# seed-shaped tables


def format_accuracy(mean: float, ci_high: float) -> str:
    """``"97.3 ± 1.2 %"`` (mean ± half-width of the interval, in percent); ``"—"`` without a mean."""
    if mean is None or math.isnan(mean):
        return "—"
    if ci_high is None or math.isnan(ci_high):
        return f"{100 * mean:.1f} %"
    return f"{100 * mean:.1f} ± {100 * (ci_high - mean):.1f} %"


def seed_table(summary: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """The course's table shape for one data set, one block of rows per regularizer."""
    cells = summary[summary["dataset"] == dataset]
    rows = [
        {
            "Regularization": c["reg"],
            "Model": f"{c['layers']}-layer NN with {c['init']} initialization, {c['opt']}",
            "Train accuracy": format_accuracy(c["train_mean"], c["train_ci_high"]),
            "Test accuracy": format_accuracy(c["test_mean"], c["test_ci_high"]),
            "Problem/Comment": c["comment"],
        }
        for reg in cells["reg"].unique()
        for c in cells[cells["reg"] == reg].to_dict("records")
    ]
    return pd.DataFrame(rows, columns=SEED_COLUMNS)


def seed_table_markdown(table: pd.DataFrame, dataset: str, seeds: int | None = None) -> str:
    """Markdown: a heading per regularizer, each followed by the Model | Train | Test | Comment table."""
    over = f" over {seeds} seeds" if seeds else " over seeds"
    lines = [
        f"# {dataset}: initialization × optimizer",
        "",
        f"Accuracy: mean ± half-width of the 95 % t-interval{over} (diverged runs excluded).",
        "",
    ]
    for reg, block in table.groupby("Regularization", sort=False):
        lines += [f"## Regularization: {reg}", ""]
        lines.append(block.drop(columns="Regularization").to_markdown(index=False))
        lines.append("")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# benchmarks


def parse_layouts(specs: Iterable[str]) -> dict[str, list[str]]:
    """``["train=dataset,init,reg,opt", ...]`` -> ``{"train": ["dataset", ...]}``."""
    layouts = {}
    for spec in specs:
        rule, sep, names = spec.partition("=")
        if not sep or not rule:
            raise ValueError(f"benchmark layout {spec!r}: expected RULE=WILDCARD,WILDCARD,...")
        layouts[rule] = [n for n in names.split(",") if n]
    return layouts


def read_benchmarks(bench_dir: str | os.PathLike, layouts: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """Every ``{bench_dir}/{rule}/{w1}/.../{wk}.tsv`` -> one row with ``rule``, ``wildcards`` first.

    ``layouts`` maps a rule to its wildcard names in path order; ``wildcards`` is then
    ``"name=value,..."``, else the path below the rule's folder without ``.tsv``. Given ``layouts``, only
    the rules it names are read (so a benchmark left over by a rule that runs after this one, such as the
    tables rule itself, is not mixed in). The other columns are Snakemake's own.
    """
    layouts = layouts or {}
    root = Path(bench_dir)
    frames = []
    for path in sorted(root.rglob("*.tsv")):
        rel = path.relative_to(root).with_suffix("")
        rule, parts = rel.parts[0], rel.parts[1:]
        if layouts and rule not in layouts:
            continue
        names = layouts.get(rule)
        if names and len(names) == len(parts):
            wildcards = ",".join(f"{n}={v}" for n, v in zip(names, parts))
        else:
            wildcards = "/".join(parts)
        frame = pd.read_csv(path, sep="\t")
        frame = frame.drop(columns=[c for c in ("rule", "wildcards") if c in frame.columns])
        frame.insert(0, "rule", rule)
        frame.insert(1, "wildcards", wildcards)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["rule", "wildcards", "s"])
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------------------------
# command line


def _names(text: str) -> list[str]:
    return [n for n in text.split(",") if n]


def _chance_option(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    try:
        rate = float(value)
    except ValueError:
        rate = math.nan
    if not sep or not name or not 0 <= rate <= 1:
        raise argparse.ArgumentTypeError(f"--chance {text!r}: expected NAME=RATE with RATE in [0, 1]")
    return name, rate


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nnbench tables",
        description="Cell files -> runs.csv, summary.csv and the seed-shaped tables per data set; "
        "Snakemake benchmark TSVs -> benchmarks.csv.",
    )
    p.add_argument("cells", nargs="*", help="cell JSON files (alternative to --runs-dir + grid)")
    p.add_argument("--runs-dir", help="folder of {dataset}/{init}/{reg}/{opt}.json cell files")
    p.add_argument("--datasets", type=_names, help="comma-separated grid axis (with --runs-dir)")
    p.add_argument("--inits", type=_names)
    p.add_argument("--regs", type=_names)
    p.add_argument("--opts", type=_names)
    p.add_argument("--out-dir", required=True, help="folder for runs.csv, summary.csv, {dataset}_init_by_opt.*")
    p.add_argument("--benchmarks-dir", help="Snakemake benchmark folder ({rule}/.../*.tsv)")
    p.add_argument("--benchmarks-out", help="gathered benchmarks CSV")
    p.add_argument(
        "--benchmark-layout", action="append", default=[], metavar="RULE=W1,W2",
        help="wildcard names of a rule's benchmark path, e.g. train=dataset,init,reg,opt; "
        "when given, only the rules named are gathered",
    )  # fmt: skip
    p.add_argument("--chance", type=_chance_option, action="append", default=[], metavar="NAME=RATE")
    p.add_argument(
        "--config-json",
        help="the config as run (JSON file or inline object): every cell file's "
        "config hash and seeds are checked against it",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    grid = (args.datasets, args.inits, args.regs, args.opts)
    if args.runs_dir:
        if any(axis is None for axis in grid):
            parser.error("--runs-dir needs --datasets, --inits, --regs and --opts")
        paths = cell_paths(args.runs_dir, *grid)
    else:
        paths = [Path(p) for p in args.cells]
    if not paths:
        parser.error("no cell files: give CELLS or --runs-dir with the grid")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        parser.error(f"{len(missing)} cell file(s) missing, e.g. {missing[0]}")
    if bool(args.benchmarks_dir) != bool(args.benchmarks_out):
        parser.error("--benchmarks-dir and --benchmarks-out go together")

    from .io import read_mapping
    from .results import ResultFileError

    try:
        config = read_mapping(args.config_json, "--config-json") if args.config_json else None
        runs = read_runs(paths, config, from_path=bool(args.runs_dir))
    except (ResultFileError, ValueError) as err:
        print(f"nnbench tables: error: {err}", file=sys.stderr)
        return 2
    summary = summarize(runs, dict(args.chance))
    out = Path(args.out_dir)
    write_csv_atomic(runs[RUN_COLUMNS], out / "runs.csv")
    write_csv_atomic(summary[SUMMARY_COLUMNS], out / "summary.csv")
    from .stats import cross_dataset_ranks  # the rank of every cell per data set, and its mean rank

    write_csv_atomic(cross_dataset_ranks(summary), out / "cross_dataset_ranks.csv")
    for dataset in summary["dataset"].unique():
        table = seed_table(summary, dataset)
        seeds = runs.loc[runs["dataset"] == dataset].groupby(list(CELL_KEYS), sort=False).size()
        n_seeds = int(seeds.iloc[0]) if seeds.nunique() == 1 else None
        write_csv_atomic(table, out / f"{dataset}_init_by_opt.csv")
        write_atomic(out / f"{dataset}_init_by_opt.md", seed_table_markdown(table, dataset, n_seeds))
    if args.benchmarks_dir:
        layouts = parse_layouts(args.benchmark_layout)
        write_csv_atomic(read_benchmarks(args.benchmarks_dir, layouts), args.benchmarks_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
