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

from nnbench import stats
from nnbench.report import main as report_main

CHROMIUM = Path("/usr/bin/chromium")


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


def test_sections_present(built, report_grid):
    page = parse(built["html"])
    for sid in (
        "toc",
        "course",
        "statistics",
        "heatmaps",
        "curves",
        "regularization",
        "boundaries",
        "rankings",
        "provenance",
    ):
        assert sid in page.ids, sid
    for ds in report_grid.datasets:
        assert f"stats-{ds}" in page.ids and f"heatmap-{ds}" in page.ids and f"rankings-{ds}" in page.ids
    assert "boundaries-circles" in page.ids and "boundaries-breast_cancer" not in page.ids
    # the table of contents links to every section
    hrefs = {v for t, k, v in page.refs if t == "a" and k == "href"}
    assert {
        "#course",
        "#statistics",
        "#heatmaps",
        "#curves",
        "#regularization",
        "#boundaries",
        "#rankings",
        "#provenance",
    } <= hrefs


def test_seed_table_leads_course_section(built):
    page = parse(built["html"])
    course_tables = [t for t in page.tables if "course" in t[0]]
    lead = course_tables[0]
    assert "lead-table" in lead[0]
    header = [text for _, text in lead[1][0]["cells"]]
    assert header == [
        "Model",
        "Train accuracy (ours)",
        "Train accuracy (course)",
        "Test accuracy",
        "Problem/Comment",
        "Reproduced",
    ]
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


def test_nothing_external(built, report_grid):
    html = built["html"]
    page = parse(html)
    for tag, attr, value in page.refs:
        v = value.strip().lower()
        assert not v.startswith(("http:", "https:", "//", "ftp:", "file:")), (tag, attr, value)
        if tag != "a":
            assert v.startswith(("data:", "#")), (tag, attr, value)
    assert page.scripts == [{}], "one script, inline (explore.js), nothing loaded"
    assert not page.links, "no <link> (stylesheets) either"
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?(?!data:|#)", html)
    assert page.svgs >= 2 * len(report_grid.datasets) + 2  # heat maps, curves, gap, main effects
    assert any(i["src"].startswith("data:image/png;base64,") for i in page.imgs)  # decision boundaries
    assert len(html.encode()) < 10 * 1024 * 1024


def test_config_strings_escaped(built, report_grid):
    html = built["html"]
    assert report_grid.xss not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the config value, and the course note
    assert parse(html).scripts == [{}] and html.count("<script") == 1  # only the report's own (explore.js)


def test_rankings_and_main_effects(built, report_grid):
    page = parse(built["html"])
    rank = [t for t in page.tables if t[0] == "ranking"]
    assert len(rank) == len(report_grid.datasets)
    rows = pd.read_csv(built["tables"] / "rankings.csv")
    assert set(rows["verdict"]) <= {"best", "tied", "worse", "unstable", "diverged", "untestable"}
    for ds in report_grid.datasets:
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


def test_figure_files_for_snakemake(built, report_grid):
    figs = built["figures"]
    for ds in report_grid.datasets:
        assert (figs / "heatmaps" / f"heatmap_{ds}.svg").is_file()
        assert (figs / "curves" / f"curves_{ds}.svg").is_file()
    assert (figs / "boundaries" / "boundaries_circles.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (figs / "regularization" / "overfitting_gap.svg").is_file()
    assert (figs / "rankings" / "main_effects.svg").is_file()
    assert (built["tables"] / "course_reproduction.csv").is_file()


def test_jobs_give_byte_identical_output(
    tmp_path, monkeypatch, tiny, gc_table, depth_tables, search_tables, report_grid
):
    """``--jobs 2`` renders the figures in two worker processes: report.html and every figure and table file are
    the same bytes as with ``--jobs 1`` — the grid's figures and the studies' (the tiny study tables of
    tests/conftest.py)."""
    from nnbench.studies import schedules

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the provenance's date: the same in both runs
    fx = report_grid.build(tmp_path)
    tables = fx["results"] / "tables"
    gc_table.to_csv(tables / "study_gradcheck.csv", index=False)
    for name, table in zip(
        ("study_depth", "study_depth_layers", "study_search", "study_search_trials"), (*depth_tables, *search_tables)
    ):
        table.to_csv(tables / f"{name}.csv", index=False)
    schedules.run_study(tiny.schedules).to_csv(tables / "study_schedules.csv", index=False)
    files = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}"
        assert (
            report_main(
                [
                    "--results",
                    str(fx["results"]),
                    "--config-json",
                    str(fx["config"]),
                    "--out",
                    str(out / "report.html"),
                    "--figures-dir",
                    str(out / "figures"),
                    "--tables-out",
                    str(out / "tables"),
                    "--jobs",
                    str(jobs),
                    "--usage",
                    str(tmp_path / f"usage{jobs}.tsv"),
                ]
            )
            == 0
        )
        files[jobs] = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert sorted(files[1]) == sorted(files[2])
    figures = [name for name in files[1] if name.startswith("figures/")]
    # per data set a heat map and learning curves, boundaries for circles, gap, main effects, cross-data-set ranks,
    # six study figures
    assert len(figures) == 2 * len(report_grid.datasets) + 1 + 2 + 1 + 6, figures
    assert files[1]["report.html"] == files[2]["report.html"]
    for name in files[1]:
        assert files[1][name] == files[2][name], name
    # the job's own benchmark file: the largest single process's peak, not a sum over the workers
    usage = pd.read_csv(tmp_path / "usage2.tsv", sep="\t")
    assert list(usage.columns) == ["s", "h:m:s", "max_rss", "cpu_time", "max_rss_main", "max_rss_workers"]
    row = usage.iloc[0]
    assert row["max_rss"] == max(row["max_rss_main"], row["max_rss_workers"])
    assert row["max_rss_workers"] > 0 and row["max_rss_main"] > 50 and row["cpu_time"] > 0 and row["s"] > 0


def test_figures_do_not_depend_on_the_global_rng(built, report_grid):
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
        rendered.append(F.overfitting_gap(summary, report_grid.datasets, report_grid.regs).data)
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


def test_provenance(built, report_grid):
    html = built["html"]
    for text in (
        "Package versions",
        "Time and memory",
        "How to re-run",
        "The config as run",
        "Git commit",
        "snakemake --cores all",
    ):
        assert text in html
    page = parse(html)
    bench = [t for t in page.tables if t[0] == "bench"][0]
    rules = {r["cells"][0][1]: [x for _, x in r["cells"]] for r in bench[1][1:]}
    assert rules["train"][1] == str(
        len(report_grid.datasets) * len(report_grid.inits) * len(report_grid.regs) * len(report_grid.opts)
    )


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


def test_missing_optional_inputs(tmp_path, report_grid):
    """Without cell files, course tables, benchmarks or config the report still builds."""
    fx = report_grid.build(tmp_path)
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
    proc = subprocess.run(
        [
            cmd,
            "report",
            "--results",
            str(built["results"]),
            "--config-json",
            json.dumps({"seeds": 3, "football_mat": ""}),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 10_000


# ----------------------------------------------------------------------------------------------
# tests: a real browser


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
]


def _chromium(args, tmp_path, timeout=180):
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (apt-get install -y chromium)")
def test_renders_in_headless_chromium(built, tmp_path, report_grid):
    url = built["out"].resolve().as_uri()
    dom = _chromium(["--virtual-time-budget=5000", "--dump-dom", url], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = parse(dom.stdout)
    assert {"course", "statistics", "heatmaps", "rankings", "provenance"} <= page.ids
    assert len([t for t in page.tables if t[0] == "stats"]) == len(report_grid.datasets) * len(report_grid.regs)
    assert page.svgs >= 2 * len(report_grid.datasets) + 2 and page.imgs
    assert report_grid.xss not in dom.stdout

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


def test_names_in_figures_are_escaped_text(report_grid):
    """A name from a config reaches the SVG as escaped text, and ``$`` never turns into mathtext."""
    from nnbench.report import figures as F

    F.setup()
    summary = pd.DataFrame([{
        "dataset": report_grid.xss, "init": "he$x$", "reg": "none", "opt": "adam", "runs": 2, "ok": 2, "diverged": 0,
        "train_mean": 0.9, "train_ci_high": 0.95, "test_mean": 0.85, "test_ci_high": 0.9, "gap_mean": 0.05,
    }])  # fmt: skip
    fig = F.heatmap(summary, report_grid.xss, ["he$x$"], ["none"], ["adam"])
    assert fig.kind == "svg" and "<svg" in fig.data
    assert report_grid.xss not in fig.data and "&lt;script&gt;" in fig.data
    assert "he$x$" in fig.data
