"""Reliability and reproducibility of the workflow, end to end through `snakemake` (issue 7).

1. Bad input is refused before any job starts, naming the key and the value, with a non-zero exit.
2. A diverging run ends `diverged` at its first non-finite cost, keeps its partial curve, is counted in the
   summary and shown in the report, and never turns a mean into NaN.
3. Killing `snakemake` (SIGKILL) in the middle of a grid loses nothing: no half-written file, and the rerun's
   tables equal an uninterrupted run's.
4. The same config gives bit-identical per-run metrics at --cores 1 and --cores 4, in another folder and
   from a fresh copy of the checkout; the CI grid's metrics equal the committed reference
   tests/reference/ci_runs.csv; results/manifest.json lists every result file with its SHA-256.
6. Names from a config are path components only where they match [A-Za-z0-9_-]+; data paths are only read.

Every run happens in a temporary copy of the workflow (Snakefile, workflow/, config/). The course
experiments are not under test here and one of them alone takes over a minute, so the copies used for real
runs get placeholder course tables (``seed_course_tables``): Snakemake sees those outputs present and skips
them. The studies run at config/ci.yaml's scale (``ci_sized``).

Regenerating the reference after an intended change of the numbers (from the repository root):

    python tests/test_reliability.py --regenerate

runs the CI grid (config/ci.yaml, --cores 2) in a temporary copy and rewrites tests/reference/ci_runs.csv;
commit it together with the change that moved the numbers.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from nnbench.compare import KERNEL, KEYS, METRICS, differences, load_metrics, same_kernel
from nnbench.results import cell_digest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference" / "ci_runs.csv"

COURSE_HEADERS = {
    "initialization": "experiment,model,train_accuracy,test_accuracy,published_train_accuracy,"
    "published_test_accuracy,note",
    "gradient_checking": "experiment,model,difference,published_difference,note",
    "optimization": "experiment,model,train_accuracy,test_accuracy,published_train_accuracy,"
    "published_test_accuracy,note",
    "regularization": "experiment,model,train_accuracy,test_accuracy,published_train_accuracy,"
    "published_test_accuracy,note",
}


# ----------------------------------------------------------------------------------------------- helpers


def snakemake(*args, cwd, env=None, timeout=900):
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def copy_workflow(dest: Path, seed_course: bool = True) -> Path:
    """The workflow in ``dest``; with ``seed_course``, placeholder course tables so that no course job runs."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "Snakefile", dest / "Snakefile")
    for name in ("workflow", "config"):
        shutil.copytree(ROOT / name, dest / name)
    if seed_course:
        seed_course_tables(dest)
    return dest


def seed_course_tables(wf: Path) -> None:
    tables = wf / "results" / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    for experiment, header in COURSE_HEADERS.items():
        n = header.count(",") + 1
        row = [experiment.replace("_", "-"), "placeholder"] + [""] * (n - 3) + ["not run by test_reliability.py"]
        (tables / f"course_{experiment}.csv").write_text(f"{header}\n{','.join(row)}\n")


def write_yaml(path: Path, obj) -> Path:
    path.write_text(yaml.safe_dump(obj, sort_keys=False))
    return path


def ci_sized(config: dict) -> dict:
    """``config`` with config/ci.yaml's small-scale settings of whatever it does not set itself (the studies,
    the fair comparison): a test config is merged over config/config.yaml, whose studies take minutes."""
    ci = yaml.safe_load((ROOT / "config" / "ci.yaml").read_text())
    return {**{k: v for k, v in ci.items() if k in ("studies", "tuning")}, **config}


def run_grid(wf: Path, config: Path, cores: int, env=None, extra=()):
    proc = snakemake("--cores", cores, "--configfile", config, *extra, cwd=wf, env=env)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    return proc


def metrics(wf: Path) -> pd.DataFrame:
    """runs.csv's key and metric columns (no timings, no hashes)."""
    return load_metrics(wf / "results" / "tables" / "runs.csv")


def deep_merge(base: dict, patch: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def temp_leftovers(folder: Path) -> list[str]:
    """Temporary files of interrupted atomic writes (``.NAME.XXXX.tmp``) and any other ``*.tmp``."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.tmp") if ".snakemake" not in p.parts)


def error_text(out: str) -> str:
    """Snakemake's output without the schema excerpts it prints after "Failed validating": what remains
    names the problem itself (the message, the instance path, the value)."""
    keep, skipping = [], False
    for line in out.splitlines():
        if line.startswith("Failed validating"):
            skipping = True
        elif skipping and not line.strip():
            skipping = False
        elif not skipping:
            keep.append(line)
    return "\n".join(keep)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def names_key(out: str, key: str) -> bool:
    """Whether ``key`` appears in the message as a key: the schema's instance path (``['lr']``) or unexpected
    property (``'lrr' was unexpected``), or nnbench's ``key = value`` / ``key: ...`` / ``{'key': value}``."""
    k = re.escape(key)
    return re.search(rf"\['{k}'\]|'{k}' was unexpected|'{k}': |(^|[\s.]){k}( = |: )", out, re.M) is not None


def assert_complete_files(folder: Path) -> None:
    """Every file with a final name under ``folder`` is whole: JSON, CSV and .npz files parse."""
    for path in folder.rglob("*"):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.suffix == ".json":
            json.loads(path.read_text())  # a truncated file raises
        elif path.suffix == ".csv":
            pd.read_csv(path)
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                [z[k] for k in z.files]  # a truncated archive raises


# ------------------------------------------------------------------------------------------ data files


POINTS_SHA256 = {}  # data folder -> the SHA-256 its points.csv was written with


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """Data files, good and bad, outside every workflow copy."""
    d = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(7)
    X = np.concatenate([rng.normal(-1.0, 0.7, (60, 2)), rng.normal(1.0, 0.7, (60, 2))])
    y = np.repeat([0, 1], 60)
    good = "\n".join(f"{a!r},{b!r},{c}" for (a, b), c in zip(X.tolist(), y.tolist())) + "\n"
    (d / "points.csv").write_text(good)
    POINTS_SHA256[str(d)] = hashlib.sha256(good.encode()).hexdigest()
    (d / "nan.csv").write_text("1,2,0\n3,nan,1\n4,5,0\n6,7,1\n")
    (d / "ragged.csv").write_text("1,2,0\n3,1\n4,5,0\n6,7,1\n")
    (d / "fraction.csv").write_text("1,2,0\n3,3,0.5\n4,5,0\n6,7,1\n")
    (d / "oneclass.csv").write_text("1,2,0\n3,3,0\n4,5,0\n6,7,0\n")
    (d / "empty.csv").write_text("")
    (d / "folder.csv").mkdir()
    (d / "garbage.npz").write_bytes(b"this is not a zip archive\n" * 4)
    (d / "garbage.mat").write_bytes(b"MATLAB? no.\n" * 20)
    np.savez(d / "cube.npz", X=np.zeros((4, 2, 2)), y=np.array([0, 1, 0, 1]))
    np.savez(d / "rows.npz", X=np.zeros((4, 2)), y=np.array([0, 1, 0]))
    np.savez(d / "onehot.npz", X=np.zeros((4, 2)), y=np.eye(2)[[0, 1, 0, 1]])
    import scipy.io

    scipy.io.savemat(
        d / "inf.mat", {"X": np.array([[0.0, 1], [np.inf, 1], [1, 1], [2, 2]]), "y": np.array([[0], [1], [0], [1]])}
    )
    good_mat = {"X": X[:80], "y": y[:80, None], "Xval": X[80:], "yval": y[80:, None]}
    scipy.io.savemat(
        d / "football3.mat", {**good_mat, "X": np.c_[X[:80], X[:80, :1]], "Xval": np.c_[X[80:], X[80:, :1]]}
    )
    scipy.io.savemat(d / "football_noval.mat", {"X": X, "y": y[:, None]})
    return d


# ---------------------------------------------------------------------------------------- 1. bad input

# The grid every bad case changes (merged over config/config.yaml, as --configfile is).
BASE = {
    "datasets": ["circles"],
    "inits": ["he"],
    "regs": ["none"],
    "optimizers": ["gd"],
    "seeds": 2,
    "definitions": {
        "datasets": {
            "circles": {
                "dataset": "circles",
                "dataset_options": {"n_samples": 60, "noise": 0.05},
                "hidden": [5],
                "epochs": 3,
            }
        },
        "optimizers": {"gd": {"optimizer": "sgd", "lr": 0.5, "batch_size": None}},
    },
}


def ds(**fields):
    """A change to the circles definition."""
    return {"definitions": {"datasets": {"circles": fields}}}


def opt(**fields):
    return {"definitions": {"optimizers": {"gd": fields}}}


def reg(**fields):
    return {"regs": ["strong"], "definitions": {"regs": {"strong": fields}}}


def datafile(name):
    """A grid data set ``mine`` reading ``DATA/name``."""
    return {
        "datasets": ["mine"],
        "definitions": {
            "datasets": {
                "mine": {"dataset": "file", "dataset_options": {"path": f"DATA/{name}"}, "hidden": [5], "epochs": 3}
            }
        },
    }


# (id, change to BASE or a list of --config KEY=VALUE overrides, [key, value, more text the message must hold])
# The key must appear as a key (see names_key), the value as a token; "DATA/" stands for the data folder.
BAD = [
    # unknown names, on every axis and inside definitions
    ("unknown-dataset", {"datasets": ["circles", "nosuchdata"]}, ["datasets", "nosuchdata"]),
    ("unknown-init", {"inits": ["he", "hee"]}, ["init", "hee"]),
    ("unknown-reg", {"regs": ["none", "strong"]}, ["regs", "strong"]),
    ("unknown-optimizer", {"optimizers": ["gd", "adamm"]}, ["optimizer", "adamm"]),
    ("unknown-init-in-definition", {"definitions": {"inits": {"he": {"init": "hee"}}}}, ["init", "hee"]),
    ("unknown-activation", ds(activation="swish"), ["activation", "swish"]),
    ("unknown-schedule", opt(schedule="cosine"), ["schedule", "cosine"]),
    ("unknown-dataset-option", ds(dataset_options={"radius": 2}), ["radius", "2"]),
    ("unknown-optimizer-option", opt(optimizer_options={"beta3": 0.9}), ["beta3", "0.9"]),
    ("unknown-top-level-key", {"colour": "red"}, ["colour", "red"]),
    ("unknown-definition-field", opt(lrr=0.1), ["lrr", "0.1"]),
    ("field-on-the-wrong-axis", {"definitions": {"regs": {"none": {"lr": 0.1}}}}, ["lr", "0.1"]),
    # wrong types
    ("lr-a-string", opt(lr="fast"), ["lr", "fast"]),
    ("hidden-a-string", ds(hidden="10,5"), ["hidden", "10,5"]),
    ("epochs-not-integer", ds(epochs=2.5), ["epochs", "2.5"]),
    ("batchnorm-a-string", reg(batchnorm="yes"), ["batchnorm", "yes"]),
    ("batch-size-zero", opt(batch_size=0), ["batch_size", "0"]),
    ("axis-not-a-list", {"datasets": "circles"}, ["datasets", "circles"]),
    # ranges
    ("lr-zero", opt(lr=0), ["lr", "0"]),
    ("lr-negative", opt(lr=-0.1), ["lr", "-0.1"]),
    ("lr-by-config-override", ["definitions={optimizers: {gd: {lr: -2.5}}}"], ["lr", "-2.5"]),
    ("keep-prob-zero", reg(keep_prob=0), ["keep_prob", "0"]),
    ("keep-prob-above-one", reg(keep_prob=1.5), ["keep_prob", "1.5"]),
    ("keep-prob-one-per-layer", reg(keep_prob=[0.8, 0.9]), ["keep_prob", "[0.8, 0.9]"]),
    ("l2-negative", reg(l2=-0.05), ["l2", "-0.05"]),
    # the grid
    ("empty-inits", {"inits": []}, ["inits", "[]"]),
    ("duplicate-names", {"regs": ["none", "none"]}, ["regs", "none"]),
    # seeds
    ("seeds-zero", {"seeds": 0}, ["seeds", "0"]),
    ("seeds-negative-in-list", {"seeds": [0, -1]}, ["seeds", "-1"]),
    ("seeds-not-integer", {"seeds": [0, 1.5]}, ["seeds", "1.5"]),
    ("seeds-a-string", {"seeds": "three"}, ["seeds", "three"]),
    ("seeds-duplicate", {"seeds": [1, 1]}, ["seeds", "[1, 1]"]),
    ("seeds-negative-by-config-override", ["seeds=-1"], ["seeds", "-1"]),
    # data files
    ("data-missing", datafile("nope.csv"), ["path", "DATA/nope.csv", "does not exist"]),
    ("data-a-folder", datafile("folder.csv"), ["path", "DATA/folder.csv", "not a file"]),
    ("data-empty", datafile("empty.csv"), ["path", "DATA/empty.csv", "empty"]),
    ("data-unreadable-npz", datafile("garbage.npz"), ["path", "DATA/garbage.npz", "not a readable"]),
    ("data-unreadable-mat", datafile("garbage.mat"), ["path", "DATA/garbage.mat", "not a readable"]),
    ("data-ragged-csv", datafile("ragged.csv"), ["path", "DATA/ragged.csv", "row 2 has 2 columns"]),
    ("data-3d-npz", datafile("cube.npz"), ["path", "DATA/cube.npz", "(4, 2, 2)"]),
    ("data-rows-mismatch-npz", datafile("rows.npz"), ["path", "DATA/rows.npz", "3 labels"]),
    ("data-nan-csv", datafile("nan.csv"), ["path", "DATA/nan.csv", "NaN"]),
    ("data-inf-mat", datafile("inf.mat"), ["path", "DATA/inf.mat", "infinite"]),
    ("labels-not-integers", datafile("fraction.csv"), ["path", "DATA/fraction.csv", "0.5"]),
    ("labels-one-class", datafile("oneclass.csv"), ["path", "DATA/oneclass.csv", "2 classes"]),
    ("labels-one-hot", datafile("onehot.npz"), ["path", "DATA/onehot.npz", "vector of labels"]),
    ("football-mat-missing", {"football_mat": "DATA/no/data.mat"}, ["football_mat", "DATA/no/data.mat"]),
    (
        "football-mat-3-features",
        {"football_mat": "DATA/football3.mat"},
        ["football_mat", "DATA/football3.mat", "2 features"],
    ),
    (
        "football-mat-without-test-set",
        {"football_mat": "DATA/football_noval.mat"},
        ["football_mat", "DATA/football_noval.mat", "Xval"],
    ),
    # names become paths and wildcards: only [A-Za-z0-9_-]
    ("name-with-markup", {"datasets": ["<script>alert(1)</script>"]}, ["datasets", "<script>alert(1)</script>"]),
    ("name-climbing-out", {"datasets": ["../../outside"]}, ["datasets", "../../outside"]),
    (
        "definition-name-with-slash",
        {"inits": ["he"], "definitions": {"inits": {"a/b": {"init": "he"}}}},
        ["inits", "a/b"],
    ),
]


def _resolve(obj, data: Path):
    if isinstance(obj, str):
        return obj.replace("DATA/", f"{data}/")
    if isinstance(obj, list):
        return [_resolve(v, data) for v in obj]
    if isinstance(obj, dict):
        return {k: _resolve(v, data) for k, v in obj.items()}
    return obj


def _run_bad(case, folder: Path, data: Path, dry: bool = True):
    name, change, _ = case
    wf = copy_workflow(folder / name, seed_course=False)
    if isinstance(change, list):  # --config overrides on top of the valid BASE
        args = ["--configfile", write_yaml(wf / "base.yaml", BASE), "--config", *_resolve(change, data)]
    else:
        args = ["--configfile", write_yaml(wf / "bad.yaml", _resolve(deep_merge(BASE, change), data))]
    proc = snakemake(*(["-n"] if dry else []), "--cores", "1", *args, cwd=wf)
    return wf, proc


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory, data_dir):
    """Every bad case's dry run, four at a time (each is a Snakemake start-up and nothing else)."""
    folder = tmp_path_factory.mktemp("bad")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {case[0]: pool.submit(_run_bad, case, folder, data_dir) for case in BAD}
    return {name: f.result() for name, f in futures.items()}


def test_enough_bad_cases():
    assert len(BAD) >= 25 and len({c[0] for c in BAD}) == len(BAD)


@pytest.mark.slow  # drives Snakemake
def test_base_config_is_valid(tmp_path, data_dir):
    """The cases differ from a config that passes, so each fails for its own reason."""
    proc = _run_bad(("base", {}, []), tmp_path, data_dir)[1]
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = _run_bad(("good-file", datafile("points.csv"), []), tmp_path, data_dir)[1]
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.slow  # drives Snakemake
@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_input_refused_naming_key_and_value(bad_runs, data_dir, case):
    name, _, named = case
    wf, proc = bad_runs[name]
    out = error_text(proc.stdout + proc.stderr)
    assert proc.returncode != 0, out[-3000:]
    key, value, *more = _resolve(named, data_dir)
    assert names_key(out, key), (key, out[-3000:])
    assert re.search(rf"(?<![\w.-]){re.escape(value)}(?![\w.])", out), (value, out[-3000:])
    for text in more:
        assert text in out, (text, out[-3000:])
    assert "Job stats" not in out, "a DAG was built: the check must come first"
    assert not (wf / "results").exists() and not (wf / "logs").exists()


@pytest.mark.slow  # drives Snakemake
def test_bad_input_real_run_starts_no_job(tmp_path, data_dir):
    """Not a dry run: the data file with NaN is refused before any job, nothing is written."""
    wf, proc = _run_bad(("real-run", datafile("nan.csv"), []), tmp_path, data_dir, dry=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "definitions.datasets.mine.dataset_options.path" in out and f"{data_dir}/nan.csv" in out
    for folder in ("results", "logs", "benchmarks", "reports"):
        assert not (wf / folder).exists(), folder


# --------------------------------------------------------------------------------------- 2. divergence

DIVERGE = {
    "datasets": ["circles"],
    "inits": ["he", "large"],
    "regs": ["none"],
    "optimizers": ["gd", "hot", "ten"],
    "seeds": 4,
    "definitions": {
        "datasets": {
            "circles": {
                "dataset": "circles",
                "dataset_options": {"n_samples": 100, "noise": 0.05},
                "hidden": [10, 5],
                "activation": "leaky_relu",
                "epochs": 30,
            }
        },
        "inits": {"large": {"init": "large", "init_options": {"scale": 3}}},
        "optimizers": {
            "gd": {"optimizer": "sgd", "lr": 0.5, "batch_size": None},
            "hot": {"optimizer": "sgd", "lr": 3, "batch_size": None},  # some seeds diverge
            "ten": {"optimizer": "sgd", "lr": 10, "batch_size": None},  # every seed diverges
        },
    },
}


@pytest.mark.slow  # drives Snakemake
def test_divergence_contained(tmp_path):
    wf = copy_workflow(tmp_path / "wf")
    run_grid(wf, write_yaml(wf / "diverge.yaml", ci_sized(DIVERGE)), cores=2)

    cell = json.loads((wf / "results/runs/circles/large/none/ten.json").read_text())
    assert cell["runs"] and all(r["status"] == "diverged" for r in cell["runs"])
    for r in cell["runs"]:
        d = r["diverged_epoch"]
        assert 0 < d < 30 and r["epochs_run"] == d + 1  # stopped at the first non-finite cost
        assert len(r["cost_curve"]) == d and all(np.isfinite(r["cost_curve"]))  # the partial curve, epochs 0..d-1
        assert r["train_accuracy"] is None and r["test_accuracy"] is None and r["train_cost"] is None

    runs = pd.read_csv(wf / "results/tables/runs.csv")
    diverged = runs[runs["status"] == "diverged"]
    assert set(zip(diverged["init"], diverged["opt"])) >= {("large", "ten"), ("large", "hot")}
    assert diverged[["train_acc", "test_acc"]].isna().all().all()
    ok = runs[runs["status"] == "ok"]
    assert np.isfinite(ok[["train_acc", "test_acc", "final_cost"]].to_numpy()).all()

    summary = pd.read_csv(wf / "results/tables/summary.csv").set_index(["init", "opt"])
    assert summary["runs"].eq(4).all()
    assert (summary["ok"] + summary["diverged"]).eq(summary["runs"]).all()
    assert summary.loc[("large", "ten"), "diverged"] == 4
    mixed = summary.loc[("large", "hot")]
    assert 0 < mixed["diverged"] < 4  # some seeds diverged, the others count
    assert "diverged" in mixed["comment"] and "diverged" in summary.loc[("large", "ten"), "comment"]
    with_ok = summary[summary["ok"] > 0]
    for col in ("train_mean", "test_mean", "gap_mean"):
        assert np.isfinite(with_ok[col]).all(), col  # the mean over the ok runs, never NaN
    assert summary.loc[("large", "hot"), "test_mean"] == pytest.approx(
        runs[(runs["init"] == "large") & (runs["opt"] == "hot") & (runs["status"] == "ok")]["test_acc"].mean()
    )

    seed_table = (wf / "results/tables/circles_init_by_opt.md").read_text()
    assert "diverged" in seed_table and "nan" not in seed_table.lower()
    html = (wf / "reports/report.html").read_text()
    n_div = int((runs["status"] == "diverged").sum())
    shown = [f"{n_div} of {len(runs)} runs diverged", f"<b>{n_div}</b><span>diverged runs"]
    assert any(text in html for text in shown), shown  # the count, not just the word
    assert "(4/4 diverged)" in html and f"({mixed['diverged']}/4 diverged)" in html  # the two cells
    effects = wf / "reports/tables/main_effects.csv"
    if effects.is_file():  # the report's means over an axis level: over its ok runs, never NaN
        effects = pd.read_csv(effects)
        assert np.isfinite(effects[["test_mean", "train_mean"]].to_numpy()).all()


# ------------------------------------------------------------------------------ 3./4. the small grid


def small_config(data: Path) -> dict:
    """Two data sets (one generated, one read from a file outside the workflow) x 2 x 1 x 2, 2 seeds."""
    return ci_sized(
        {
            "datasets": ["circles", "mine"],
            "inits": ["zeros", "he"],
            "regs": ["none"],
            "optimizers": ["gd", "adam"],
            "seeds": [0, 3],
            "definitions": {
                "datasets": {
                    "circles": {
                        "dataset": "circles",
                        "dataset_options": {"n_samples": 100, "noise": 0.05},
                        "hidden": [5],
                        "epochs": 40,
                    },
                    "mine": {
                        "dataset": "file",
                        "dataset_options": {"path": str(data / "points.csv")},
                        "hidden": [4],
                        "epochs": 40,
                    },
                },
                "optimizers": {
                    "gd": {"optimizer": "sgd", "lr": 0.5, "batch_size": None},
                    "adam": {"optimizer": "adam", "lr": 0.01, "batch_size": 32},
                },
            },
        }
    )


SMALL_CELLS = 2 * 2 * 1 * 2
SMALL_TABLES = [
    "summary.csv",
    "circles_init_by_opt.csv",
    "circles_init_by_opt.md",
    "mine_init_by_opt.csv",
    "mine_init_by_opt.md",
]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, data_dir):
    """The small grid run once, uninterrupted, at --cores 1: what the other runs must equal."""
    wf = copy_workflow(tmp_path_factory.mktemp("small") / "wf")
    run_grid(wf, write_yaml(wf / "small.yaml", small_config(data_dir)), cores=1)
    return wf


def assert_same_tables(a: Path, b: Path):
    lines = differences(metrics(a), metrics(b))
    assert not lines, "\n".join(lines)
    for name in SMALL_TABLES:  # no timings in these: byte for byte
        assert (a / "results/tables" / name).read_bytes() == (b / "results/tables" / name).read_bytes(), name


@pytest.mark.slow  # drives Snakemake
def test_results_record_hash_seed_versions_and_manifest(uninterrupted, data_dir):
    wf = uninterrupted
    cells = sorted((wf / "results/runs").rglob("*.json"))
    assert len(cells) == SMALL_CELLS
    for path in cells:
        cell = json.loads(path.read_text())
        assert len(cell["config_hash"]) == 64
        assert [r["seed"] for r in cell["runs"]] == [0, 3]
        for r in cell["runs"]:
            assert r["spec"]["seed"] == r["seed"]
            assert {"nnbench", "numpy", "python"} <= set(r["versions"])
    manifest = json.loads((wf / "results/manifest.json").read_text())
    listed = {f["path"]: f for f in manifest["files"]}
    on_disk = {p.relative_to(wf / "results").as_posix() for p in (wf / "results").rglob("*") if p.is_file()}
    assert set(listed) == on_disk - {"manifest.json"}
    from nnbench.manifest import sha256

    for rel, entry in listed.items():
        assert (
            entry["sha256"] == sha256(wf / "results" / rel) and entry["bytes"] == (wf / "results" / rel).stat().st_size
        )
    check = subprocess.run(
        [sys.executable, "-m", "nnbench", "manifest", "--root", "results", "--check", "results/manifest.json"],
        cwd=wf,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    # the data file was read, never written
    assert sha256(data_dir / "points.csv") == POINTS_SHA256[str(data_dir)]


def test_manifest_lists_and_verifies(tmp_path):
    """`nnbench manifest`: every file under the root but the manifest, its size and SHA-256; --check names
    a changed, a missing and an unlisted file."""
    root = tmp_path / "results"
    (root / "runs/a").mkdir(parents=True)
    (root / "runs/a/x.json").write_text('{"a": 1}\n')
    (root / "tables.csv").write_text("a,b\n1,2\n")
    cli = [sys.executable, "-m", "nnbench", "manifest", "--root", root]
    made = subprocess.run([*cli, "--out", root / "manifest.json"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["files"] == [
        {"path": "runs/a/x.json", "bytes": 9, "sha256": hashlib.sha256(b'{"a": 1}\n').hexdigest()},
        {"path": "tables.csv", "bytes": 8, "sha256": hashlib.sha256(b"a,b\n1,2\n").hexdigest()},
    ]
    assert not temp_leftovers(root)
    ok = subprocess.run([*cli, "--check", root / "manifest.json"], capture_output=True, text=True)
    assert ok.returncode == 0 and "2 files verified" in ok.stdout
    (root / "runs/a/x.json").write_text('{"a": 2}\n')
    (root / "tables.csv").unlink()
    (root / "new.csv").write_text("c\n")
    bad = subprocess.run([*cli, "--check", root / "manifest.json"], capture_output=True, text=True)
    assert bad.returncode == 1
    for line in ("runs/a/x.json: changed", "tables.csv: missing", "new.csv: not in the manifest"):
        assert line in bad.stdout, bad.stdout


@pytest.mark.slow  # drives Snakemake
def test_compare_prints_the_cells_that_differ(uninterrupted, tmp_path):
    """`nnbench compare A B` on two result folders: silent and 0 when equal; 1 and one line per moved metric,
    naming the cell, the seed and by how much, when not."""
    cli = [sys.executable, "-m", "nnbench", "compare"]
    same = subprocess.run(
        [*cli, uninterrupted / "results", uninterrupted / "results/tables/runs.csv"], capture_output=True, text=True
    )
    assert same.returncode == 0 and "no differences" in same.stdout, same.stdout + same.stderr
    other = tmp_path / "results"
    shutil.copytree(uninterrupted / "results/runs", other / "runs")
    path = other / "runs/circles/he/none/adam.json"
    cell = json.loads(path.read_text())
    before = cell["runs"][1]["test_accuracy"]
    cell["runs"][1]["test_accuracy"] = before + 0.01
    cell["digest"] = cell_digest(cell)  # another result set, not a damaged one (that is refused: test_integrity)
    path.write_text(json.dumps(cell))
    moved = subprocess.run([*cli, uninterrupted / "results", other], capture_output=True, text=True)
    assert moved.returncode == 1, moved.stdout + moved.stderr
    assert f"circles/he/none/adam seed 3: test_acc {before:.12g} -> {before + 0.01:.12g} (+0.01)" in moved.stdout
    assert "1 difference(s)" in moved.stdout


def fresh_copy_of_the_checkout(dest: Path) -> Path:
    """What a clone of the checkout holds, in ``dest``: the tracked files plus those not committed yet but
    not ignored (in CI, a clean checkout, exactly a clone; locally, a clone would miss work in progress).
    Nothing of the original's state (.snakemake/, results/, caches) comes along. Without git: the workflow only."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return copy_workflow(dest, seed_course=False)
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for rel in filter(None, listed):
        if (ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    return dest


@pytest.mark.slow  # drives Snakemake
def test_same_metrics_at_4_cores_from_a_fresh_copy_in_another_folder(uninterrupted, tmp_path, data_dir):
    """Against the --cores 1 run: --cores 4, another folder, a fresh copy of the checkout whose own package
    (its src/ first on PYTHONPATH) does the training. Per-run metrics equal to the last bit, tables byte for byte."""
    clone = fresh_copy_of_the_checkout(tmp_path / "elsewhere" / "clone")
    env = dict(os.environ)
    if (clone / "src" / "nnbench").is_dir():
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(clone / "src"), os.environ.get("PYTHONPATH")]))
        where = subprocess.run(
            [sys.executable, "-c", "import nnbench; print(nnbench.__file__)"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert Path(where).is_relative_to(clone), where
    seed_course_tables(clone)
    run_grid(clone, write_yaml(clone / "small.yaml", small_config(data_dir)), cores=4, env=env)
    assert_same_tables(uninterrupted, clone)
    assert not temp_leftovers(clone)


def _cell_files(wf: Path) -> list[Path]:
    return [p for p in (wf / "results/runs").rglob("*.json")] if (wf / "results/runs").is_dir() else []


def _marked_incomplete(wf: Path) -> set[Path]:
    """The outputs Snakemake has marked incomplete (.snakemake/incomplete/, base64 of the path) until their
    job has ended."""
    folder = wf / ".snakemake" / "incomplete"
    marked = set()
    for f in folder.glob("*") if folder.is_dir() else []:
        try:
            marked.add(wf / base64.b64decode(f.name).decode())
        except ValueError:  # not a marker
            continue
    return marked


@pytest.mark.slow  # drives Snakemake
def test_sigkill_in_the_middle_then_rerun_completes_the_grid(uninterrupted, tmp_path, data_dir):
    """SIGKILL to snakemake and its jobs mid-grid; the rerun completes it; the tables equal an uninterrupted
    run's. Snakemake itself needs two things after a kill (both checked here, in this order):
    `snakemake --unlock` (its lock stays behind) and `--rerun-incomplete` when a job had written its output
    but Snakemake had not yet recorded it as complete."""
    wf = copy_workflow(tmp_path / "wf")
    config = write_yaml(wf / "small.yaml", small_config(data_dir))
    command = [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", str(config)]
    log = open(tmp_path / "killed.log", "w")
    proc = subprocess.Popen(command, cwd=wf, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while len(_cell_files(wf)) < 2 or not set(_cell_files(wf)) - _marked_incomplete(wf):
            assert proc.poll() is None, "snakemake ended before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)  # snakemake and every job it started (same session)
    finally:
        proc.wait()
        log.close()
    time.sleep(0.5)
    done = _cell_files(wf)
    assert 2 <= len(done) < SMALL_CELLS, "not interrupted in the middle of the grid"
    assert not (wf / "results/tables/runs.csv").exists()

    # nothing half-written: every file with a final name is whole; an interrupted write leaves at most its
    # hidden temporary file (.NAME.XXXX.tmp), never a truncated NAME
    assert_complete_files(wf / "results")
    left_by_kill = temp_leftovers(wf)
    assert all(Path(p).name.startswith(".") for p in left_by_kill), left_by_kill
    # the finished cells Snakemake recorded as complete are kept as they are (it marks a job's outputs
    # incomplete in .snakemake/incomplete/, base64 of the path, until the job has ended)
    kept = {p: sha256_file(p) for p in set(done) - _marked_incomplete(wf)}
    assert kept, "no cell finished and recorded before the kill"

    needed, extra = [], []  # what the rerun needed beyond the same command
    for _ in range(3):
        rerun = snakemake(*command[3:], *extra, cwd=wf)
        out = rerun.stdout + rerun.stderr
        if rerun.returncode == 0:
            break
        if "IncompleteFilesException" in out and "--rerun-incomplete" not in needed:
            needed.append("--rerun-incomplete")
            extra.append("--rerun-incomplete")
        elif "LockException" in out and "--unlock" not in needed:
            needed.append("--unlock")
            unlock = snakemake("--unlock", "--configfile", config, cwd=wf)
            assert unlock.returncode == 0, (unlock.stdout + unlock.stderr)[-3000:]
        else:
            break
    assert rerun.returncode == 0, (needed, out[-6000:])
    print(f"after SIGKILL the rerun needed: {needed or 'nothing'}")

    assert len(_cell_files(wf)) == SMALL_CELLS
    assert {p: sha256_file(p) for p in kept} == kept, "a cell finished before the kill was trained again"
    assert_complete_files(wf / "results")
    assert_complete_files(wf / "reports")
    assert_same_tables(uninterrupted, wf)
    again = snakemake(*command[3:], "-n", cwd=wf)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
    leftovers = temp_leftovers(wf)
    if leftovers:  # only possible when the kill hit a write between its temporary file and the rename
        assert leftovers == left_by_kill
        pytest.xfail(
            f"temporary files of writes the SIGKILL interrupted remain: {leftovers} "
            "(nnbench.io.write_atomic does not remove a stale one)"
        )


# ------------------------------------------------------------------------------- 4. the CI reference


def run_ci_grid(dest: Path) -> pd.DataFrame:
    """The CI grid (config/ci.yaml as it is now) run in ``dest``: its per-run metrics, as the reference stores them."""
    wf = copy_workflow(dest)
    run_grid(wf, wf / "config" / "ci.yaml", cores=2)
    return reference_frame(pd.read_csv(wf / "results/tables/runs.csv"))


def reference_frame(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[KEYS + [c for c in [*METRICS, KERNEL] if c in runs.columns]].sort_values(KEYS).reset_index(drop=True)


@pytest.mark.slow  # drives Snakemake
def test_ci_grid_matches_the_committed_reference(tmp_path):
    assert REFERENCE.is_file(), "no reference: run `python tests/test_reliability.py --regenerate`"
    reference = pd.read_csv(REFERENCE)
    ci = yaml.safe_load((ROOT / "config" / "ci.yaml").read_text())
    now = run_ci_grid(tmp_path / "ci")
    reference, now = reference.set_index(KEYS).sort_index(), now.set_index(KEYS).sort_index()
    lines = differences(reference, now, tolerance=None)  # the numerical contract: bit for bit on the same kernel
    rule = "bit for bit" if same_kernel(reference, now) else "within nnbench.contract.CROSS_KERNEL"
    assert not lines, (
        f"the CI grid's metrics moved from {REFERENCE.relative_to(ROOT)} (first = reference, second = now; "
        f"compared {rule}):\n"
        + "\n".join(lines)
        + "\nIf the change is intended: python tests/test_reliability.py --regenerate"
    )
    assert len(now) == len(ci["datasets"]) * len(ci["inits"]) * len(ci["regs"]) * len(ci["optimizers"]) * (
        ci["seeds"] if isinstance(ci["seeds"], int) else len(ci["seeds"])
    )


# ---------------------------------------------------------------------------------------- 6. safe output
@pytest.mark.slow  # drives Snakemake
def test_config_paths_are_only_read_and_outputs_stay_in_the_workflow(tmp_path, data_dir):
    """A data file and football_mat outside the workflow (reached through ..) are inputs, never outputs:
    every file the workflow would write lies under results/, reports/, logs/ or benchmarks/."""
    wf = copy_workflow(tmp_path / "deep" / "wf", seed_course=False)
    shutil.copy(data_dir / "points.csv", tmp_path / "points.csv")
    import scipy.io

    rng = np.random.default_rng(0)
    scipy.io.savemat(
        tmp_path / "data.mat",
        {
            "X": rng.normal(size=(30, 2)),
            "y": (np.arange(30) % 2)[:, None],
            "Xval": rng.normal(size=(20, 2)),
            "yval": (np.arange(20) % 2)[:, None],
        },
    )
    config = deep_merge(BASE, datafile("x"))
    config["definitions"]["datasets"]["mine"]["dataset_options"]["path"] = "../../points.csv"
    config["football_mat"] = "../../data.mat"
    proc = snakemake("-n", "--cores", "1", "--configfile", write_yaml(wf / "outside.yaml", config), "--summary", cwd=wf)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    rows = [
        line.split("\t") for line in lines[lines.index(next(x for x in lines if x.startswith("output_file\t"))) + 1 :]
    ]
    outputs = [r[0] for r in rows if r[0]] + [log for r in rows if len(r) > 3 for log in r[3].split(",") if log != "-"]
    assert outputs and "reports/report.html" in outputs
    for out in outputs:
        resolved = (wf / out).resolve()
        assert resolved.is_relative_to(wf.resolve()), out
        assert resolved.relative_to(wf.resolve()).parts[0] in {"results", "reports", "logs", "benchmarks"}, out
    assert not any("points.csv" in o or "data.mat" in o for o in outputs)


# ---------------------------------------------------------------------------------- regenerate the reference


def regenerate() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        frame = run_ci_grid(Path(tmp) / "ci")
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    from nnbench.io import write_atomic

    write_atomic(REFERENCE, frame.to_csv(index=False, lineterminator="\n"))
    print(f"wrote {REFERENCE.relative_to(ROOT)}: {len(frame)} runs")


if __name__ == "__main__":
    if sys.argv[1:] != ["--regenerate"]:
        sys.exit("usage: python tests/test_reliability.py --regenerate")
    regenerate()
