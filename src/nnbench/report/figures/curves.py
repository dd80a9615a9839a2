"""The grid's learning curves: training cost per epoch, mean and range over seeds, one panel per regularizer;
every line says its optimizer and its last cost on hover."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib import ticker

from .base import MAX_CURVE_POINTS, Figure, _grid, hover, render_svg, safe_name, tx


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
            last = int(np.flatnonzero(pos)[-1]) if pos.any() else None
            if last is not None:
                hover(
                    line,
                    f"{opt} · reg {reg}: training cost {mu[last]:.4g} at epoch {int(e[last])} "
                    f"(seeds {l[last]:.4g} to {h[last]:.4g})",
                )
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
