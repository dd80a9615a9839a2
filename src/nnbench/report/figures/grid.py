"""The grid's figures across data sets: the overfitting gap, decision boundaries, main effects (heat maps:
:mod:`.heatmaps`; learning curves: :mod:`.curves`; the cross-data-set ranks: :mod:`.ranks`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .base import Figure, _grid, _seeded_jitter, column_tips, render_png, render_svg, safe_name, tx

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
            labels, tips = [], []
            for reg in order:
                if reg in means.index and {"train", "test"} <= set(means.columns):
                    tr, te = means.loc[reg, "train"], means.loc[reg, "test"]
                    labels.append(f"{reg}\ngap {tr - te:+.1f}")
                    n = int((d["reg"] == reg).sum() // 2)
                    tips.append(
                        f"{ds} · reg {reg}: train {tr:.1f} %, test {te:.1f} % (mean of {n} cells), gap {tr - te:+.1f}"
                    )
                else:
                    labels.append(reg)
                    tips.append("")
            ax.set_xticks(range(len(order)), labels)
            column_tips(ax, tips)
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
        column_tips(
            ax,
            [
                f"{titles.get(axis, axis)} {lv}: "
                + ", ".join(f"{r.dataset} {r.acc:.1f} %" for r in d[d["level"] == lv].itertuples())
                for lv in order
            ],
        )
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
