"""nnbench.tables on hand-made cell files (contract 2 of docs/design.md)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from nnbench import stats, tables
from nnbench.results import cell_record

HIDDEN = [10, 5]  # -> "3-layer NN"


def make_run(seed, status="ok", train=None, test=None, *, epochs=50):
    ok = status == "ok"
    return {
        "schema": "nnbench.result/1",
        "spec": {"dataset": "x", "hidden": HIDDEN, "epochs": epochs, "seed": seed},
        "seed": seed,
        "status": status,
        "diverged_epoch": None if ok else 7,
        "epochs_run": epochs if ok else 8,
        # a diverged record carries no accuracies (nnbench.results refuses one that does)
        "train_accuracy": train if ok else None,
        "val_accuracy": None,
        "test_accuracy": test if ok else None,
        "train_cost": 0.1 if ok else None,
        "test_cost": 0.2 if ok else None,
        "cost_curve": [0.7, 0.3, 0.1] if ok else [0.7, 5.0],
        "curve_every": 1,
        "seconds": 0.5,
        "boundary": None,
        "versions": {"nnbench": "0.1.0"},
    }


def write_cell(root, dataset, init, reg, opt, runs):
    path = root / dataset / init / reg / f"{opt}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    cell = cell_record(
        {"dataset": dataset, "init": init, "reg": reg, "opt": opt}, f"hash-{dataset}-{init}-{reg}-{opt}", runs
    )
    path.write_text(json.dumps(cell))
    return path


# (init, opt) -> runs; all on data set "circles", regularizer "none"
CELLS = {
    ("he", "adam"): [make_run(0, "ok", 1.0, 1.0), make_run(1, "ok", 1.0, 0.98), make_run(2, "ok", 0.97, 0.99)],
    ("zeros", "adam"): [make_run(0, "ok", 0.5, 0.5), make_run(1, "ok", 0.5, 0.48), make_run(2, "ok", 0.5, 0.52)],
    ("zeros", "gd"): [make_run(0, "ok", 0.5, 0.5), make_run(1, "ok", 0.5, 0.5), make_run(2, "ok", 0.5, 0.5)],
    ("large", "gd"): [make_run(0, "ok", 0.9, 0.8), make_run(1, "ok", 0.8, 0.9), make_run(2, "diverged")],
    ("large", "adam"): [make_run(0, "diverged"), make_run(1, "diverged"), make_run(2, "diverged")],
    ("xavier", "gd"): [make_run(0, "ok", 0.99, 0.85), make_run(1, "ok", 0.99, 0.87), make_run(2, "ok", 0.99, 0.86)],
    ("xavier", "adam"): [make_run(0, "ok", 0.55, 0.52), make_run(1, "diverged"), make_run(2, "diverged")],
    ("he", "gd"): [make_run(0, "ok", 0.8, 0.8), make_run(1, "ok", 0.8, 0.78), make_run(2, "ok", 0.8, 0.79)],
}  # fmt: skip


@pytest.fixture
def cells(tmp_path):
    root = tmp_path / "runs"
    paths = [write_cell(root, "circles", init, "none", opt, runs) for (init, opt), runs in CELLS.items()]
    # a second regularizer, so the markdown has two blocks and "best in table" is per regularizer
    paths.append(write_cell(root, "circles", "he", "l2", "adam", [make_run(s, "ok", 0.95, 0.9) for s in range(3)]))
    return root, paths


@pytest.fixture
def runs(cells):
    return tables.read_runs(cells[1])


@pytest.fixture
def summary(runs):
    return tables.summarize(runs).set_index(["init", "reg", "opt"])


def test_runs_columns_and_rows(runs):
    assert list(runs.columns[: len(tables.RUN_COLUMNS)]) == tables.RUN_COLUMNS
    assert len(runs) == 3 * (len(CELLS) + 1)
    assert set(runs["status"]) == {"ok", "diverged"}
    assert runs["layers"].eq(3).all()


def test_diverged_runs_have_no_accuracies(runs):
    div = runs[runs["status"] == "diverged"]
    assert len(div) == 1 + 3 + 2
    for col in ("train_acc", "val_acc", "test_acc", "train_cost", "test_cost"):
        assert div[col].isna().all(), col
    assert (div["final_cost"] == 5.0).all()  # the last (finite) cost of the partial curve
    assert div["diverged_epoch"].eq(7).all()
    ok = runs[runs["status"] == "ok"]
    assert ok[["train_acc", "test_acc"]].notna().all().all()
    assert ok["final_cost"].eq(0.1).all()


def test_counts(summary):
    row = summary.loc[("large", "none", "gd")]
    assert (row["runs"], row["ok"], row["diverged"]) == (3, 2, 1)
    row = summary.loc[("large", "none", "adam")]
    assert (row["runs"], row["ok"], row["diverged"]) == (3, 0, 3)


def test_means_ignore_diverged(summary):
    row = summary.loc[("large", "none", "gd")]
    assert row["train_mean"] == pytest.approx(0.85)
    assert row["test_mean"] == pytest.approx(0.85)
    assert row["gap_mean"] == pytest.approx(0.0)


def test_confidence_interval_by_hand(summary):
    # test accuracies 1.0, 0.98, 0.99: mean 0.99, sample std 0.01, t(0.975, 2) = 4.302652729911275
    row = summary.loc[("he", "none", "adam")]
    half = 4.302652729911275 * 0.01 / math.sqrt(3)
    assert row["test_mean"] == pytest.approx(0.99)
    assert row["test_std"] == pytest.approx(0.01)
    assert row["test_ci_low"] == pytest.approx(0.99 - half)
    assert row["test_ci_high"] == pytest.approx(0.99 + half)
    # train 1.0, 1.0, 0.97: mean 0.99, std sqrt(((0.01)^2 * 2 + 0.02^2) / 2) = sqrt(0.0003)
    std = math.sqrt(0.0003)
    assert row["train_std"] == pytest.approx(std)
    assert row["train_ci_high"] - row["train_mean"] == pytest.approx(4.302652729911275 * std / math.sqrt(3))


def test_one_ok_run_has_no_spread(summary):
    row = summary.loc[("xavier", "none", "adam")]
    assert row["ok"] == 1
    assert row["test_mean"] == pytest.approx(0.52)
    for col in ("train_std", "train_ci_low", "train_ci_high", "test_std", "test_ci_low", "test_ci_high"):
        assert math.isnan(row[col]), col


def test_all_diverged_cell_is_all_nan(summary):
    row = summary.loc[("large", "none", "adam")]
    stat_cols = [c for c in tables.SUMMARY_COLUMNS if c.startswith(("train_", "test_")) or c == "gap_mean"]
    assert all(math.isnan(row[c]) for c in stat_cols)
    assert row["comment"] == "diverged (3 of 3 runs)"


def test_t_interval_edge_cases():
    assert all(math.isnan(v) for v in tables.t_interval([]))
    mean, std, low, high = tables.t_interval([0.7])
    assert mean == 0.7 and math.isnan(std) and math.isnan(low) and math.isnan(high)
    mean, std, low, high = tables.t_interval([0.5, 0.5])
    assert (mean, std, low, high) == (0.5, 0.0, 0.5, 0.5)


def test_chance_from_zeros_cells(runs):
    # zeros cells' test means: 0.5 and 0.5 -> median 0.5
    assert tables.chance_levels(runs) == {"circles": pytest.approx(0.5)}
    assert tables.chance_levels(runs, {"circles": 0.6}) == {"circles": 0.6}
    no_zeros = runs[runs["init"] != "zeros"]
    assert math.isnan(tables.chance_levels(no_zeros)["circles"])


def test_comments(summary):
    comment = summary["comment"]
    assert comment[("zeros", "none", "adam")] == "fails to break symmetry"
    assert comment[("zeros", "none", "gd")] == "fails to break symmetry"
    assert comment[("he", "none", "adam")] == "best in table"
    assert comment[("he", "l2", "adam")] == "best in table"  # best of its own (regularizer) table
    assert comment[("large", "none", "gd")] == "underfits; diverged (1 of 3 runs)"
    assert comment[("xavier", "none", "gd")] == "overfits"
    assert comment[("xavier", "none", "adam")] == "does not learn; diverged (2 of 3 runs)"
    assert comment[("he", "none", "gd")] == "underfits"


def test_comments_without_chance_level(runs):
    summary = tables.summarize(runs[runs["init"] != "zeros"]).set_index(["init", "reg", "opt"])
    # chance unknown: no "does not learn"; the cell is judged against the best train accuracy only
    assert summary["comment"][("xavier", "none", "adam")] == "underfits; diverged (2 of 3 runs)"


def test_format_accuracy():
    assert tables.format_accuracy(0.99, 0.99 + 0.0123) == "99.0 ± 1.2 %"
    assert tables.format_accuracy(0.52, math.nan) == "52.0 %"
    assert tables.format_accuracy(math.nan, math.nan) == "—"


def test_seed_table_and_markdown(summary):
    flat = summary.reset_index()
    table = tables.seed_table(flat, "circles")
    assert list(table.columns) == tables.SEED_COLUMNS
    assert len(table) == len(CELLS) + 1
    assert list(table["Regularization"].unique()) == ["none", "l2"]
    first = table.iloc[0]
    assert first["Model"] == "3-layer NN with he initialization, adam"
    assert first["Test accuracy"] == f"99.0 ± {100 * 4.302652729911275 * 0.01 / math.sqrt(3):.1f} %"
    assert first["Problem/Comment"] == "best in table"
    md = tables.seed_table_markdown(table, "circles", seeds=3)
    assert md.startswith("# circles")
    assert "over 3 seeds" in md
    assert "## Regularization: none" in md and "## Regularization: l2" in md
    header = next(line for line in md.splitlines() if line.startswith("| Model"))
    assert [h.strip() for h in header.strip("|").split("|")] == tables.SEED_COLUMNS[1:]
    assert "| 3-layer NN with zeros initialization, adam" in md
    assert "fails to break symmetry" in md
    assert "| —" in md  # the all-diverged cell


def test_read_benchmarks(tmp_path):
    bench = tmp_path / "benchmarks"
    (bench / "train" / "circles" / "he" / "none").mkdir(parents=True)
    (bench / "course").mkdir()
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    cell_bench = bench / "train" / "circles" / "he" / "none" / "adam.tsv"
    cell_bench.write_text(header + "1.5\t0:00:01\t80\t1\t1\t1\t0\t0\t50\t1.4\n")
    (bench / "course" / "initialization.tsv").write_text(header + "2.5\t0:00:02\t90\t1\t1\t1\t0\t0\t50\t2.4\n")
    (bench / "tables.tsv").write_text(header + "9\t0:00:09\t90\t1\t1\t1\t0\t0\t50\t9\n")
    df = tables.read_benchmarks(bench)  # no layouts: every file, wildcards as the path
    assert sorted(df["rule"]) == ["course", "tables", "train"]
    assert df.set_index("rule").loc["train", "wildcards"] == "circles/he/none/adam"
    df = tables.read_benchmarks(bench, tables.parse_layouts(["train=dataset,init,reg,opt", "course=experiment"]))
    assert list(df.columns[:3]) == ["rule", "wildcards", "s"]
    by_rule = df.set_index("rule")
    assert sorted(by_rule.index) == ["course", "train"]  # only the rules named
    assert by_rule.loc["train", "wildcards"] == "dataset=circles,init=he,reg=none,opt=adam"
    assert by_rule.loc["course", "wildcards"] == "experiment=initialization"
    assert by_rule.loc["train", "s"] == 1.5
    assert tables.read_benchmarks(tmp_path / "nothing").empty


def test_main_writes_every_table(cells, tmp_path):
    root, _ = cells
    out = tmp_path / "tables"
    bench = tmp_path / "benchmarks"
    (bench / "train").mkdir(parents=True)
    (bench / "train" / "x.tsv").write_text("s\tmax_rss\n0.5\t10\n")
    argv = ["--runs-dir", str(root), "--datasets", "circles", "--inits", "he,zeros", "--regs", "none",
            "--opts", "adam,gd", "--out-dir", str(out),
            "--benchmarks-dir", str(bench), "--benchmarks-out", str(tmp_path / "benchmarks.csv")]  # fmt: skip
    assert tables.main(argv) == 0
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs.columns) == tables.RUN_COLUMNS
    assert len(runs) == 4 * 3
    summary = pd.read_csv(out / "summary.csv", keep_default_na=False, na_values=[""])
    assert list(summary.columns) == tables.SUMMARY_COLUMNS
    cells_in_order = list(zip(summary["init"], summary["opt"]))
    assert cells_in_order == [("he", "adam"), ("he", "gd"), ("zeros", "adam"), ("zeros", "gd")]  # grid order
    assert (out / "circles_init_by_opt.csv").is_file()
    assert (out / "circles_init_by_opt.md").read_text().startswith("# circles")
    ranks = pd.read_csv(out / "cross_dataset_ranks.csv")
    assert list(ranks.columns) == [*stats.CROSS_RANK_COLUMNS, "rank_circles"]
    assert sorted(ranks["rank_circles"]) == sorted(summary["test_mean"].rank(ascending=False, na_option="bottom"))
    assert pd.read_csv(tmp_path / "benchmarks.csv")["rule"].tolist() == ["train"]
    assert not list(out.glob(".*.tmp"))  # no temporary files left behind


def test_main_refuses_missing_cells(cells, tmp_path):
    root, _ = cells
    with pytest.raises(SystemExit) as err:
        tables.main(["--runs-dir", str(root), "--datasets", "circles", "--inits", "nope", "--regs", "none",
                     "--opts", "adam", "--out-dir", str(tmp_path / "t")])  # fmt: skip
    assert err.value.code == 2


def test_main_with_explicit_files(cells, tmp_path):
    _, paths = cells
    assert tables.main([*map(str, paths), "--out-dir", str(tmp_path / "t")]) == 0
    summary = pd.read_csv(tmp_path / "t" / "summary.csv")
    assert len(summary) == len(paths)
    assert np.isnan(summary.set_index(["init", "opt", "reg"]).loc[("large", "adam", "none"), "test_mean"])


def test_write_csv_atomic_replaces(tmp_path):
    path = tmp_path / "a" / "b.csv"
    tables.write_csv_atomic(pd.DataFrame({"x": [1]}), path)
    tables.write_csv_atomic(pd.DataFrame({"x": [2]}), path)
    assert path.read_text() == "x\n2\n"
    assert [p.name for p in path.parent.iterdir()] == ["b.csv"]
