"""The cross-data-set view: the rank of each cell per data set (``nnbench.stats.cross_dataset_ranks``), the cells
with the best mean rank as rows, one column per data set and the mean rank last; every square says its numbers on
hover."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import Rectangle

from .base import Figure, hover, render_svg, tx

TOP_CELLS = 25  # rows of the figure (the table in the report has every cell)


def cross_dataset_ranks(ranks: pd.DataFrame, datasets: list[str], top: int = TOP_CELLS) -> Figure:
    """Heat map of ranks (1 = best, darker = better) of the ``top`` cells by mean rank × (data sets, mean rank)."""
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    shown = ranks.head(top)
    cols = [f"rank_{d}" for d in datasets if f"rank_{d}" in ranks.columns]
    labels = [f"{r.init} · {r.reg} · {r.opt}" for r in shown.itertuples()]
    z = shown[cols + ["mean_rank"]].to_numpy(dtype=float)
    n_cells = len(ranks)
    fig, ax = plt.subplots(figsize=(1.0 * (len(cols) + 1) + 2.8, 0.26 * len(shown) + 1.5), layout="constrained")
    sns.heatmap(
        pd.DataFrame(z, index=[tx(s) for s in labels], columns=[tx(c[len("rank_") :]) for c in cols] + ["mean rank"]),
        ax=ax,
        cmap=sns.color_palette("crest_r", as_cmap=True),
        vmin=1,
        vmax=max(n_cells, 2),
        annot=True,
        fmt=".3g",
        annot_kws={"fontsize": 7.5},
        cbar_kws={"label": f"rank among {n_cells} cells (1 = best)", "shrink": 0.7},
        linewidths=0.5,
        linecolor="white",
    )
    ax.axvline(len(cols), color="#1f2328", lw=1.2)
    for i, row in enumerate(shown.itertuples()):
        for j, col in enumerate(cols + ["mean_rank"]):
            mark = Rectangle((j, i), 1, 1, facecolor="none", edgecolor="none", zorder=4)
            ax.add_patch(mark)
            where = "mean over data sets" if col == "mean_rank" else col[len("rank_") :]
            value = getattr(row, "mean_rank") if col == "mean_rank" else shown.iloc[i][col]
            text = f"{labels[i]} — {where}: " + (
                f"rank {value:.3g} of {n_cells}" if np.isfinite(value) else "not on the grid"
            )
            hover(mark, text, area=True)
    ax.set_xlabel("")
    ax.set_ylabel("init · reg · optimizer")
    ax.tick_params(axis="x", rotation=35, labelsize=8)
    ax.tick_params(axis="y", rotation=0, labelsize=8)
    ax.set_title(f"Rank per data set, {len(shown)} best cells by mean rank (of {n_cells})")
    caption = (
        "Across data sets: each cell's rank by mean test accuracy within every data set (1 = best), and its mean "
        "rank; a cell that is dark all along the row is good everywhere, a light square is the data set where it "
        "falls behind. The full table is below (sortable)."
    )
    return Figure(
        "cross_dataset_ranks",
        "svg",
        render_svg(fig, "cross-ranks"),
        caption,
        "Rankings",
        alt="rank of each cell per data set and mean rank",
    )
