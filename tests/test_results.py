"""nnbench.results: every reader verifies what it reads, and names the file and the fix."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from nnbench import data
from nnbench.results import (
    CELL_SCHEMA,
    ResultFileError,
    canonical_json,
    cell_digest,
    cell_labels,
    cell_record,
    read_cell,
    read_cells,
    read_points_file,
    read_table,
)

CELL = {"dataset": "circles", "init": "he", "reg": "none", "opt": "adam"}


def run(seed, status="ok", **fields):
    ok = status == "ok"
    return {
        "schema": "nnbench.result/1",
        "spec": {"dataset": "circles", "epochs": 5, "seed": seed},
        "seed": seed,
        "status": status,
        "diverged_epoch": None if ok else 3,
        "epochs_run": 5 if ok else 3,
        "train_accuracy": 0.9 if ok else None,
        "val_accuracy": None,
        "test_accuracy": 0.8 if ok else None,
        "train_cost": 0.2 if ok else None,
        "test_cost": 0.3 if ok else None,
        "cost_curve": [0.7, 0.5],
        "curve_every": 1,
        "seconds": 0.1,
        "boundary": None,
        "versions": {},
        **fields,
    }


def write(path, record):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return path


def cell_file(root, runs=None, cell=CELL):
    path = root / "runs" / cell["dataset"] / cell["init"] / cell["reg"] / f"{cell['opt']}.json"
    return write(path, cell_record(cell, "h" * 64, runs or [run(0), run(1)]))


def test_digest_is_over_the_canonical_json_without_itself():
    record = cell_record(CELL, "h", [run(0)])
    assert record["schema"] == CELL_SCHEMA
    assert cell_digest(record) == record["digest"]
    assert len(record["digest"]) == 64
    assert canonical_json({"b": 1, "a": [1.5]}) == b'{"a":[1.5],"b":1}'
    # key order and whitespace of the file do not matter; content does
    reordered = json.loads(json.dumps(record, indent=3, sort_keys=False))
    assert cell_digest(reordered) == record["digest"]
    reordered["runs"][0]["seed"] = 1
    assert cell_digest(reordered) != record["digest"]


def test_a_good_cell_reads_back(tmp_path):
    path = cell_file(tmp_path)
    record = read_cell(path, from_path=True, expect={"opt": "adam"}, config_hash="h" * 64, seeds=[1, 0])
    assert [r["seed"] for r in record["runs"]] == [0, 1]


def _edit(path, change):
    record = json.loads(path.read_text())
    change(record)
    path.write_text(json.dumps(record))


@pytest.mark.parametrize(
    "change,match",
    [
        (lambda r: r["runs"][0].update(test_accuracy=0.12345), "does not match its digest"),
        (lambda r: r["runs"][1].update(seed=0), "does not match its digest"),
        (lambda r: r.update(config_hash="x"), "does not match its digest"),
        (lambda r: r.pop("digest"), "does not match its digest"),
        (lambda r: r.update(schema="nnbench.cell/1"), "schema is 'nnbench.cell/1'"),
    ],
)
def test_an_edit_is_detected(tmp_path, change, match):
    path = cell_file(tmp_path)
    _edit(path, change)
    with pytest.raises(ResultFileError, match=match) as err:
        read_cell(path)
    assert err.value.path == str(path) and "--forcerun" in err.value.fix


@pytest.mark.parametrize(
    "bad_run,match",
    [
        (run(1, test_accuracy=7.5), "test_accuracy 7.5 is outside"),
        (run(1, train_accuracy=-0.1), "train_accuracy -0.1 is outside"),
        (run(1, train_accuracy=None), "train_accuracy None is not a finite number"),
        (run(1, train_cost=-1.0), "train_cost -1.0 is negative"),
        (run(1, "diverged", test_accuracy=0.5), "a diverged run with test_accuracy"),
        (run(1, status="maybe"), "status 'maybe'"),
        (run(-1), "seed -1"),
        ({**run(1), "seed": True}, "seed True"),
        (run(1, seconds=-1.0), "seconds -1.0"),
        (run(1, spec={"seed": 7}), "its spec says seed 7"),
        (run(0), r"seed\(s\) \[0\] appear more than once"),
    ],
)
def test_values_out_of_range_are_refused_even_with_a_valid_digest(tmp_path, bad_run, match):
    """An edit that recomputes the digest (or a bug in a writer) still cannot put impossible values in."""
    path = tmp_path / "runs/circles/he/none/adam.json"
    record = cell_record(CELL, "h", [run(0), bad_run])
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(record, allow_nan=True))
    with pytest.raises(ResultFileError, match=match):
        read_cell(path)


def test_nan_in_a_cell_file_is_refused(tmp_path):
    path = cell_file(tmp_path)
    path.write_text(path.read_text().replace('"seconds": 0.1', '"seconds": NaN', 1))
    with pytest.raises(ResultFileError, match="NaN is not a JSON number"):
        read_cell(path)


def test_a_copied_cell_is_refused_by_its_path_and_by_its_labels(tmp_path):
    src = cell_file(tmp_path)
    copy = src.with_name("gd.json")
    copy.write_bytes(src.read_bytes())
    with pytest.raises(ResultFileError, match="holds the cell .*opt=adam, not .*opt=gd"):
        read_cell(copy, from_path=True)
    with pytest.raises(ResultFileError, match="not opt=gd"):
        read_cell(src, expect={"opt": "gd"})
    with pytest.raises(ResultFileError, match="holds the same cell as"):
        read_cells([src, copy])


def test_config_hash_and_seeds_are_checked_when_given(tmp_path):
    path = cell_file(tmp_path)
    with pytest.raises(ResultFileError, match="made from another config"):
        read_cell(path, config_hash="0" * 64)
    with pytest.raises(ResultFileError, match=r"holds seeds \[0, 1\], the config asks for \[0, 1, 2\]"):
        read_cell(path, seeds=[0, 1, 2])


@pytest.mark.parametrize(
    "damage,match",
    [
        (lambda b: b[: len(b) // 2], "truncated"),
        (lambda b: b"", "truncated"),
        (lambda b: b"\xff\xfe" + b, "unreadable"),
        (lambda b: b"[1, 2]", "is not a cell record"),
        (lambda b: b.replace(b"{", b"<", 1), "not valid JSON"),
    ],
)
def test_a_damaged_file_is_refused_naming_it(tmp_path, damage, match):
    path = cell_file(tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ResultFileError, match=match) as err:
        read_cell(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_a_missing_cell_file(tmp_path):
    with pytest.raises(ResultFileError, match="missing"):
        read_cell(tmp_path / "runs/a/b/c/d.json")


@pytest.mark.parametrize("text", ["foo", "dataset=", "=x", "dataset=a,dataset=b", ""])
def test_cell_labels_refuse_anything_but_name_value_pairs(text):
    with pytest.raises(ValueError, match="--cell"):
        cell_labels(text)
    assert cell_labels("dataset=circles,opt=adam") == {"dataset": "circles", "opt": "adam"}


# ------------------------------------------------------------------------------------------- points


@pytest.fixture
def points(tmp_path):
    path = tmp_path / "results/points/circles.npz"
    data.save_points(path, "circles", {"n_samples": 40})
    return path


def test_points_read_back(points):
    assert data.read_points(points, "circles", {"n_samples": 40}).X.shape == (40, 2)


def _flip_in_member(path):
    """Flip one byte of the compressed/stored data of the first member: the CRC no longer matches."""
    with zipfile.ZipFile(path) as z:
        info = z.infolist()[-1]
    raw = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(p.read_bytes()[:100]),
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) - 30]),
        lambda p: p.write_bytes(b"garbage" * 10),
        lambda p: p.write_bytes(b""),
        _flip_in_member,
    ],
    ids=["head", "tail", "garbage", "empty", "bitflip"],
)
def test_damaged_points_are_refused_with_the_command_that_remakes_them(points, damage):
    damage(points)
    with pytest.raises(ResultFileError, match="damaged") as err:
        data.read_points(points, "circles", {"n_samples": 40})
    assert str(points) in str(err.value)
    assert f"--forcerun {points.as_posix()}" in str(err.value)


def test_points_of_another_data_set_are_refused(points):
    with pytest.raises(ResultFileError, match="holds .*n_samples.: 40"):
        data.read_points(points, "circles", {"n_samples": 41})


def test_an_npz_without_the_arrays_is_refused(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, _key=np.array(data._points_key("circles", data.check_options("circles", {}))))
    with pytest.raises(ResultFileError, match="does not hold a data set's arrays"):
        data.read_points(path, "circles", {})
    assert read_points_file(path).keys() == {"_key"}


# ------------------------------------------------------------------------------------------- tables


@pytest.mark.parametrize(
    "text,match",
    [
        ("garbage\n\x00\x01\n", "lacks the column"),
        ("dataset,seed\ncircles,zero\n", "line 2, column seed: 'zero' is not a number"),
        ("", "not a readable CSV"),
        ('dataset,seed\n"circles,1\n', "not a readable CSV|lacks"),
    ],
)
def test_a_damaged_table_is_refused_naming_it(tmp_path, text, match):
    path = tmp_path / "runs.csv"
    path.write_text(text)
    with pytest.raises(ResultFileError, match=match) as err:
        read_table(path, {"dataset": "str", "seed": "number"})
    assert str(err.value).startswith(str(path))


def test_a_good_table_has_its_types(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("dataset,seed,x\ncircles,1,a\n,2,b\n")
    df = read_table(path, {"dataset": "str", "seed": "number"})
    assert df["seed"].tolist() == [1, 2] and df["dataset"].tolist() == ["circles", ""]
