# %% [markdown]
# # Exploring nnbench results with pandas
#
# `nnbench.results.load` reads a results folder (the workflow's `results/`, or a copy of it) into tidy pandas
# DataFrames: `runs` (one row per cell × seed), `summary` (one row per cell), `curves` (one row per recorded
# point of a run's training cost) and `studies` (one table per study). Every file is verified as it is read: a
# damaged one is refused with the file named, never skipped. The columns are listed in
# `help(nnbench.results.load)`.
#
# Run it as a script (`python docs/examples/explore_results.py`), cell by cell in an editor that knows `# %%`
# cells, or paste the cells into Jupyter. `NNBENCH_RESULTS` names the results folder (default `results`),
# `NNBENCH_FIGURE` the PNG the last cell writes (default `heatmap.png`).

# %%
import os

import matplotlib

matplotlib.use("Agg")  # no window: the figure goes to a file
import matplotlib.pyplot as plt
import seaborn as sns

from nnbench.results import load

res = load(os.environ.get("NNBENCH_RESULTS", "results"))
print(
    f"{len(res.runs)} runs in {len(res.summary)} cells; {len(res.curves)} curve points; studies: {sorted(res.studies)}"
)
res.runs.head()

# %% [markdown]
# ## Your own questions
# Which optimizer is best on each data set, averaged over initializations and regularizers (each cell weighted
# equally, as the report's main effects)? And how often did each initialization diverge?

# %%
by_opt = res.summary.groupby(["dataset", "opt"])["test_mean"].mean().unstack("opt")
print(by_opt.round(3))
diverged = res.runs.assign(diverged=res.runs["status"].eq("diverged")).groupby("init")["diverged"].mean()
print(diverged.round(3))

# %% [markdown]
# ## One of the report's figures, from the DataFrames
# The report's heat map (section "Heat maps"): mean test accuracy over seeds, initialization (rows) ×
# optimizer (columns), one panel per regularizer, for one data set. The numbers are `summary.test_mean`, the
# mean over a cell's ok runs; a cell whose every run diverged is left blank.

# %%
dataset = res.summary["dataset"].iloc[0]
cells = res.summary[res.summary["dataset"] == dataset]
inits, regs, opts = (list(dict.fromkeys(cells[k])) for k in ("init", "reg", "opt"))
table = cells.pivot_table(index=["reg", "init"], columns="opt", values="test_mean", sort=False)
vmin, vmax = cells["test_mean"].min(), cells["test_mean"].max()
fig, axes = plt.subplots(1, len(regs), figsize=(0.9 * len(opts) * len(regs) + 2, 0.5 * len(inits) + 1.6), squeeze=False)
for ax, reg in zip(axes[0], regs):
    panel = table.loc[reg].reindex(index=inits, columns=opts)
    sns.heatmap(
        100 * panel, ax=ax, vmin=100 * vmin, vmax=100 * vmax, cmap="crest", annot=True, fmt=".0f", cbar=False,
        linewidths=0.5, linecolor="white",
    )  # fmt: skip
    ax.set_title(f"reg = {reg}")
    ax.set_xlabel("optimizer")
    ax.set_ylabel("initialization" if ax is axes[0][0] else "")
fig.suptitle(f"{dataset}: mean test accuracy (%)")
fig.tight_layout()
out = os.environ.get("NNBENCH_FIGURE", "heatmap.png")
fig.savefig(out, dpi=100)
print(f"wrote {out}")
