"""The workflow's wall time, and Snakemake's share of it, against the number of grid cells.

Each measurement runs ``snakemake --cores C`` from scratch in a fresh folder (a copy of ``Snakefile``,
``workflow/``, ``config/`` and ``profiles/``; nothing of an earlier run), inside a small Python wrapper that
records, when Snakemake exits, its own CPU time (``getrusage(RUSAGE_SELF)``: the scheduler, the DAG, its bookkeeping)
and the CPU time of every process it started (``RUSAGE_CHILDREN``: the jobs, from the shell that starts
each to its Python's last instruction, imports included). With W the wall time and K the machine's CPUs:

  capacity   = W·K                                  (CPU seconds the machine could have given)
  jobs       = RUSAGE_CHILDREN                      (the jobs' own seconds)
  overhead   = 1 − jobs / capacity                  (issue 6's definition: Snakemake plus idle CPUs)
  snakemake  = RUSAGE_SELF / capacity               (the part of the overhead that is Snakemake's own work)

Two modes:

  python benchmarks/bench_workflow.py --full          # the default config, `snakemake --cores 8` (the
                                                      # whole workflow: grid, course, studies, report)
  python benchmarks/bench_workflow.py --scaling       # the grid alone (`--until train`) on growing subsets
                                                      # of the default grid: 7, 35, 245, 490 and 1225 cells
  python benchmarks/bench_workflow.py --scaling --quick   # 7 and 35 cells only (a smoke run)

Writes ``benchmarks/results/workflow_full.json`` / ``workflow_scaling.csv`` and the plot
``docs/workflow_scaling.png`` (wall time and CPU seconds vs cells, with a fitted line to predict bigger
grids on the machine it ran on). ``--before CSV`` draws an earlier ``workflow_scaling.csv`` in the same
plot, faded (``benchmarks/results/workflow_scaling_before.csv``: one job per cell, before issue 6).

  python benchmarks/bench_workflow.py --plot-only --before benchmarks/results/workflow_scaling_before.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from _common import environment, write_csv  # noqa: E402

# Runs Snakemake's command line in this process and, however it ends, writes the process's own and its
# children's CPU seconds to the file named by the first argument.
WRAPPER = """
import json, resource, sys
out, sys.argv = sys.argv[1], ["snakemake"] + sys.argv[2:]
code = 0
try:
    from snakemake.cli import main
    main()
except SystemExit as exit:
    code = exit.code or 0
finally:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as f:
        json.dump({"self_cpu": me.ru_utime + me.ru_stime, "jobs_cpu": kids.ru_utime + kids.ru_stime,
                   "jobs_max_rss_mb": kids.ru_maxrss / 1024, "exit": code}, f)
sys.exit(code)
"""

# Grid subsets, in the default config's order: (data sets, inits, regs, optimizers) counts.
SUBSETS = [(1, 1, 1, 7), (1, 1, 5, 7), (1, 7, 5, 7), (2, 7, 5, 7), (5, 7, 5, 7)]


def workdir(config: dict, parent: Path) -> Path:
    """A fresh folder holding the workflow (with its profile) and ``config`` as its config/config.yaml."""
    dest = Path(tempfile.mkdtemp(prefix="wf-", dir=parent))
    shutil.copy(ROOT / "Snakefile", dest)
    shutil.copytree(ROOT / "workflow", dest / "workflow")
    shutil.copytree(ROOT / "config", dest / "config")
    shutil.copytree(ROOT / "profiles", dest / "profiles")
    (dest / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return dest


def run(dest: Path, cores: int, *extra: str) -> dict:
    """``snakemake --cores cores *extra`` in ``dest``; wall and CPU seconds, jobs done."""
    usage = dest / "usage.json"
    args = [sys.executable, "-c", WRAPPER, str(usage), "--cores", str(cores), "--quiet", "all", *extra]
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=dest, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"snakemake failed in {dest}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    record = json.loads(usage.read_text())
    capacity = wall * os.cpu_count()
    rules = per_rule(dest / "benchmarks")
    record.update(
        wall_s=wall,
        cpus=os.cpu_count(),
        cores=cores,
        jobs=sum(r["jobs"] for r in rules.values()),
        capacity_s=capacity,
        overhead_share=1 - record["jobs_cpu"] / capacity,
        snakemake_share=record["self_cpu"] / capacity,
        rules=rules,
    )
    return record


def per_rule(bench_dir: Path) -> dict:
    """From Snakemake's benchmark files: per rule, its jobs, their wall and CPU seconds (psutil's samples,
    so approximate for short jobs) and the largest peak memory (max_rss, MB); the training jobs and the
    report write theirs themselves (getrusage: exact; the report's max_rss is its largest process's, with
    max_rss_main and max_rss_workers beside it)."""
    from nnbench.tables import read_benchmarks

    frame = read_benchmarks(bench_dir)
    if frame.empty:
        return {}
    extra = {c: (c, "max") for c in ("max_rss_main", "max_rss_workers") if c in frame}  # the report's own file
    stats = frame.groupby("rule").agg(
        jobs=("s", "size"), wall_s=("s", "sum"), cpu_s=("cpu_time", "sum"), max_rss_mb=("max_rss", "max"), **extra
    )
    return {
        rule: {k: (int(v) if k == "jobs" else round(float(v), 1)) for k, v in row.items() if v == v}
        for rule, row in stats.iterrows()
    }


def subset(config: dict, counts) -> dict:
    cfg = dict(config)
    for key, n in zip(("datasets", "inits", "regs", "optimizers"), counts):
        cfg[key] = config[key][:n]
    return cfg


def scaling(args, config):
    rows = []
    subsets = SUBSETS[:2] if args.quick else SUBSETS
    with tempfile.TemporaryDirectory() as tmp:
        for counts in subsets:
            cfg = subset(config, counts)
            cells = counts[0] * counts[1] * counts[2] * counts[3]
            dest = workdir(cfg, Path(tmp))
            rec = run(dest, args.cores, "--until", "train")
            rec.update(cells=cells, datasets=",".join(cfg["datasets"]))
            rec.pop("rules")
            rows.append(rec)
            print(
                f"{cells:5d} cells: {rec['jobs']:4d} jobs, wall {rec['wall_s']:7.1f} s, jobs' CPU "
                f"{rec['jobs_cpu']:7.1f} s, snakemake CPU {rec['self_cpu']:6.1f} s, overhead "
                f"{100 * rec['overhead_share']:5.1f} % (snakemake {100 * rec['snakemake_share']:4.1f} %)",
                flush=True,
            )
            shutil.rmtree(dest)
    print(f"wrote {write_csv(HERE / 'results' / 'workflow_scaling.csv', rows)}")
    plot(rows, ROOT / "docs" / "workflow_scaling.png", read_rows(args.before) if args.before else None)


def read_rows(path) -> list[dict]:
    with open(path, newline="") as f:
        return [{k: (float(v) if k not in ("datasets",) else v) for k, v in row.items()} for row in csv.DictReader(f)]


def plot(rows, path: Path, before=None):
    """Wall time and CPU seconds vs cells (log-log), with wall ≈ a + b·cells fitted by least squares and
    drawn up to 4× the largest grid; ``before``: an earlier run's rows, faded, for comparison."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import seaborn as sns

    sns.set_theme(style="whitegrid")
    cells = np.array([r["cells"] for r in rows], float)
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    colors = sns.color_palette(n_colors=3)
    if before:
        bc = [r["cells"] for r in before]
        for key, marker, color in (
            ("wall_s", "o", colors[0]),
            ("jobs_cpu", "s", colors[1]),
            ("self_cpu", "^", colors[2]),
        ):
            ax.plot(bc, [r[key] for r in before], marker + ":", color=color, alpha=0.35)
        ax.plot([], [], "k:", alpha=0.35, label="before (one job per cell), same series")
    ax.plot(cells, [r["wall_s"] for r in rows], "o-", color=colors[0], label="wall time")
    ax.plot(cells, [r["jobs_cpu"] for r in rows], "s-", color=colors[1], label="jobs' CPU seconds")
    ax.plot(cells, [r["self_cpu"] for r in rows], "^-", color=colors[2], label="Snakemake's own CPU seconds")
    wall = np.array([r["wall_s"] for r in rows])
    a = wall[0]  # the fixed cost: the smallest grid's wall time (start-up, one job)
    b = float(np.sum(cells * (wall - a)) / np.sum(cells**2))  # seconds per cell, least squares through (0, a)
    xs = np.geomspace(cells.min(), cells.max() * 4, 50)
    ax.plot(xs, a + b * xs, "k--", lw=1, label=f"wall ≈ {a:.1f} s + {b:.3f} s × cells")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="grid cells (5 seeds each)",
        ylabel="seconds",
        title=f"The grid's jobs (--until train), --cores {rows[0]['cores']:.0f}, {rows[0]['cpus']:.0f} CPUs",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def full(args, config):
    with tempfile.TemporaryDirectory() as tmp:
        dest = workdir(config, Path(tmp))
        rec = run(dest, args.cores)
        shutil.rmtree(dest)
    rec["environment"] = environment()
    rec["tuning"] = bool(config.get("tuning", {}).get("enabled", False))
    out = Path(args.out) if args.out else HERE / "results" / "workflow_full.json"
    out.write_text(json.dumps(rec, indent=1))
    print(
        f"default config{'' if rec['tuning'] else ' without tuning'}, --cores {args.cores}: {rec['jobs']} jobs, wall {rec['wall_s']:.1f} s on "
        f"{rec['cpus']} CPUs; jobs' CPU {rec['jobs_cpu']:.1f} s, Snakemake's CPU {rec['self_cpu']:.1f} s; "
        f"overhead {100 * rec['overhead_share']:.1f} % (Snakemake's own {100 * rec['snakemake_share']:.1f} %), "
        f"largest job RSS {rec['jobs_max_rss_mb']:.0f} MB"
    )
    for rule, stats in rec["rules"].items():
        print(
            f"  {rule:24s} {stats['jobs']:4d} jobs, {stats['wall_s']:7.1f} s wall in all, "
            f"peak memory {stats['max_rss_mb']:6.1f} MB"
        )
    print(f"wrote {out}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--full", action="store_true", help="the default config, the whole workflow")
    mode.add_argument("--scaling", action="store_true", help="the grid alone on growing subsets")
    mode.add_argument("--plot-only", action="store_true", help="redraw the plot from workflow_scaling.csv")
    parser.add_argument("--quick", action="store_true", help="with --scaling: the two smallest subsets")
    parser.add_argument("--before", help="an earlier workflow_scaling.csv to draw faded in the plot")
    parser.add_argument("--cores", type=int, default=8, help="snakemake --cores (default 8, the README's)")
    parser.add_argument(
        "--no-tuning", action="store_true", help="with --full: the fair comparison switched off (tuning.enabled false)"
    )
    parser.add_argument("--out", help="with --full: the JSON record (default benchmarks/results/workflow_full.json)")
    args = parser.parse_args(argv)
    if args.plot_only:
        rows = read_rows(HERE / "results" / "workflow_scaling.csv")
        plot(rows, ROOT / "docs" / "workflow_scaling.png", read_rows(args.before) if args.before else None)
        return
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    if args.no_tuning:
        config["tuning"]["enabled"] = False
    (full if args.full else scaling)(args, config)


if __name__ == "__main__":
    main()
