"""The grid's figures: heat maps, learning curves, the overfitting gap, decision boundaries, main effects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import ticker
from matplotlib.patches import Rectangle

from .base import MAX_CURVE_POINTS, Figure, _grid, _seeded_jitter, render_png, render_svg, safe_name, tx

# ----------------------------------------------------------------------------------------------
# heat maps


def heatmap(
    summary: pd.DataFrame, dataset: str, inits: Sequence[str], regs: Sequence[str], opts: Sequence[str]
) -> Figure:
    """Test accuracy, init (rows) × optimizer (columns), one facet per regularizer."""
    cells = summary[summary["dataset"] == dataset].set_index(["init", "reg", "opt"])
    vals = cells["test_mean"].to_numpy(dtype=float)
    finite = vals[np.isfinite(vals)]
    vmin = float(finite.min()) if finite.size else 0.0
    vmax = float(finite.max()) if finite.size else 1.0
    if vmax - vmin < 0.02:
        vmin = max(0.0, vmax - 0.02)
    nrows, ncols = _grid(len(regs))
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(0.62 * len(opts) * ncols + 1.8, 0.42 * len(inits) * nrows + 1.4),
        squeeze=False,
        sharex=True,
        sharey=True,
    )
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
        sns.heatmap(
            pd.DataFrame(z, index=[tx(i) for i in inits], columns=[tx(o) for o in opts]),
            ax=ax,
            cmap=cmap,
            vmin=vmin,
            vmax=vmax,
            annot=False,
            cbar=False,
            linewidths=0.5,
            linecolor="white",
        )
    for k, (ax, reg, z, annot, dead) in enumerate(panels):
        for i in range(len(inits)):
            for j in range(len(opts)):
                if annot[i, j]:
                    rgb = cmap((z[i, j] - vmin) / (vmax - vmin)) if np.isfinite(z[i, j]) else (1, 1, 1, 1)
                    light = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 0.55
                    ax.text(
                        j + 0.5,
                        i + 0.5,
                        annot[i, j],
                        ha="center",
                        va="center",
                        fontsize=7.5,
                        color="#1f2328" if light else "white",
                    )
        for i, j in dead:
            ax.add_patch(
                Rectangle((j, i), 1, 1, facecolor="#eeeeee", edgecolor="#b02020", hatch="///", linewidth=0.0, zorder=1)
            )
            ax.text(
                j + 0.5,
                i + 0.5,
                "div.",
                ha="center",
                va="center",
                fontsize=7.5,
                color="#b02020",
                zorder=2,
                fontweight="bold",
            )
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
    caption = (
        f"{dataset}: look for the darkest cells — the best init × optimizer per regularizer; "
        "hatched ‘div.’ cells diverged in every run" + ("; * = some runs diverged" if partial else "") + "."
    )
    return Figure(
        f"heatmap_{safe_name(dataset)}",
        "svg",
        render_svg(fig, f"heatmap-{dataset}"),
        caption,
        "Heat maps",
        alt=f"heat map of test accuracy for {dataset}",
    )


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


def learning_curves(
    dataset: str, init: str, panels: Mapping[str, Mapping[str, tuple[list, int]]], opts: Sequence[str]
) -> Figure:
    """Cost per epoch, one line (mean over seeds) and band (range over seeds) per optimizer, one facet per regularizer.

    ``panels[reg][opt] = (list of cost curves, curve_every)``.
    """
    regs = list(panels)
    nrows, ncols = _grid(len(regs))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4.2 * ncols, 3.0 * nrows + 0.6), squeeze=False, sharey=False, layout="constrained"
    )
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
        fig.legend(
            list(handles.values()),
            [tx(h) for h in handles],
            loc="outside right upper",
            title="optimizer",
            frameon=False,
        )
    fig.suptitle(
        f"{tx(dataset)}: training cost per epoch, init = {tx(init)} (mean and range over seeds)", fontsize="medium"
    )
    caption = (
        f"{dataset}, {init} initialization: which optimizer drives the cost down fastest and furthest; "
        "the band spans the seeds (a wide band: they disagree); a line that stops means runs diverged."
    )
    return Figure(
        f"curves_{safe_name(dataset)}",
        "svg",
        render_svg(fig, f"curves-{dataset}"),
        caption,
        "Learning curves",
        alt=f"learning curves for {dataset}",
    )


# ----------------------------------------------------------------------------------------------
# regularization: train vs test


def overfitting_gap(summary: pd.DataFrame, datasets: Sequence[str], regs: Sequence[str]) -> Figure:
    """Train and test accuracy per regularizer, one facet per data set: every init × optimizer cell as a faint
    dot, the mean over cells as a large marker; the mean gap (train − test) under each regularizer's name."""
    s = summary[summary["dataset"].isin(datasets) & summary["ok"].gt(0)]
    long = pd.concat(
        [
            s.assign(split="train", accuracy=100 * s["train_mean"]),
            s.assign(split="test", accuracy=100 * s["test_mean"]),
        ],
        ignore_index=True,
    )[["dataset", "reg", "split", "accuracy"]].dropna()
    long["reg"] = long["reg"].map(tx)
    order = [tx(r) for r in regs]
    colors = {"train": "#4c72b0", "test": "#dd8452"}
    nrows, ncols = _grid(len(datasets))
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(max(0.8 * len(regs), 2.6) * ncols + 1.0, 3.1 * nrows),
        squeeze=False,
        layout="constrained",
    )
    for k, ds in enumerate(datasets):
        ax = axes[k // ncols][k % ncols]
        d = long[long["dataset"] == ds]
        if not d.empty:
            with _seeded_jitter(f"gap-{ds}"):
                sns.stripplot(
                    data=d,
                    x="reg",
                    y="accuracy",
                    hue="split",
                    order=order,
                    hue_order=["train", "test"],
                    dodge=True,
                    jitter=0.12,
                    alpha=0.3,
                    size=3,
                    palette=colors,
                    ax=ax,
                    legend=False,
                    rasterized=len(d) > 200,
                )  # many dots: one small bitmap instead of one path each
            sns.pointplot(
                data=d,
                x="reg",
                y="accuracy",
                hue="split",
                order=order,
                hue_order=["train", "test"],
                dodge=0.4,
                errorbar=None,
                markers="D",
                markersize=6,
                linestyle="none",
                palette=colors,
                ax=ax,
                legend=False,
            )
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
    fig.legend(
        h, ["train (mean over cells)", "test (mean over cells)"], loc="outside upper center", ncol=2, frameon=False
    )
    caption = (
        "Train vs test accuracy per regularizer (faint dots: the init × optimizer cells; diamonds: their mean): "
        "the vertical distance is the overfitting gap — a good regularizer closes it without lowering test."
    )
    return Figure(
        "overfitting_gap",
        "svg",
        render_svg(fig, "gap"),
        caption,
        "Regularization",
        alt="train versus test accuracy per regularizer",
    )


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
                ax.text(
                    0.5,
                    0.5,
                    "no boundary\n(diverged or missing)",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                    color="#b02020",
                )
            pts = p.get("points")
            if pts is not None:
                X, yy = pts
                ax.scatter(
                    X[0],
                    X[1],
                    c=yy,
                    cmap=cmap,
                    s=7,
                    edgecolors="k",
                    linewidths=0.3,
                    vmin=0,
                    vmax=max(1, int(np.max(yy)) if len(yy) else 1),
                )
            ax.set_title(tx(p.get("title", "")), fontsize=8.5)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if c == 0:
                ax.set_ylabel(tx(row_title))
    if cf is not None:
        fig.colorbar(cf, ax=axes.ravel().tolist(), shrink=0.6, label="P(class 1)", pad=0.02)
    fig.suptitle(f"{tx(dataset)}: decision boundaries", fontsize="medium")
    caption = (
        f"{dataset}: where the model puts the 0.5 line — a flat colour means one class everywhere "
        "(no symmetry breaking), a ragged line means overfitting, a smooth one follows the data."
    )
    return Figure(
        f"boundaries_{safe_name(dataset)}",
        "png",
        render_png(fig),
        caption,
        "Decision boundaries",
        alt=f"decision boundaries for {dataset}",
    )


# ----------------------------------------------------------------------------------------------
# main effects


def main_effects(
    effects: pd.DataFrame,
    axes_order: Sequence[str] = ("init", "reg", "opt"),
    level_orders: Mapping[str, Sequence[str]] | None = None,
) -> Figure:
    """Marginal mean test accuracy per level of each axis (``nnbench.stats.main_effects`` rows), hue = data set."""
    axes_order = [a for a in axes_order if a in set(effects["axis"])]
    fig, axes = plt.subplots(
        1,
        max(len(axes_order), 1),
        figsize=(4.0 * max(len(axes_order), 1), 3.4),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    datasets = [tx(d) for d in dict.fromkeys(effects["dataset"])]
    palette = dict(zip(datasets, sns.color_palette("colorblind", len(datasets))))
    titles = {"init": "initialization", "reg": "regularization", "opt": "optimizer"}
    for k, axis in enumerate(axes_order):
        ax = axes[0][k]
        d = effects[effects["axis"] == axis].assign(acc=lambda f: 100 * f["test_mean"])
        order = list((level_orders or {}).get(axis, [])) or list(dict.fromkeys(d["level"]))
        order = [tx(lv) for lv in order if lv in set(d["level"])]
        d = d.assign(level=d["level"].map(tx), dataset=d["dataset"].map(tx))
        sns.pointplot(
            data=d,
            x="level",
            y="acc",
            hue="dataset",
            order=order,
            hue_order=datasets,
            palette=palette,
            errorbar=None,
            ax=ax,
            markersize=4,
            linewidth=1.2,
        )
        ax.set_title(titles.get(axis, axis))
        ax.set_xlabel("")
        ax.set_ylabel("marginal mean test accuracy (%)" if k == 0 else "")
        ax.tick_params(axis="x", rotation=35, labelsize=8)
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    h = [plt.Line2D([], [], marker="o", color=palette[d]) for d in datasets]
    fig.legend(h, datasets, loc="outside upper center", ncol=min(len(datasets), 6), frameon=False)
    caption = (
        "Main effects: the steeper an axis's profile, the more that choice matters; each point is the mean "
        "test accuracy of a level, averaged over every combination of the other two axes."
    )
    return Figure(
        "main_effects",
        "svg",
        render_svg(fig, "effects"),
        caption,
        "Rankings",
        alt="main effects of initialization, regularization and optimizer",
    )
