"""The report's figures: the rendering shared by every kind of figure (seaborn on matplotlib's Agg backend), rendered to SVG text or PNG bytes.

Every function takes plain tables / arrays (never the trainer) and returns a :class:`Figure`: its
rendered bytes, a one-line caption saying what to look at, and a category (used by Snakemake's own
report). Figures are closed as soon as they are rendered.

Size: SVG keeps text as text (``svg.fonttype = none``), has no metadata (deterministic output) and
unique clip-path ids per figure (``svg.hashsalt``), so several SVGs can be inlined in one HTML page.
A figure depends on its arguments only, never on what was drawn before it (the strip plots' jitter is
seeded per panel): the same bytes whether drawn in one process or in ``nnbench report --jobs N`` workers.
Hover: a figure function gives a mark a hover text with :func:`hover` (matplotlib's ``gid``); :func:`render_svg`
turns it into an SVG ``<title>`` (a browser shows it on hover, with or without JavaScript) in a ``<g class="tip">``,
and every titled axes into a ``<g class="panel" data-panel="{title}">`` (the report's panel picker zooms to one).
Curves are thinned to at most ``MAX_CURVE_POINTS`` points; decision boundaries (dense ``contourf``)
are PNG.
"""

from __future__ import annotations

import base64
import contextlib
import io
import math
import re
import zlib
from dataclasses import dataclass
from html import escape

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

MAX_CURVE_POINTS = 80
PNG_DPI = 90
_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TIP = re.compile(r'<g id="nnbtip-(\d+)">')
_AREA = re.compile(r'<g id="nnbarea-(\d+)">\s*<path d="([^"]*)"[^>]*/>')
_NUM = re.compile(r"-?\d+(?:\.\d+)?")
_PANEL = re.compile(r'<g id="nnbpanel-(\d+)">')


@dataclass
class Figure:
    """A rendered figure: ``kind`` is ``svg`` (``data`` = SVG text) or ``png`` (``data`` = bytes)."""

    name: str  # file stem, unique in the report (safe characters only)
    kind: str
    data: str | bytes
    caption: str
    category: str
    alt: str = ""

    @property
    def filename(self) -> str:
        return f"{self.name}.{self.kind}"

    @property
    def data_uri(self) -> str:
        payload = self.data if isinstance(self.data, bytes) else self.data.encode("utf-8")
        mime = "image/png" if self.kind == "png" else "image/svg+xml"
        return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"

    def size(self) -> int:
        return len(self.data) if isinstance(self.data, bytes) else len(self.data.encode("utf-8"))


def setup() -> None:
    """Theme and rc settings shared by every figure."""
    sns.set_theme(style="whitegrid", context="notebook", font_scale=0.9)
    plt.rcParams.update(
        {
            "svg.fonttype": "none",
            "font.family": "sans-serif",
            "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "sans-serif"],
            "figure.dpi": 100,
            "savefig.dpi": PNG_DPI,
            "axes.titlesize": "medium",
        }
    )


def tx(text) -> str:
    """A name from a config or a file as matplotlib text: ``$`` escaped so that it never turns into mathtext."""
    return str(text).replace("$", r"\$")


def safe_name(text: str) -> str:
    """A file-name-safe version of ``text`` (letters, digits, ``-``, ``_``, ``.``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "x"


def render_svg(fig, name: str) -> str:
    """SVG text of ``fig`` (no XML prolog, no metadata, ids salted with ``name``); closes ``fig``."""
    tips = getattr(fig, "_nnbench_tips", [])
    panels = []
    for ax in fig.axes:
        title = ax.get_title().replace("\\$", "$")
        if title and ax.get_visible() and ax.get_gid() is None:
            ax.set_gid(f"nnbpanel-{len(panels)}")
            panels.append(title)
    buf = io.StringIO()
    with plt.rc_context({"svg.hashsalt": f"nnbench-{name}"}):
        fig.savefig(
            buf,
            format="svg",
            bbox_inches="tight",
            metadata={"Creator": None, "Date": None, "Format": None, "Type": None},
        )
    plt.close(fig)
    text = _COMMENT.sub("", _PROLOG.sub("", buf.getvalue(), count=1))
    salt = safe_name(name)
    text = _TIP.sub(lambda m: f'<g class="tip"><title>{escape(tips[int(m[1])])}</title>', text)
    text = _AREA.sub(lambda m: _area(m, tips), text)
    text = _PANEL.sub(
        lambda m: f'<g id="{salt}-panel{m[1]}" class="panel" data-panel="{escape(panels[int(m[1])])}">', text
    )
    return text.strip()


def _area(m: re.Match, tips: list) -> str:
    """An ``area`` tip's path (an axis-aligned rectangle) as a compact invisible ``<rect>`` that takes the pointer
    (``fill-opacity="0"`` is painted, so it does without CSS; matplotlib would write ``fill: none``)."""
    xs = [float(v) for v in _NUM.findall(m[2])]
    x, y = min(xs[0::2]), min(xs[1::2])
    w, h = max(xs[0::2]) - x, max(xs[1::2]) - y
    return (
        f'<g class="tip area"><title>{escape(tips[int(m[1])])}</title>'
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill-opacity="0"/>'
    )


def hover(artist, text: str, area: bool = False) -> None:
    """Give ``artist`` (already added to its figure) the hover text ``text``: an SVG ``<title>`` in the figure's
    SVG (:func:`render_svg`). ``area``: ``artist`` is an axis-aligned :class:`~matplotlib.patches.Rectangle` drawn
    with ``facecolor="none"``, written as an invisible ``<rect>`` that takes the pointer (class ``tip area``)."""
    fig = artist.get_figure()
    tips = fig.__dict__.setdefault("_nnbench_tips", [])
    artist.set_gid(f"{'nnbarea' if area else 'nnbtip'}-{len(tips)}")
    tips.append(str(text))


def render_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=PNG_DPI, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


@contextlib.contextmanager
def _seeded_jitter(name: str):
    """seaborn's ``stripplot`` jitters with NumPy's global RNG: seed it from ``name`` for the ``with`` block (the
    same points whatever ran before, in whichever process) and give the caller its state back afterwards."""
    state = np.random.get_state()
    np.random.seed(zlib.crc32(name.encode("utf-8")))
    try:
        yield
    finally:
        np.random.set_state(state)


def _grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    cols = min(n, max_cols)
    return math.ceil(n / cols), cols


def column_tips(ax, texts) -> None:
    """A hover text per category column of ``ax`` (column k spans x = k − ½ … k + ½, the whole height): ``texts[k]``.
    The axes' limits are fixed first, so that the invisible areas do not move them."""
    from matplotlib.patches import Rectangle

    ax.set_xlim(ax.get_xlim())
    y0, y1 = ax.set_ylim(ax.get_ylim())
    for k, text in enumerate(texts):
        if text:
            mark = Rectangle((k - 0.5, y0), 1, y1 - y0, facecolor="none", edgecolor="none", zorder=5)
            ax.add_patch(mark)
            hover(mark, text, area=True)
