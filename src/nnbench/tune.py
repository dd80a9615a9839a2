"""``nnbench tune``: the fair comparison (``nnbench.tuning``), one problem per job, then its tables.

    nnbench tune train  --config-json CONFIG --problem DATASET/INIT/REG [--points NPZ] --out FILE [--usage TSV]
    nnbench tune tables --config-json CONFIG --in-dir results/tuning --out-dir results/tables

CONFIG is the workflow's config (JSON/YAML file or inline JSON) with its ``tuning`` section. ``train`` writes
the problem's tuning record (JSON, atomically, with its digest); ``tables`` reads every problem's record
(verified: a damaged or stale file is named, never summarized) and writes the tables of
``nnbench.tuned_tables``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nnbench tune", description="Tuning at equal budget: train a problem, or tabulate."
    )
    p.add_argument("action", choices=("train", "tables"))
    p.add_argument("--config-json", required=True, help="the workflow's config (JSON/YAML file or inline JSON)")
    p.add_argument("--problem", help="train: DATASET/INIT/REG")
    p.add_argument("--points", help="train: the data set's points from `nnbench points`")
    p.add_argument("--out", help="train: the tuning record to write (JSON, atomically)")
    p.add_argument("--usage", help="train: write this process's wall and CPU seconds here (a benchmark TSV)")
    p.add_argument("--in-dir", help="tables: the folder of the tuning records")
    p.add_argument("--out-dir", help="tables: the folder to write the tables in")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    parser = build_parser()
    args = parser.parse_args(argv)
    from . import tuned_tables, tuning
    from .io import read_mapping, write_json_atomic
    from .registry import SpecError
    from .results import ResultFileError

    try:
        config = read_mapping(args.config_json, "--config-json")
        if args.action == "train":
            if not (args.problem and args.out):
                parser.error("train needs --problem and --out")
            problem = tuple(args.problem.split("/"))
            s = tuning.settings_of(config, scoring=False)
            if len(problem) != 3 or problem not in tuning.problems(s):
                raise SpecError("--problem", args.problem, f"not a problem of tuning's grid slice {tuning.problems(s)}")
            points = None
            if args.points:
                from .config import definition
                from .data import read_points

                d = definition(config, "datasets", problem[0])
                points = read_points(args.points, d.get("dataset", problem[0]), d.get("dataset_options") or {})
            record = tuning.tune_problem(config, problem, points)
            write_json_atomic(args.out, record)
            if args.usage:
                from .cli import write_usage

                write_usage(args.usage, started)
        else:
            if not (args.in_dir and args.out_dir):
                parser.error("tables needs --in-dir and --out-dir")
            tables = tuned_tables.build(config, tuned_tables.read_records(config, args.in_dir))
            tuned_tables.write(tables, args.out_dir)
            print(tables["tuning_scores"].to_string(index=False))
    except (SpecError, ResultFileError, ValueError, OSError) as err:
        print(f"nnbench tune {args.action}: error: {err}", file=sys.stderr)
        return 2
    print(f"nnbench tune {args.action}: {time.perf_counter() - started:.1f} s")
    return 0
