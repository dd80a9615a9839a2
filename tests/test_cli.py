"""The command line: train writes results atomically; bad input exits non-zero naming the value."""

import json
import subprocess
import sys

import pytest

from nnbench.cli import main
from nnbench.trainer import numba_installed

SPEC = {
    "dataset": "circles",
    "dataset_options": {"n_samples": 80},
    "hidden": [4],
    "epochs": 5,
    "optimizer": "adam",
    "lr": 0.01,
    "batch_size": 16,
}


def test_train_writes_a_cell_file(tmp_path):
    out = tmp_path / "runs" / "cell.json"
    assert (
        main(
            [
                "train",
                "--spec",
                json.dumps(SPEC),
                "--seeds",
                "0,1,2",
                "--cell",
                "dataset=circles,opt=adam",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    cell = json.loads(out.read_text())
    assert cell["schema"] == "nnbench.cell/2" and cell["cell"] == {"dataset": "circles", "opt": "adam"}
    assert [r["seed"] for r in cell["runs"]] == [0, 1, 2]
    assert len(cell["config_hash"]) == 64
    assert not [p for p in out.parent.iterdir() if p.name != "cell.json"]  # no temporary file left


def test_train_from_a_yaml_file_with_flag_overrides(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("dataset: moons\nhidden: [3]\nepochs: 2\n")
    out = tmp_path / "r.json"
    assert main(["train", "--spec", str(spec), "--lr", "0.1", "--seed", "4", "--out", str(out)]) == 0
    run = json.loads(out.read_text())["runs"][0]
    assert run["spec"]["lr"] == 0.1 and run["seed"] == 4 and run["spec"]["dataset"] == "moons"


@pytest.mark.parametrize(
    "spec,expect",
    [
        ({**SPEC, "lr": -1}, "lr = -1"),
        ({**SPEC, "init": "bogus"}, "init = 'bogus'"),
        ({**SPEC, "colour": "red"}, "colour"),
        ({**SPEC, "dataset": "file", "dataset_options": {"path": "/nonexistent/x.csv"}}, "/nonexistent/x.csv"),
        ({**SPEC, "engine": "jax"}, "engine = 'jax': unknown engine; known: numpy, numba, auto"),
    ],
)
def test_bad_specs_exit_non_zero_naming_the_value(tmp_path, capsys, spec, expect):
    assert main(["train", "--spec", json.dumps(spec), "--out", str(tmp_path / "x.json")]) == 2
    assert expect in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_module_entry_point_runs():
    done = subprocess.run([sys.executable, "-m", "nnbench", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "course" in done.stdout


def test_train_several_cells_in_one_call(tmp_path):
    """Repeated --spec/--cell/--out train cell after cell; each file equals the one trained alone."""
    sgd = {**SPEC, "optimizer": "sgd", "lr": 0.1}
    outs = [tmp_path / "adam.json", tmp_path / "sgd.json"]
    assert (
        main(
            [
                "train",
                "--seeds",
                "0,1",
                "--spec",
                json.dumps(SPEC),
                "--cell",
                "opt=adam",
                "--out",
                str(outs[0]),
                "--spec",
                json.dumps(sgd),
                "--cell",
                "opt=sgd",
                "--out",
                str(outs[1]),
            ]
        )
        == 0
    )
    alone = tmp_path / "alone.json"
    assert main(["train", "--seeds", "0,1", "--spec", json.dumps(sgd), "--cell", "opt=sgd", "--out", str(alone)]) == 0
    cells = [json.loads(o.read_text()) for o in outs]
    assert [c["cell"] for c in cells] == [{"opt": "adam"}, {"opt": "sgd"}]
    assert [c["runs"][0]["spec"]["optimizer"] for c in cells] == ["adam", "sgd"]
    strip = lambda cell: [{k: v for k, v in r.items() if k != "seconds"} for r in cell["runs"]]  # noqa: E731
    assert strip(cells[1]) == strip(json.loads(alone.read_text()))


def test_train_several_cells_checks_every_spec_first(tmp_path, capsys):
    outs = [tmp_path / "a.json", tmp_path / "b.json"]
    argv = [
        "train",
        "--spec",
        json.dumps(SPEC),
        "--out",
        str(outs[0]),
        "--spec",
        json.dumps({**SPEC, "lr": -2}),
        "--out",
        str(outs[1]),
    ]
    assert main(argv) == 2
    assert "lr = -2" in capsys.readouterr().err
    assert not any(o.exists() for o in outs)  # the good first cell did not train either
    assert main(["train", "--spec", json.dumps(SPEC), "--spec", json.dumps(SPEC), "--out", str(outs[0])]) == 2
    assert "--out" in capsys.readouterr().err


def test_train_writes_its_usage_as_a_benchmark_file(tmp_path):
    """--usage: the job's wall and CPU seconds and peak memory, in the columns the tables read from Snakemake's
    benchmark files, under the rule/wildcards layout of the workflow."""
    from nnbench.tables import read_benchmarks

    usage = tmp_path / "benchmarks" / "train" / "circles" / "he" / "none.tsv"
    assert main(["train", "--spec", json.dumps({**SPEC, "epochs": 200}), "--seeds", "0,1", "--usage", str(usage)]) == 0
    frame = read_benchmarks(tmp_path / "benchmarks", {"train": ["dataset", "init", "reg"]})
    assert list(frame.columns) == ["rule", "wildcards", "s", "h:m:s", "max_rss", "cpu_time"]
    row = frame.iloc[0]
    assert row["rule"] == "train" and row["wildcards"] == "dataset=circles,init=he,reg=none"
    assert 0 < row["s"] < 600 and 0 < row["cpu_time"] < 600
    assert 20 < row["max_rss"] < 2000  # MB: a Python process with NumPy loaded
    assert not [p for p in usage.parent.iterdir() if p.name != "none.tsv"]  # written atomically


def test_train_engine_flag_overrides_the_spec_and_the_record_names_the_engine_used(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["train", "--spec", json.dumps(SPEC), "--engine", "auto", "--seeds", "0,1", "--out", str(out)]) == 0
    runs = json.loads(out.read_text())["runs"]
    assert {r["spec"]["engine"] for r in runs} == {"auto"}
    assert {r["engine"] for r in runs} == {"numba" if numba_installed() else "numpy"}  # [2, 4, 1] in batches of 16
    assert main(["train", "--spec", json.dumps(SPEC), "--engine", "torch", "--out", str(out)]) == 2
    assert "engine = 'torch': unknown engine" in capsys.readouterr().err
