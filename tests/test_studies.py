"""The studies beyond the grid (nnbench.studies): each study on a tiny config, the diagnosis of failing gradient
checks, the command line's exit codes, the findings and the report's Studies section, the config's defaults."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from nnbench.gradcheck import THRESHOLD
from nnbench.initializers import He
from nnbench.losses import targets
from nnbench.network import Network
from nnbench.studies import config_json, depth, findings, gradcheck, main, merged, schedules, search

ROOT = Path(__file__).resolve().parents[1]


def test_gradcheck_table(gc_table, tiny):
    t = gc_table
    assert list(t.columns) == gradcheck.COLUMNS
    inits = t[t["stage"] == "init"]
    trained = t[t["stage"] == "trained"]
    assert len(inits) == 1 * 2 * 4 and len(trained) == 1 * 2 * 4 * 2
    assert set(zip(trained["init"], trained["reg"], trained["opt"])) == {
        (i, r, o) for i in tiny.grid["inits"] for r in tiny.grid["regs"] for o in tiny.grid["optimizers"]
    }
    assert (t["status"] == "pass").all(), t[t["status"] != "pass"]
    assert (t["difference"] < THRESHOLD).all()
    he = t[t["init"] == "he"]
    assert (he["difference"] > 0).all() and (he["grad_norm"] > 0).all()
    # circles' (2, 5, 3, 1) network has 30 parameters (+ γ, β with batch norm): more than 40 → a subset
    assert (t["checked"] <= t["parameters"]).all()
    assert (t.loc[t["parameters"] > 40, "checked"] < t.loc[t["parameters"] > 40, "parameters"]).all()


def test_choose_coords_covers_every_array():
    net = Network((64, 32, 16, 10))
    coords = gradcheck.choose_coords(net.shapes(), 200, np.random.default_rng(0))
    assert set(coords) == set(net.shapes())
    assert all(len(v) >= 1 for v in coords.values())
    assert 180 <= sum(len(v) for v in coords.values()) <= 220
    small = gradcheck.choose_coords(Network((2, 3, 1)).shapes(), 200, np.random.default_rng(0))
    assert sum(len(v) for v in small.values()) == 2 * 3 + 3 + 3 + 1


def _problem(seed=0, sizes=(3, 6, 4, 1), m=8):
    rng = np.random.default_rng(seed)
    net = Network(sizes)
    params = net.init_params(He(), [rng])
    X = rng.standard_normal((1, sizes[0], m))
    Y = targets(rng.integers(0, 2, size=(1, m)), sizes[-1])
    coords = gradcheck.choose_coords(net.shapes(), 1000, rng)
    return net, params, X, Y, coords


@pytest.mark.parametrize(
    "activation, reg, n_out",
    [
        ("relu", {}, 1),
        ("tanh", {"l2": 0.5}, 3),
        ("leaky_relu", {"keep_prob": (0.8, 0.7)}, 3),
        ("relu", {"batchnorm": True}, 1),
    ],
)
def test_stacked_check_equals_check_network_bit_for_bit(activation, reg, n_out, monkeypatch):
    """The study evaluates every ±ε point as one run of a stacked forward pass (in chunks: forced small here);
    the course's check_network perturbs one coordinate at a time. Same differences, same kinks."""
    from nnbench.gradcheck import check_network

    rng = np.random.default_rng(3)
    net = Network((3, 6, 4, n_out), activation=activation, **reg)
    params = net.init_params(He(), [rng])
    m = 8
    X = rng.standard_normal((1, 3, m))
    Y = targets(rng.integers(0, max(n_out, 2), size=(1, m)), n_out)
    masks = [rng.random(s) < k for s, k in net.dropout_shapes(1, m)] if net.has_dropout else None
    coords = gradcheck.choose_coords(net.shapes(), 25, rng)
    g, _ = gradcheck.backprop(net, params, X, Y, masks, coords)
    monkeypatch.setattr(gradcheck.SubsetCost, "BUDGET", 7 * 500)  # chunks of a few runs
    work = {k: np.array(v) for k, v in params.items()}
    train = masks is not None or net.batchnorm

    def cost(sub):  # one point at a time, as the course does
        offset = 0
        for key, idx in coords.items():
            work[key].reshape(-1)[idx] = sub["theta"][offset : offset + len(idx)]
            offset += len(idx)
        Z, cache = net.forward(work, X, train=train, masks=masks)
        return float((net.loss_sum(Z, Y) / m + net.l2_penalty(work, m))[0])

    theta = np.concatenate([params[k].reshape(-1)[idx] for k, idx in coords.items()])
    for eps in (1e-7, 1e-3):
        difference, kinks, approx = gradcheck.check(net, params, X, Y, masks, coords, eps, g)
        assert difference == check_network(
            net, {"theta": theta}, X, Y, masks=masks, eps=eps, grads={"theta": g}, cost=cost
        )
        assert approx.shape == kinks.shape == theta.shape
        if activation == "tanh":
            assert not kinks.any()  # no kink to cross


def test_diagnosis_unexplained_for_a_wrong_backward(monkeypatch):
    net, params, X, Y, coords = _problem()
    original = Network.backward

    def wrong(self, *args, **kwargs):
        grads = original(self, *args, **kwargs)
        grads["W2"] *= 1.5
        return grads

    monkeypatch.setattr(Network, "backward", wrong)
    row = gradcheck.check_row(net, params, X, Y, None, coords, 1e-7, THRESHOLD)
    assert row["status"] == "fail" and row["cause"] == "unexplained"
    assert row["difference"] > 1e-3 and row["difference_10eps"] > 1e-3


def test_diagnosis_roundoff_for_a_too_small_step():
    net, params, X, Y, coords = _problem()
    row = gradcheck.check_row(net, params, X, Y, None, coords, 1e-11, THRESHOLD)
    assert row["status"] == "fail" and row["cause"] == "roundoff" and row["kinks"] == 0
    assert row["difference_10eps"] < row["difference"] / 3
    assert gradcheck.check_row(net, params, X, Y, None, coords, 1e-7, THRESHOLD)["status"] == "pass"


def test_diagnosis_kink_for_an_input_on_a_relu_kink():
    net, params, X, Y, coords = _problem(seed=1)
    # move b1[0] so that unit 0 of layer 1 sits 1e-9 above its kink on example 0: a ±1e-7 step crosses it
    Z = params["W1"][0] @ X[0]
    params["b1"][0, 0, 0] = -Z[0, 0] + 1e-9
    row = gradcheck.check_row(net, params, X, Y, None, coords, 1e-7, THRESHOLD)
    assert row["kinks"] >= 1
    assert row["status"] == "fail" and row["cause"] == "kink", row
    assert row["difference_no_kinks"] <= THRESHOLD


def test_cli_gradcheck_exit_codes(tmp_path, monkeypatch, capsys, tiny):
    config = {**tiny.grid, "studies": {"gradcheck": tiny.gradcheck}}
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(config))
    good = tmp_path / "good.csv"
    assert main(["gradcheck", "--config-json", str(cfg), "--out", str(good)]) == 0
    marker = tmp_path / "verified"
    assert main(["verify", "--table", str(good), "--config-json", str(cfg), "--out", str(marker)]) == 0
    assert marker.is_file()

    original = Network.backward

    def wrong(self, *args, **kwargs):  # a planted bug: every weight gradient doubled
        grads = original(self, *args, **kwargs)
        for key in grads:
            if key.startswith("W"):
                grads[key] *= 2
        return grads

    monkeypatch.setattr(Network, "backward", wrong)
    bad = tmp_path / "bad.csv"
    assert main(["gradcheck", "--config-json", str(cfg), "--out", str(bad)]) == 1
    table = pd.read_csv(bad, keep_default_na=False, na_values=[""])  # written before exiting
    assert len(table) == 24 and (table.loc[table["init"] == "he", "cause"] == "unexplained").all()
    assert "failed" in capsys.readouterr().err
    assert main(["gradcheck", "--no-fail", "--config-json", str(cfg), "--out", str(bad)]) == 0
    monkeypatch.undo()
    marker2 = tmp_path / "verified2"
    assert main(["verify", "--table", str(bad), "--config-json", str(cfg), "--out", str(marker2)]) == 1
    assert not marker2.exists()
    # the strict rule: kinks and round-off fail too (none here, so the good table still passes)
    strict = {**config, "studies": {"gradcheck": {**tiny.gradcheck, "fail_on": list(gradcheck.CAUSES)}}}
    assert main(["verify", "--table", str(good), "--config-json", json.dumps(strict), "--out", str(marker2)]) == 0


def test_settings_refuse_unknown_keys():
    with pytest.raises(ValueError, match="colour"):
        depth.settings_of({"colour": "red"})
    with pytest.raises(ValueError, match="fail_on"):
        gradcheck.settings_of({"fail_on": ["typo"]})
    with pytest.raises(ValueError, match="methods"):
        search.settings_of({"methods": ["grid", "bayes"]})
    with pytest.raises(ValueError, match="optimizer_settings"):
        schedules.settings_of({"optimizers": ["lion"]})
    # mappings merge one level deep, like Snakemake's --configfile
    s = merged({"a": {"x": 1, "y": 2}, "b": 3}, {"a": {"y": 5}}, "t")
    assert s == {"a": {"x": 1, "y": 5}, "b": 3}


# ----------------------------------------------------------------------------------------------
# depth


def test_depth_tables(depth_tables):
    runs, layers = depth_tables
    assert list(runs.columns) == depth.RUN_COLUMNS and list(layers.columns) == depth.LAYER_COLUMNS
    assert len(runs) == 4 * 1 * 2 * 2
    assert len(layers) == 4 * 2 * ((2 + 1) + (12 + 1))  # init × seed × layers (hidden + output) per depth
    assert set(runs["status"]) <= {"ok", "diverged"}


def test_depth_gradient_profiles(depth_tables):
    runs, layers = depth_tables
    deep = layers[layers["depth"] == 12]

    def inner(init):  # the layers between two hidden layers, median over seeds
        d = deep[(deep["init"] == init) & deep["layer"].between(2, 12)]
        return d.groupby("layer")["grad_norm"].median()

    assert (layers.loc[layers["init"] == "zeros", "grad_norm"] == 0).all()  # exactly 0
    he = inner("he")
    assert he.max() / he.min() < 10  # within an order of magnitude across layers
    big = inner("large")
    assert big.min() > 1e6 * he.max()  # large random explodes ...
    shallow_big = layers[(layers["init"] == "large") & (layers["depth"] == 2)]["grad_norm"].median()
    assert big.median() > 1e6 * shallow_big  # ... the more the deeper
    xavier = inner("xavier")
    shallow_x = layers[(layers["init"] == "xavier") & (layers["depth"] == 2)]["grad_norm"].median()
    assert xavier.median() < shallow_x / 10  # Xavier with ReLU: the whole profile sinks with depth
    assert np.isfinite(runs.loc[runs["init"] == "he", "grad_spread"]).all()


# ----------------------------------------------------------------------------------------------
# search


def test_search_tables(search_tables, tiny):
    result, trials = search_tables
    assert list(result.columns) == search.RESULT_COLUMNS and list(trials.columns) == search.TRIAL_COLUMNS
    assert set(result["method"]) == set(search.METHODS)
    assert set(result["budget"]) == {4, 9}
    assert len(result) == len(search.METHODS) * 2 * 2
    for method in ("random", "random_linear", "sobol"):  # nested: 9 trials per seed serve both budgets
        assert (trials[trials["method"] == method].groupby("seed").size() == 9).all()
    assert (trials[trials["method"] == "grid"].groupby("seed").size() == 4 + 9).all()
    ok = result.dropna(subset=["best_val"])
    assert ok["best_val"].between(0, 1).all() and (ok["gap_to_best"] >= -1e-12).all()
    assert (ok["best_val"] <= ok["seed_best_val"] + 1e-12).all()
    # every method spends at most the budget's k × E epochs
    assert (result["epochs_trained"] <= result["budget"] * tiny.search["epochs"]).all()
    lo, hi = search.DEFAULTS["lr_range"]
    assert np.isclose(trials["lr"].min(), lo) and np.isclose(trials.loc[trials["method"] == "grid", "lr"].max(), hi)
    r_lo, r_hi = search.DEFAULTS["r_range"]
    assert trials["r"].between(r_lo - 1e-9, r_hi + 1e-9).all()


def test_search_best_of_k_never_decreases_for_nested_methods(search_tables):
    result, _ = search_tables
    for (method, seed), g in result[result["method"].isin(["random", "random_linear", "sobol"])].groupby(
        ["method", "seed"]
    ):
        best = g.sort_values("budget")["best_val"].to_numpy()
        assert np.all(np.diff(best) >= 0), (method, seed, best)


def test_search_candidates_are_nested_and_seeded():
    for method in ("random", "sobol"):
        a, b = search.unit_points(method, 4, 7), search.unit_points(method, 9, 7)
        assert np.array_equal(a, b[:4])
        assert not np.array_equal(b, search.unit_points(method, 9, 8))
    s = search.settings_of({})
    lr, r = search.grid_points(9, s)
    assert sorted(set(np.round(np.log10(lr), 9))) == [-4.0, -2.0, 0.0] and sorted(set(r)) == [-3.0, -2.0, -1.0]
    assert search.grid_points(8, s) is None
    lr_lin, r_lin = search.to_linear_scale(np.array([[0.0, 0.0], [1.0, 1.0]]), s)
    assert np.allclose(lr_lin, [1e-4, 1.0]) and np.allclose(1 - 10**r_lin, [0.999, 0.9])


# ----------------------------------------------------------------------------------------------
# schedules


def test_schedules_table(tiny):
    t = schedules.run_study(tiny.schedules)
    assert list(t.columns) == schedules.COLUMNS
    assert len(t) == (2 * 2 + 2 * 2) * 2 * 2  # configurations × seeds × checkpoints
    assert set(t["part"]) == {"schedule", "batch"}
    full = t[t["full_batch"]]
    assert len(full) and (full["batch_size"] == 60).all()  # 80 points, 25 % test: 60 training examples
    assert t["test_acc"].dropna().between(0, 1).all() and (t["seconds"] >= 0).all()


def test_a_short_run_is_the_start_of_a_long_one(tiny):
    """The premise of accuracy-against-epochs: a run stopped at e epochs equals the first e epochs of a longer
    run (mini-batches with shuffling and a decaying schedule included)."""
    from nnbench.trainer import run

    s = schedules.settings_of(tiny.schedules)
    short = run(schedules.spec_for(s, "adam", "exponential", 16, 3), [0, 1])
    long = run(schedules.spec_for(s, "adam", "exponential", 16, 6), [0, 1])
    for a, b in zip(short, long):
        assert a["cost_curve"] == b["cost_curve"][:3]


# ----------------------------------------------------------------------------------------------
# findings and the report


def test_findings_state_numbers(gc_table, depth_tables, search_tables):
    g = findings.gradcheck(gc_table)
    assert g["verdict"] == "green" and g["failing"] == 0 and f"{g['checks']} checks" in g["caption"]
    red = gc_table.copy()
    red.loc[red.index[0], ["status", "cause", "difference"]] = ["fail", "unexplained", 0.5]
    assert findings.gradcheck(red)["verdict"] == "red"
    red.loc[red.index[0], "cause"] = "roundoff"
    assert findings.gradcheck(red)["verdict"] == "amber"
    assert findings.gradcheck(red, fail_on=gradcheck.CAUSES)["verdict"] == "red"
    d = findings.depth(*depth_tables)
    assert "He + ReLU" in d["caption"] and "exactly 0" in d["caption"]
    s = findings.search(*search_tables)
    assert s["focus"] == 9 and "At 9 trials" in s["caption"] and "%" in s["caption"]
    assert set(s["summary"]["method"]) == set(search.METHODS)


def test_report_has_a_studies_section(tmp_path, gc_table, depth_tables, search_tables, tiny, report_grid):
    from nnbench.report import main as report_main

    fx = report_grid.build(tmp_path)  # the report's own fixture: tables and cell files of a small grid
    tables = fx["results"] / "tables"
    bad = gc_table.copy()
    bad.loc[bad.index[0], ["status", "cause", "difference"]] = ["fail", "unexplained", 0.5]
    gradcheck_csv = tables / "study_gradcheck.csv"
    bad.to_csv(gradcheck_csv, index=False)
    depth_tables[0].to_csv(tables / "study_depth.csv", index=False)
    depth_tables[1].to_csv(tables / "study_depth_layers.csv", index=False)
    search_tables[0].to_csv(tables / "study_search.csv", index=False)
    search_tables[1].to_csv(tables / "study_search_trials.csv", index=False)
    schedules.run_study(tiny.schedules).to_csv(tables / "study_schedules.csv", index=False)
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "search.tsv").write_text("s\th:m:s\tmax_rss\n12.5\t0:00:12\t100\n")
    out, figs = tmp_path / "report.html", tmp_path / "figs"
    assert (
        report_main(
            [
                "--results",
                str(fx["results"]),
                "--out",
                str(out),
                "--figures-dir",
                str(figs),
                "--studies-benchmarks",
                str(bench),
            ]
        )
        == 0
    )
    html = out.read_text(encoding="utf-8")
    for sid in ("studies", "study-gradcheck", "study-depth", "study-search", "study-schedules", "gradcheck-alarm"):
        assert f'id="{sid}"' in html, sid
    assert 'data-verdict="red"' in html and "12.5 s" in html
    for name in (
        "study_gradcheck",
        "study_depth",
        "study_depth_outcome",
        "study_search",
        "study_schedules",
        "study_batch",
    ):
        assert (figs / "studies" / f"{name}.svg").is_file(), name
    # a passing table: no alarm
    gc_table.to_csv(gradcheck_csv, index=False)
    assert report_main(["--results", str(fx["results"]), "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert 'id="gradcheck-alarm"' not in html and 'data-verdict="green"' in html
    # no study tables at all: the report still builds
    for p in tables.glob("study_*.csv"):
        p.unlink()
    assert report_main(["--results", str(fx["results"]), "--out", str(out)]) == 0
    assert "No study table" in out.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------------------------
# the config


def test_config_defaults_match_the_modules():
    """config.yaml's studies block, the schema's defaults and each module's DEFAULTS say the same."""
    from snakemake.utils import validate

    schema = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    bare = {k: v for k, v in config.items() if k != "studies"}
    validate(bare, schema)  # fills in the schema's defaults
    validate(config, schema)
    for name, module in (("gradcheck", gradcheck), ("depth", depth), ("search", search), ("schedules", schedules)):
        expected = json.loads(json.dumps(module.DEFAULTS))
        assert json.loads(json.dumps(config["studies"][name])) == expected, name
        assert json.loads(json.dumps(bare["studies"][name])) == expected, name
    part = json.loads(config_json(config, "gradcheck"))
    assert set(part) == {"studies", "datasets", "inits", "regs", "optimizers", "definitions"}
    assert set(json.loads(config_json(config, "search"))) == {"studies"}


def test_ci_config_is_valid_and_small():
    from snakemake.utils import validate

    def merge(a, b):  # Snakemake's --configfile merge: mappings key by key, everything else replaced
        out = dict(a)
        for k, v in b.items():
            out[k] = merge(a[k], v) if isinstance(v, dict) and isinstance(a.get(k), dict) else v
        return out

    config = merge(
        yaml.safe_load((ROOT / "config" / "config.yaml").read_text()),
        yaml.safe_load((ROOT / "config" / "ci.yaml").read_text()),
    )
    validate(config, str(ROOT / "workflow" / "schemas" / "config.schema.yaml"))
    s = config["studies"]
    assert max(s["search"]["budgets"]) <= 9 and s["depth"]["epochs"] <= 10 and max(s["depth"]["depths"]) >= 20
    schedules.settings_of(s["schedules"])  # every listed optimizer is defined
    assert shutil.which("nnbench")


@pytest.mark.parametrize(
    "curve, cause, best",
    [
        ([1.4e-7, 6e-8, 5e-9, 4e-10, 5e-9, 4e-7], "roundoff", 3),  # a V whose bottom is within the threshold
        ([2e-2, 2e-3, 2e-4, 2e-5, 2e-6, 2.3e-7], "roundoff", 5),  # still falling at the largest step: unresolved V
        ([1e-2, 1e-3, 1e-4, 9e-6, 4e-5, 4e-3], "roundoff", 3),  # a V whose bottom lies above the threshold
        ([0.3, 0.29, 0.3, 0.31, 0.3, 0.35], "unexplained", 1),  # a flat floor: a wrong backward pass
        ([2e-3, 5e-4, 4e-4, 4.1e-4, 4e-4, 6e-4], "unexplained", 2),  # rounding above a floor, then the floor
        ([3e-7, 3.1e-7, np.nan, np.nan, np.nan, np.nan], "unexplained", 0),  # the sweep stopped early on kinks: flat
        ([np.nan] * 6, "unexplained", -1),
    ],
)
def test_diagnosis_reads_the_whole_v_curve(curve, cause, best):
    assert gradcheck.diagnose(np.array(curve), THRESHOLD) == (cause, best)


def test_a_registered_study_runs_and_reports(tmp_path, monkeypatch, report_grid):
    """A study declared at runtime (as a new module's STUDY would be) is a CLI command, is checked by the config
    check, and gets its section of the report from the generic template: nothing else is wired by hand."""
    import nnbench.studies as S
    from nnbench.report import main as report_main
    from nnbench.report.figures import studies as F

    def run(settings, config):
        x = np.arange(settings["n"], dtype=float)
        return {
            "study_tiny": pd.DataFrame({"x": x, "y": settings["slope"] * x}),
            "study_tiny_extra": pd.DataFrame({"k": [1]}),
        }

    def findings_(tables, settings):
        return {"caption": f"y rises by {tables['study_tiny']['y'].diff().iloc[-1]:.1f} per step."}

    tiny_study = S.Study(
        name="tiny",
        title="A tiny study",
        defaults={"n": 3, "slope": 2.0},
        tables=("study_tiny", "study_tiny_extra"),
        run=run,
        findings=findings_,
        figures=lambda tables, found: {"figure": (F.study_batch, pd.DataFrame(columns=["part"]))},
    )  # renders to None: the section shows the caption alone
    monkeypatch.setitem(S.STUDIES, "tiny", tiny_study)
    fx = report_grid.build(tmp_path)
    tables = fx["results"] / "tables"
    config = json.dumps({"studies": {"tiny": {"slope": 0.5}}})
    assert S.main(["tiny", "--config-json", config, "--out", str(tables / "study_tiny.csv")]) == 0
    assert pd.read_csv(tables / "study_tiny.csv")["y"].tolist() == [0.0, 0.5, 1.0]
    assert (tables / "study_tiny_extra.csv").is_file()  # beside the first table
    S.check_config({"studies": {"tiny": {"slope": 1.0}}})
    with pytest.raises(ValueError, match=r"studies\.tiny: unknown setting\(s\) slant"):
        S.check_config({"studies": {"tiny": {"slant": 1.0}}})
    out = tmp_path / "report.html"
    assert report_main(["--results", str(fx["results"]), "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert 'id="study-tiny"' in html and "A tiny study" in html and "y rises by 0.5 per step." in html
