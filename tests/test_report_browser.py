"""The explorable report (``explore.js``) driven in a real browser: Debian's ``chromium`` through ``chromium-driver``
and Selenium, offline. Sorting a column, filtering to one data set, picking a figure's panel, a hover tip, and the
same page with JavaScript off (every row and every figure still there)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
from test_report import CHROMIUM_FLAGS

CHROMEDRIVER = Path("/usr/bin/chromedriver")
# test_report.py's flags for the command-line chromium, in the new headless mode, with a window to lay out in
FLAGS = ["--headless=new", *(f for f in CHROMIUM_FLAGS if f != "--headless"), "--window-size=1280,1000"]

pytestmark = pytest.mark.skipif(
    not CHROMEDRIVER.exists(), reason="/usr/bin/chromedriver is absent (apt-get install -y chromium chromium-driver)"
)


def _driver(profile: Path, javascript: bool = True):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e .[test])")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    if not javascript:
        opts.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    # the Debian driver by path: Selenium Manager never tries to download one
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=opts)


@pytest.fixture(scope="module")
def browser(built, tmp_path_factory):
    drv = _driver(tmp_path_factory.mktemp("chromium-profile"))
    drv.get(built["out"].resolve().as_uri())
    yield drv
    drv.quit()


@pytest.fixture
def page(browser):
    """The report, reloaded: no sort, no filter."""
    browser.refresh()
    assert browser.execute_script("return document.documentElement.classList.contains('explore')")
    return browser


def _number(text: str) -> float:
    m = re.match(r"\s*([-+]?\d*\.?\d+)", text.replace("\u2212", "-"))
    return float(m[1]) if m else math.nan


def _column(drv, table, col: int) -> list[str]:
    return drv.execute_script(
        "return Array.from(arguments[0].tBodies[0].rows).filter(r => !r.hidden).map(r => r.cells[arguments[1]].textContent)",
        table,
        col,
    )


def _click(drv, element) -> None:
    """Click ``element`` in the middle of the window (not under the sticky filter bar)."""
    drv.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    element.click()


def _select(drv, element_id: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(drv.find_element("id", element_id)).select_by_value(value)


def test_sort_a_column(page, built):
    by = "css selector"
    table = page.find_element(by, 'table.stats[data-dataset="circles"][data-reg="none"]')
    header = table.find_elements(by, "thead th")[2]  # Test accuracy
    assert header.text.startswith("Test accuracy")
    summary = pd.read_csv(built["results"] / "tables" / "summary.csv")
    means = summary.query("dataset == 'circles' and reg == 'none'")["test_mean"]
    finite = sorted(round(100 * v, 1) for v in means if math.isfinite(v))
    dashes = ["—"] * int(means.isna().sum())  # every run diverged: last, whichever the direction
    assert dashes, "the fixture has a fully diverged cell in this table"

    def shown():
        return [t if t == "—" else _number(t) for t in _column(page, table, 2)]

    _click(page, header)
    assert shown() == finite + dashes and header.get_attribute("aria-sort") == "ascending"
    _click(page, header)
    assert shown() == finite[::-1] + dashes and header.get_attribute("aria-sort") == "descending"

    cross = page.find_element(by, "table.cross-ranks")
    mean_rank = [h.text for h in cross.find_elements(by, "thead th")].index("Mean rank")
    _click(page, cross.find_elements(by, "thead th")[mean_rank])
    _click(page, cross.find_elements(by, "thead th")[mean_rank])  # descending: the worst mean rank first
    ranks = [float(t) for t in _column(page, cross, mean_rank)]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] > ranks[-1]


def test_filter_to_one_data_set(page, built, report_grid):
    _select(page, "filter-dataset", "breast_cancer")
    cells = page.execute_script(
        "return Array.from(document.querySelectorAll('table.stats tbody tr'))"
        ".filter(r => !r.hidden && !r.closest('.ds-block').hidden).map(r => r.dataset.cell)"
    )
    summary = pd.read_csv(built["results"] / "tables" / "summary.csv")
    assert sorted(cells) == sorted(
        f"{r.dataset}/{r.init}/{r.reg}/{r.opt}" for r in summary.itertuples() if r.dataset == "breast_cancer"
    )
    blocks = page.find_elements("css selector", "#heatmaps .ds-block")
    assert {b.get_attribute("data-dataset"): b.is_displayed() for b in blocks} == {
        "circles": False,
        "breast_cancer": True,
    }
    gap = page.find_element("css selector", "table.gap")
    assert set(_column(page, gap, 0)) == {"breast_cancer"}

    _select(page, "filter-opt", "adam")
    page.find_element("id", "filter-text").send_keys("dropout")
    gap_rows = _column(page, gap, 1)
    assert gap_rows == ["dropout"]
    ranking = [
        t
        for t in page.find_elements("css selector", "table.ranking")
        if t.get_attribute("data-dataset") == "breast_cancer"
    ][0]
    assert set(_column(page, ranking, 3)) == {"adam"} and set(_column(page, ranking, 2)) == {"dropout"}
    count = page.find_element("id", "explore-count").text
    assert re.fullmatch(r"\d+ table rows shown", count)


def test_pick_a_panel_and_hover(page):
    from selenium.webdriver import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait

    svg = page.find_element("css selector", "#fig-heatmap_circles svg")
    whole = _viewbox(page, svg)
    _select(page, "filter-reg", "l2")  # the regularizer filter picks the panel "reg = l2" of every figure
    assert svg.get_attribute("data-shown") == "reg = l2" and _viewbox(page, svg) != whole
    zoomed = [float(v) for v in _viewbox(page, svg).split()]
    assert zoomed[2] < 0.6 * float(whole.split()[2])  # one of three panels, not the figure
    picker = page.find_element("css selector", "#fig-heatmap_circles select.panel-pick")
    assert picker.get_attribute("value") == "reg = l2"

    curves = page.find_element("css selector", "#fig-curves_circles svg")
    _select_el(curves.find_element("xpath", "ancestor::figure//select"), "reg = none")
    assert curves.get_attribute("data-shown") == "reg = none"
    _select_el(curves.find_element("xpath", "ancestor::figure//select"), "")
    assert curves.get_attribute("data-shown") is None

    _select(page, "filter-reg", "")
    assert _viewbox(page, svg) == whole
    cell = page.find_element("css selector", "#fig-heatmap_circles g.tip.area rect")
    page.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", cell)
    # from outside the figure onto the cell: a pointer left on the cell's spot by an earlier step sends no mouseover
    ActionChains(page).move_to_element(page.find_element("id", "explore-count")).move_to_element(cell).perform()
    tip = page.find_element("id", "tip")
    title = page.execute_script("return arguments[0].parentNode.querySelector('title').textContent", cell)
    WebDriverWait(page, 5).until(lambda _: tip.is_displayed())  # the browser's event loop, not ours: seconds at most
    assert tip.text == title  # the cell's own SVG <title>
    assert re.match(r"init \w+ · reg \w+ · opt \w+: .*runs ok$", title)


def _viewbox(drv, svg) -> str:
    return drv.execute_script("return arguments[0].getAttribute('viewBox')", svg)  # (case-sensitive)


def _select_el(element, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(element).select_by_value(value)


def test_readable_with_javascript_off(built, tmp_path):
    drv = _driver(tmp_path / "profile", javascript=False)
    try:
        drv.get(built["out"].resolve().as_uri())
        assert not drv.find_elements("id", "explore")  # no filter bar was built
        rows = drv.find_elements("css selector", "main tbody tr")
        bodies = re.findall(r"<tbody>(.*?)</tbody>", built["html"], re.S)
        assert len(rows) == sum(b.count("<tr") for b in bodies) > 50
        assert all(r.get_attribute("hidden") is None for r in rows)
        for block in drv.find_elements("css selector", "#heatmaps .ds-block, #curves .ds-block"):
            assert block.is_displayed()
        for svg in drv.find_elements("css selector", "#heatmaps svg"):
            assert svg.get_attribute("data-shown") is None and svg.size["width"] > 300
    finally:
        drv.quit()
