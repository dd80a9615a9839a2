"""`nnbench.results.load`: a results folder as tidy DataFrames, read through the verified readers; and the
notebook-style example under docs/examples/ that reproduces the report's heat map from them."""

from __future__ import annotations

import os
import runpy
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nnbench.results import CURVE_COLUMNS, ResultFileError, load
from nnbench.tables import RUN_COLUMNS, SUMMARY_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "explore_results.py"


@pytest.fixture(scope="module")
def results(tmp_path_factory, report_grid):
    root = tmp_path_factory.mktemp("load")
    folder = report_grid.build(root)["results"]
    pd.DataFrame({"depth": [2, 8], "test_acc": [0.9, 0.5]}).to_csv(folder / "tables" / "study_depth.csv", index=False)
    return folder


def test_load_gives_tidy_frames(results, report_grid):
    res = load(results)
    n_cells = len(report_grid.datasets) * len(report_grid.inits) * len(report_grid.regs) * len(report_grid.opts)
    assert list(res.runs.columns) == RUN_COLUMNS and len(res.runs) == n_cells * 3  # 3 seeds
    assert list(res.summary.columns) == SUMMARY_COLUMNS and len(res.summary) == n_cells
    assert res.runs["seed"].dtype == "int64" and res.summary["runs"].dtype == "int64"
    assert set(res.runs["status"]) == {"ok", "diverged"}
    assert res.runs.loc[res.runs["status"] == "diverged", "test_acc"].isna().all()
    # the summary is the table's, and agrees with the runs
    he = res.runs[(res.runs["dataset"] == "circles") & (res.runs["init"] == "he") & (res.runs["reg"] == "none")]
    he = he[he["opt"] == "adam"]
    row = res.summary.set_index(["dataset", "init", "reg", "opt"]).loc[("circles", "he", "none", "adam")]
    assert row["test_mean"] == pytest.approx(he["test_acc"].mean(), abs=1e-12)
    # curves: one row per recorded point of every run, epochs 0, 1, ... (curve_every 1)
    assert list(res.curves.columns) == CURVE_COLUMNS
    assert len(res.curves) == sum(
        len(group) for _, group in res.curves.groupby(["dataset", "init", "reg", "opt", "seed"])
    )
    one = res.curves[
        (res.curves["dataset"] == "circles")
        & (res.curves["init"] == "he")
        & (res.curves["reg"] == "l2")
        & (res.curves["opt"] == "gd")
        & (res.curves["seed"] == 1)
    ]
    assert one["epoch"].tolist() == list(range(50)) and np.isfinite(one["cost"]).all()
    diverged = res.curves[(res.curves["status"] == "diverged")]
    assert diverged.groupby(["dataset", "init", "reg", "opt", "seed"]).size().eq(7).all()  # stops where it diverged
    assert list(res.studies) == ["study_depth"] and res.studies["study_depth"]["depth"].tolist() == [2, 8]
    assert res.folder == results


def test_load_without_summary_or_cell_files(results, tmp_path):
    only_tables = tmp_path / "t"
    shutil.copytree(results / "tables", only_tables / "tables")
    (only_tables / "tables" / "summary.csv").unlink()
    res = load(only_tables)
    full = load(results)
    key = ["dataset", "init", "reg", "opt", "seed"]
    pd.testing.assert_frame_equal(
        res.runs.sort_values(key).reset_index(drop=True), full.runs.sort_values(key).reset_index(drop=True)
    )
    assert res.curves.empty and list(res.curves.columns) == CURVE_COLUMNS
    merged = res.summary.merge(full.summary, on=["dataset", "init", "reg", "opt"], suffixes=("", "_t"))
    assert len(merged) == len(full.summary)
    assert np.allclose(merged["test_mean"], merged["test_mean_t"], equal_nan=True)  # computed = the table's


def test_load_refuses_damage_and_missing_folders(results, tmp_path):
    with pytest.raises(ResultFileError, match="nowhere: no such folder"):
        load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ResultFileError, match="holds neither runs/"):
        load(tmp_path / "empty")
    bad = tmp_path / "bad"
    shutil.copytree(results, bad)
    cell = bad / "runs" / "circles" / "he" / "none" / "gd.json"
    cell.write_text(cell.read_text().replace('"seconds": 0.25', '"seconds": 0.5', 1))
    with pytest.raises(ResultFileError, match="gd.json: content does not match its digest"):
        load(bad)
    cell.unlink()
    (bad / "tables" / "summary.csv").write_text("dataset,init\ncircles,he\n")
    with pytest.raises(ResultFileError, match="summary.csv: lacks the column"):
        load(bad)


def test_example_script_reproduces_the_heat_map(results, tmp_path, monkeypatch):
    png = tmp_path / "heatmap.png"
    monkeypatch.setenv("NNBENCH_RESULTS", str(results))
    monkeypatch.setenv("NNBENCH_FIGURE", str(png))
    ns = runpy.run_path(str(EXAMPLE), run_name="__main__")
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the figure's numbers are the summary's test means (the report's heat map), for the first data set
    summary = load(results).summary
    first = summary[summary["dataset"] == summary["dataset"].iloc[0]]
    for row in first.to_dict("records"):
        drawn = ns["table"].loc[(row["reg"], row["init"]), row["opt"]]
        assert (np.isnan(drawn) and np.isnan(row["test_mean"])) or drawn == row["test_mean"]
    assert os.path.basename(ns["out"]) == "heatmap.png"
