"""The fair comparison's figures (nnbench.tuning): performance profiles over time-to-target, and each
optimizer's sensitivity to its learning rate (every trial's validation accuracy against α)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from .base import Figure, _grid, render_svg, tx

FAIR = "Fair comparison"
METRIC_LABELS = {"epochs": "epochs to target", "seconds": "seconds to target"}


def fair_profiles(profiles: pd.DataFrame, scores: pd.DataFrame, caption: str) -> Figure:
    """ρ_s(τ) as a step function, one panel per metric (epochs, seconds), one line per optimizer; the legend
    gives each optimizer's area score."""
    methods = list(dict.fromkeys(profiles["method"]))
    colors = dict(zip(methods, sns.color_palette("colorblind", len(methods))))
    metrics = [m for m in METRIC_LABELS if (profiles["metric"] == m).any()]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.6 * len(metrics), 3.4), squeeze=False, layout="constrained")
    for ax, metric in zip(axes[0], metrics):
        for i, m in enumerate(methods):
            d = profiles[(profiles["metric"] == metric) & (profiles["method"] == m)].sort_values("tau")
            s = scores[(scores["metric"] == metric) & (scores["method"] == m)]["score"]
            label = f"{m} ({float(s.iloc[0]):.2f})" if len(s) else m
            ax.step(
                d["tau"],
                d["rho"] + 0.004 * (i - len(methods) / 2),
                where="post",
                color=colors[m],
                lw=1.4,
                label=tx(label),
            )
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("τ (ratio to the fastest optimizer)")
        ax.set_ylabel("share of problems ρ(τ)")
        ax.set_title(METRIC_LABELS[metric], fontsize="small")
        ax.legend(fontsize=7, frameon=False, loc="lower right", title="optimizer (score)", title_fontsize=7)
    return Figure("fair_profiles", "svg", render_svg(fig, "fair-profiles"), caption, FAIR, alt="performance profiles")


def fair_sensitivity(trials: pd.DataFrame, caption: str) -> Figure:
    """Validation accuracy of every trial against its learning rate, one panel per optimizer, one colour per
    data set; the hollow marker is trial 0 (the configured definition)."""
    opts = list(dict.fromkeys(trials["opt"]))
    datasets = list(dict.fromkeys(trials["dataset"]))
    colors = dict(zip(datasets, sns.color_palette("colorblind", len(datasets))))
    rows, cols = _grid(len(opts), 4)
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.0 * cols, 2.5 * rows), squeeze=False, sharey=True, layout="constrained"
    )
    for k, opt in enumerate(opts):
        ax = axes[k // cols][k % cols]
        t = trials[trials["opt"] == opt]
        for ds in datasets:
            d = t[t["dataset"] == ds].groupby("trial", as_index=False)[["lr", "val_accuracy"]].mean()
            d = d.sort_values("lr")
            ax.plot(d["lr"], 100 * d["val_accuracy"], color=colors[ds], marker="o", ms=3, lw=0.8, alpha=0.85)
            zero = d[d["trial"] == 0]
            ax.scatter(zero["lr"], 100 * zero["val_accuracy"], s=40, facecolors="none", edgecolors=colors[ds], lw=1.2)
        ax.set_xscale("log")
        ax.set_title(tx(opt), fontsize="small")
        ax.set_xlabel("learning rate α")
        if k % cols == 0:
            ax.set_ylabel("validation accuracy (%)")
    for k in range(len(opts), rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    handles = [plt.Line2D([], [], color=colors[d], marker="o") for d in datasets]
    fig.legend(
        handles, [tx(d) for d in datasets], loc="outside upper center", ncol=len(datasets), frameon=False, fontsize=8
    )
    return Figure(
        "fair_sensitivity", "svg", render_svg(fig, "fair-sensitivity"), caption, FAIR, alt="accuracy against lr"
    )
