"""Tuning at equal budget (nnbench.tuning): the quasi-random points and their scale, the nested choice per
budget, the seeds' separation, time to target, the trainer's monitor, and one problem's record."""

import copy
import json
import math

import numpy as np
import pytest

from nnbench import tuned_tables, tuning
from nnbench.registry import SpecError
from nnbench.results import ResultFileError
from nnbench.spec import RunSpec
from nnbench.trainer import run

CONFIG = {
    "datasets": ["circles"],
    "inits": ["he"],
    "regs": ["none"],
    "optimizers": ["gd", "adam"],
    "definitions": {
        "datasets": {
            "circles": {
                "dataset": "circles",
                "dataset_options": {"n_samples": 120, "noise": 0.05},
                "hidden": [6, 4],
                "epochs": 12,
            }
        },
        "optimizers": {
            "gd": {"optimizer": "sgd", "lr": 0.5, "batch_size": None},
            "adam": {"optimizer": "adam", "lr": 0.01, "batch_size": 32},
        },
    },
    "tuning": {
        "enabled": True,
        "budgets": [1, 2, 3],
        "space": {"gd": {"lr": [0.01, 5.0]}, "adam": {"lr": [1e-4, 0.1], "beta1": [-3, -0.5]}},
        "tuning_seeds": [100],
        "eval_seeds": [0, 1],
        "eval_every": 4,
        "targets": {"circles": 0.8},
    },
}


def with_tuning(**changes):
    c = copy.deepcopy(CONFIG)
    c["tuning"].update(changes)
    return c


# ---------------------------------------------------------------------------------------------- points


def test_unit_points_nested_in_the_unit_cube_and_reproducible():
    a, b = tuning.unit_points("sobol", 7, 3, seed=5), tuning.unit_points("sobol", 3, 3, seed=5)
    assert a.shape == (7, 3) and ((a >= 0) & (a < 1)).all()
    np.testing.assert_array_equal(a[:3], b)
    assert not np.array_equal(a, tuning.unit_points("sobol", 7, 3, seed=6))
    assert not np.array_equal(a, tuning.unit_points("halton", 7, 3, seed=5))


def test_to_space_log_scale_for_lr_and_one_minus_ten_to_r_for_beta():
    space = {"lr": [1e-4, 1.0], "beta1": [-3.0, -1.0], "weight_decay": [1e-3, 1e-1]}
    lo = tuning.to_space(np.array([0.0, 0.0, 0.0]), space)
    mid = tuning.to_space(np.array([0.5, 0.5, 0.5]), space)
    assert lo == pytest.approx({"lr": 1e-4, "beta1": 0.999, "weight_decay": 1e-3})
    assert mid == pytest.approx({"lr": 1e-2, "beta1": 1 - 10**-2, "weight_decay": 1e-2})


def test_every_optimizer_gets_the_same_unit_points():
    s = tuning.settings_of(CONFIG)
    u = tuning.unit_points(s["method"], 2, tuning.dims(s), s["qmc_seed"])
    gd = [tuning.to_space(row, s["space"]["gd"])["lr"] for row in u]
    adam = [tuning.to_space(row, s["space"]["adam"])["lr"] for row in u]
    # the same column-0 coordinate, on each optimizer's own lr range
    to_u = lambda x, lo, hi: (math.log10(x) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))  # noqa: E731
    assert [to_u(x, 0.01, 5.0) for x in gd] == pytest.approx([to_u(x, 1e-4, 0.1) for x in adam])


# ---------------------------------------------------------------------------------------------- choice


def test_choice_is_nested_and_ties_go_to_the_lowest_trial():
    assert tuning.choose([0.5, 0.7, 0.7, 0.9], [1, 2, 3, 4]) == {1: 0, 2: 1, 3: 1, 4: 3}
    assert tuning.choose([0.6, math.nan, 0.6], [1, 3]) == {1: 0, 3: 0}
    with pytest.raises(ValueError, match="3 trial scores"):
        tuning.choose([0.1, 0.2, 0.3], [1, 8])


def test_a_diverged_tuning_run_counts_zero():
    runs = [{"status": "ok", "val_accuracy": 0.9}, {"status": "diverged", "val_accuracy": None}]
    assert tuning.score(runs) == pytest.approx(0.45)


# ---------------------------------------------------------------------------------------------- settings


def test_overlapping_seeds_are_refused_naming_both_lists():
    with pytest.raises(SpecError) as err:
        tuning.settings_of(with_tuning(tuning_seeds=[3, 7], eval_seeds=[0, 1, 2, 3]))
    assert "[3, 7]" in str(err.value) and "[0, 1, 2, 3]" in str(err.value) and "tuning.eval_seeds" in str(err.value)


@pytest.mark.parametrize(
    "changes, where",
    [
        ({"budgets": [2, 4]}, "tuning.budgets"),
        ({"budgets": [1, 4, 4]}, "tuning.budgets"),
        ({"method": "grid"}, "tuning.method"),
        ({"targets": {}}, "tuning.targets.circles"),
        ({"val_fraction": 0}, "tuning.val_fraction"),
        ({"space": {"gd": {"lr": [0.01, 5.0]}}, "optimizers": ["gd", "adam"]}, "tuning.space"),
        ({"space": {"momentum": {"lr": [0.01, 5.0]}}}, "tuning.space"),
        ({"space": {"gd": {"lr": [0, 5.0]}, "adam": {"lr": [1e-4, 0.1]}}}, "tuning.space.gd.lr"),
        ({"space": {"gd": {"lr": [0.1, 5.0]}, "adam": {"beta1": [-3, 1]}}}, "tuning.space.adam.beta1"),
        ({"datasets": ["moons"]}, "tuning.datasets"),
        ({"tau_max": 1}, "tuning.tau_max"),
        ({"bogus": 1}, "tuning"),
    ],
)
def test_bad_settings_are_refused_by_name(changes, where):
    with pytest.raises(SpecError) as err:
        tuning.settings_of(with_tuning(**changes))
    assert str(err.value).startswith(where)


def test_optimizers_not_listed_are_the_grids_with_a_search_space():
    s = tuning.settings_of(with_tuning(space={"adam": {"lr": [1e-4, 0.1]}}))
    assert s["optimizers"] == ["adam"]  # gd has no space: left out, not refused
    assert tuning.settings_of(with_tuning(budgets=[1], space={}))["optimizers"] == ["gd", "adam"]  # no search


def test_training_needs_no_targets_the_tables_do():
    s = tuning.settings_of(with_tuning(targets={}, tau_max=0), scoring=False)
    assert s["budgets"] == [1, 2, 3]
    with pytest.raises(SpecError, match="tuning.tau_max"):
        tuning.settings_of(with_tuning(tau_max=0))


def test_a_hyper_parameter_the_optimizer_does_not_take_is_refused_before_any_job():
    bad = with_tuning(space={"gd": {"lr": [0.01, 5.0], "beta": [-3, -1]}, "adam": {"lr": [1e-4, 0.1]}})
    with pytest.raises(SpecError, match="tuning.space.gd"):
        tuning.check_config(bad)
    tuning.check_config(CONFIG)  # the good one passes


def test_a_slice_outside_the_grid_means_no_tuning():
    assert tuning.enabled(CONFIG)
    assert not tuning.enabled(with_tuning(datasets=["moons"]))
    assert not tuning.enabled(with_tuning(enabled=False))
    tuning.check_config(with_tuning(datasets=["moons"]))  # nothing to check


def test_the_grid_slice_defaults_to_the_whole_grid_and_keeps_only_grid_names():
    s = tuning.settings_of(CONFIG)
    assert tuning.problems(s) == [("circles", "he", "none")] and s["optimizers"] == ["gd", "adam"]
    s = tuning.settings_of(with_tuning(datasets=["moons", "circles"], optimizers=["adam", "rmsprop"]))
    assert s["datasets"] == ["circles"] and s["optimizers"] == ["adam"]


# ---------------------------------------------------------------------------------------------- time to target


def test_time_to_target_first_record_reaching_it_else_inf():
    monitor = {"epochs": [5, 10, 15], "val_accuracy": [0.5, 0.91, 0.95], "seconds": [0.1, 0.2, 0.3]}
    assert tuning.time_to_target(monitor, 0.9) == (10.0, 0.2)
    assert tuning.time_to_target(monitor, 0.99) == (math.inf, math.inf)
    diverged = {"epochs": [5, 10], "val_accuracy": [0.5, None], "seconds": [0.1, 0.2]}
    assert tuning.time_to_target(diverged, 0.4) == (5.0, 0.1)
    assert tuning.time_to_target(diverged, 0.9) == (math.inf, math.inf)
    assert tuning.time_to_target(None, 0.1) == (math.inf, math.inf)


# ---------------------------------------------------------------------------------------------- the monitor

SPEC = dict(dataset="circles", dataset_options={"n_samples": 120, "val_fraction": 0.2}, hidden=(6, 4), epochs=11)


@pytest.mark.parametrize(
    "fields", [dict(optimizer="adam", lr=0.01, batch_size=16, keep_prob=0.8), dict(optimizer="sgd", batchnorm=True)]
)
def test_the_monitor_changes_no_training_number(fields):
    spec = RunSpec(**SPEC, **fields)
    plain, watched = run(spec, [0, 1]), run(spec, [0, 1], monitor_every=4)
    for a, b in zip(plain, watched):
        monitor = b.pop("monitor")
        a.pop("seconds"), b.pop("seconds")
        assert json.dumps(a) == json.dumps(b)
        assert monitor["epochs"] == [4, 8, 11]
        assert all(0 <= x <= 1 for x in monitor["val_accuracy"])
        assert monitor["seconds"] == sorted(monitor["seconds"]) and monitor["seconds"][0] >= 0
    assert watched[0]["val_accuracy"] == monitor_last(run(spec, [0], monitor_every=11)[0])


def monitor_last(result):
    return result["monitor"]["val_accuracy"][-1]


@pytest.mark.parametrize(
    "optimizer, hps",
    [
        (
            "adamw",
            [
                dict(lr=0.01, optimizer_options={"beta1": 0.9}),
                dict(lr=0.05, optimizer_options={"beta1": 0.7, "weight_decay": 0.1}),
            ],
        ),
        ("nesterov", [dict(lr=0.1, optimizer_options={"beta": 0.9}), dict(lr=0.3, optimizer_options={"beta": 0.5})]),
        ("sgd", [dict(lr=0.5), dict(lr=0.05), dict(lr=500.0)]),
    ],
)
def test_trials_on_the_run_axis_equal_trials_trained_alone(optimizer, hps):
    variants = [RunSpec(**SPEC, optimizer=optimizer, batch_size=16, keep_prob=0.8, **hp) for hp in hps]
    together = run(variants[0], [7] * len(hps), monitor_every=4, variants=variants)
    for spec, t in zip(variants, together):
        (alone,) = run(spec, [7], monitor_every=4)
        for r in (alone, t):
            r.pop("seconds"), r["monitor"].pop("seconds"), r.pop("boundary")  # the boundary: the first run's only
        assert json.dumps(alone) == json.dumps(t)


def test_variants_may_differ_only_in_the_optimizer_fields():
    with pytest.raises(ValueError, match=r"variant 1 differs from the spec in \['hidden', 'batch_size'\]"):
        run(RunSpec(**SPEC), [0, 1], variants=[RunSpec(**SPEC), RunSpec(**{**SPEC, "hidden": (3,)}, batch_size=8)])
    with pytest.raises(ValueError, match="2 variants for 1 seeds"):
        run(RunSpec(**SPEC), [0], variants=[RunSpec(**SPEC), RunSpec(**SPEC)])


def test_a_diverged_run_has_no_accuracy_from_its_divergence_on():
    spec = RunSpec(
        **{**SPEC, "hidden": (10, 5), "epochs": 120}, activation="leaky_relu", init="large", lr=0.6, optimizer="sgd"
    )
    results = run(spec, list(range(8)), monitor_every=2)
    late = [r for r in results if r["status"] == "diverged" and r["diverged_epoch"] > 3]
    assert late and any(r["status"] == "ok" for r in results)
    for result in late:
        epochs, acc = result["monitor"]["epochs"], result["monitor"]["val_accuracy"]
        assert all(a is None for e, a in zip(epochs, acc) if e > result["diverged_epoch"])
        assert acc[0] is not None
    result = late[0]
    assert tuning.time_to_target(result["monitor"], 1.0) == (math.inf, math.inf)


def test_the_monitor_needs_a_validation_split():
    spec = RunSpec(dataset="circles", dataset_options={"n_samples": 80}, hidden=(4,), epochs=2)
    with pytest.raises(ValueError, match="val_fraction"):
        run(spec, [0], monitor_every=1)


# ---------------------------------------------------------------------------------------------- one problem


@pytest.fixture(scope="module")
def record():
    return tuning.tune_problem(CONFIG, ("circles", "he", "none"), log=lambda *a: None)


def test_a_problem_record_trials_choices_and_evaluation(record):
    for opt, cell in record["cells"].items():
        assert [t["trial"] for t in cell["trials"]] == [0, 1, 2]
        assert cell["trials"][0]["hp"]["lr"] == CONFIG["definitions"]["optimizers"][opt]["lr"]  # budget 1: defaults
        assert cell["chosen"]["1"] == 0
        scores = [t["score"] for t in cell["trials"]]
        assert cell["chosen"]["3"] == int(np.argmax(scores))
        assert set(cell["eval"]) == {str(t) for t in cell["chosen"].values()}
        for runs in cell["eval"].values():
            assert [r["seed"] for r in runs] == [0, 1]
        for t in cell["trials"]:  # the test split is not read while tuning
            assert all("test_accuracy" not in r for r in t["runs"])
            assert [r["seed"] for r in t["runs"]] == [100]
    assert record["cells"]["adam"]["trials"][0]["hp"]["beta1"] == 0.9


def test_a_damaged_record_is_named(record, tmp_path):
    from nnbench.io import write_json_atomic

    path = tmp_path / "circles" / "he" / "none.json"
    write_json_atomic(path, record)
    assert tuning.read_tuning(path, ("circles", "he", "none")) == record
    path.write_text(path.read_text().replace('"score":', '"score": ', 1))  # whitespace: the same content
    tuning.read_tuning(path)
    text = path.read_text()
    path.write_text(text.replace('"trial":1', '"trial":5', 1))
    with pytest.raises(ResultFileError, match="digest"):
        tuning.read_tuning(path)
    path.write_text(text[:100])
    with pytest.raises(ResultFileError, match="none.json"):
        tuning.read_tuning(path)
    write_json_atomic(path, record)
    with pytest.raises(ResultFileError, match="another config"):
        tuned_tables.read_records(with_tuning(qmc_seed=9), tmp_path)


def test_the_command_line_names_a_damaged_record(record, tmp_path, capsys):
    from nnbench.io import write_json_atomic
    from nnbench.tune import main

    config = tmp_path / "config.json"
    config.write_text(json.dumps(CONFIG))
    path = tmp_path / "tuning" / "circles" / "he" / "none.json"
    write_json_atomic(path, record)
    args = ["tables", "--config-json", str(config), "--in-dir", str(tmp_path / "tuning"), "--out-dir", str(tmp_path)]
    assert main(args) == 0 and (tmp_path / "tuning_scores.csv").is_file()
    path.write_text(path.read_text().replace('"status":"ok"', '"status":"diverged"', 1))
    assert main(args) == 2
    assert "none.json: content does not match its digest" in capsys.readouterr().err
    bad = ["train", "--config-json", str(config), "--problem", "moons/he/none", "--out", str(tmp_path / "x.json")]
    assert main(bad) == 2
    assert "--problem" in capsys.readouterr().err and not (tmp_path / "x.json").exists()


def test_tables_from_a_record(record, tmp_path):
    from nnbench.io import write_json_atomic

    write_json_atomic(tmp_path / "circles" / "he" / "none.json", record)
    tables = tuned_tables.build(CONFIG, tuned_tables.read_records(CONFIG, tmp_path))
    assert len(tables["tuned_runs"]) == 2 * 3
    assert tables["tuned_runs"]["budget"].tolist() == [1, 2, 3] * 2
    assert len(tables["tuned_summary"]) == 2 * 3  # cells x budgets
    assert len(tables["time_to_target"]) == 2 * 3 * 2  # cells x budgets x eval seeds
    ttt = tables["time_to_target"]
    assert (ttt["epochs_to_target"].isin([4, 8, 12]) | np.isinf(ttt["epochs_to_target"])).all()
    assert ttt[["epochs_to_target", "seconds_to_target"]].notna().all().all()
    scores = tables["tuning_scores"]
    assert set(scores["metric"]) == {"epochs", "seconds"} and scores["score"].between(0, 1).all()
    tuned_tables.write(tables, tmp_path / "tables")
    assert (tmp_path / "tables" / "performance_profiles.csv").read_text().startswith("metric,method,tau,rho")


# ---------------------------------------------------------------------------------------------- the report


def test_the_report_section_from_the_tables(record, tmp_path):
    from nnbench.io import write_json_atomic
    from nnbench.report.inputs import ReportInputs
    from nnbench.report.sections.fair import fair_section

    write_json_atomic(tmp_path / "tuning" / "circles" / "he" / "none.json", record)
    tables = tuned_tables.build(CONFIG, tuned_tables.read_records(CONFIG, tmp_path / "tuning"))
    tuned_tables.write(tables, tmp_path / "tables")
    inputs = ReportInputs(results=tmp_path, tables=tmp_path / "tables", config=CONFIG)
    fair = fair_section(inputs)
    assert fair["budgets"] == [1, 2, 3] and fair["opts"] == ["gd", "adam"]
    (seed_table,) = fair["seed_tables"]
    assert [r["label"] for r in seed_table["rows"]] == ["he, budget 1", "he, budget 2", "he, budget 3"]  # no grid here
    assert seed_table["rows"][0]["cells"][0]["hp"].startswith("trial 0: α 0.5")
    (ranking,) = fair["rankings"]
    assert [b["budget"] for b in ranking["budgets"]] == [1, 2, 3]
    assert ranking["keys"] == {"dataset": "circles", "init": "he", "reg": "none"}  # the report's filter reads them
    assert {x["opt"] for x in ranking["budgets"][0]["order"]} == {"gd", "adam"}
    assert ranking["budgets"][0]["order"][0]["verdict"] == "best"
    figures = [task.render() for task in fair["tasks"]]
    assert [f.name for f in figures] == ["fair_profiles", "fair_sensitivity"]
    assert fair_section(ReportInputs(results=tmp_path, tables=tmp_path / "tables", config={})) is None  # disabled


@pytest.mark.slow
def test_the_ci_slice_through_the_workflow(tmp_path):
    """config/ci.yaml's tuning slice through Snakemake: the five tables' shapes and the report's section."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import pandas as pd
    import yaml

    root = Path(__file__).resolve().parents[1]
    shutil.copy(root / "Snakefile", tmp_path / "Snakefile")
    for name in ("workflow", "config"):
        shutil.copytree(root / name, tmp_path / name)
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", "config/ci.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    config = yaml.safe_load((root / "config" / "config.yaml").read_text())
    for key, value in yaml.safe_load((root / "config" / "ci.yaml").read_text()).items():  # as Snakemake merges
        config[key] = {**config[key], **value} if isinstance(value, dict) and key in config else value
    s = tuning.settings_of(config)
    cells = len(tuning.problems(s)) * len(s["optimizers"])
    budgets, seeds = s["budgets"], s["eval_seeds"]
    read = lambda name: pd.read_csv(tmp_path / "results" / "tables" / f"{name}.csv")  # noqa: E731
    assert len(read("tuned_runs")) == cells * budgets[-1]
    assert len(read("tuned_summary")) == cells * len(budgets)
    ttt = read("time_to_target")
    assert len(ttt) == cells * len(budgets) * len(seeds)
    assert ttt[["epochs_to_target", "seconds_to_target"]].notna().all().all()  # never missing: inf
    profiles = read("performance_profiles")
    assert set(profiles["metric"]) == {"epochs", "seconds"} and set(profiles["method"]) == set(s["optimizers"])
    assert profiles["rho"].between(0, 1).all()
    scores = read("tuning_scores")
    assert len(scores) == 2 * len(s["optimizers"]) and scores["score"].between(0, 1).all()
    html = (tmp_path / "reports" / "report.html").read_text()
    assert '<section id="fair">' in html and 'id="fig-fair_profiles"' in html and 'id="fig-fair_sensitivity"' in html
    fair = html[html.index('<section id="fair">') :]
    # the report's filter bar reaches the section: rows and tables say their data set, init, reg; columns their key
    assert '<table class="fair-seed" data-dataset="circles" data-reg="none">' in fair
    assert '<tr data-dataset="breast_cancer" data-init="he" data-reg="dropout">' in fair
    assert '<th data-key="opt">Optimizer</th>' in fair


def test_the_cost_prediction_adds_up_the_fits():
    """benchmarks/predict_tuning.py: trials = one fit of B x R_t runs, evaluations between 1 and len(budgets)
    fits of R_e runs, plus a fixed cost per job."""
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parents[1] / "benchmarks"
    sys.path.insert(0, str(bench))
    try:
        from bench_scaling import predict_per_run
        from predict_tuning import predict
    finally:
        sys.path.remove(str(bench))
    coef = [1e-4, 0.0, 1e-8, 1e-9, 0.0]
    out = predict(CONFIG, coef, job_seconds=2.0, calibration={"plain": 2.0, "dropout": 3.0, "batchnorm": 4.0})
    s = tuning.settings_of(CONFIG)
    m_fit, budget = 120 - 30 - 24, 3  # 120 examples, a quarter for the test, 0.2 for validation
    expected_low = expected_high = 2.0
    for opt, batch in (("gd", m_fit), ("adam", 32)):
        one = lambda runs: predict_per_run(coef, (2, 6, 4, 1), m_fit, runs, 12, batch) * runs  # noqa: E731
        expected_low += one(budget) + one(2)
        expected_high += one(budget) + len(s["budgets"]) * one(2)
    assert out["cpu_seconds_low"] == pytest.approx(expected_low)
    assert out["cpu_seconds_high"] == pytest.approx(expected_high)
    assert out["calibrated_cpu_seconds_high"] == pytest.approx(2.0 * expected_high)
