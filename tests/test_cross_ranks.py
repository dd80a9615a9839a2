"""The cross-data-set view: ``nnbench.stats.cross_dataset_ranks`` by hand, its table and figure in the report, and
the numbers the report's SVG figures say on hover (``figures.base.hover``, ``render_svg``'s panels)."""

from __future__ import annotations

import math
import re
from html import unescape

import numpy as np
import pandas as pd
import pytest

from nnbench import stats
from nnbench.report import figures as F


def _summary(rows):
    return pd.DataFrame(rows, columns=["dataset", "init", "reg", "opt", "test_mean"])


def test_ranks_by_hand():
    s = _summary([
        ("a", "he", "none", "adam", 0.90), ("a", "he", "none", "gd", 0.80), ("a", "zeros", "none", "gd", np.nan),
        ("b", "he", "none", "adam", 0.50), ("b", "he", "none", "gd", 0.70), ("b", "zeros", "none", "gd", 0.70),
        ("c", "he", "none", "adam", 0.99),  # c has one cell only
    ])  # fmt: skip
    r = stats.cross_dataset_ranks(s).set_index(["init", "reg", "opt"])
    assert list(r.reset_index().columns) == [*stats.CROSS_RANK_COLUMNS, "rank_a", "rank_b", "rank_c"]
    # a: adam 1, gd 2, zeros (diverged) last = 3; b: gd and zeros tie for places 1-2 = 1.5 each, adam 3; c: adam 1
    assert r.loc[("he", "none", "adam"), ["rank_a", "rank_b", "rank_c"]].tolist() == [1.0, 3.0, 1.0]
    assert r.loc[("he", "none", "gd"), ["rank_a", "rank_b"]].tolist() == [2.0, 1.5]
    assert r.loc[("zeros", "none", "gd"), ["rank_a", "rank_b"]].tolist() == [3.0, 1.5]
    assert math.isnan(r.loc[("he", "none", "gd"), "rank_c"])
    assert r["mean_rank"].to_dict() == {
        ("he", "none", "adam"): pytest.approx(5 / 3),
        ("he", "none", "gd"): 1.75,
        ("zeros", "none", "gd"): 2.25,
    }
    assert r["datasets"].tolist() == [3, 2, 2] and r["best_rank"].tolist() == [1.0, 1.5, 1.5]
    assert r.loc[("zeros", "none", "gd"), "mean_test"] == 0.70  # the diverged data set left out
    assert list(r.index) == [("he", "none", "adam"), ("he", "none", "gd"), ("zeros", "none", "gd")]  # best first


def test_ranks_follow_the_given_data_set_order_and_refuse_a_bad_table():
    s = _summary([("a", "x", "r", "o", 0.9), ("b", "x", "r", "o", 0.8)])
    assert [c for c in stats.cross_dataset_ranks(s, ["b", "a"]).columns if c.startswith("rank_")] == [
        "rank_b",
        "rank_a",
    ]
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['test_mean'\]"):
        stats.cross_dataset_ranks(s.drop(columns="test_mean"))


def test_report_cross_table_and_csv(built, report_grid):
    summary = pd.read_csv(built["results"] / "tables" / "summary.csv")
    expected = stats.cross_dataset_ranks(summary, report_grid.datasets)
    written = pd.read_csv(built["tables"] / "cross_dataset_ranks.csv")
    pd.testing.assert_frame_equal(written, expected, check_dtype=False)
    html = built["html"]
    table = re.search(r'<table class="cross-ranks">.*?</table>', html, re.S)[0]
    rows = re.findall(r"<tr><td>(\w+)</td><td>(\w+)</td><td>(\w+)</td>(.*?)</tr>", table, re.S)
    assert [r[:3] for r in rows] == list(zip(expected["init"], expected["reg"], expected["opt"]))
    first = re.findall(r'<td class="num">([^<]*)</td>', rows[0][3])
    assert first[: len(report_grid.datasets) + 1] == [
        *(format(expected.iloc[0][f"rank_{d}"], "g") for d in report_grid.datasets),
        f"{expected.iloc[0]['mean_rank']:.2f}",
    ]
    assert 'id="fig-cross_dataset_ranks"' in html and 'href="#rankings-across"' in html


def test_heat_map_cells_say_their_numbers(built, report_grid):
    svg = (built["figures"] / "heatmaps" / "heatmap_circles.svg").read_text()
    tips = [unescape(t) for t in re.findall(r'<g class="tip area"><title>(.*?)</title>', svg)]
    assert len(tips) == len(report_grid.inits) * len(report_grid.regs) * len(report_grid.opts)
    summary = pd.read_csv(built["results"] / "tables" / "summary.csv").set_index(["dataset", "init", "reg", "opt"])
    c = summary.loc[("circles", "he", "l2", "adam")]
    tip = next(t for t in tips if t.startswith("init he · reg l2 · opt adam:"))
    assert f"test {100 * c['test_mean']:.1f} % [{100 * c['test_ci_low']:.1f}, {100 * c['test_ci_high']:.1f}]" in tip
    assert f"{int(c['ok'])}/{int(c['runs'])} runs ok" in tip
    dead = next(t for t in tips if t.startswith("init large · reg none · opt gd:"))
    assert "every run diverged" in dead
    panels = re.findall(r'<g id="heatmap-circles-panel\d+" class="panel" data-panel="([^"]*)">', svg)
    assert panels == [f"reg = {r}" for r in report_grid.regs]


def test_hover_text_is_escaped_and_ids_unique():
    import matplotlib.pyplot as plt

    F.setup()
    fig, (a, b) = plt.subplots(1, 2)
    (line,) = a.plot([0, 1], [0, 1])
    F.hover(line, 'cost < 1 & "done"')
    a.set_title("reg = a&b")
    svg = F.render_svg(fig, "t x")
    assert '<g class="tip"><title>cost &lt; 1 &amp; &quot;done&quot;</title>' in svg
    assert 'class="panel" data-panel="reg = a&amp;b"' in svg
    assert svg.count('class="panel"') == 1  # the untitled axes is no panel


def test_gap_and_main_effects_columns_say_their_numbers(built):
    eff = pd.read_csv(built["tables"] / "main_effects.csv")
    svg = (built["figures"] / "rankings" / "main_effects.svg").read_text()
    tips = [unescape(t) for t in re.findall(r'<g class="tip area"><title>(.*?)</title>', svg)]
    he = eff[(eff["axis"] == "init") & (eff["level"] == "he")].set_index("dataset")["test_mean"]
    assert (
        f"initialization he: circles {100 * he['circles']:.1f} %, breast_cancer {100 * he['breast_cancer']:.1f} %"
        in tips
    )
    assert len(tips) == eff.groupby("axis")["level"].nunique().sum()
    gap = (built["figures"] / "regularization" / "overfitting_gap.svg").read_text()
    summary = pd.read_csv(built["results"] / "tables" / "summary.csv")
    s = summary[(summary["dataset"] == "circles") & (summary["reg"] == "l2") & (summary["ok"] > 0)]
    tip = next(t for t in re.findall(r"<title>(.*?)</title>", gap) if t.startswith("circles · reg l2:"))
    assert f"train {100 * s['train_mean'].mean():.1f} %, test {100 * s['test_mean'].mean():.1f} %" in tip
