"""``nnbench studies``: the studies beyond the grid, each writing its table(s) to ``results/tables/``.

    nnbench studies gradcheck --config-json CONFIG --out results/tables/study_gradcheck.csv
    nnbench studies depth     --config-json CONFIG --out results/tables/study_depth.csv
                              [--layers-out results/tables/study_depth_layers.csv]
    nnbench studies search    --config-json CONFIG --out results/tables/study_search.csv
                              [--trials-out results/tables/study_search_trials.csv]
    nnbench studies schedules --config-json CONFIG --out results/tables/study_schedules.csv

    nnbench studies verify    --table results/tables/study_gradcheck.csv --config-json CONFIG --out MARKER

CONFIG is a JSON or YAML file, or an inline JSON object, shaped like the workflow's config: the study reads
its settings from ``studies.<name>`` (missing settings take the defaults of the study's module, which the
workflow's schema repeats), and ``gradcheck`` also reads the grid (``datasets``, ``inits``, ``regs``,
``optimizers``, ``definitions``). Every table is written atomically. ``gradcheck`` exits with status 1,
after writing its table, when a check fails for a cause listed in ``studies.gradcheck.fail_on``
(``--no-fail``: always 0). ``verify`` applies the same rule to a table already written and, when it passes,
writes the MARKER file; the workflow runs ``gradcheck --no-fail`` (Snakemake deletes the outputs of a
failed job, and the report must show the table in red), renders the report, then fails in ``verify``.

Modules: :mod:`.gradcheck`, :mod:`.depth`, :mod:`.search`, :mod:`.schedules` (each has ``DEFAULTS`` and
``run_study``).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

STUDIES = ("gradcheck", "depth", "search", "schedules")


def load_config(text: str) -> dict:
    """``--config-json``: an inline JSON object, or a JSON/YAML file."""
    if text.lstrip().startswith("{"):
        config = json.loads(text)
    else:
        from ..config import load_yaml

        path = Path(text)
        if not path.is_file():
            raise ValueError(f"--config-json {text!r}: no such file (give a file or an inline JSON object)")
        config = load_yaml(path)
    if not isinstance(config, dict):
        raise ValueError("--config-json: expected a mapping")
    return config


# The columns `studies verify` reads from a gradient-check table.
VERIFY_COLUMNS = {"dataset": "str", "init": "str", "reg": "str", "opt": "str", "stage": "str", "status": "str",
                  "cause": "str", "difference": "number"}


def settings(config: dict, name: str) -> dict:
    return dict(((config.get("studies") or {}).get(name)) or {})


def config_json(config: dict, name: str) -> str:
    """The part of the workflow's config that study ``name`` reads, as canonical JSON (a Snakemake params
    value, so that a change re-runs exactly the studies it concerns): ``studies.<name>``, plus the grid for
    the gradient checks."""
    part = {"studies": {name: (config.get("studies") or {}).get(name) or {}}}
    if name == "gradcheck":
        for key in ("datasets", "inits", "regs", "optimizers", "definitions"):
            part[key] = config.get(key) or {}
    return json.dumps(part, sort_keys=True, separators=(",", ":"), default=str)


def merged(defaults: dict, given: dict | None, section: str) -> dict:
    """A study's settings: ``given`` over ``defaults``, mappings merged one level deep (as Snakemake merges a
    --configfile over config.yaml); an unknown key is refused by name."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ValueError(f"studies.{section}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(defaults)}")
    out = {}
    for key, default in defaults.items():
        value = given.get(key, default)
        if isinstance(default, dict) and isinstance(value, dict):
            value = {**default, **value}
        out[key] = value
    return out


def seeds_of(value) -> list[int]:
    """``seeds: n`` means seeds 0..n−1; a list is taken as it is."""
    return list(range(value)) if isinstance(value, int) else [int(v) for v in value]


def write_csv(table: pd.DataFrame, path) -> None:
    from ..io import write_atomic

    buf = io.StringIO()
    table.to_csv(buf, index=False, lineterminator="\n", float_format="%.10g")
    write_atomic(path, buf.getvalue())


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nnbench studies", description="Run one of the studies beyond the grid.")
    p.add_argument("study", choices=(*STUDIES, "verify"))
    p.add_argument("--config-json", required=True,
                   help="the config (JSON/YAML file or inline JSON object) with a studies.<name> section")
    p.add_argument("--out", required=True, help="the study's table (CSV, written atomically); verify: the marker")
    p.add_argument("--table", help="verify: the gradient-check table to verify")
    p.add_argument("--layers-out", help="depth: the per-layer table (default: OUT with _layers before .csv)")
    p.add_argument("--trials-out", help="search: every trial (default: OUT with _trials before .csv)")
    p.add_argument("--no-fail", action="store_true", help="gradcheck: exit 0 even when a check fails")
    return p


def _beside(out: str, suffix: str) -> Path:
    path = Path(out)
    return path.with_name(f"{path.stem}_{suffix}{path.suffix or '.csv'}")


def report_failures(table: pd.DataFrame, fail_on) -> int:
    """Print the verdict of a gradient-check table; the number of rows that fail the workflow."""
    from . import gradcheck

    failed = gradcheck.failures(table, fail_on)
    over = table[table["status"] == "fail"]
    print(f"{len(table)} checks: {int((table['status'] == 'pass').sum())} within the threshold, "
          f"{len(over)} above it ({over['cause'].value_counts().to_dict()}), "
          f"{int((table['status'] == 'diverged').sum())} diverged before the check; "
          f"largest difference {table['difference'].max():.3g}")
    if len(failed):
        print(f"nnbench studies: {len(failed)} gradient check(s) failed for a cause in fail_on = {list(fail_on)}:",
              file=sys.stderr)
        print(failed[["dataset", "init", "reg", "opt", "stage", "difference", "cause"]].to_string(index=False),
              file=sys.stderr)
    return len(failed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config_json)
    except (OSError, ValueError) as err:
        parser.error(str(err))
    if args.study == "verify":
        from . import gradcheck
        from ..io import write_atomic

        if not args.table:
            parser.error("verify needs --table")
        from ..results import read_table

        fail_on = gradcheck.settings_of(settings(config, "gradcheck"))["fail_on"]
        try:
            table = read_table(args.table, VERIFY_COLUMNS, fix="give the table `nnbench studies gradcheck` wrote")
        except ValueError as err:
            print(f"nnbench studies: error: {err}", file=sys.stderr)
            return 2
        if report_failures(table, fail_on):
            return 1
        write_atomic(args.out, f"{args.table}: no gradient check failed for a cause in {list(fail_on)}\n")
        return 0
    s = settings(config, args.study)
    start = time.perf_counter()
    try:
        if args.study == "gradcheck":
            from . import gradcheck

            missing = [k for k in ("datasets", "inits", "regs", "optimizers") if not config.get(k)]
            if missing:
                parser.error(f"gradcheck needs the grid in --config-json; missing: {', '.join(missing)}")
            table = gradcheck.run_study(config, s)
            write_csv(table, args.out)
            if report_failures(table, gradcheck.settings_of(s)["fail_on"]) and not args.no_fail:
                return 1
        elif args.study == "depth":
            from . import depth

            runs, layers = depth.run_study(s)
            write_csv(layers, args.layers_out or _beside(args.out, "layers"))
            write_csv(runs, args.out)
            print(f"{len(runs)} runs, {len(layers)} layer rows")
        elif args.study == "search":
            from . import search

            result, trials = search.run_study(s)
            write_csv(trials, args.trials_out or _beside(args.out, "trials"))
            write_csv(result, args.out)
            print(f"{len(trials)} trials, {len(result)} searches")
        else:
            from . import schedules

            table = schedules.run_study(s)
            write_csv(table, args.out)
            print(f"{len(table)} rows")
    except ValueError as err:
        print(f"nnbench studies {args.study}: error: {err}", file=sys.stderr)
        return 2
    print(f"nnbench studies {args.study}: {time.perf_counter() - start:.1f} s")
    return 0
