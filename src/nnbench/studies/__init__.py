"""``nnbench studies``: the studies beyond the grid, each one module that declares itself in :data:`STUDIES`.

    nnbench studies NAME   --config-json CONFIG --out results/tables/study_NAME.csv [--no-fail]
    nnbench studies verify --table results/tables/study_gradcheck.csv --config-json CONFIG --out MARKER

A study (:class:`Study`) declares its name (the config key under ``studies:``, the CLI's and the rule's name),
title, ``defaults`` (merged under the config's settings; an unknown setting is refused by name), ``tables``
(written as ``{table}.csv``: the first to ``--out``, each other beside it, ``study_depth_layers.csv`` beside
``study_depth.csv``), ``run`` (settings, config -> tables), ``findings`` (tables -> the report's caption and
numbers), ``figures`` (-> figure functions of :mod:`nnbench.report.figures` and their arguments) and
``block`` (-> the rest of its report section's context; a template ``studies/NAME.html.j2`` if it has one,
else the generic one). The workflow's ``study_*`` rules, the config check and the report loop over
:data:`STUDIES`; adding a study is one module here, one line in :data:`STUDIES`, and (optionally) its
settings in ``config/config.yaml``.

CONFIG is a JSON or YAML file, or an inline JSON object, shaped like the workflow's config: the study reads
its settings from ``studies.<name>``, and a study with ``grid=True`` (``gradcheck``) also reads the grid
(``datasets``, ``inits``, ``regs``, ``optimizers``, ``definitions``). Every table is written atomically.
``gradcheck`` exits with status 1, after writing its table, when a check fails for a cause listed in
``studies.gradcheck.fail_on`` (``--no-fail``: always 0). ``verify`` applies the same rule to a table already
written and, when it passes, writes the MARKER file; the workflow runs ``gradcheck --no-fail`` (Snakemake
deletes the outputs of a failed job, and the report must show the table in red), renders the report, then
fails in ``verify``.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where it is used: the Snakefile imports this registry (0.3 s)
    import pandas as pd

from ..io import read_mapping, write_atomic, write_csv

GRID_KEYS = ("datasets", "inits", "regs", "optimizers", "definitions")  # what a grid=True study reads
SPEC_KEYS = (
    "dataset",
    "dataset_options",
    "hidden",
    "activation",
    "init",
    "optimizer",
    "optimizer_options",
    "lr",
    "batch_size",
    "epochs",
)  # the settings a study shares with a RunSpec


@dataclass(frozen=True)
class Study:
    """A study beyond the grid, declared once in its module (``STUDY = Study(...)``) and listed in :data:`STUDIES`.

    ``run(settings, config) -> {table: DataFrame}`` gets the settings merged over ``defaults`` (and checked by
    ``check``, which may raise ValueError); ``findings(tables, settings) -> dict`` (at least ``caption``) gets
    every table in ``tables`` (None where missing; the section is left out when ``tables[0]`` is missing or
    empty, or a table not in ``optional`` is missing) and the config's raw ``studies.<name>`` settings;
    ``figures(tables, found) -> {key: (function, *args)}`` and ``block(tables, found) -> dict`` make the report's
    context, under ``studies.blocks[name]`` (the figures under their keys). ``failures(tables, settings)`` counts
    (and prints) the results that fail the workflow: the CLI then exits 1 unless ``--no-fail``."""

    name: str
    title: str
    defaults: Mapping
    tables: tuple[str, ...]
    run: Callable[[dict, dict], dict[str, pd.DataFrame]]
    findings: Callable[[dict, dict], dict]
    figures: Callable[[dict, dict], dict] = lambda tables, found: {}
    block: Callable[[dict, dict], dict] = lambda tables, found: {}
    check: Callable[[dict], None] = lambda settings: None
    optional: tuple[str, ...] = ()
    grid: bool = False
    summary: Callable[[dict], str] = lambda tables: ""  # the line the CLI prints after a run
    failures: Callable[[dict, dict], int] = lambda tables, settings: 0  # results that fail the workflow (printed)

    def settings(self, given: Mapping | None) -> dict:
        """``given`` (the config's ``studies.<name>``) merged over the defaults, and checked."""
        s = merged(self.defaults, given, self.name)
        self.check(s)
        return s


# The columns `studies verify` reads from a gradient-check table.
VERIFY_COLUMNS = {
    "dataset": "str",
    "init": "str",
    "reg": "str",
    "opt": "str",
    "stage": "str",
    "status": "str",
    "cause": "str",
    "difference": "number",
}


def settings(config: dict, name: str) -> dict:
    return dict(((config.get("studies") or {}).get(name)) or {})


def config_json(config: dict, name: str) -> str:
    """The part of the workflow's config that study ``name`` reads, as canonical JSON (a Snakemake params
    value, so that a change re-runs exactly the studies it concerns): ``studies.<name>``, plus the grid for
    the gradient checks."""
    part = {"studies": {name: (config.get("studies") or {}).get(name) or {}}}
    if STUDIES[name].grid:
        for key in GRID_KEYS:
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


def study_spec(settings: Mapping, **fields):
    """The RunSpec of one of a study's runs: the settings it shares with a RunSpec (``SPEC_KEYS``), ``fields``
    over them, seed 0 unless given."""
    from ..spec import RunSpec

    shared = {k: copy.deepcopy(settings[k]) for k in SPEC_KEYS if k in settings}
    return RunSpec.from_dict({**shared, "seed": 0, **fields})


def check_config(config: Mapping) -> None:
    """Every study's settings in ``config["studies"]`` merged and checked (an unknown study or setting is
    refused by name), before any job runs."""
    given = config.get("studies") or {}
    unknown = sorted(set(given) - set(STUDIES))
    if unknown:
        raise ValueError(f"studies: unknown study {', '.join(unknown)}; known: {', '.join(STUDIES)}")
    for name, study in STUDIES.items():
        study.settings(given.get(name))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nnbench studies", description="Run one of the studies beyond the grid.")
    p.add_argument("study", choices=(*STUDIES, "verify"))
    p.add_argument(
        "--config-json",
        required=True,
        help="the config (JSON/YAML file or inline JSON object) with a studies.<name> section",
    )
    p.add_argument(
        "--out",
        required=True,
        help="the study's first table (CSV, written atomically; its other tables beside it); verify: the marker",
    )
    p.add_argument("--table", help="verify: the gradient-check table to verify")
    p.add_argument(
        "--no-fail", action="store_true", help="exit 0 even when a result fails the workflow (gradcheck: a check fails)"
    )
    return p


def table_paths(study: Study, out) -> dict[str, Path]:
    """Where each of the study's tables goes: the first to ``out``, each other beside it, its name's suffix after
    the first table's name added to ``out``'s stem (``study_depth_layers`` beside ``study_depth``)."""
    out = Path(out)
    first = study.tables[0]
    return {
        t: out if t == first else out.with_name(f"{out.stem}{t[len(first) :]}{out.suffix or '.csv'}")
        for t in study.tables
    }


def report_failures(table: pd.DataFrame, fail_on) -> int:
    """Print the verdict of a gradient-check table; the number of rows that fail the workflow."""
    from . import gradcheck

    failed = gradcheck.failures(table, fail_on)
    over = table[table["status"] == "fail"]
    print(
        f"{len(table)} checks: {int((table['status'] == 'pass').sum())} within the threshold, "
        f"{len(over)} above it ({over['cause'].value_counts().to_dict()}), "
        f"{int((table['status'] == 'diverged').sum())} diverged before the check; "
        f"largest difference {table['difference'].max():.3g}"
    )
    if len(failed):
        print(
            f"nnbench studies: {len(failed)} gradient check(s) failed for a cause in fail_on = {list(fail_on)}:",
            file=sys.stderr,
        )
        print(
            failed[["dataset", "init", "reg", "opt", "stage", "difference", "cause"]].to_string(index=False),
            file=sys.stderr,
        )
    return len(failed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = read_mapping(args.config_json, "--config-json")
    except ValueError as err:
        parser.error(str(err))
    if args.study == "verify":
        if not args.table:
            parser.error("verify needs --table")
        from ..results import read_table

        fail_on = STUDIES["gradcheck"].settings(settings(config, "gradcheck"))["fail_on"]
        try:
            table = read_table(args.table, VERIFY_COLUMNS, fix="give the table `nnbench studies gradcheck` wrote")
        except ValueError as err:
            print(f"nnbench studies: error: {err}", file=sys.stderr)
            return 2
        if report_failures(table, fail_on):
            return 1
        write_atomic(args.out, f"{args.table}: no gradient check failed for a cause in {list(fail_on)}\n")
        return 0
    study = STUDIES[args.study]
    missing = [k for k in GRID_KEYS[:4] if not config.get(k)] if study.grid else []
    if missing:
        parser.error(f"{study.name} needs the grid in --config-json; missing: {', '.join(missing)}")
    start = time.perf_counter()
    try:
        s = study.settings(settings(config, args.study))
        tables = study.run(s, config)
    except ValueError as err:
        print(f"nnbench studies {args.study}: error: {err}", file=sys.stderr)
        return 2
    for name, path in reversed(table_paths(study, args.out).items()):  # the first (the rule's main output) last
        write_csv(path, tables[name], float_format="%.10g")
    if study.summary(tables):
        print(study.summary(tables))
    if study.failures(tables, s) and not args.no_fail:
        return 1
    print(f"nnbench studies {args.study}: {time.perf_counter() - start:.1f} s")
    return 0


# The registry: every study, in the report's order. Adding a study: its module, and one entry here.
from . import depth, gradcheck, schedules, search  # noqa: E402 - the modules import Study from above

STUDIES: dict[str, Study] = {s.name: s for s in (gradcheck.STUDY, depth.STUDY, search.STUDY, schedules.STUDY)}
