"""Results you can trust after a crash, an edit or a bad disk (issue 18): the nine reproductions, each a test.

The fast tests drive the ``nnbench`` commands on result files made by ``nnbench train`` itself; the ``slow``
ones run the workflow once (a small grid, ``finished``) and then damage a copy of the finished run per
scenario, checking what the next ``snakemake`` does. No test may see a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from nnbench.config import check, check_files, load_yaml, seed_list, seeds_text
from nnbench.registry import SpecError

ROOT = Path(__file__).resolve().parents[1]
SPEC = {"dataset": "circles", "dataset_options": {"n_samples": 60}, "hidden": [3], "epochs": 3}
OPTS = {"gd": {"optimizer": "sgd", "lr": 0.5, "batch_size": None}, "adam": {"optimizer": "adam", "lr": 0.01}}


def nnbench(*args):
    """``nnbench ARGS`` in this process (the same ``main`` as the command): its exit status and output. Any
    exception other than SystemExit propagates, failing the test: a traceback would reach the user."""
    from nnbench.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exit_:
            code = exit_.code
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def one_line_error(proc, *needles):
    """A refusal: exit 2, one line on stderr, naming every needle."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert str(needle) in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """results/runs/circles/he/none/{gd,adam}.json and results/points/circles.npz, made by the commands."""
    root = tmp_path_factory.mktemp("trained")
    points = root / "results/points/circles.npz"
    assert (
        nnbench(
            "points", "--dataset", "circles", "--options", json.dumps(SPEC["dataset_options"]), "--out", points
        ).returncode
        == 0
    )
    args = []
    for opt, fields in OPTS.items():
        args += [
            "--cell",
            f"dataset=circles,init=he,reg=none,opt={opt}",
            "--spec",
            json.dumps({**SPEC, **fields}),
            "--out",
            root / f"results/runs/circles/he/none/{opt}.json",
        ]
    proc = nnbench("train", *args, "--seeds", "0,1", "--points", points)
    assert proc.returncode == 0, proc.stderr
    return root


@pytest.fixture
def results(trained, tmp_path):
    shutil.copytree(trained / "results", tmp_path / "results")
    return tmp_path / "results"


def tables(results, *extra):
    return nnbench(
        "tables",
        "--runs-dir",
        results / "runs",
        "--datasets",
        "circles",
        "--inits",
        "he",
        "--regs",
        "none",
        "--opts",
        "gd,adam",
        "--out-dir",
        results / "tables",
        *extra,
    )


def test_the_untouched_results_aggregate(results):
    assert tables(results).returncode == 0
    assert len(pd.read_csv(results / "tables/runs.csv")) == 4


# ---------------------------------------------------------------- 1. a cell's contents vs its path; seeds


def test_1_a_copied_cell_file_is_refused_by_its_path(results):
    cells = results / "runs/circles/he/none"
    shutil.copy(cells / "adam.json", cells / "gd.json")
    line = one_line_error(tables(results), cells / "gd.json", "opt=adam, not", "opt=gd", "--forcerun")
    assert not (results / "tables/summary.csv").exists(), line


def test_1_the_same_cell_twice_is_refused(results):
    cell = results / "runs/circles/he/none/adam.json"
    one_line_error(nnbench("tables", cell, cell, "--out-dir", results / "tables"), "holds the same cell")
    copy = results / "elsewhere.json"
    shutil.copy(cell, copy)
    one_line_error(nnbench("tables", cell, copy, "--out-dir", results / "tables"), copy, "holds the same cell")


def test_1_duplicate_seeds_are_refused(results):
    from nnbench.results import cell_record

    path = results / "runs/circles/he/none/adam.json"
    record = json.loads(path.read_text())
    path.write_text(json.dumps(cell_record(record["cell"], record["config_hash"], record["runs"] * 2)))
    one_line_error(tables(results), path, "appear more than once")


def test_1_seeds_and_config_hash_against_the_config(results):
    config = {
        "datasets": ["circles"],
        "inits": ["he"],
        "regs": ["none"],
        "optimizers": ["gd", "adam"],
        "seeds": 2,
        "definitions": {"datasets": {"circles": SPEC}, "optimizers": OPTS},
    }
    assert tables(results, "--config-json", json.dumps(config)).returncode == 0
    one_line_error(
        tables(results, "--config-json", json.dumps({**config, "seeds": 3})),
        "holds seeds [0, 1], the config asks for [0, 1, 2]",
    )
    other = json.loads(json.dumps(config))
    other["definitions"]["optimizers"]["adam"]["lr"] = 0.02
    one_line_error(tables(results, "--config-json", json.dumps(other)), "adam.json", "made from another config")


# -------------------------------------------------------------------- 2. edits are detected, not summed


@pytest.mark.parametrize(
    "field,value",
    [("test_accuracy", 0.12345), ("test_accuracy", 7.5), ("seed", 5), ("train_cost", 0.0), ("status", "diverged")],
)
def test_2_an_edited_cell_file_is_refused_and_the_manifest_does_not_vouch_for_it(results, field, value):
    path = results / "runs/circles/he/none/gd.json"
    assert nnbench("manifest", "--root", results, "--out", results / "manifest.json").returncode == 0
    record = json.loads(path.read_text())
    record["runs"][0][field] = value
    path.write_text(json.dumps(record))
    one_line_error(tables(results), path, "does not match its digest")
    check = nnbench("manifest", "--root", results, "--check", results / "manifest.json")
    assert check.returncode == 1 and "runs/circles/he/none/gd.json: changed" in check.stdout
    assert "runs/circles/he/none/gd.json: content does not match its digest" in check.stdout
    # and a manifest is never written over an edited cell file
    one_line_error(nnbench("manifest", "--root", results, "--out", results / "again.json"), path, "digest")
    assert not (results / "again.json").exists()


def test_2_the_manifest_carries_the_digests_the_training_jobs_wrote(results):
    assert nnbench("manifest", "--root", results, "--out", results / "manifest.json").returncode == 0
    manifest = json.loads((results / "manifest.json").read_text())
    entries = {f["path"]: f for f in manifest["files"]}
    for opt in OPTS:
        rel = f"runs/circles/he/none/{opt}.json"
        assert entries[rel]["digest"] == json.loads((results / rel).read_text())["digest"]
    assert "digest" not in entries["points/circles.npz"]


# ----------------------------------------------------------------------------- 3. a truncated cell file


@pytest.mark.parametrize("keep", [0, 1, 0.5, 0.99])
def test_3_a_truncated_cell_file_is_named(results, keep):
    path = results / "runs/circles/he/none/adam.json"
    raw = path.read_bytes()
    path.write_bytes(raw[: int(keep * len(raw)) if isinstance(keep, float) else keep])
    one_line_error(tables(results), path, "truncated", f"--forcerun {path.as_posix()}")


# ------------------------------------------------------------------------------- 4. a corrupt points file


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 2], lambda b: b"\0" * len(b), lambda b: b""])
def test_4_corrupt_points_are_refused_before_training_naming_the_file_and_the_fix(results, damage):
    points = results / "points/circles.npz"
    points.write_bytes(damage(points.read_bytes()))
    out = results / "new.json"
    proc = nnbench("train", "--spec", json.dumps(SPEC), "--seeds", "0", "--points", points, "--out", out)
    one_line_error(proc, points, "damaged", f"--forcerun {points.as_posix()}")
    assert not out.exists()


# ---------------------------------------------------------------------------- 5. garbage in runs.csv


@pytest.mark.parametrize(
    "name,text,needle",
    [
        ("runs.csv", "garbage\n1\n", "lacks the column(s) dataset"),
        ("runs.csv", None, "is not a number"),
        ("summary.csv", "dataset,init\n", "lacks the column"),
        ("summary.csv", "", "not a readable CSV"),
    ],
)
def test_5_a_damaged_table_stops_the_report_naming_it(results, tmp_path, name, text, needle):
    assert tables(results).returncode == 0
    path = results / "tables" / name
    if text is None:
        df = pd.read_csv(path)
        df["seed"] = df["seed"].astype(object)
        df.loc[1, "seed"] = "one"
        df.to_csv(path, index=False)
    else:
        path.write_text(text)
    proc = nnbench("report", "--results", results, "--out", tmp_path / "report.html")
    one_line_error(proc, path, needle, "--forcerun")
    assert not (tmp_path / "report.html").exists()


# ------------------------------------------------------------------- 7. config values refused by name


def _config(**changes):
    base = load_yaml(ROOT / "config" / "config.yaml")
    base.update(changes)
    return base


@pytest.mark.parametrize(
    "changes,key",
    [
        ({"seeds": 2.0}, "seeds = 2.0"),
        ({"seeds": [0, 1.0]}, "seeds"),
        ({"seeds": "3"}, "seeds"),
        ({"seeds": 0}, "seeds"),
        ({"seeds": [2**63]}, "seeds"),
        ({"studies": {"depth": {"seeds": 2.0}}}, "studies.depth.seeds = 2.0"),
        ({"inits": ["--help"]}, "inits = '--help'"),
        ({"optimizers": ["-x"]}, "optimizers = '-x'"),
        ({"regs": ["a" * 300]}, "regs"),
        ({"datasets": ["d" * 226]}, "datasets"),
    ],
)
def test_7_bad_config_values_are_refused_naming_the_key(changes, key):
    with pytest.raises(SpecError) as err:
        check(_config(**changes))
    assert key in str(err.value)


def test_7_the_longest_name_that_fits():
    check(_config(inits=["i" * 225], definitions={**_config()["definitions"], "inits": {"i" * 225: {"init": "he"}}}))


def test_7_epochs_beyond_memory_are_refused_naming_the_definition():
    config = _config()
    config["definitions"]["datasets"]["circles"]["epochs"] = 10**9
    with pytest.raises(SpecError, match=r"definitions.datasets.circles: epochs = 1000000000: .* GiB"):
        check(config)


def test_7_many_seeds_do_not_grow_the_command_line():
    assert seeds_text(seed_list({"seeds": 30000})) == "0-29999"
    assert seeds_text([0, 1, 2, 5, 7, 8]) == "0-2,5,7-8"
    check(_config(seeds=30000))
    from nnbench.cli import _seeds

    assert _seeds("0-2,5,7-8") == [0, 1, 2, 5, 7, 8]
    with pytest.raises(SpecError):
        _seeds("0-2,1")


def test_7_a_seed_list_too_long_for_a_command_line_is_refused():
    with pytest.raises(SpecError, match="seeds = .*command line"):
        check(_config(seeds=list(range(0, 2 * 10**5, 2))))


@pytest.mark.parametrize(
    "text,where",
    [
        ("lr: 0.01\nlr: 5.0\n", ":2:1: found duplicate key 'lr' (first at line 1)"),
        ("a:\n  b: 1\n  c: 2\n  b: 3\n", ":4:3: found duplicate key 'b'"),
        ("a: [1, 2\n", ":2:1"),
        ("a: b: c\n", ":1:5"),
    ],
)
def test_7_duplicate_keys_and_syntax_errors_name_the_file_and_line(tmp_path, text, where):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        check_files([path])
    assert f"{path}{where}" in str(err.value)


# ------------------------------------------------------------------------------------------- 9. CLI


def test_9_train_out_is_checked_before_training(tmp_path):
    one_line_error(nnbench("train", "--spec", json.dumps(SPEC), "--out", tmp_path), "--out", "is a folder")
    (tmp_path / "file").write_text("x")
    one_line_error(nnbench("train", "--spec", json.dumps(SPEC), "--out", tmp_path / "file/x.json"), "is a file")
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        one_line_error(nnbench("train", "--spec", json.dumps(SPEC), "--out", locked / "x.json"), "permission")


def test_9_a_bad_cell_label_is_refused_before_any_cell_trains(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    proc = nnbench(
        "train",
        "--spec",
        json.dumps(SPEC),
        "--cell",
        "dataset=circles",
        "--out",
        first,
        "--spec",
        json.dumps(SPEC),
        "--cell",
        "foo",
        "--out",
        second,
    )
    one_line_error(proc, "--cell 'foo'", "NAME=VALUE")
    assert not first.exists() and not second.exists()


def test_9_a_yaml_spec_with_a_syntax_error_names_file_and_line(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("dataset: circles\nhidden: [3\nepochs: 2\n")
    one_line_error(nnbench("train", "--spec", spec), f"{spec}:3:")
    spec.write_text("dataset: circles\nepochs: 2\nepochs: 3\n")
    one_line_error(nnbench("train", "--spec", spec), f"{spec}:3:1", "duplicate key 'epochs'")
    one_line_error(nnbench("train", "--spec", "{bad json"), "--spec", "does not parse")


@pytest.mark.parametrize("tolerance", ["nan", "-1", "inf", "x"])
def test_9_compare_refuses_a_bad_tolerance(results, tolerance):
    proc = nnbench("compare", results, results, "--tolerance", tolerance)
    assert proc.returncode == 2 and "--tolerance" in proc.stderr and tolerance in proc.stderr
    assert nnbench("compare", results, results, "--tolerance", "0").returncode == 0


@pytest.mark.parametrize(
    "text",
    [
        "{}",
        "not json",
        "[]",
        '{"schema": "nnbench.manifest/2"}',
        '{"schema": "nnbench.manifest/2", "files": [{"path": "x"}]}',
        ('{"schema": "nnbench.manifest/2", "files": [{"path": "../x", "bytes": 1, "sha256": "0"}]}'),
    ],
)
def test_9_manifest_check_of_a_fake_manifest_is_one_line(results, tmp_path, text):
    fake = tmp_path / "fake.json"
    fake.write_text(text)
    one_line_error(nnbench("manifest", "--root", results, "--check", fake), fake)


@pytest.mark.parametrize(
    "text", ["a,b\n1,2\n", "", ("dataset,init,reg,opt,stage,status,cause,difference\nc,h,n,a,init,pass,,big\n")]
)
def test_9_studies_verify_of_a_wrong_table_is_one_line(tmp_path, text):
    table = tmp_path / "t.csv"
    table.write_text(text)
    one_line_error(
        nnbench("studies", "verify", "--table", table, "--config-json", "{}", "--out", tmp_path / "ok"), table
    )
    assert not (tmp_path / "ok").exists()


# ---------------------------------------------------------------- the workflow: damage, then snakemake

SMALL = {
    "datasets": ["circles"],
    "inits": ["he"],
    "regs": ["none"],
    "optimizers": ["gd", "adam"],
    "seeds": 2,
    "definitions": {
        "datasets": {
            "circles": {"dataset": "circles", "dataset_options": {"n_samples": 80}, "hidden": [4], "epochs": 5}
        },
        "optimizers": OPTS,
    },
    "studies": {
        "gradcheck": {"examples": 4, "epochs": 1, "max_coords": 20},
        "depth": {
            "dataset": "circles",
            "dataset_options": {"n_samples": 60},
            "width": 4,
            "depths": [2],
            "inits": ["he"],
            "activations": ["relu"],
            "epochs": 2,
            "seeds": 1,
        },
        "search": {
            "dataset": "circles",
            "dataset_options": {"n_samples": 60, "val_fraction": 0.2},
            "epochs": 2,
            "budgets": [4],
            "methods": ["random"],
            "seeds": 1,
        },
        "schedules": {
            "dataset": "circles",
            "dataset_options": {"n_samples": 60},
            "optimizers": ["sgd"],
            "schedules": ["constant"],
            "batch_sizes": [16],
            "checkpoints": [2],
            "seeds": 1,
        },
    },
}


def snakemake(wf, *args):
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", "small.yaml", *args],
        cwd=wf,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return proc, proc.stdout + proc.stderr


@pytest.fixture(scope="session")
def finished(tmp_path_factory):
    """The small grid, run to the end once (placeholder course tables: the course is not under test)."""
    from test_reliability import copy_workflow, write_yaml

    wf = copy_workflow(tmp_path_factory.mktemp("finished") / "wf")
    shutil.copytree(ROOT / "profiles", wf / "profiles")  # the workflow profile: show-failed-logs
    write_yaml(wf / "small.yaml", SMALL)
    proc, out = snakemake(wf)
    assert proc.returncode == 0, out[-6000:]
    return wf


@pytest.fixture
def wf(finished, tmp_path):
    """A copy of the finished run (modification times kept, so Snakemake sees it finished)."""
    return Path(shutil.copytree(finished, tmp_path / "wf", symlinks=True))


def _verified(wf):
    proc = nnbench("manifest", "--root", wf / "results", "--check", wf / "results/manifest.json")
    return proc.returncode == 0, proc.stdout


@pytest.mark.slow
def test_6_a_deleted_cell_file_is_remade_by_the_next_run(wf):
    cell = wf / "results/runs/circles/he/none/gd.json"
    before = json.loads(cell.read_text())
    cell.unlink()
    proc, out = snakemake(wf)
    assert proc.returncode == 0, out[-4000:]
    after = json.loads(cell.read_text())

    def strip(record):
        return [{k: v for k, v in r.items() if k not in ("seconds", "versions")} for r in record["runs"]]

    assert strip(after) == strip(before)  # the same numbers, re-made
    ok, text = _verified(wf)
    assert ok, text


@pytest.mark.slow
def test_4_corrupt_points_refused_then_remade_by_the_command_it_names(wf):
    points = wf / "results/points/circles.npz"
    points.write_bytes(points.read_bytes()[:200])
    proc, out = snakemake(wf)
    assert proc.returncode != 0 and "Traceback" not in out
    log = (wf / "logs/train/circles/he/none.log").read_text()
    assert "results/points/circles.npz: damaged" in log and "--forcerun results/points/circles.npz" in log
    assert "results/points/circles.npz: damaged" in out  # shown by Snakemake (show-failed-logs)
    proc, out = snakemake(wf, "--forcerun", "results/points/circles.npz")
    assert proc.returncode == 0, out[-4000:]
    ok, text = _verified(wf)
    assert ok, text


@pytest.mark.slow
@pytest.mark.parametrize(
    "damage,needle",
    [
        ("copy", "holds the cell"),
        ("edit", "content does not match its digest"),
        ("truncate", "truncated"),
    ],
)
def test_1_2_3_damaged_cell_refused_by_the_workflow_then_remade(wf, damage, needle):
    cells = wf / "results/runs/circles/he/none"
    if damage == "copy":
        shutil.copy(cells / "adam.json", cells / "gd.json")
    elif damage == "edit":
        text = (cells / "gd.json").read_text()
        record = json.loads(text)
        record["runs"][0]["test_accuracy"] = 0.12345
        (cells / "gd.json").write_text(json.dumps(record))
    else:
        (cells / "gd.json").write_bytes((cells / "gd.json").read_bytes()[:300])
    proc, out = snakemake(wf)
    assert proc.returncode != 0 and "Traceback" not in out
    assert f"results/runs/circles/he/none/gd.json: {needle}" in out
    assert (cells / "adam.json").is_file()  # the good results stay
    ok, text = _verified(wf)
    assert not ok and "runs/circles/he/none/gd.json" in text  # the manifest does not vouch for it
    proc, out = snakemake(wf, "--forcerun", "results/runs/circles/he/none/gd.json")
    assert proc.returncode == 0, out[-4000:]
    ok, text = _verified(wf)
    assert ok, text


@pytest.mark.slow
def test_5_garbage_in_runs_csv_refused_by_the_report_then_remade(wf):
    runs = wf / "results/tables/runs.csv"
    runs.write_text("garbage\n")
    proc, out = snakemake(wf)
    assert proc.returncode != 0 and "results/tables/runs.csv: lacks the column(s)" in out
    proc, out = snakemake(wf, "--forcerun", "results/tables/runs.csv")
    assert proc.returncode == 0, out[-4000:]
    assert len(pd.read_csv(runs)) == 4


@pytest.mark.slow
def test_7_duplicate_keys_in_a_configfile_are_refused_before_any_job(wf, tmp_path):
    (wf / "dup.yaml").write_text("seeds: 2\nseeds: 3\n")
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--configfile", "small.yaml", "dup.yaml"],
        cwd=wf,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "dup.yaml:2:1: found duplicate key 'seeds'" in out, out[-3000:]
