"""The report's figures (seaborn on matplotlib's Agg backend), rendered to SVG text or PNG bytes.

Every function takes plain tables / arrays (never the trainer) and returns a :class:`Figure`: its
rendered bytes, a one-line caption saying what to look at, and a category (used by Snakemake's own
report). Figures are closed as soon as they are rendered.

Size: SVG keeps text as text (``svg.fonttype = none``), has no metadata (deterministic output) and
unique clip-path ids per figure (``svg.hashsalt``), so several SVGs can be inlined in one HTML page.
A figure depends on its arguments only, never on what was drawn before it (the strip plots' jitter is
seeded per panel): the same bytes whether drawn in one process or in ``nnbench report --jobs N`` workers.
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib import ticker  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

MAX_CURVE_POINTS = 80
PNG_DPI = 90
_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


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
    buf = io.StringIO()
    with plt.rc_context({"svg.hashsalt": f"nnbench-{name}"}):
        fig.savefig(buf, format="svg", bbox_inches="tight",
                    metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    plt.close(fig)
    text = _COMMENT.sub("", _PROLOG.sub("", buf.getvalue(), count=1))
    return text.strip()


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


# ----------------------------------------------------------------------------------------------
# heat maps


def heatmap(summary: pd.DataFrame, dataset: str, inits: Sequence[str], regs: Sequence[str],
            opts: Sequence[str]) -> Figure:
    """Test accuracy, init (rows) × optimizer (columns), one facet per regularizer."""
    cells = summary[summary["dataset"] == dataset].set_index(["init", "reg", "opt"])
    vals = cells["test_mean"].to_numpy(dtype=float)
    finite = vals[np.isfinite(vals)]
    vmin = float(finite.min()) if finite.size else 0.0
    vmax = float(finite.max()) if finite.size else 1.0
    if vmax - vmin < 0.02:
        vmin = max(0.0, vmax - 0.02)
    nrows, ncols = _grid(len(regs))
    fig, axes = plt.subplots(nrows, ncols, figsize=(0.62 * len(opts) * ncols + 1.8, 0.42 * len(inits) * nrows + 1.4),
                             squeeze=False, sharex=True, sharey=True)
    cmap = sns.color_palette("crest", as_cmap=True)
    partial = False
    panels = []
    for k, reg in enumerate(regs):
        z = np.full((len(inits), len(opts)), np.nan)
        annot = np.full(z.shape, "", dtype=object)
        dead = []
        for i, init in enumerate(inits):
            for j, opt in enumerate(opts):
                key = (init, reg, opt)
                if key not in cells.index:
                    annot[i, j] = "n/a"
                    continue
                c = cells.loc[key]
                if int(c["ok"]) == 0 or not np.isfinite(c["test_mean"]):
                    dead.append((i, j))
                    continue
                z[i, j] = c["test_mean"]
                annot[i, j] = f"{100 * c['test_mean']:.0f}" + ("*" if int(c["diverged"]) else "")
                partial |= bool(int(c["diverged"]))
        panels.append((axes[k // ncols][k % ncols], reg, z, annot, dead))
    # seaborn draws the whole figure once per call: every heat map first, the many texts afterwards
    for ax, reg, z, _, _ in panels:
        sns.heatmap(pd.DataFrame(z, index=[tx(i) for i in inits], columns=[tx(o) for o in opts]), ax=ax,
                    cmap=cmap, vmin=vmin, vmax=vmax, annot=False, cbar=False, linewidths=0.5, linecolor="white")
    for k, (ax, reg, z, annot, dead) in enumerate(panels):
        for i in range(len(inits)):
            for j in range(len(opts)):
                if annot[i, j]:
                    rgb = cmap((z[i, j] - vmin) / (vmax - vmin)) if np.isfinite(z[i, j]) else (1, 1, 1, 1)
                    light = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 0.55
                    ax.text(j + 0.5, i + 0.5, annot[i, j], ha="center", va="center", fontsize=7.5,
                            color="#1f2328" if light else "white")
        for i, j in dead:
            ax.add_patch(Rectangle((j, i), 1, 1, facecolor="#eeeeee", edgecolor="#b02020", hatch="///",
                                   linewidth=0.0, zorder=1))
            ax.text(j + 0.5, i + 0.5, "div.", ha="center", va="center", fontsize=7.5, color="#b02020",
                    zorder=2, fontweight="bold")
        ax.set_title(f"reg = {tx(reg)}")
        ax.set_xlabel("optimizer" if k // ncols == nrows - 1 else "")
        ax.set_ylabel("initialization" if k % ncols == 0 else "")
        ax.tick_params(axis="x", rotation=45, labelsize=8)
        plt.setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")
        ax.tick_params(axis="y", rotation=0, labelsize=8)
    for k in range(len(regs), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    fig.set_layout_engine("constrained")  # only now: seaborn's figure draws above stay cheap
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(100 * vmin, 100 * vmax))
    fig.colorbar(sm, ax=axes.ravel().tolist(), shrink=0.8, label="test accuracy (%)", pad=0.02, aspect=30)
    fig.suptitle(f"{tx(dataset)}: mean test accuracy over seeds (%)", fontsize="medium")
    caption = (f"{dataset}: look for the darkest cells — the best init × optimizer per regularizer; "
               "hatched ‘div.’ cells diverged in every run" + ("; * = some runs diverged" if partial else "") + ".")
    return Figure(f"heatmap_{safe_name(dataset)}", "svg", render_svg(fig, f"heatmap-{dataset}"), caption,
                  "Heat maps", alt=f"heat map of test accuracy for {dataset}")


# ----------------------------------------------------------------------------------------------
# learning curves


def _thin(x: np.ndarray, max_points: int = MAX_CURVE_POINTS) -> np.ndarray:
    if len(x) <= max_points:
        return np.arange(len(x))
    idx = np.unique(np.round(np.geomspace(1, len(x), max_points)).astype(int) - 1)
    return np.unique(np.concatenate([[0], idx, [len(x) - 1]]))


def curve_band(curves: Sequence[Sequence[float]], every: int = 1) -> tuple[np.ndarray, ...]:
    """(epochs, mean, low, high) over seeds of cost curves of possibly different lengths (NaN-padded).

    ``mean`` is the mean over the runs present at each point; the band is their range (min to max), which
    stays positive on the log scale the curves are drawn on (a t-interval of 5 seeds would not).
    """
    n = max((len(c) for c in curves), default=0)
    m = np.full((len(curves), n), np.nan)
    for r, c in enumerate(curves):
        a = np.asarray(c, dtype=float)
        a[~np.isfinite(a)] = np.nan
        m[r, : len(a)] = a
    present = np.isfinite(m).any(axis=0)
    filled = np.where(np.isfinite(m), m, 0.0)
    cnt = np.isfinite(m).sum(axis=0)
    mean = np.where(present, filled.sum(axis=0) / np.maximum(cnt, 1), np.nan)
    low = np.where(present, np.where(np.isfinite(m), m, np.inf).min(axis=0), np.nan)
    high = np.where(present, np.where(np.isfinite(m), m, -np.inf).max(axis=0), np.nan)
    return np.arange(n) * every, mean, low, high


def learning_curves(dataset: str, init: str, panels: Mapping[str, Mapping[str, tuple[list, int]]],
                    opts: Sequence[str]) -> Figure:
    """Cost per epoch, one line (mean over seeds) and band (range over seeds) per optimizer, one facet per regularizer.

    ``panels[reg][opt] = (list of cost curves, curve_every)``.
    """
    regs = list(panels)
    nrows, ncols = _grid(len(regs))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.0 * nrows + 0.6), squeeze=False, sharey=False,
                             layout="constrained")
    palette = dict(zip(opts, sns.color_palette("tab10", len(opts))))
    handles = {}
    for k, reg in enumerate(regs):
        ax = axes[k // ncols][k % ncols]
        for opt in opts:
            if opt not in panels[reg]:
                continue
            curves, every = panels[reg][opt]
            epochs, mean, lo, hi = curve_band(curves, every)
            if not np.isfinite(mean).any():
                continue
            idx = _thin(epochs)
            e, mu, l, h = epochs[idx], mean[idx], lo[idx], hi[idx]
            pos = np.isfinite(mu) & (mu > 0) & (l > 0)
            (line,) = ax.plot(e[pos], mu[pos], color=palette[opt], lw=1.4, label=tx(opt))
            ax.fill_between(e[pos], l[pos], h[pos], color=palette[opt], alpha=0.13, lw=0)
            handles[opt] = line
        ax.set_yscale("log")
        lo_y, hi_y = ax.get_ylim()
        decades = np.log10(hi_y / lo_y) if lo_y > 0 and hi_y > lo_y else 1.0
        ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0) if decades < 2.5 else (1.0,)))
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_title(f"reg = {tx(reg)}")
        ax.set_xlabel("epoch" if k // ncols == nrows - 1 else "")
        ax.set_ylabel("training cost" if k % ncols == 0 else "")
    for k in range(len(regs), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    if handles:
        fig.legend(list(handles.values()), [tx(h) for h in handles], loc="outside right upper",
                   title="optimizer", frameon=False)
    fig.suptitle(f"{tx(dataset)}: training cost per epoch, init = {tx(init)} (mean and range over seeds)",
                 fontsize="medium")
    caption = (f"{dataset}, {init} initialization: which optimizer drives the cost down fastest and furthest; "
               "the band spans the seeds (a wide band: they disagree); a line that stops means runs diverged.")
    return Figure(f"curves_{safe_name(dataset)}", "svg", render_svg(fig, f"curves-{dataset}"), caption,
                  "Learning curves", alt=f"learning curves for {dataset}")


# ----------------------------------------------------------------------------------------------
# regularization: train vs test


def overfitting_gap(summary: pd.DataFrame, datasets: Sequence[str], regs: Sequence[str]) -> Figure:
    """Train and test accuracy per regularizer, one facet per data set: every init × optimizer cell as a faint
    dot, the mean over cells as a large marker; the mean gap (train − test) under each regularizer's name."""
    s = summary[summary["dataset"].isin(datasets) & summary["ok"].gt(0)]
    long = pd.concat(
        [s.assign(split="train", accuracy=100 * s["train_mean"]), s.assign(split="test", accuracy=100 * s["test_mean"])],
        ignore_index=True,
    )[["dataset", "reg", "split", "accuracy"]].dropna()
    long["reg"] = long["reg"].map(tx)
    order = [tx(r) for r in regs]
    colors = {"train": "#4c72b0", "test": "#dd8452"}
    nrows, ncols = _grid(len(datasets))
    fig, axes = plt.subplots(nrows, ncols, figsize=(max(0.8 * len(regs), 2.6) * ncols + 1.0, 3.1 * nrows),
                             squeeze=False, layout="constrained")
    for k, ds in enumerate(datasets):
        ax = axes[k // ncols][k % ncols]
        d = long[long["dataset"] == ds]
        if not d.empty:
            with _seeded_jitter(f"gap-{ds}"):
                sns.stripplot(data=d, x="reg", y="accuracy", hue="split", order=order, hue_order=["train", "test"],
                              dodge=True, jitter=0.12, alpha=0.3, size=3, palette=colors, ax=ax, legend=False,
                              rasterized=len(d) > 200)  # many dots: one small bitmap instead of one path each
            sns.pointplot(data=d, x="reg", y="accuracy", hue="split", order=order, hue_order=["train", "test"],
                          dodge=0.4, errorbar=None, markers="D", markersize=6, linestyle="none", palette=colors,
                          ax=ax, legend=False)
            means = d.groupby(["reg", "split"])["accuracy"].mean().unstack()
            labels = []
            for reg in order:
                if reg in means.index and {"train", "test"} <= set(means.columns):
                    labels.append(f"{reg}\ngap {means.loc[reg, 'train'] - means.loc[reg, 'test']:+.1f}")
                else:
                    labels.append(reg)
            ax.set_xticks(range(len(order)), labels)
        ax.set_title(tx(ds))
        ax.set_xlabel("")
        ax.set_ylabel("accuracy (%)" if k % ncols == 0 else "")
        ax.tick_params(axis="x", labelsize=8)
    for k in range(len(datasets), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    h = [plt.Line2D([], [], marker="D", ls="none", color=c) for c in colors.values()]
    fig.legend(h, ["train (mean over cells)", "test (mean over cells)"], loc="outside upper center", ncol=2,
               frameon=False)
    caption = ("Train vs test accuracy per regularizer (faint dots: the init × optimizer cells; diamonds: their mean): "
               "the vertical distance is the overfitting gap — a good regularizer closes it without lowering test.")
    return Figure("overfitting_gap", "svg", render_svg(fig, "gap"), caption, "Regularization",
                  alt="train versus test accuracy per regularizer")


# ----------------------------------------------------------------------------------------------
# decision boundaries


def decision_boundaries(dataset: str, rows: Sequence[tuple[str, Sequence[Mapping]]]) -> Figure:
    """The course's boundary plots: ``rows`` = [(row title, [panel, ...]), ...].

    A panel is ``{"title", "boundary": {"x", "y", "prob"}, "points": (X (2, m), y (m,)) or None}``;
    the filled contours are P(class 1), the black line the 0.5 level.
    """
    ncols = max((len(p) for _, p in rows), default=1)
    fig, axes = plt.subplots(len(rows), ncols, figsize=(3.3 * ncols, 3.1 * len(rows)), squeeze=False)
    cmap = sns.color_palette("vlag", as_cmap=True)
    cf = None
    for r, (row_title, panels) in enumerate(rows):
        for c in range(ncols):
            ax = axes[r][c]
            if c >= len(panels):
                ax.set_visible(False)
                continue
            p = panels[c]
            b = p.get("boundary")
            if b:
                x, y = np.asarray(b["x"], float), np.asarray(b["y"], float)
                z = np.asarray(b["prob"], float)
                cf = ax.contourf(x, y, z, levels=np.linspace(0, 1, 11), cmap=cmap, vmin=0, vmax=1, alpha=0.85)
                if np.nanmin(z) < 0.5 < np.nanmax(z):
                    ax.contour(x, y, z, levels=[0.5], colors="k", linewidths=1.0)
            else:
                ax.text(0.5, 0.5, "no boundary\n(diverged or missing)", ha="center", va="center",
                        transform=ax.transAxes, color="#b02020")
            pts = p.get("points")
            if pts is not None:
                X, yy = pts
                ax.scatter(X[0], X[1], c=yy, cmap=cmap, s=7, edgecolors="k", linewidths=0.3, vmin=0,
                           vmax=max(1, int(np.max(yy)) if len(yy) else 1))
            ax.set_title(tx(p.get("title", "")), fontsize=8.5)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if c == 0:
                ax.set_ylabel(tx(row_title))
    if cf is not None:
        fig.colorbar(cf, ax=axes.ravel().tolist(), shrink=0.6, label="P(class 1)", pad=0.02)
    fig.suptitle(f"{tx(dataset)}: decision boundaries", fontsize="medium")
    caption = (f"{dataset}: where the model puts the 0.5 line — a flat colour means one class everywhere "
               "(no symmetry breaking), a ragged line means overfitting, a smooth one follows the data.")
    return Figure(f"boundaries_{safe_name(dataset)}", "png", render_png(fig), caption, "Decision boundaries",
                  alt=f"decision boundaries for {dataset}")


# ----------------------------------------------------------------------------------------------
# main effects


def main_effects(effects: pd.DataFrame, axes_order: Sequence[str] = ("init", "reg", "opt"),
                 level_orders: Mapping[str, Sequence[str]] | None = None) -> Figure:
    """Marginal mean test accuracy per level of each axis (``nnbench.stats.main_effects`` rows), hue = data set."""
    axes_order = [a for a in axes_order if a in set(effects["axis"])]
    fig, axes = plt.subplots(1, max(len(axes_order), 1), figsize=(4.0 * max(len(axes_order), 1), 3.4),
                             squeeze=False, sharey=True, layout="constrained")
    datasets = [tx(d) for d in dict.fromkeys(effects["dataset"])]
    palette = dict(zip(datasets, sns.color_palette("colorblind", len(datasets))))
    titles = {"init": "initialization", "reg": "regularization", "opt": "optimizer"}
    for k, axis in enumerate(axes_order):
        ax = axes[0][k]
        d = effects[effects["axis"] == axis].assign(acc=lambda f: 100 * f["test_mean"])
        order = list((level_orders or {}).get(axis, [])) or list(dict.fromkeys(d["level"]))
        order = [tx(lv) for lv in order if lv in set(d["level"])]
        d = d.assign(level=d["level"].map(tx), dataset=d["dataset"].map(tx))
        sns.pointplot(data=d, x="level", y="acc", hue="dataset", order=order, hue_order=datasets, palette=palette,
                      errorbar=None, ax=ax, markersize=4, linewidth=1.2)
        ax.set_title(titles.get(axis, axis))
        ax.set_xlabel("")
        ax.set_ylabel("marginal mean test accuracy (%)" if k == 0 else "")
        ax.tick_params(axis="x", rotation=35, labelsize=8)
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    h = [plt.Line2D([], [], marker="o", color=palette[d]) for d in datasets]
    fig.legend(h, datasets, loc="outside upper center", ncol=min(len(datasets), 6), frameon=False)
    caption = ("Main effects: the steeper an axis's profile, the more that choice matters; each point is the mean "
               "test accuracy of a level, averaged over every combination of the other two axes.")
    return Figure("main_effects", "svg", render_svg(fig, "effects"), caption, "Rankings",
                  alt="main effects of initialization, regularization and optimizer")


# ----------------------------------------------------------------------------------------------
# studies beyond the grid (nnbench.studies); the captions come from nnbench.studies.findings

STUDY = "Studies"
DIFF_FLOOR = 1e-18  # an exact 0 difference, drawn at this height on the log axis


def study_gradcheck(table: pd.DataFrame, caption: str) -> Figure:
    """Relative difference of every check (log scale), per data set, at initialization and after training; the
    threshold as a red line, checks above it ringed and coloured by their diagnosed cause."""
    t = table[table["status"] != "diverged"].copy()
    t["shown"] = t["difference"].astype(float).clip(lower=DIFF_FLOOR)
    t["dataset"] = t["dataset"].map(tx)
    order = list(dict.fromkeys(t["dataset"]))
    fig, ax = plt.subplots(figsize=(max(4.5, 1.3 * len(order) + 2.5), 3.6), layout="constrained")
    palette = {"init": "#4c72b0", "trained": "#8c8c8c"}
    with _seeded_jitter("study-gradcheck"):
        sns.stripplot(data=t, x="dataset", y="shown", hue="stage", order=order, hue_order=["init", "trained"],
                      palette=palette, dodge=True, jitter=0.25, size=2.6, alpha=0.6, ax=ax, log_scale=True,
                      rasterized=len(t) > 400)
    threshold = float(t["threshold"].iloc[0]) if len(t) else 1e-7
    ax.axhline(threshold, color="#b02020", lw=1.2, ls="--")
    ax.text(1.0, threshold, f" threshold {threshold:g}", color="#b02020", fontsize=8, va="bottom", ha="right",
            transform=ax.get_yaxis_transform())
    cause_colors = {"roundoff": "#dd8452", "kink": "#8172b3", "unexplained": "#b02020"}
    over = t[t["status"] == "fail"]
    positions = {d: i for i, d in enumerate(order)}
    for cause, g in over.groupby("cause"):
        x = g["dataset"].map(positions) + np.where(g["stage"] == "init", -0.2, 0.2)
        ax.scatter(x, g["shown"], s=22, facecolors="none", edgecolors=cause_colors.get(cause, "k"), linewidths=1.0,
                   label=f"above: {cause}", zorder=3)
    if (t["difference"] == 0).any():
        ax.text(0.0, DIFF_FLOOR, " exactly 0", fontsize=7.5, color="#59636e", va="bottom",
                transform=ax.get_yaxis_transform())
    ax.set_xlabel("")
    ax.set_ylabel("relative difference (backprop vs two-sided)")
    ax.legend(loc="upper left", fontsize=7.5, frameon=False, ncol=2)
    fig.suptitle("Gradient checks of every grid cell", fontsize="medium")
    return Figure("study_gradcheck", "svg", render_svg(fig, "study-gradcheck"), caption, STUDY,
                  alt="relative differences of the gradient checks per data set")


def study_depth(layers: pd.DataFrame, caption: str) -> Figure:
    """Median over seeds of ‖∂J/∂W_l‖ by layer l, one line per depth, faceted activation (rows) × init (cols)."""
    inits = list(dict.fromkeys(layers["init"]))
    acts = list(dict.fromkeys(layers["activation"]))
    depths = sorted(layers["depth"].unique())
    med = layers.groupby(["init", "activation", "depth", "layer"])["grad_norm"].median().reset_index()
    fig, axes = plt.subplots(len(acts), len(inits), figsize=(2.9 * len(inits) + 1.2, 2.5 * len(acts) + 0.6),
                             squeeze=False, sharex=True, layout="constrained")
    colors = dict(zip(depths, sns.color_palette("viridis", len(depths))))
    shared = []  # panels that share one y range: every init but "large" (whose norms explode by decades)
    for i, act in enumerate(acts):
        for j, init in enumerate(inits):
            ax = axes[i][j]
            d = med[(med["init"] == init) & (med["activation"] == act)]
            positive = d[np.isfinite(d["grad_norm"]) & (d["grad_norm"] > 0)]
            for depth in depths:
                line = positive[positive["depth"] == depth]
                if len(line):
                    ax.plot(line["layer"], line["grad_norm"], color=colors[depth], lw=1.3, marker=".", ms=3,
                            label=str(depth))
            ax.set_yscale("log")
            if positive.empty:
                ax.set_yticks([])
                ax.text(0.5, 0.5, "every gradient\nexactly 0" if (d["grad_norm"] == 0).all() else "no finite norm",
                        ha="center", va="center", transform=ax.transAxes, color="#b02020")
            elif init != "large":
                shared.append(ax)
            ax.set_title(f"{tx(init)} · {tx(act)}")
            ax.set_xlabel("layer" if i == len(acts) - 1 else "")
            ax.set_ylabel("‖∂J/∂W‖ (median of seeds)" if j == 0 else "")
    if shared:
        lo = min(a.get_ylim()[0] for a in shared)
        hi = max(a.get_ylim()[1] for a in shared)
        for a in shared:
            a.set_ylim(lo, hi)
    handles = [plt.Line2D([], [], color=colors[d], lw=1.5) for d in depths]
    fig.legend(handles, [str(d) for d in depths], title="hidden layers", loc="outside right upper", frameon=False)
    fig.suptitle("Gradient norm of each layer at initialization, by depth", fontsize="medium")
    return Figure("study_depth", "svg", render_svg(fig, "study-depth"), caption, STUDY,
                  alt="gradient norm by layer for each depth, initialization and activation")


def study_depth_outcome(runs: pd.DataFrame) -> Figure:
    """Test accuracy after training against depth, one line per init, one panel per activation."""
    acts = list(dict.fromkeys(runs["activation"]))
    inits = list(dict.fromkeys(runs["init"]))
    fig, axes = plt.subplots(1, len(acts), figsize=(3.6 * len(acts) + 1.3, 2.9), squeeze=False, sharey=True,
                             layout="constrained")
    colors = dict(zip(inits, sns.color_palette("colorblind", len(inits))))
    for k, act in enumerate(acts):
        ax = axes[0][k]
        for init in inits:
            d = runs[(runs["activation"] == act) & (runs["init"] == init)]
            g = d.groupby("depth")["test_acc"].mean().mul(100)
            ax.plot(g.index, g.values, marker="o", ms=3.5, color=colors[init], label=tx(init))
            dead = d.groupby("depth")["status"].apply(lambda s: (s != "ok").all())
            for depth in dead[dead].index:
                ax.scatter([depth], [0.5 * 100], marker="x", color=colors[init], s=25)
        ax.set_title(tx(act))
        ax.set_xlabel("hidden layers")
        ax.set_ylabel("test accuracy (%)" if k == 0 else "")
    fig.legend([plt.Line2D([], [], color=colors[i], marker="o") for i in inits], [tx(i) for i in inits],
               title="init", loc="outside right upper", frameon=False)
    fig.suptitle("Training outcome by depth (mean over seeds; × at 50 %: every run diverged)", fontsize="medium")
    caption = ("Test accuracy after training, against the number of hidden layers: where the gradient norms of the "
               "figure above vanish (or explode), training fails as the network deepens.")
    return Figure("study_depth_outcome", "svg", render_svg(fig, "study-depth-outcome"), caption, STUDY,
                  alt="test accuracy against depth per initialization")


def study_search(summary: pd.DataFrame, trials: pd.DataFrame | None, caption: str, labels: Mapping[str, str]) -> Figure:
    """Best validation accuracy and the test accuracy of the chosen candidate against the budget (mean and 95 %
    t-interval over seeds), one line per method; and every random-search trial's validation accuracy against α."""
    methods = list(dict.fromkeys(summary["method"]))
    colors = dict(zip(methods, sns.color_palette("colorblind", len(methods))))
    show_trials = trials is not None and (trials["method"] == "random").any()
    ncols = 3 if show_trials else 2
    fig, axes = plt.subplots(1, ncols, figsize=(4.0 * ncols + 1.6, 3.3), squeeze=False, layout="constrained")
    budgets = sorted(summary["budget"].unique())
    for k, (col, title) in enumerate((("val", "best validation accuracy"), ("test", "test accuracy of that candidate"))):
        ax = axes[0][k]
        for i, m in enumerate(methods):
            d = summary[summary["method"] == m].sort_values("budget")
            x = d["budget"].to_numpy(float) * (1 + 0.025 * (i - (len(methods) - 1) / 2))
            y = 100 * d[col].to_numpy(float)
            lo, hi = 100 * d[f"{col}_low"].to_numpy(float), 100 * d[f"{col}_high"].to_numpy(float)
            err = np.vstack([np.where(np.isfinite(lo), y - lo, 0), np.where(np.isfinite(hi), hi - y, 0)])
            ax.errorbar(x, y, yerr=err, color=colors[m], marker="o", ms=3.5, lw=1.3, capsize=2,
                        label=tx(labels.get(m, m)))
        ax.set_xscale("log")
        ax.set_xticks(budgets, [str(b) for b in budgets])
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xlabel("budget (trials)")
        ax.set_ylabel(f"{title} (%)")
    if show_trials:
        ax = axes[0][2]
        r = trials[(trials["method"] == "random") & trials["val_acc"].notna()]
        sc = ax.scatter(r["lr"], 100 * r["val_acc"], c=np.log10(1 - r["beta"]), cmap="crest", s=9, alpha=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate α")
        ax.set_ylabel("validation accuracy (%)")
        ax.set_title("every random-search trial", fontsize="small")
        fig.colorbar(sc, ax=ax, label="r = log10(1 − β)", pad=0.01)
    handles = [plt.Line2D([], [], color=colors[m], marker="o") for m in methods]
    fig.legend(handles, [tx(labels.get(m, m)) for m in methods], loc="outside upper center",
               ncol=min(len(methods), 5), frameon=False, fontsize=8)
    return Figure("study_search", "svg", render_svg(fig, "study-search"), caption, STUDY,
                  alt="best accuracy against budget per search method")


def study_schedules(table: pd.DataFrame, caption: str) -> Figure | None:
    """Test accuracy against epochs, one panel per optimizer, one line per schedule (mean over seeds)."""
    s = table[table["part"] == "schedule"]
    if s.empty:
        return None
    opts = list(dict.fromkeys(s["optimizer"]))
    scheds = list(dict.fromkeys(s["schedule"]))
    nrows, ncols = _grid(len(opts))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols + 1.4, 2.5 * nrows + 0.5), squeeze=False,
                             sharex=True, sharey=True, layout="constrained")
    colors = dict(zip(scheds, sns.color_palette("colorblind", len(scheds))))
    for k, opt in enumerate(opts):
        ax = axes[k // ncols][k % ncols]
        for sch in scheds:
            g = s[(s["optimizer"] == opt) & (s["schedule"] == sch)].groupby("epochs")["test_acc"].mean().mul(100)
            ax.plot(g.index, g.values, marker="o", ms=3, color=colors[sch])
        ax.set_title(tx(opt))
        ax.set_xlabel("epochs" if k // ncols == nrows - 1 else "")
        ax.set_ylabel("test accuracy (%)" if k % ncols == 0 else "")
    for k in range(len(opts), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    fig.legend([plt.Line2D([], [], color=colors[c], marker="o") for c in scheds], [tx(c) for c in scheds],
               title="schedule", loc="outside right upper", frameon=False)
    fig.suptitle(f"Learning-rate schedules (batch size {int(s['batch_size'].iloc[0])})", fontsize="medium")
    return Figure("study_schedules", "svg", render_svg(fig, "study-schedules"), caption, STUDY,
                  alt="test accuracy against epochs per optimizer and schedule")


def study_batch(table: pd.DataFrame) -> Figure | None:
    """Test accuracy against epochs (top) and training wall time (bottom), one column per optimizer, one line per
    batch size (constant schedule, mean over seeds)."""
    b = table[table["part"] == "batch"]
    if b.empty:
        return None
    b = b.assign(label=np.where(b["full_batch"].astype(str).str.lower() == "true", "full", b["batch_size"].astype(str)))
    opts = list(dict.fromkeys(b["optimizer"]))
    labels = list(dict.fromkeys(b["label"]))
    fig, axes = plt.subplots(2, len(opts), figsize=(2.5 * len(opts) + 1.4, 5.2), squeeze=False, sharey=True,
                             layout="constrained")
    colors = dict(zip(labels, sns.color_palette("rocket_r", len(labels))))
    for k, opt in enumerate(opts):
        for lab in labels:
            g = b[(b["optimizer"] == opt) & (b["label"] == lab)].groupby("epochs").agg(
                acc=("test_acc", "mean"), s=("seconds", "mean"))
            axes[0][k].plot(g.index, 100 * g["acc"], marker="o", ms=3, color=colors[lab])
            axes[1][k].plot(g["s"], 100 * g["acc"], marker="o", ms=3, color=colors[lab])
        axes[0][k].set_title(tx(opt))
        axes[0][k].set_xlabel("epochs")
        axes[1][k].set_xscale("log")
        axes[1][k].set_xlabel("training time (s)")
        for r in (0, 1):
            axes[r][k].set_ylabel("test accuracy (%)" if k == 0 else "")
    fig.legend([plt.Line2D([], [], color=colors[lab], marker="o") for lab in labels], labels, title="batch size",
               loc="outside right upper", frameon=False)
    fig.suptitle("Batch size: accuracy against epochs and against wall time (constant rate)", fontsize="medium")
    caption = ("Each point is a run stopped at that epoch (mean over seeds); the bottom row puts the same runs on "
               "the wall-time axis: small batches learn more per epoch but each epoch costs more.")
    return Figure("study_batch", "svg", render_svg(fig, "study-batch"), caption, STUDY,
                  alt="test accuracy against epochs and wall time per batch size")
