"""The baseline comparison (nnbench.baseline): `nnbench compare --baseline`, the report's section, the workflow's
`--config baseline=DIR`. Real runs of a tiny grid, trained with `nnbench train` three times: the baseline, an
unchanged rerun (must not be flagged) and a planted change (gradient descent's learning rate 0.5 -> 0.001, which
must be flagged, changed and significant)."""

from __future__ import annotations

import copy
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from nnbench import baseline as B
from nnbench import cli, compare
from nnbench import config as C
from nnbench import tables as T
from nnbench.registry import SpecError
from nnbench.results import read_results_runs

ROOT = Path(__file__).resolve().parents[1]
SEEDS = 6
GRID = {
    "datasets": ["moons"],
    "inits": ["he"],
    "regs": ["none", "l2"],
    "optimizers": ["gd", "adam"],
    "seeds": SEEDS,
    "definitions": {
        "datasets": {
            "moons": {
                "dataset": "moons",
                "dataset_options": {"n_samples": 120, "noise": 0.1},
                "hidden": [8],
                "epochs": 60,
            }
        },
        "regs": {"none": {}, "l2": {"l2": 0.1}},
        "optimizers": {
            "gd": {"optimizer": "sgd", "lr": 0.5, "batch_size": None},
            "adam": {"optimizer": "adam", "lr": 0.01, "batch_size": 32},
        },
    },
}
PLANTED = copy.deepcopy(GRID)
PLANTED["definitions"]["optimizers"]["gd"]["lr"] = 0.001  # barely moves in 60 epochs: ~25 points of test accuracy


def train_grid(root: Path, grid: dict) -> Path:
    """Every cell of ``grid`` trained with `nnbench train` into ``root/runs``, then `nnbench tables`."""
    for cell in C.cells(grid):
        out = root / "runs" / Path(*cell[:3]) / f"{cell[3]}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        label = ",".join(f"{k}={v}" for k, v in zip(T.CELL_KEYS, cell))
        spec = json.dumps(C.cell_spec(grid, *cell))
        assert cli.main(["train", "--spec", spec, "--seeds", f"0-{SEEDS - 1}", "--cell", label, "--out", str(out)]) == 0
    axes = [",".join(grid[k]) for k in ("datasets", "inits", "regs", "optimizers")]
    argv = ["--runs-dir", str(root / "runs"), "--datasets", axes[0], "--inits", axes[1], "--regs", axes[2]]
    assert T.main([*argv, "--opts", axes[3], "--out-dir", str(root / "tables")]) == 0
    return root


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("baseline")
    return {
        "base": train_grid(root / "base", GRID),
        "rerun": train_grid(root / "rerun", GRID),
        "planted": train_grid(root / "planted", PLANTED),
    }


def run_compare(capsys, *argv) -> tuple[int, list[str], str]:
    code = compare.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out.splitlines(), out.err


# ----------------------------------------------------------------------------------------------
# the command, on real runs


def test_unchanged_rerun_is_not_flagged(sets, capsys):
    for fail_on in ("changed", "significant"):
        code, lines, _ = run_compare(capsys, "--baseline", sets["base"], sets["rerun"], "--fail-on", fail_on)
        assert code == 0
        assert lines[-1] == (
            f"verdict: cells=4 changed=0 significant=0 diverged=0 only_baseline=0 only_current=0 -> PASS "
            f"(--fail-on {fail_on})"
        )
        assert len(lines) == 2  # the header line and the verdict: no cell moved
    table = B.compare_cells(read_results_runs(sets["base"]), read_results_runs(sets["rerun"]))
    assert (table["verdict"] == "unchanged").all() and not table["changed"].any()
    assert (table["diff"] == 0).all() and (table["n_pairs"] == SEEDS).all() and (table["p_raw"] == 1).all()


def test_planted_change_is_flagged(sets, capsys, tmp_path):
    out = tmp_path / "cmp.csv"
    code, lines, _ = run_compare(capsys, "--baseline", sets["base"], sets["planted"], "--out", out)
    assert code == 1  # default --fail-on changed
    assert lines[-1] == (
        "verdict: cells=4 changed=2 significant=2 diverged=0 only_baseline=0 only_current=0 -> FAIL (--fail-on changed)"
    )
    moved = [line for line in lines[1:-1]]
    assert len(moved) == 2 and all(line.startswith("moons/he/") and "/gd: significant:" in line for line in moved)
    code, lines, _ = run_compare(capsys, "--baseline", sets["base"], sets["planted"], "--fail-on", "significant")
    assert code == 1 and lines[-1].endswith("-> FAIL (--fail-on significant)")
    code, lines, _ = run_compare(capsys, "--baseline", sets["base"], sets["planted"], "--fail-on", "never")
    assert code == 0 and lines[-1].endswith("-> PASS (--fail-on never)")

    table = pd.read_csv(out)
    assert list(table.columns) == B.COLUMNS
    gd, adam = table[table["opt"] == "gd"], table[table["opt"] == "adam"]
    assert (gd["verdict"] == "significant").all() and gd["changed"].all() and (gd["changed_runs"] == SEEDS).all()
    assert (gd["diff"] < -0.1).all() and (gd["p_holm"] < 0.05).all()
    assert (gd["cur_mean"] - gd["base_mean"] - gd["diff"]).abs().max() < 1e-12  # every seed ok: the same mean
    assert (adam["verdict"] == "unchanged").all() and not adam["changed"].any()


def test_current_as_runs_table_gives_the_same_comparison(sets):
    """The report and the workflow read the current runs from tables/runs.csv: the same numbers, bit for bit."""
    base = read_results_runs(sets["base"])
    from_cells = B.compare_cells(base, read_results_runs(sets["planted"]))
    from_table = B.compare_cells(base, read_results_runs(sets["planted"] / "tables" / "runs.csv"))
    pd.testing.assert_frame_equal(from_cells, from_table)  # the files in path order, the table in grid order
    only_tables = B.compare_cells(read_results_runs(sets["base"] / "tables" / "runs.csv"), from_table.iloc[:0])
    assert (only_tables["verdict"] == "only baseline").all()


def test_cells_on_one_side_only_fail_either_way(sets, tmp_path, capsys):
    cur = tmp_path / "cur"
    shutil.copytree(sets["rerun"] / "runs", cur / "runs")
    (cur / "runs" / "moons" / "he" / "l2" / "adam.json").unlink()
    code, lines, _ = run_compare(capsys, "--baseline", sets["base"], cur, "--fail-on", "significant")
    assert code == 1
    assert "changed=0 significant=0 diverged=0 only_baseline=1 only_current=0 -> FAIL" in lines[-1]
    assert lines[1].startswith("moons/he/l2/adam: only baseline:")
    code, lines, _ = run_compare(capsys, "--baseline", cur, sets["base"], "--fail-on", "significant")
    assert code == 1 and "only_baseline=0 only_current=1" in lines[-1]


def test_damaged_or_missing_input_is_an_error(sets, tmp_path, capsys):
    bad = tmp_path / "bad"
    shutil.copytree(sets["rerun"] / "runs", bad / "runs")
    cell = bad / "runs" / "moons" / "he" / "none" / "gd.json"
    text = cell.read_text()
    cell.write_text(text[: len(text) // 2])  # a full disk cut it short
    code, lines, err = run_compare(capsys, "--baseline", sets["base"], bad)
    assert code == 2 and lines == []
    assert f"{cell}: truncated" in err
    flipped = text.replace('"status":"ok"', '"status":"diverged"', 1)  # valid JSON, wrong digest
    cell.write_text(flipped)
    code, _, err = run_compare(capsys, "--baseline", bad, sets["base"])
    assert code == 2 and f"{cell}: content does not match its digest" in err
    code, _, err = run_compare(capsys, "--baseline", tmp_path / "nowhere", sets["base"])
    assert code == 2 and "nowhere: no such folder" in err
    (tmp_path / "empty").mkdir()
    code, _, err = run_compare(capsys, "--baseline", tmp_path / "empty", sets["base"])
    assert code == 2 and "holds neither runs/ (the cell files) nor tables/runs.csv" in err


def test_command_line_forms(sets, capsys):
    with pytest.raises(SystemExit) as exc:
        compare.main(["--baseline", str(sets["base"]), str(sets["rerun"]), str(sets["rerun"])])
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        compare.main([str(sets["base"])])  # the two-folder form needs both
    with pytest.raises(SystemExit):
        compare.main(["--baseline", str(sets["base"]), "--fail-on", "sometimes"])
    # the two-folder form is unchanged
    assert compare.main([str(sets["base"]), str(sets["rerun"])]) == 0
    assert compare.main([str(sets["base"]), str(sets["planted"])]) == 1
    assert "difference(s)" in capsys.readouterr().out


def test_current_defaults_to_results(sets, capsys, monkeypatch, tmp_path):
    shutil.copytree(sets["planted"], tmp_path / "results")
    monkeypatch.chdir(tmp_path)
    code, lines, _ = run_compare(capsys, "--baseline", sets["base"], "--fail-on", "significant")
    assert code == 1 and "vs current results;" in lines[0] and "significant=2" in lines[-1]


# ----------------------------------------------------------------------------------------------
# the statistics, on hand-made runs


def runs(cells: dict) -> pd.DataFrame:
    """{(init, opt): [test_acc or None (diverged), ...] by seed} -> a runs frame of data set d, reg none."""
    rows = []
    for (init, opt), accs in cells.items():
        for seed, acc in enumerate(accs):
            rows.append({
                "dataset": "d", "init": init, "reg": "none", "opt": opt, "seed": seed,
                "status": "ok" if acc is not None else "diverged",
                "test_acc": math.nan if acc is None else acc, "train_acc": math.nan if acc is None else acc,
            })  # fmt: skip
    return pd.DataFrame(rows)


def test_degenerate_pairs_and_diverged_runs():
    base = runs({
        ("a", "x"): [0.8, 0.8, 0.8], ("b", "x"): [0.8, 0.7, 0.9], ("c", "x"): [0.8, 0.7, 0.9],
        ("d", "x"): [0.8], ("e", "x"): [0.8, 0.7, 0.9], ("f", "x"): [0.5, 0.6, 0.7],
    })  # fmt: skip
    cur = runs({
        ("a", "x"): [0.9, 0.9, 0.9],  # the same difference on every seed: p = 0
        ("b", "x"): [0.8, 0.7, 0.9],  # identical: p = 1, unchanged
        ("c", "x"): [0.8, 0.7, 0.9 + 1e-15],  # changed in the last bits only
        ("d", "x"): [0.9],  # one seed: no test
        ("e", "x"): [0.8, None, 0.9],  # a seed now diverges
        ("f", "x"): [0.52, 0.61, 0.68],  # noise-sized changes
    })  # fmt: skip
    t = B.compare_cells(base, cur).set_index("init")
    assert t.loc["a", "p_raw"] == 0 and t.loc["a", "verdict"] == "significant"
    assert math.isclose(t.loc["a", "diff"], 0.1)
    assert t.loc["b", "verdict"] == "unchanged" and t.loc["b", "p_raw"] == 1 and t.loc["b", "changed_runs"] == 0
    assert t.loc["c", "verdict"] == "changed" and t.loc["c", "changed_runs"] == 1 and not t.loc["c", "significant"]
    assert t.loc["d", "verdict"] == "untestable" and math.isnan(t.loc["d", "p_raw"]) and t.loc["d", "n_pairs"] == 1
    assert t.loc["e", "verdict"] == "diverged" and (t.loc["e", "diverged_base"], t.loc["e", "diverged_cur"]) == (0, 1)
    assert t.loc["e", "n_pairs"] == 2 and t.loc["e", "changed_runs"] == 1
    assert t.loc["f", "verdict"] == "changed" and t.loc["f", "p_holm"] >= 0.05
    # Holm over the 4 cells that changed and have >= 2 pairs: not b (bit-identical, p = 1 as is), not d (1 pair)
    tested = ["a", "c", "e", "f"]
    from nnbench.stats import holm

    assert np.allclose(t.loc[tested, "p_holm"], holm(t.loc[tested, "p_raw"].to_numpy()))
    assert t.loc["b", "p_holm"] == 1 and math.isnan(t.loc["d", "p_holm"])
    n = B.counts(t.reset_index())
    assert n == {"cells": 6, "changed": 5, "significant": 1, "diverged": 1, "only_baseline": 0, "only_current": 0}
    assert B.fails(n, "significant") and B.fails(n, "changed") and not B.fails(n, "never")
    assert [r.split(":")[1].strip() for r in B.format_lines(t.reset_index())] == [
        "diverged", "significant", "untestable", "changed", "changed",
    ]  # fmt: skip


def test_fails_rules():
    zero = dict.fromkeys(B.COUNTS, 0)
    assert not B.fails(zero, "changed") and not B.fails(zero, "significant")
    assert B.fails({**zero, "changed": 1}, "changed") and not B.fails({**zero, "changed": 1}, "significant")
    assert B.fails({**zero, "only_current": 1}, "significant")
    with pytest.raises(ValueError, match="--fail-on 'x'"):
        B.fails(zero, "x")
    with pytest.raises(ValueError, match="alpha"):
        B.compare_cells(runs({("a", "x"): [0.5]}), runs({("a", "x"): [0.5]}), alpha=1.5)


def test_baseline_holm_matches_stats():
    """The same test and correction as the report's ranking (nnbench.stats)."""
    from nnbench import stats

    rng = np.random.default_rng(0)
    base = runs({(f"i{k}", "x"): list(rng.uniform(0.6, 0.9, 5)) for k in range(4)})
    cur = base.copy()
    cur["test_acc"] = cur["test_acc"] + rng.normal(0.02, 0.02, len(cur))
    t = B.compare_cells(base, cur)
    expected = [
        stats.paired_pvalue(cur[cur["init"] == i]["test_acc"], base[base["init"] == i]["test_acc"]) for i in t["init"]
    ]
    assert np.allclose(t["p_raw"], expected) and np.allclose(t["p_holm"], stats.holm(expected))


# ----------------------------------------------------------------------------------------------
# the report's section and the config


def test_report_section(sets, tmp_path):
    from nnbench import report

    out, tables_out = tmp_path / "r.html", tmp_path / "tables"
    argv = ["--results", str(sets["planted"]), "--out", str(out), "--no-points", "--tables-out", str(tables_out)]
    assert report.main([*argv, "--baseline", str(sets["base"])]) == 0
    html = out.read_text()
    assert '<section id="baseline">' in html and 'href="#baseline"' in html
    filterable = '<th data-key="dataset">Data set</th><th data-key="init">Init</th><th data-key="reg">Reg</th>'
    assert filterable in html
    assert "changed=2 significant=2 diverged=0 only_baseline=0 only_current=0 -&gt; FAIL (--fail-on changed)" in html
    assert html.count('<tr class="v-significant">') == 4  # the two gd cells, in "moved" and in "every cell"
    written = pd.read_csv(tables_out / "baseline_comparison.csv")
    expected = B.compare_cells(read_results_runs(sets["base"]), read_results_runs(sets["planted"]))
    assert written["verdict"].tolist() == expected["verdict"].tolist()
    assert np.allclose(written["p_holm"], expected["p_holm"])
    # without --baseline: no section, no table
    out2 = tmp_path / "r2.html"
    assert report.main(["--results", str(sets["planted"]), "--out", str(out2), "--no-points"]) == 0
    assert 'id="baseline"' not in out2.read_text()
    # a baseline that is not a results folder: an error naming it
    assert report.main([*argv, "--baseline", str(tmp_path / "nowhere")]) == 2


def test_config_baseline_checked(sets, tmp_path, monkeypatch):
    C.check_baseline(str(sets["base"]))
    C.check_baseline(str(sets["base"] / "tables" / ".."))
    with pytest.raises(SpecError, match=r"baseline = '.*nowhere': no such folder"):
        C.check_baseline(str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpecError, match=r"baseline = .*empty.*holds neither runs/"):
        C.check_baseline(str(tmp_path / "empty"))
    monkeypatch.chdir(sets["base"].parent)
    with pytest.raises(SpecError, match="this run's own results folder"):
        C.check_baseline("base", results="base")


@pytest.mark.slow
def test_workflow_with_baseline(tmp_path):
    """A tiny workflow run, its results copied as the baseline, then `--config baseline=DIR`: the comparison table
    (nothing moved) and the report's section are made, and only the jobs that read the baseline re-run."""
    wf = tmp_path / "wf"
    wf.mkdir()
    shutil.copy(ROOT / "Snakefile", wf / "Snakefile")
    for name in ("workflow", "config"):
        shutil.copytree(ROOT / name, wf / name)
    tiny = {**GRID, "seeds": 3, "studies": yaml.safe_load((ROOT / "config" / "ci.yaml").read_text())["studies"]}
    (wf / "tiny.yaml").write_text(yaml.safe_dump(tiny, sort_keys=False))

    def snakemake(*args):
        return subprocess.run(
            [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", "tiny.yaml", *args],
            cwd=wf,
            capture_output=True,
            text=True,
            timeout=900,
        )

    proc = snakemake()
    assert proc.returncode == 0, proc.stderr[-4000:]
    shutil.copytree(wf / "results", wf / "baseline")
    bad = snakemake("-n", "--config", "baseline=nowhere")
    assert bad.returncode != 0 and "baseline = 'nowhere': no such folder" in bad.stderr + bad.stdout
    proc = snakemake("--config", "baseline=baseline")
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "rule train" not in proc.stderr  # nothing retrained
    table = pd.read_csv(wf / "results" / "tables" / "baseline_comparison.csv")
    assert len(table) == 4 and (table["verdict"] == "unchanged").all()
    html = (wf / "reports" / "report.html").read_text()
    assert "changed=0 significant=0 diverged=0 only_baseline=0 only_current=0 -&gt; PASS" in html
    assert (wf / "reports" / "tables" / "baseline_comparison.csv").is_file()
