"""The Snakemake workflow: dry run of the default grid, lint, a tiny real run, config errors."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # every test here drives Snakemake

TINY = {
    "datasets": ["circles"],
    "inits": ["zeros", "he"],
    "regs": ["none"],
    "optimizers": ["gd", "adam"],
    "seeds": 2,
    "definitions": {
        "datasets": {
            "circles": {
                "dataset": "circles",
                "dataset_options": {"n_samples": 100, "noise": 0.05},
                "hidden": [5],
                "epochs": 5,
            }
        }
    },
    "studies": yaml.safe_load((ROOT / "config" / "ci.yaml").read_text())["studies"],  # small studies
    "tuning": yaml.safe_load((ROOT / "config" / "ci.yaml").read_text())["tuning"],  # a small fair comparison
}


def snakemake(*args, cwd=ROOT, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def job_counts(text: str) -> dict[str, int]:
    """The "job count" table of `snakemake -n --quiet rules`: rule -> count."""
    counts = {}
    for line in text.splitlines():
        m = re.fullmatch(r"\s*([A-Za-z_]\w*)\s+(\d+)\s*", line)
        if m:
            counts[m.group(1)] = int(m.group(2))
    return counts


@pytest.fixture(scope="module")
def workflow_copy(tmp_path_factory):
    """The workflow (Snakefile, workflow/, config/) in a fresh folder, so runs never touch the repo."""
    dest = tmp_path_factory.mktemp("wf")
    shutil.copy(ROOT / "Snakefile", dest / "Snakefile")
    for name in ("workflow", "config"):
        shutil.copytree(ROOT / name, dest / name)
    return dest


def write_config(folder: Path, name: str, config: dict) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_dry_run_default_config_job_counts():
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    seeds = config["seeds"]
    assert (seeds if isinstance(seeds, int) else len(seeds)) >= 5
    assert len(config["datasets"]) >= 4
    cells = math.prod(len(config[axis]) for axis in ("datasets", "inits", "regs", "optimizers"))
    # -F: every job, whatever is already on disk; --nolock: never in the way of a real run
    proc = snakemake("-n", "-F", "--nolock", "--quiet", "rules")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    counts = job_counts(proc.stdout + proc.stderr)
    # one train job per data set x initialization x regularization, holding every optimizer's cell
    assert counts["train"] == cells // len(config["optimizers"]) == 175
    assert counts["course"] == 4
    assert counts["tables"] == 1
    assert counts["report"] == 1
    # the fair comparison: one job per problem of its slice (he x none on every data set), one aggregation
    assert counts["tune"] == len(config["tuning"]["datasets"]) == 5
    assert counts["tuning_tables"] == 1
    assert counts["all"] == 1
    assert counts["total"] == sum(n for rule, n in counts.items() if rule != "total")


def test_lint_is_clean():
    proc = snakemake("--lint", "--nolock")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr


def test_tiny_run_then_nothing_to_do(workflow_copy):
    wf = workflow_copy
    cfg = write_config(wf, "tiny.yaml", TINY)
    proc = snakemake("--cores", "2", "--configfile", str(cfg), cwd=wf)
    assert proc.returncode == 0, proc.stderr[-5000:]

    runs = pd.read_csv(wf / "results" / "tables" / "runs.csv")
    assert len(runs) == 1 * 2 * 1 * 2 * 2  # grid x seeds
    assert set(runs["status"]) <= {"ok", "diverged"}
    for col in ("train_acc", "test_acc"):
        acc = runs[col].dropna()
        assert len(acc) == (runs["status"] == "ok").sum()
        assert acc.between(0, 1).all(), col
    assert sorted(runs["seed"].unique()) == [0, 1]
    summary = pd.read_csv(wf / "results" / "tables" / "summary.csv")
    assert len(summary) == 4 and summary["runs"].eq(2).all()

    expected = [
        *(f"results/runs/circles/{i}/none/{o}.json" for i in ("zeros", "he") for o in ("gd", "adam")),
        *(f"logs/train/circles/{i}/none.log" for i in ("zeros", "he")),
        *(f"benchmarks/train/circles/{i}/none.tsv" for i in ("zeros", "he")),
        "results/tables/runs.csv",
        "results/tables/summary.csv",
        "results/tables/cross_dataset_ranks.csv",
        "results/tables/circles_init_by_opt.csv",
        "results/tables/circles_init_by_opt.md",
        *(
            f"results/tables/course_{e}.csv"
            for e in ("initialization", "gradient_checking", "optimization", "regularization")
        ),
        "results/benchmarks.csv",
        "reports/report.html",
    ]
    missing = [p for p in expected if not (wf / p).is_file()]
    assert not missing

    bench = pd.read_csv(wf / "results" / "benchmarks.csv")
    assert (bench["rule"] == "train").sum() == 2
    assert (bench["rule"] == "course").sum() == 4
    assert "dataset=circles,init=he,reg=none" in set(bench["wildcards"])

    again = snakemake("--cores", "2", "--configfile", str(cfg), cwd=wf)
    assert again.returncode == 0, again.stderr[-5000:]
    assert "Nothing to be done" in again.stdout + again.stderr

    # a changed hyper-parameter re-runs the jobs it touches (the specs are a params value): an
    # initialization's, only its own job; an optimizer's, every job (each holds every optimizer)
    he = {"init": "glorot"}  # the label "he" now names another initializer
    changed = {**TINY, "definitions": {**TINY["definitions"], "inits": {"he": he}}}
    dry = snakemake("-n", "--quiet", "rules", "--configfile", str(write_config(wf, "tiny2.yaml", changed)), cwd=wf)
    assert dry.returncode == 0, dry.stderr[-5000:]
    assert job_counts(dry.stdout + dry.stderr).get("train") == 1
    adam = {"optimizer": "adam", "lr": 0.02}
    changed = {**TINY, "definitions": {**TINY["definitions"], "optimizers": {"adam": adam}}}
    dry = snakemake("-n", "--quiet", "rules", "--configfile", str(write_config(wf, "tiny3.yaml", changed)), cwd=wf)
    assert dry.returncode == 0, dry.stderr[-5000:]
    assert job_counts(dry.stdout + dry.stderr).get("train") == 2


BAD_CONFIGS = [
    # (change to the tiny config, strings the error must name)
    ({"colour": "red"}, ["colour"]),
    ({"definitions": {"optimizers": {"adam": {"optimizer": "adam", "lrr": 0.1}}}}, ["lrr"]),
    ({"definitions": {"optimizers": {"adam": {"optimizer": "adam", "lr": -0.1}}}}, ["lr", "-0.1"]),
    ({"definitions": {"regs": {"none": {"keep_prob": 1.5}}}}, ["keep_prob", "1.5"]),
    ({"seeds": 0}, ["seeds"]),
    ({"inits": ["zeros", "hee"]}, ["hee"]),
    ({"football_mat": "no/such/data.mat"}, ["no/such/data.mat"]),
    ({"engine": "jax"}, ["engine", "jax"]),
]


@pytest.mark.parametrize(("change", "named"), BAD_CONFIGS, ids=[str(c) for c, _ in BAD_CONFIGS])
def test_invalid_config_fails_naming_the_problem(workflow_copy, tmp_path, change, named):
    cfg = write_config(tmp_path, "bad.yaml", {**TINY, **change})
    proc = snakemake("-n", "--configfile", str(cfg), cwd=workflow_copy)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    for text in named:
        assert text in out, (text, out[-3000:])
