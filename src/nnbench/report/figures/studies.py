"""The figures of the studies beyond the grid (nnbench.studies); the captions come from the studies' findings."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import ticker

from .base import Figure, _grid, _seeded_jitter, render_svg, tx

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
        sns.stripplot(
            data=t,
            x="dataset",
            y="shown",
            hue="stage",
            order=order,
            hue_order=["init", "trained"],
            palette=palette,
            dodge=True,
            jitter=0.25,
            size=2.6,
            alpha=0.6,
            ax=ax,
            log_scale=True,
            rasterized=len(t) > 400,
        )
    threshold = float(t["threshold"].iloc[0]) if len(t) else 1e-7
    ax.axhline(threshold, color="#b02020", lw=1.2, ls="--")
    ax.text(
        1.0,
        threshold,
        f" threshold {threshold:g}",
        color="#b02020",
        fontsize=8,
        va="bottom",
        ha="right",
        transform=ax.get_yaxis_transform(),
    )
    cause_colors = {"roundoff": "#dd8452", "kink": "#8172b3", "unexplained": "#b02020"}
    over = t[t["status"] == "fail"]
    positions = {d: i for i, d in enumerate(order)}
    for cause, g in over.groupby("cause"):
        x = g["dataset"].map(positions) + np.where(g["stage"] == "init", -0.2, 0.2)
        ax.scatter(
            x,
            g["shown"],
            s=22,
            facecolors="none",
            edgecolors=cause_colors.get(cause, "k"),
            linewidths=1.0,
            label=f"above: {cause}",
            zorder=3,
        )
    if (t["difference"] == 0).any():
        ax.text(
            0.0,
            DIFF_FLOOR,
            " exactly 0",
            fontsize=7.5,
            color="#59636e",
            va="bottom",
            transform=ax.get_yaxis_transform(),
        )
    ax.set_xlabel("")
    ax.set_ylabel("relative difference (backprop vs two-sided)")
    ax.legend(loc="upper left", fontsize=7.5, frameon=False, ncol=2)
    fig.suptitle("Gradient checks of every grid cell", fontsize="medium")
    return Figure(
        "study_gradcheck",
        "svg",
        render_svg(fig, "study-gradcheck"),
        caption,
        STUDY,
        alt="relative differences of the gradient checks per data set",
    )


def study_depth(layers: pd.DataFrame, caption: str) -> Figure:
    """Median over seeds of ‖∂J/∂W_l‖ by layer l, one line per depth, faceted activation (rows) × init (cols)."""
    inits = list(dict.fromkeys(layers["init"]))
    acts = list(dict.fromkeys(layers["activation"]))
    depths = sorted(layers["depth"].unique())
    med = layers.groupby(["init", "activation", "depth", "layer"])["grad_norm"].median().reset_index()
    fig, axes = plt.subplots(
        len(acts),
        len(inits),
        figsize=(2.9 * len(inits) + 1.2, 2.5 * len(acts) + 0.6),
        squeeze=False,
        sharex=True,
        layout="constrained",
    )
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
                    ax.plot(
                        line["layer"],
                        line["grad_norm"],
                        color=colors[depth],
                        lw=1.3,
                        marker=".",
                        ms=3,
                        label=str(depth),
                    )
            ax.set_yscale("log")
            if positive.empty:
                ax.set_yticks([])
                ax.text(
                    0.5,
                    0.5,
                    "every gradient\nexactly 0" if (d["grad_norm"] == 0).all() else "no finite norm",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                    color="#b02020",
                )
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
    return Figure(
        "study_depth",
        "svg",
        render_svg(fig, "study-depth"),
        caption,
        STUDY,
        alt="gradient norm by layer for each depth, initialization and activation",
    )


def study_depth_outcome(runs: pd.DataFrame) -> Figure:
    """Test accuracy after training against depth, one line per init, one panel per activation."""
    acts = list(dict.fromkeys(runs["activation"]))
    inits = list(dict.fromkeys(runs["init"]))
    fig, axes = plt.subplots(
        1, len(acts), figsize=(3.6 * len(acts) + 1.3, 2.9), squeeze=False, sharey=True, layout="constrained"
    )
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
    fig.legend(
        [plt.Line2D([], [], color=colors[i], marker="o") for i in inits],
        [tx(i) for i in inits],
        title="init",
        loc="outside right upper",
        frameon=False,
    )
    fig.suptitle("Training outcome by depth (mean over seeds; × at 50 %: every run diverged)", fontsize="medium")
    caption = (
        "Test accuracy after training, against the number of hidden layers: where the gradient norms of the "
        "figure above vanish (or explode), training fails as the network deepens."
    )
    return Figure(
        "study_depth_outcome",
        "svg",
        render_svg(fig, "study-depth-outcome"),
        caption,
        STUDY,
        alt="test accuracy against depth per initialization",
    )


def study_search(summary: pd.DataFrame, trials: pd.DataFrame | None, caption: str, labels: Mapping[str, str]) -> Figure:
    """Best validation accuracy and the test accuracy of the chosen candidate against the budget (mean and 95 %
    t-interval over seeds), one line per method; and every random-search trial's validation accuracy against α."""
    methods = list(dict.fromkeys(summary["method"]))
    colors = dict(zip(methods, sns.color_palette("colorblind", len(methods))))
    show_trials = trials is not None and (trials["method"] == "random").any()
    ncols = 3 if show_trials else 2
    fig, axes = plt.subplots(1, ncols, figsize=(4.0 * ncols + 1.6, 3.3), squeeze=False, layout="constrained")
    budgets = sorted(summary["budget"].unique())
    for k, (col, title) in enumerate(
        (("val", "best validation accuracy"), ("test", "test accuracy of that candidate"))
    ):
        ax = axes[0][k]
        for i, m in enumerate(methods):
            d = summary[summary["method"] == m].sort_values("budget")
            x = d["budget"].to_numpy(float) * (1 + 0.025 * (i - (len(methods) - 1) / 2))
            y = 100 * d[col].to_numpy(float)
            lo, hi = 100 * d[f"{col}_low"].to_numpy(float), 100 * d[f"{col}_high"].to_numpy(float)
            err = np.vstack([np.where(np.isfinite(lo), y - lo, 0), np.where(np.isfinite(hi), hi - y, 0)])
            ax.errorbar(
                x, y, yerr=err, color=colors[m], marker="o", ms=3.5, lw=1.3, capsize=2, label=tx(labels.get(m, m))
            )
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
    fig.legend(
        handles,
        [tx(labels.get(m, m)) for m in methods],
        loc="outside upper center",
        ncol=min(len(methods), 5),
        frameon=False,
        fontsize=8,
    )
    return Figure(
        "study_search",
        "svg",
        render_svg(fig, "study-search"),
        caption,
        STUDY,
        alt="best accuracy against budget per search method",
    )


def study_schedules(table: pd.DataFrame, caption: str) -> Figure | None:
    """Test accuracy against epochs, one panel per optimizer, one line per schedule (mean over seeds)."""
    s = table[table["part"] == "schedule"]
    if s.empty:
        return None
    opts = list(dict.fromkeys(s["optimizer"]))
    scheds = list(dict.fromkeys(s["schedule"]))
    nrows, ncols = _grid(len(opts))
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(3.2 * ncols + 1.4, 2.5 * nrows + 0.5),
        squeeze=False,
        sharex=True,
        sharey=True,
        layout="constrained",
    )
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
    fig.legend(
        [plt.Line2D([], [], color=colors[c], marker="o") for c in scheds],
        [tx(c) for c in scheds],
        title="schedule",
        loc="outside right upper",
        frameon=False,
    )
    fig.suptitle(f"Learning-rate schedules (batch size {int(s['batch_size'].iloc[0])})", fontsize="medium")
    return Figure(
        "study_schedules",
        "svg",
        render_svg(fig, "study-schedules"),
        caption,
        STUDY,
        alt="test accuracy against epochs per optimizer and schedule",
    )


def study_batch(table: pd.DataFrame) -> Figure | None:
    """Test accuracy against epochs (top) and training wall time (bottom), one column per optimizer, one line per
    batch size (constant schedule, mean over seeds)."""
    b = table[table["part"] == "batch"]
    if b.empty:
        return None
    b = b.assign(label=np.where(b["full_batch"].astype(str).str.lower() == "true", "full", b["batch_size"].astype(str)))
    opts = list(dict.fromkeys(b["optimizer"]))
    labels = list(dict.fromkeys(b["label"]))
    fig, axes = plt.subplots(
        2, len(opts), figsize=(2.5 * len(opts) + 1.4, 5.2), squeeze=False, sharey=True, layout="constrained"
    )
    colors = dict(zip(labels, sns.color_palette("rocket_r", len(labels))))
    for k, opt in enumerate(opts):
        for lab in labels:
            g = (
                b[(b["optimizer"] == opt) & (b["label"] == lab)]
                .groupby("epochs")
                .agg(acc=("test_acc", "mean"), s=("seconds", "mean"))
            )
            axes[0][k].plot(g.index, 100 * g["acc"], marker="o", ms=3, color=colors[lab])
            axes[1][k].plot(g["s"], 100 * g["acc"], marker="o", ms=3, color=colors[lab])
        axes[0][k].set_title(tx(opt))
        axes[0][k].set_xlabel("epochs")
        axes[1][k].set_xscale("log")
        axes[1][k].set_xlabel("training time (s)")
        for r in (0, 1):
            axes[r][k].set_ylabel("test accuracy (%)" if k == 0 else "")
    fig.legend(
        [plt.Line2D([], [], color=colors[lab], marker="o") for lab in labels],
        labels,
        title="batch size",
        loc="outside right upper",
        frameon=False,
    )
    fig.suptitle("Batch size: accuracy against epochs and against wall time (constant rate)", fontsize="medium")
    caption = (
        "Each point is a run stopped at that epoch (mean over seeds); the bottom row puts the same runs on "
        "the wall-time axis: small batches learn more per epoch but each epoch costs more."
    )
    return Figure(
        "study_batch",
        "svg",
        render_svg(fig, "study-batch"),
        caption,
        STUDY,
        alt="test accuracy against epochs and wall time per batch size",
    )
