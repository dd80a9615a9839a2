"""The HTML report (``nnbench report``): built from a small fixture of cell files and tables, parsed, and
opened in a real headless browser (Debian's ``chromium``)."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nnbench.results import cell_record
from nnbench import stats
from nnbench.report import main as report_main

CHROMIUM = Path("/usr/bin/chromium")
XSS = "<script>alert(1)</script>"

DATASETS = ["circles", "breast_cancer"]
INITS = ["zeros", "large", "he"]
REGS = ["none", "l2", "dropout"]
OPTS = ["gd", "adam"]
SEEDS = [0, 1, 2]
EPOCHS = 50

CONFIG = {
    "datasets": DATASETS,
    "inits": INITS,
    "regs": REGS,
    "optimizers": OPTS,
    "seeds": len(SEEDS),
    "football_mat": "",
    "note": XSS,
    "definitions": {
        "datasets": {
            "circles": {"dataset": "circles", "dataset_options": {"n_samples": 120, "noise": 0.05}, "hidden": [10, 5],
                        "epochs": EPOCHS},
            "breast_cancer": {"dataset": "breast_cancer", "hidden": [8], "epochs": EPOCHS},
        },
        "optimizers": {"gd": {"optimizer": "sgd", "lr": 0.5, "batch_size": None}, "adam": {"optimizer": "adam"}},
    },
}


# ----------------------------------------------------------------------------------------------
# fixture


def _accuracy(dataset, init, reg, opt, seed) -> tuple[float, float] | None:
    """A plausible (train, test) accuracy, None = diverged."""
    if init == "large" and opt == "gd" and reg == "none":
        return None  # every seed diverges
    if init == "large" and opt == "adam" and reg == "l2" and seed == 1:
        return None  # one seed of three diverges
    if init == "zeros":
        return (0.5, 0.5) if dataset == "circles" else (0.627, 0.629)
    base = {"he": 0.95, "large": 0.84}[init] + (0.02 if opt == "adam" else 0.0)
    gap = {"none": 0.06, "l2": 0.03, "dropout": 0.02}[reg]
    # seed-to-seed noise, deterministic per (cell, seed): some cells tie with the best, others do not
    key = sum(map(ord, f"{dataset}{init}{reg}{opt}")) * 7919 + seed * 104729
    wobble = 0.012 * np.random.default_rng(key).standard_normal()
    train = min(1.0, base + gap / 2 + wobble)
    return train, min(1.0, train - gap + 0.002 * seed)


def _boundary(init: str, seed: int) -> dict:
    xs = np.linspace(-1.6, 1.6, 30)
    ys = np.linspace(-1.5, 1.5, 28)
    gx, gy = np.meshgrid(xs, ys)
    r = np.hypot(gx, gy)
    if init == "zeros":
        prob = np.full_like(r, 0.5)
    else:
        sharp = 8.0 if init == "he" else 30.0
        prob = 1.0 / (1.0 + np.exp(sharp * (r - 0.9 + 0.01 * seed)))
    return {"x": xs.round(4).tolist(), "y": ys.round(4).tolist(), "prob": prob.round(4).tolist()}


def _curve(init, opt, seed, diverged_at=None) -> list[float]:
    e = np.arange(EPOCHS)
    rate = 0.08 if opt == "adam" else 0.03
    floor = 0.69 if init == "zeros" else 0.05
    c = floor + (0.7 - floor) * np.exp(-rate * e) * (1 + 0.02 * seed)
    if diverged_at is not None:
        c = c[:diverged_at] * np.exp(np.arange(diverged_at) * 0.2)
    return c.round(6).tolist()


def write_cells(root: Path) -> list[Path]:
    paths = []
    for ds in DATASETS:
        for init in INITS:
            for reg in REGS:
                for opt in OPTS:
                    runs = []
                    for seed in SEEDS:
                        acc = _accuracy(ds, init, reg, opt, seed)
                        spec = {"dataset": ds, "dataset_options": CONFIG["definitions"]["datasets"][ds].get(
                            "dataset_options", {}), "hidden": [10, 5], "init": init, "seed": seed, "epochs": EPOCHS}
                        run = {
                            "schema": "nnbench.result/1", "spec": spec, "seed": seed,
                            "status": "ok" if acc else "diverged", "diverged_epoch": None if acc else 7,
                            "epochs_run": EPOCHS if acc else 7,
                            "train_accuracy": acc[0] if acc else None, "val_accuracy": None,
                            "test_accuracy": acc[1] if acc else None,
                            "train_cost": 0.1 if acc else None, "test_cost": 0.12 if acc else None,
                            "cost_curve": _curve(init, opt, seed, None if acc else 7), "curve_every": 1,
                            "seconds": 0.25,
                            "boundary": _boundary(init, seed) if (ds == "circles" and acc) else None,
                            "versions": {"nnbench": "0.1.0", "numpy": np.__version__, "python": "3.11"},
                        }  # fmt: skip
                        runs.append(run)
                    cell = cell_record({"dataset": ds, "init": init, "reg": reg, "opt": opt},
                                       f"{ds}-{init}-{reg}-{opt}", runs)
                    path = root / "runs" / ds / init / reg / f"{opt}.json"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(json.dumps(cell))
                    paths.append(path)
    return paths


def write_course(tables: Path) -> None:
    pd.DataFrame(
        [
            ["initialization", "zeros", 0.5, 0.5, 0.5, 0.5, "fails to break symmetry"],
            ["initialization", "large random", 0.83, 0.86, 0.83, 0.86, "too large weights"],
            ["initialization", "he", 0.9933333333333333, 0.96, 0.9933333333333333, 0.96, "recommended method"],
            ["initialization", "he (perturbed)", 0.9, 0.94, 0.9933333333333333, 0.96, f"a row that fails {XSS}"],
        ],
        columns=["experiment", "model", "train_accuracy", "test_accuracy", "published_train_accuracy",
                 "published_test_accuracy", "note"],
    ).to_csv(tables / "course_initialization.csv", index=False)
    pd.DataFrame(
        [["regularization", m, None, None, p, q, "the course's data file (data.mat) was not provided"]
         for m, p, q in [("no regularization", 0.9478672985781991, 0.915),
                         ("L2 regularization (lambda = 0.7)", 0.9383886255924171, 0.93)]],
        columns=["experiment", "model", "train_accuracy", "test_accuracy", "published_train_accuracy",
                 "published_test_accuracy", "note"],
    ).to_csv(tables / "course_regularization.csv", index=False)
    pd.DataFrame(
        [["gradient-checking", "correct backward pass", 1.1890913024229996e-07, 1.1890913024229996e-07, "correct"],
         ["gradient-checking", "planted bugs", 0.2850931567761623, 0.2850931567761623, "mistake caught"]],
        columns=["experiment", "model", "difference", "published_difference", "note"],
    ).to_csv(tables / "course_gradient_checking.csv", index=False)


def write_benchmarks(path: Path) -> None:
    rows = [{"rule": "train", "wildcards": f"dataset={d},init={i},reg={r},opt={o}", "s": 1.5 + len(i) / 10,
             "h:m:s": "0:00:01", "max_rss": 120.0 + len(o), "max_vms": 500.0, "cpu_time": 1.2}
            for d in DATASETS for i in INITS for r in REGS for o in OPTS]
    rows.append({"rule": "tables", "wildcards": "", "s": 0.8, "h:m:s": "0:00:00", "max_rss": 150.0,
                 "max_vms": 600.0, "cpu_time": 0.7})
    pd.DataFrame(rows).to_csv(path, index=False)


def build_fixture(root: Path) -> dict:
    """results/{runs,tables,benchmarks.csv} + config.json under ``root``; the tables via nnbench.tables."""
    from nnbench import tables as T

    results = root / "results"
    paths = write_cells(results)
    out = results / "tables"
    out.mkdir(parents=True, exist_ok=True)
    runs = T.read_runs(paths)
    summary = T.summarize(runs)
    T.write_csv_atomic(runs[T.RUN_COLUMNS], out / "runs.csv")
    T.write_csv_atomic(summary[T.SUMMARY_COLUMNS], out / "summary.csv")
    write_course(out)
    write_benchmarks(results / "benchmarks.csv")
    config = root / "config.json"
    config.write_text(json.dumps(CONFIG))
    return {"results": results, "config": config}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    fx = build_fixture(root)
    out = root / "reports" / "report.html"
    figs = root / "reports" / "figures"
    tabs = root / "reports" / "tables"
    rc = report_main(["--results", str(fx["results"]), "--config-json", str(fx["config"]), "--out", str(out),
                      "--figures-dir", str(figs), "--tables-out", str(tabs)])
    assert rc == 0
    return {**fx, "root": root, "out": out, "html": out.read_text(encoding="utf-8"), "figures": figs, "tables": tabs}


# ----------------------------------------------------------------------------------------------
# parsing


class Page(HTMLParser):
    """Collects ids, external references, tables (rows of cell texts with their attributes) and images."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.refs, self.imgs, self.svgs, self.scripts, self.links = set(), [], [], 0, [], []
        self.cells = {}  # data-cell key -> {"train": text, "test": text}
        self._row = None
        self._td = None
        self._text = []
        self.tables = []  # (class, rows)
        self._table = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        for k in ("src", "href", "xlink:href", "action", "data", "poster"):
            if k in a and a[k] is not None:
                self.refs.append((tag, k, a[k]))
        for target in re.findall(r"url\(\s*['\"]?([^'\")]*)", a.get("style") or ""):
            self.refs.append((tag, "style", target))
        if tag == "img":
            self.imgs.append(a)
        if tag == "svg":
            self.svgs += 1
        if tag == "script":
            self.scripts.append(a)
        if tag == "link":
            self.links.append(a)
        if tag == "table":
            self._table = (a.get("class", ""), [])
            self.tables.append(self._table)
        if tag == "tr":
            self._row = {"cell": a.get("data-cell"), "cells": []}
        if tag in ("td", "th"):
            self._td = a.get("class", "")
            self._text = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None:
            self._row["cells"].append((self._td, " ".join("".join(self._text).split())))
            self._td = None
        if tag == "tr" and self._row is not None:
            if self._table is not None:
                self._table[1].append(self._row)
            if self._row["cell"]:
                by_class = {cls.split()[-1]: text for cls, text in self._row["cells"] if cls}
                self.cells[self._row["cell"]] = by_class
            self._row = None

    def handle_data(self, data):
        if self._td is not None:
            self._text.append(data)


def parse(html: str) -> Page:
    p = Page()
    p.feed(html)
    p.close()
    return p


# ----------------------------------------------------------------------------------------------
# tests: content


def test_sections_present(built):
    page = parse(built["html"])
    for sid in ("toc", "course", "statistics", "heatmaps", "curves", "regularization", "boundaries", "rankings",
                "provenance"):
        assert sid in page.ids, sid
    for ds in DATASETS:
        assert f"stats-{ds}" in page.ids and f"heatmap-{ds}" in page.ids and f"rankings-{ds}" in page.ids
    assert "boundaries-circles" in page.ids and "boundaries-breast_cancer" not in page.ids
    # the table of contents links to every section
    hrefs = {v for t, k, v in page.refs if t == "a" and k == "href"}
    assert {"#course", "#statistics", "#heatmaps", "#curves", "#regularization", "#boundaries", "#rankings",
            "#provenance"} <= hrefs


def test_seed_table_leads_course_section(built):
    page = parse(built["html"])
    course_tables = [t for t in page.tables if "course" in t[0]]
    lead = course_tables[0]
    assert "lead-table" in lead[0]
    header = [text for _, text in lead[1][0]["cells"]]
    assert header == ["Model", "Train accuracy (ours)", "Train accuracy (course)", "Test accuracy", "Problem/Comment",
                      "Reproduced"]
    body = {r["cells"][0][1]: [t for _, t in r["cells"]] for r in lead[1][1:]}
    assert body["zeros"][2] == "50 %" and body["large random"][2] == "83 %" and body["he"][2] == "99.33 %"
    assert "✓ reproduced" in body["zeros"][5] and "✓ reproduced" in body["he"][5]
    assert "✗ not reproduced" in body["he (perturbed)"][5]
    # the regularization table was not run: say how to give the data
    assert "football-hint" in page.ids
    assert "football_mat=path/to/data.mat" in built["html"] and "football_mat" in built["html"]
    # gradient checking is there too
    assert any(t[0] == "course" and "Difference (ours)" in [x for _, x in t[1][0]["cells"]] for t in course_tables)


def test_numbers_equal_summary(built):
    summary = pd.read_csv(built["results"] / "tables" / "summary.csv")
    page = parse(built["html"])

    def fmt(mean, high):
        if pd.isna(mean):
            return "—"
        if pd.isna(high):
            return f"{100 * mean:.1f} %"
        return f"{100 * mean:.1f} ± {100 * (high - mean):.1f} %"

    assert len(page.cells) == len(summary)
    for r in summary.to_dict("records"):
        shown = page.cells[f"{r['dataset']}/{r['init']}/{r['reg']}/{r['opt']}"]
        assert shown["test"] == fmt(r["test_mean"], r["test_ci_high"])
        assert shown["train"] == fmt(r["train_mean"], r["train_ci_high"])
    # the fully diverged cell is shown as missing, not as zero
    assert page.cells["circles/large/none/gd"]["test"] == "—"


def test_nothing_external(built):
    html = built["html"]
    page = parse(html)
    for tag, attr, value in page.refs:
        v = value.strip().lower()
        assert not v.startswith(("http:", "https:", "//", "ftp:", "file:")), (tag, attr, value)
        if tag != "a":
            assert v.startswith(("data:", "#")), (tag, attr, value)
    assert not page.scripts, "the report needs no script"
    assert not page.links, "no <link> (stylesheets) either"
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?(?!data:|#)", html)
    assert page.svgs >= 2 * len(DATASETS) + 2  # heat maps, curves, gap, main effects
    assert any(i["src"].startswith("data:image/png;base64,") for i in page.imgs)  # decision boundaries
    assert len(html.encode()) < 10 * 1024 * 1024


def test_config_strings_escaped(built):
    html = built["html"]
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the config value, and the course note
    assert not parse(html).scripts


def test_rankings_and_main_effects(built):
    page = parse(built["html"])
    rank = [t for t in page.tables if t[0] == "ranking"]
    assert len(rank) == len(DATASETS)
    rows = pd.read_csv(built["tables"] / "rankings.csv")
    assert set(rows["verdict"]) <= {"best", "tied", "worse", "unstable", "diverged", "untestable"}
    for ds in DATASETS:
        r = rows[rows["dataset"] == ds]
        assert (r["verdict"] == "best").sum() == 1
        best = r[r["verdict"] == "best"].iloc[0]
        assert best["init"] == "he" and best["opt"] == "adam"
        assert r.loc[(r["init"] == "large") & (r["reg"] == "none") & (r["opt"] == "gd"), "verdict"].item() == "diverged"
        assert r.loc[(r["init"] == "large") & (r["reg"] == "l2") & (r["opt"] == "adam"), "verdict"].item() == "unstable"
        assert (r.loc[r["init"] == "zeros", "verdict"] == "worse").all()
    eff = pd.read_csv(built["tables"] / "main_effects.csv")
    assert set(eff["axis"]) == {"init", "reg", "opt"}
    he = eff[(eff["dataset"] == "circles") & (eff["axis"] == "init") & (eff["level"] == "he")]
    assert he["rank"].item() == 1


def test_figure_files_for_snakemake(built):
    figs = built["figures"]
    for ds in DATASETS:
        assert (figs / "heatmaps" / f"heatmap_{ds}.svg").is_file()
        assert (figs / "curves" / f"curves_{ds}.svg").is_file()
    assert (figs / "boundaries" / "boundaries_circles.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (figs / "regularization" / "overfitting_gap.svg").is_file()
    assert (figs / "rankings" / "main_effects.svg").is_file()
    assert (built["tables"] / "course_reproduction.csv").is_file()


def test_jobs_give_byte_identical_output(tmp_path, monkeypatch):
    """``--jobs 2`` renders the figures in two worker processes: report.html and every figure and table file are
    the same bytes as with ``--jobs 1`` — the grid's figures and the studies' (tiny study tables, as in
    test_studies)."""
    from test_studies import DEPTH, GC_SETTINGS, GRID, SCHED, SEARCH

    from nnbench.studies import depth, gradcheck, schedules, search

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the provenance's date: the same in both runs
    fx = build_fixture(tmp_path)
    tables = fx["results"] / "tables"
    gradcheck.run_study(GRID, GC_SETTINGS).to_csv(tables / "study_gradcheck.csv", index=False)
    for name, table in zip(("study_depth", "study_depth_layers"), depth.run_study(DEPTH)):
        table.to_csv(tables / f"{name}.csv", index=False)
    for name, table in zip(("study_search", "study_search_trials"), search.run_study(SEARCH)):
        table.to_csv(tables / f"{name}.csv", index=False)
    schedules.run_study(SCHED).to_csv(tables / "study_schedules.csv", index=False)
    files = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}"
        assert report_main(["--results", str(fx["results"]), "--config-json", str(fx["config"]),
                            "--out", str(out / "report.html"), "--figures-dir", str(out / "figures"),
                            "--tables-out", str(out / "tables"), "--jobs", str(jobs)]) == 0
        files[jobs] = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert sorted(files[1]) == sorted(files[2])
    figures = [name for name in files[1] if name.startswith("figures/")]
    # per data set a heat map and learning curves, boundaries for circles, gap, main effects, six study figures
    assert len(figures) == 2 * len(DATASETS) + 1 + 2 + 6, figures
    assert files[1]["report.html"] == files[2]["report.html"]
    for name in files[1]:
        assert files[1][name] == files[2][name], name


def test_figures_do_not_depend_on_the_global_rng(built):
    """The strip plots' jitter (seaborn draws it from NumPy's global RNG) is seeded per figure, so a figure is the
    same bytes whatever was drawn before it, in whichever process; the caller's RNG state is left alone."""
    from nnbench.report import ReportInputs
    from nnbench.report import figures as F

    F.setup()
    summary = ReportInputs(built["results"]).read_summary()
    rendered = []
    for seed in (1, 2):
        np.random.seed(seed)
        before = np.random.get_state()[1].copy()
        rendered.append(F.overfitting_gap(summary, DATASETS, REGS).data)
        assert (np.random.get_state()[1] == before).all()
    assert rendered[0] == rendered[1]


@pytest.mark.parametrize("value, message", [("0", "got 0"), ("-2", "got -2"), ("two", "got 'two'")])
def test_bad_jobs_refused(built, tmp_path, capsys, value, message):
    with pytest.raises(SystemExit) as exc:
        report_main(["--results", str(built["results"]), "--out", str(tmp_path / "r.html"), "--jobs", value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --jobs" in err and message in err, err
    assert not (tmp_path / "r.html").exists()


def test_render_figures_refuses_no_workers():
    from nnbench.report import render_figures

    with pytest.raises(ValueError, match="at least 1, got 0"):
        render_figures([], jobs=0)


def test_provenance(built):
    html = built["html"]
    for text in ("Package versions", "Time and memory", "How to re-run", "The config as run", "Git commit",
                 "snakemake --cores all"):
        assert text in html
    page = parse(html)
    bench = [t for t in page.tables if t[0] == "bench"][0]
    rules = {r["cells"][0][1]: [x for _, x in r["cells"]] for r in bench[1][1:]}
    assert rules["train"][1] == str(len(DATASETS) * len(INITS) * len(REGS) * len(OPTS))


def test_reproduction_rule():
    assert stats.reproduces(0.99333, "0.99") is True
    assert stats.reproduces(0.8267, "0.83") is True
    assert stats.reproduces(0.8249, "0.83") is False
    assert stats.reproduces(0.9933333333333333, "0.9933333333333333") is True
    assert stats.reproduces(0.9933, "0.9933333333333333") is False
    assert stats.reproduces(0.5, "50") is True  # published as a percentage
    assert stats.reproduces(1.1890913024229996e-07, "1.189e-07") is True
    assert stats.reproduces(math.nan, "0.5") is None and stats.reproduces(0.5, "") is None


def test_holm_and_paired():
    adj = stats.holm([0.01, 0.04, 0.03, np.nan])
    assert np.allclose(adj[:3], [0.03, 0.06, 0.06]) and np.isnan(adj[3])
    assert stats.paired_pvalue([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]) == 1.0
    assert stats.paired_pvalue([0.4, 0.4, 0.4], [0.5, 0.5, 0.5]) == 0.0
    assert math.isnan(stats.paired_pvalue([0.4], [0.5]))


def test_missing_optional_inputs(tmp_path):
    """Without cell files, course tables, benchmarks or config the report still builds."""
    fx = build_fixture(tmp_path)
    results = fx["results"]
    shutil.rmtree(results / "runs")
    for p in (results / "tables").glob("course_*.csv"):
        p.unlink()
    (results / "benchmarks.csv").unlink()
    out = tmp_path / "r.html"
    assert report_main(["--results", str(results), "--out", str(out)]) == 0
    html = out.read_text()
    assert "course_initialization.csv" in html and "No benchmark file" in html and "was not given" in html


def test_cli_dispatch(built, tmp_path):
    out = tmp_path / "cli.html"
    cmd = shutil.which("nnbench")
    if cmd is None:
        pytest.skip("the nnbench console script is not installed")
    proc = subprocess.run([cmd, "report", "--results", str(built["results"]), "--config-json",
                           json.dumps({"seeds": 3, "football_mat": ""}), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 10_000


# ----------------------------------------------------------------------------------------------
# tests: a real browser


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio"]


def _chromium(args, tmp_path, timeout=180):
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (apt-get install -y chromium)")
def test_renders_in_headless_chromium(built, tmp_path):
    url = built["out"].resolve().as_uri()
    dom = _chromium(["--virtual-time-budget=5000", "--dump-dom", url], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = parse(dom.stdout)
    assert {"course", "statistics", "heatmaps", "rankings", "provenance"} <= page.ids
    assert len([t for t in page.tables if t[0] == "stats"]) == len(DATASETS) * len(REGS)
    assert page.svgs >= 2 * len(DATASETS) + 2 and page.imgs
    assert XSS not in dom.stdout

    shot = tmp_path / "report.png"
    res = _chromium([f"--screenshot={shot}", "--window-size=1280,4000", url], tmp_path)
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1280, 4000)
    assert len(png) > 50_000  # not a blank page: text, tables and figures were painted


def test_course_numbers_printed_so_that_a_mismatch_shows():
    from nnbench.report import _published_display

    assert _published_display("0.83", 0.83, "accuracy") == ("83 %", "83.0 %")
    assert _published_display("0.83", 0.8249, "accuracy") == ("83 %", "82.49 %")  # not "82.5 %", which looks like 83
    pub, ours = _published_display("0.9933333333333333", 0.99333, "accuracy")
    assert pub != ours
    pub, ours = _published_display("1.1890913024229996e-07", 1.1890913024794093e-07, "difference")
    assert pub != ours and pub.startswith("1.189") and ours.startswith("1.189")
    assert _published_display("", 0.5, "accuracy") == ("—", "50.0 %")


def test_names_in_figures_are_escaped_text():
    """A name from a config reaches the SVG as escaped text, and ``$`` never turns into mathtext."""
    from nnbench.report import figures as F

    F.setup()
    summary = pd.DataFrame([{
        "dataset": XSS, "init": "he$x$", "reg": "none", "opt": "adam", "runs": 2, "ok": 2, "diverged": 0,
        "train_mean": 0.9, "train_ci_high": 0.95, "test_mean": 0.85, "test_ci_high": 0.9, "gap_mean": 0.05,
    }])  # fmt: skip
    fig = F.heatmap(summary, XSS, ["he$x$"], ["none"], ["adam"])
    assert fig.kind == "svg" and "<svg" in fig.data
    assert XSS not in fig.data and "&lt;script&gt;" in fig.data
    assert "he$x$" in fig.data
