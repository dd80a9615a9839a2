"""The ``nnbench`` command: ``train``, ``course``, and the analysis commands ``tables``, ``report``, ``compare``."""

from __future__ import annotations

import argparse
import csv
import io
import json
import resource
import sys
import time
from pathlib import Path

from .registry import SpecError


def _load_spec(text: str) -> dict:
    """A spec from a YAML/JSON file, or an inline JSON object (:func:`nnbench.io.read_mapping`)."""
    from .io import read_mapping

    if not text.lstrip().startswith("{") and not Path(text).is_file():
        raise SpecError("--spec", text, "no such file (give a YAML/JSON file or an inline JSON object)")
    return read_mapping(text, "--spec")


def _check_out(path: str) -> None:
    """Refuse an ``--out`` that cannot be written, before any training: a folder, or a place this user
    cannot create a file in."""
    import os

    out = Path(path)
    if out.is_dir():
        raise SpecError("--out", path, "is a folder; give the path of the JSON file to write")
    parent = next((p for p in (out.parent, *out.parent.parents) if p.exists()), Path("."))
    if not parent.is_dir():
        raise SpecError("--out", path, f"{str(parent)!r} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SpecError("--out", path, f"cannot write in {str(parent)!r} (permission denied)")


def _seeds(text: str) -> list[int]:
    """``--seeds 0,1,5`` or with inclusive ranges ``0-29999`` (:func:`nnbench.config.seed_list`)."""
    from .config import parse_seeds, seed_list

    return seed_list({"seeds": parse_seeds("--seeds", text)}, "--seeds")


def cmd_train(args) -> int:
    """Train each ``--spec`` (with its ``--cell`` labels and ``--out`` file, given in the same order) for the
    seeds, in this process: the cells that share a network and its batches (a grid job's cells under the
    optimizers with the same batch size) on one run axis (``trainer.run_cells``), each run the numbers it has
    trained alone. Every spec is checked before the first trains."""
    from .config import check_epochs, spec_hash
    from .io import write_json_atomic
    from .results import cell_labels, cell_record
    from .spec import RunSpec
    from .trainer import cell_groups, run, run_cells

    n = len(args.spec)
    for flag in ("cell", "out"):
        given = getattr(args, flag)
        if given and len(given) != n:
            raise SpecError(f"--{flag}", len(given), f"must be given once per --spec ({n}), or not at all")
    specs = []
    for text in args.spec:
        raw = _load_spec(text)
        for flag in ("dataset", "init", "optimizer", "lr", "epochs", "batch_size", "seed", "engine"):
            value = getattr(args, flag)
            if value is not None:
                raw[flag] = value
        specs.append(RunSpec.from_dict(raw))
    seeds = _seeds(args.seeds) if args.seeds else None
    for group in cell_groups(specs, len(seeds or [0])):  # a group's cells train together: runs on one axis
        check_epochs("epochs", specs[group[0]].epochs, len(seeds or [0]) * len(group))  # a group shares epochs
    cells = [cell_labels(text) for text in args.cell] if args.cell else None
    for out in args.out or ():
        _check_out(out)
    if args.out and len(set(map(str, args.out))) != len(args.out):
        raise SpecError("--out", args.out, "names the same file twice")
    data_of = lambda spec: (spec.dataset, json.dumps(spec.dataset_options, sort_keys=True))  # noqa: E731
    points = {}
    if args.points:
        from .data import read_points

        for spec in specs:  # read once per data set, checked against every spec before any training
            if data_of(spec) not in points:
                points[data_of(spec)] = read_points(args.points, spec.dataset, spec.dataset_options)
    if seeds is None:  # each spec's own seed: one run per cell
        trained = [run(spec, [spec.seed], points.get(data_of(spec))) for spec in specs]
    else:
        trained = run_cells(specs, seeds, lambda spec: points.get(data_of(spec)))
    for i, (spec, results) in enumerate(zip(specs, trained)):
        record = cell_record(
            cells[i] if cells else None, spec_hash({k: v for k, v in spec.to_dict().items() if k != "seed"}), results
        )
        if args.out:
            write_json_atomic(args.out[i], record)
        label = f"{args.cell[i]}: " if args.cell else ""
        for r in results:
            acc = lambda k: "-" if r[k] is None else f"{r[k]:.4f}"  # noqa: E731
            print(
                f"{label}seed {r['seed']}: {r['status']}, train {acc('train_accuracy')}, "
                f"test {acc('test_accuracy')}, {r['epochs_run']} epochs, {r['seconds']:.2f} s"
            )
    if args.usage:
        write_usage(args.usage, args.started)
    return 0


def write_usage(path, started: float, children: bool = False) -> None:
    """This process's own resource use so far as a Snakemake benchmark file (tab-separated, one row; the
    columns ``nnbench.tables.read_benchmarks`` and the report read): ``s`` wall seconds since ``started``,
    ``cpu_time`` user + system CPU seconds and ``max_rss`` peak resident memory in MB, all from the kernel's
    exact counters (``getrusage``), where Snakemake's ``benchmark:`` samples them with psutil in a thread of
    its own, at a cost to every job. Python's start-up before ``started`` (~0.1 s) is not counted.

    ``children``: also the worker processes this one started and waited for (the report's figure workers):
    ``cpu_time`` adds theirs, ``max_rss`` is the largest single process's peak (the kernel's, per process:
    not a sum, which would count the pages a forked worker shares with its parent twice), and two more
    columns give ``max_rss_main`` (this process) and ``max_rss_workers`` (the largest worker)."""
    from .io import write_atomic

    me = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter() - started
    hms = time.strftime("%H:%M:%S", time.gmtime(wall))
    cpu, rss = me.ru_utime + me.ru_stime, me.ru_maxrss / 1024
    head, extra = "", ""
    if children:
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += kids.ru_utime + kids.ru_stime
        head, extra = "\tmax_rss_main\tmax_rss_workers", f"\t{rss:.2f}\t{kids.ru_maxrss / 1024:.2f}"
        rss = max(rss, kids.ru_maxrss / 1024)
    write_atomic(path, f"s\th:m:s\tmax_rss\tcpu_time{head}\n{wall:.4f}\t{hms}\t{rss:.2f}\t{cpu:.2f}{extra}\n")


def cmd_points(args) -> int:
    from .data import save_points

    options = json.loads(args.options) if args.options else {}
    if not isinstance(options, dict):
        raise SpecError("--options", args.options, "must be a JSON object")
    save_points(args.out, args.dataset, options)
    return 0


def cmd_course(args) -> int:
    from .course import run
    from .io import write_atomic

    rows = run(args.experiment, args.data)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    if args.out:
        write_atomic(args.out, buf.getvalue())
    for row in rows:
        shown = {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items() if k != "experiment"}
        print(" | ".join(f"{k}: {'' if v is None else v}" for k, v in shown.items()))
    return 0


# Commands whose module parses its own arguments: ``nnbench NAME ARGS`` → ``nnbench.NAME.main(ARGS)``.
ANALYSIS_COMMANDS = {
    "tables": "aggregate result files into tables",
    "report": "render the HTML report",
    "compare": "print the runs whose metrics differ between two result sets, or what moved since a baseline",
    "manifest": "write results/manifest.json: every result file with its SHA-256",
    "studies": "run one of the studies beyond the grid (gradient checks, depth, search, schedules)",
    "tune": "the fair comparison: tune every optimizer at equal budget, time-to-target, performance profiles",
}


def main(argv=None) -> int:
    started = time.perf_counter()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ANALYSIS_COMMANDS:  # the analysis layer parses its own arguments
        import importlib

        return importlib.import_module(f"nnbench.{argv[0]}").main(argv[1:]) or 0
    parser = argparse.ArgumentParser(prog="nnbench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train run specs, each for one or more seeds (together), and write the results")
    t.add_argument(
        "--spec",
        required=True,
        action="append",
        help="YAML/JSON file or inline JSON object with the RunSpec fields; repeat to train several "
        "cells in one process (those sharing network and batches together: trainer.run_cells)",
    )
    t.add_argument("--seeds", help="comma-separated seeds trained together (default: the spec's seed)")
    t.add_argument(
        "--cell",
        action="append",
        help="grid-cell labels, e.g. dataset=circles,init=he,reg=none,opt=adam (one per --spec)",
    )
    t.add_argument(
        "--out", action="append", help="where to write the results (JSON, written atomically; one per --spec)"
    )
    t.add_argument("--points", help="the data set's points from `nnbench points` (instead of generating them)")
    t.add_argument(
        "--usage",
        help="when done, write this process's wall and CPU seconds and peak memory here, "
        "as a Snakemake benchmark file (TSV)",
    )
    for flag, typ in (
        ("dataset", str),
        ("init", str),
        ("optimizer", str),
        ("lr", float),
        ("epochs", int),
        ("batch-size", int),
        ("seed", int),
        ("engine", str),
    ):
        t.add_argument(f"--{flag}", type=typ, help=f"override the spec's {flag.replace('-', '_')}")
    t.set_defaults(func=cmd_train)
    d = sub.add_parser("points", help="write a data set's points once, for many `train --points` jobs")
    d.add_argument("--dataset", required=True)
    d.add_argument("--options", help="the data set's options as a JSON object")
    d.add_argument("--out", required=True, help="the .npz file to write (atomically)")
    d.set_defaults(func=cmd_points)
    c = sub.add_parser("course", help="re-run one of the course's experiments and print its table")
    c.add_argument("experiment", choices=["initialization", "regularization", "gradient-checking", "optimization"])
    c.add_argument("--data", help="the course's data.mat (regularization only)")
    c.add_argument("--out", help="write the table as CSV")
    c.set_defaults(func=cmd_course)
    for name, text in ANALYSIS_COMMANDS.items():
        sub.add_parser(name, help=f"{text} (see `nnbench {name} --help`)")
    args = parser.parse_args(argv)
    args.started = started
    try:
        return args.func(args)
    except (SpecError, OSError, ValueError) as err:
        print(f"nnbench {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
