"""Shared fixtures: the tiny grid and study settings, and the studies' tables made from them once per session
(used by tests/test_studies.py and tests/test_report.py), and the small grid's result files the report reads
(``report_grid.build(root)``)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from nnbench.results import cell_record
from nnbench.studies import depth, gradcheck, search

TINY_GRID = {
    "datasets": ["circles"],
    "inits": ["zeros", "he"],
    "regs": ["none", "l2", "dropout", "batchnorm"],
    "optimizers": ["gd", "adam"],
    "definitions": {
        "datasets": {
            "circles": {
                "dataset": "circles",
                "dataset_options": {"n_samples": 80, "noise": 0.05},
                "hidden": [5, 3],
                "epochs": 20,
            }
        },
        "regs": {"none": {}, "l2": {"l2": 0.1}, "dropout": {"keep_prob": 0.8}, "batchnorm": {"batchnorm": True}},
        "optimizers": {
            "gd": {"optimizer": "sgd", "lr": 0.5},
            "adam": {"optimizer": "adam", "lr": 0.01, "batch_size": 16},
        },
    },
}
TINY_STUDIES = {
    "gradcheck": {"examples": 8, "epochs": 2, "max_coords": 40},
    "depth": {
        "dataset": "circles",
        "dataset_options": {"n_samples": 100, "noise": 0.05},
        "width": 16,
        "depths": [2, 12],
        "inits": ["zeros", "large", "xavier", "he"],
        "activations": ["relu"],
        "epochs": 2,
        "seeds": 2,
    },
    "search": {
        "dataset": "moons",
        "dataset_options": {"n_samples": 100, "noise": 0.2, "val_fraction": 0.2},
        "hidden": [4],
        "epochs": 3,
        "batch_size": 32,
        "budgets": [4, 9],
        "seeds": [0, 1],
    },
    "schedules": {
        "dataset": "moons",
        "dataset_options": {"n_samples": 80, "noise": 0.2},
        "hidden": [4],
        "optimizers": ["sgd", "adam"],
        "schedules": ["constant", "exponential"],
        "batch_sizes": [16, None],
        "checkpoints": [2, 4],
        "seeds": 2,
    },
}


@pytest.fixture(scope="session")
def tiny():
    """``tiny.grid`` (a grid config) and ``tiny.<study>`` (each study's settings), all small."""
    return SimpleNamespace(grid=TINY_GRID, **TINY_STUDIES)


@pytest.fixture(scope="session")
def gc_table(tiny):
    return gradcheck.run_study(tiny.grid, tiny.gradcheck)


@pytest.fixture(scope="session")
def depth_tables(tiny):
    return depth.run_study(tiny.depth)


@pytest.fixture(scope="session")
def search_tables(tiny):
    return search.run_study(tiny.search)


# ----------------------------------------------------------------------------------------------
# the report's input: tables, cell files and benchmarks of a small grid, written without training

XSS = "<script>alert(1)</script>"

DATASETS = ["circles", "breast_cancer"]
INITS = ["zeros", "large", "he"]
REGS = ["none", "l2", "dropout"]
OPTS = ["gd", "adam"]
SEEDS = [0, 1, 2]
EPOCHS = 50

CONFIG = {
    "datasets": DATASETS,
    "inits": INITS,
    "regs": REGS,
    "optimizers": OPTS,
    "seeds": len(SEEDS),
    "football_mat": "",
    "note": XSS,
    "definitions": {
        "datasets": {
            "circles": {
                "dataset": "circles",
                "dataset_options": {"n_samples": 120, "noise": 0.05},
                "hidden": [10, 5],
                "epochs": EPOCHS,
            },
            "breast_cancer": {"dataset": "breast_cancer", "hidden": [8], "epochs": EPOCHS},
        },
        "optimizers": {"gd": {"optimizer": "sgd", "lr": 0.5, "batch_size": None}, "adam": {"optimizer": "adam"}},
    },
}


# ----------------------------------------------------------------------------------------------
# fixture


def _accuracy(dataset, init, reg, opt, seed) -> tuple[float, float] | None:
    """A plausible (train, test) accuracy, None = diverged."""
    if init == "large" and opt == "gd" and reg == "none":
        return None  # every seed diverges
    if init == "large" and opt == "adam" and reg == "l2" and seed == 1:
        return None  # one seed of three diverges
    if init == "zeros":
        return (0.5, 0.5) if dataset == "circles" else (0.627, 0.629)
    base = {"he": 0.95, "large": 0.84}[init] + (0.02 if opt == "adam" else 0.0)
    gap = {"none": 0.06, "l2": 0.03, "dropout": 0.02}[reg]
    # seed-to-seed noise, deterministic per (cell, seed): some cells tie with the best, others do not
    key = sum(map(ord, f"{dataset}{init}{reg}{opt}")) * 7919 + seed * 104729
    wobble = 0.012 * np.random.default_rng(key).standard_normal()
    train = min(1.0, base + gap / 2 + wobble)
    return train, min(1.0, train - gap + 0.002 * seed)


def _boundary(init: str, seed: int) -> dict:
    xs = np.linspace(-1.6, 1.6, 30)
    ys = np.linspace(-1.5, 1.5, 28)
    gx, gy = np.meshgrid(xs, ys)
    r = np.hypot(gx, gy)
    if init == "zeros":
        prob = np.full_like(r, 0.5)
    else:
        sharp = 8.0 if init == "he" else 30.0
        prob = 1.0 / (1.0 + np.exp(sharp * (r - 0.9 + 0.01 * seed)))
    return {"x": xs.round(4).tolist(), "y": ys.round(4).tolist(), "prob": prob.round(4).tolist()}


def _curve(init, opt, seed, diverged_at=None) -> list[float]:
    e = np.arange(EPOCHS)
    rate = 0.08 if opt == "adam" else 0.03
    floor = 0.69 if init == "zeros" else 0.05
    c = floor + (0.7 - floor) * np.exp(-rate * e) * (1 + 0.02 * seed)
    if diverged_at is not None:
        c = c[:diverged_at] * np.exp(np.arange(diverged_at) * 0.2)
    return c.round(6).tolist()


def write_cells(root: Path) -> list[Path]:
    paths = []
    for ds in DATASETS:
        for init in INITS:
            for reg in REGS:
                for opt in OPTS:
                    runs = []
                    for seed in SEEDS:
                        acc = _accuracy(ds, init, reg, opt, seed)
                        spec = {
                            "dataset": ds,
                            "dataset_options": CONFIG["definitions"]["datasets"][ds].get("dataset_options", {}),
                            "hidden": [10, 5],
                            "init": init,
                            "seed": seed,
                            "epochs": EPOCHS,
                        }
                        run = {
                            "schema": "nnbench.result/1", "spec": spec, "seed": seed,
                            "status": "ok" if acc else "diverged", "diverged_epoch": None if acc else 7,
                            "epochs_run": EPOCHS if acc else 7,
                            "train_accuracy": acc[0] if acc else None, "val_accuracy": None,
                            "test_accuracy": acc[1] if acc else None,
                            "train_cost": 0.1 if acc else None, "test_cost": 0.12 if acc else None,
                            "cost_curve": _curve(init, opt, seed, None if acc else 7), "curve_every": 1,
                            "seconds": 0.25,
                            "boundary": _boundary(init, seed) if (ds == "circles" and acc) else None,
                            "versions": {"nnbench": "0.1.0", "numpy": np.__version__, "python": "3.11"},
                        }  # fmt: skip
                        runs.append(run)
                    cell = cell_record(
                        {"dataset": ds, "init": init, "reg": reg, "opt": opt}, f"{ds}-{init}-{reg}-{opt}", runs
                    )
                    path = root / "runs" / ds / init / reg / f"{opt}.json"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(json.dumps(cell))
                    paths.append(path)
    return paths


def write_course(tables: Path) -> None:
    pd.DataFrame(
        [
            ["initialization", "zeros", 0.5, 0.5, 0.5, 0.5, "fails to break symmetry"],
            ["initialization", "large random", 0.83, 0.86, 0.83, 0.86, "too large weights"],
            ["initialization", "he", 0.9933333333333333, 0.96, 0.9933333333333333, 0.96, "recommended method"],
            ["initialization", "he (perturbed)", 0.9, 0.94, 0.9933333333333333, 0.96, f"a row that fails {XSS}"],
        ],
        columns=[
            "experiment",
            "model",
            "train_accuracy",
            "test_accuracy",
            "published_train_accuracy",
            "published_test_accuracy",
            "note",
        ],
    ).to_csv(tables / "course_initialization.csv", index=False)
    pd.DataFrame(
        [
            ["regularization", m, None, None, p, q, "the course's data file (data.mat) was not provided"]
            for m, p, q in [
                ("no regularization", 0.9478672985781991, 0.915),
                ("L2 regularization (lambda = 0.7)", 0.9383886255924171, 0.93),
            ]
        ],
        columns=[
            "experiment",
            "model",
            "train_accuracy",
            "test_accuracy",
            "published_train_accuracy",
            "published_test_accuracy",
            "note",
        ],
    ).to_csv(tables / "course_regularization.csv", index=False)
    pd.DataFrame(
        [
            ["gradient-checking", "correct backward pass", 1.1890913024229996e-07, 1.1890913024229996e-07, "correct"],
            ["gradient-checking", "planted bugs", 0.2850931567761623, 0.2850931567761623, "mistake caught"],
        ],
        columns=["experiment", "model", "difference", "published_difference", "note"],
    ).to_csv(tables / "course_gradient_checking.csv", index=False)


def write_benchmarks(path: Path) -> None:
    rows = [
        {
            "rule": "train",
            "wildcards": f"dataset={d},init={i},reg={r},opt={o}",
            "s": 1.5 + len(i) / 10,
            "h:m:s": "0:00:01",
            "max_rss": 120.0 + len(o),
            "max_vms": 500.0,
            "cpu_time": 1.2,
        }
        for d in DATASETS
        for i in INITS
        for r in REGS
        for o in OPTS
    ]
    rows.append(
        {
            "rule": "tables",
            "wildcards": "",
            "s": 0.8,
            "h:m:s": "0:00:00",
            "max_rss": 150.0,
            "max_vms": 600.0,
            "cpu_time": 0.7,
        }
    )
    pd.DataFrame(rows).to_csv(path, index=False)


def build_fixture(root: Path) -> dict:
    """results/{runs,tables,benchmarks.csv} + config.json under ``root``; the tables via nnbench.tables."""
    from nnbench import tables as T

    results = root / "results"
    paths = write_cells(results)
    out = results / "tables"
    out.mkdir(parents=True, exist_ok=True)
    runs = T.read_runs(paths)
    summary = T.summarize(runs)
    T.write_csv_atomic(runs[T.RUN_COLUMNS], out / "runs.csv")
    T.write_csv_atomic(summary[T.SUMMARY_COLUMNS], out / "summary.csv")
    write_course(out)
    write_benchmarks(results / "benchmarks.csv")
    config = root / "config.json"
    config.write_text(json.dumps(CONFIG))
    return {"results": results, "config": config}


@pytest.fixture(scope="session")
def report_grid():
    """The small grid's axes (``datasets``, ``inits``, ``regs``, ``opts``), the hostile string ``xss`` in its config,
    and ``build(root)``: write its result files under ``root`` (see :func:`build_fixture`)."""
    return SimpleNamespace(datasets=DATASETS, inits=INITS, regs=REGS, opts=OPTS, xss=XSS, build=build_fixture)


@pytest.fixture(scope="module")
def built(tmp_path_factory, report_grid):
    """The small grid's report, built once per test module: ``out`` (the HTML file), ``html`` (its text),
    ``figures`` and ``tables`` (the folders beside it), and :func:`build_fixture`'s ``results`` and ``config``."""
    from nnbench.report import main as report_main

    root = tmp_path_factory.mktemp("report")
    fx = report_grid.build(root)
    out = root / "reports" / "report.html"
    figs = root / "reports" / "figures"
    tabs = root / "reports" / "tables"
    rc = report_main(
        [
            "--results",
            str(fx["results"]),
            "--config-json",
            str(fx["config"]),
            "--out",
            str(out),
            "--figures-dir",
            str(figs),
            "--tables-out",
            str(tabs),
        ]
    )
    assert rc == 0
    return {**fx, "root": root, "out": out, "html": out.read_text(encoding="utf-8"), "figures": figs, "tables": tabs}
