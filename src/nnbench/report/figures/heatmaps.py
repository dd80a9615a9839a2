"""The grid's heat maps: mean test accuracy, init (rows) × optimizer (columns), one panel per regularizer; every
cell says its numbers on hover (init, optimizer, regularizer, test accuracy with its interval, runs ok)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import Rectangle

from .base import Figure, _grid, hover, render_svg, safe_name, tx


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
        figsize=(
            0.62 * len(opts) * ncols + 1.8 + 0.6 * (ncols - 1),
            0.42 * len(inits) * nrows + 1.4 + 0.5 * (nrows - 1),
        ),
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
        for i in range(len(inits)):
            for j in range(len(opts)):
                mark = Rectangle((j, i), 1, 1, facecolor="none", edgecolor="none", zorder=4)
                ax.add_patch(mark)
                hover(mark, _cell_text(cells, inits[i], reg, opts[j]), area=True)
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
        ax.tick_params(labelleft=True, labelbottom=True)  # every panel readable on its own (the report's picker)
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


def _cell_text(cells: pd.DataFrame, init: str, reg: str, opt: str) -> str:
    """The hover text of one heat-map cell: its axes, the test accuracy with its 95 % interval, runs ok."""
    head = f"init {init} · reg {reg} · opt {opt}"
    if (init, reg, opt) not in cells.index:
        return f"{head}: not on the grid"
    c = cells.loc[(init, reg, opt)]
    runs = f"{int(c['ok'])}/{int(c['runs'])} runs ok"
    if int(c["ok"]) == 0 or not np.isfinite(c["test_mean"]):
        return f"{head}: every run diverged ({runs})"
    ci = (
        f" [{100 * c['test_ci_low']:.1f}, {100 * c['test_ci_high']:.1f}]"
        if np.isfinite(c.get("test_ci_low", np.nan))
        else ""
    )
    return f"{head}: test {100 * c['test_mean']:.1f} %{ci}, train {100 * c['train_mean']:.1f} %, {runs}"
