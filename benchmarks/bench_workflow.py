"""The workflow's wall time, and Snakemake's share of it, against the number of grid cells.

Each measurement runs ``snakemake --cores C`` from scratch in a fresh folder (a copy of ``Snakefile``,
``workflow/`` and ``config/``; nothing of an earlier run), inside a small Python wrapper that records, when
Snakemake exits, its own CPU time (``getrusage(RUSAGE_SELF)``: the scheduler, the DAG, its bookkeeping)
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
grids on the machine it ran on).
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

from _common import environment  # noqa: E402

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
    """A fresh folder holding the workflow and ``config`` as its config/config.yaml."""
    dest = Path(tempfile.mkdtemp(prefix="wf-", dir=parent))
    shutil.copy(ROOT / "Snakefile", dest)
    shutil.copytree(ROOT / "workflow", dest / "workflow")
    shutil.copytree(ROOT / "config", dest / "config")
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
    jobs = sum(1 for _ in (dest / "benchmarks").rglob("*.tsv")) if (dest / "benchmarks").exists() else 0
    capacity = wall * os.cpu_count()
    record.update(wall_s=wall, cpus=os.cpu_count(), cores=cores, jobs=jobs, capacity_s=capacity,
                  overhead_share=1 - record["jobs_cpu"] / capacity,
                  snakemake_share=record["self_cpu"] / capacity)
    return record


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
            rows.append(rec)
            print(f"{cells:5d} cells: {rec['jobs']:4d} jobs, wall {rec['wall_s']:7.1f} s, jobs' CPU "
                  f"{rec['jobs_cpu']:7.1f} s, snakemake CPU {rec['self_cpu']:6.1f} s, overhead "
                  f"{100 * rec['overhead_share']:5.1f} % (snakemake {100 * rec['snakemake_share']:4.1f} %)",
                  flush=True)
            shutil.rmtree(dest)
    out = HERE / "results" / "workflow_scaling.csv"
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {out}")
    plot(rows, ROOT / "docs" / "workflow_scaling.png")


def plot(rows, path: Path):
    """Wall time and CPU seconds vs cells (log-log), with wall ≈ a + b·cells fitted on the grids that hold
    every data set in proportion (the largest two) and shown over the whole range."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import seaborn as sns

    sns.set_theme(style="whitegrid")
    cells = np.array([r["cells"] for r in rows], float)
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.plot(cells, [r["wall_s"] for r in rows], "o-", label="wall time")
    ax.plot(cells, [r["jobs_cpu"] for r in rows], "s-", label="jobs' CPU seconds")
    ax.plot(cells, [r["self_cpu"] for r in rows], "^-", label="Snakemake's own CPU seconds")
    b, a = np.polyfit(cells, [r["wall_s"] for r in rows], 1)
    xs = np.geomspace(cells.min(), cells.max() * 4, 50)
    ax.plot(xs, a + b * xs, "k--", lw=1, label=f"wall ≈ {a:.0f} s + {b:.2f} s × cells")
    ax.set(xscale="log", yscale="log", xlabel="grid cells (5 seeds each)", ylabel="seconds",
           title=f"Workflow (`--until train`, --cores {rows[0]['cores']}, {rows[0]['cpus']} CPUs)")
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
    out = HERE / "results" / "workflow_full.json"
    out.write_text(json.dumps(rec, indent=1))
    print(f"default config, --cores {args.cores}: {rec['jobs']} jobs, wall {rec['wall_s']:.1f} s on "
          f"{rec['cpus']} CPUs; jobs' CPU {rec['jobs_cpu']:.1f} s, Snakemake's CPU {rec['self_cpu']:.1f} s; "
          f"overhead {100 * rec['overhead_share']:.1f} % (Snakemake's own {100 * rec['snakemake_share']:.1f} %), "
          f"largest job RSS {rec['jobs_max_rss_mb']:.0f} MB")
    print(f"wrote {out}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--full", action="store_true", help="the default config, the whole workflow")
    mode.add_argument("--scaling", action="store_true", help="the grid alone on growing subsets")
    parser.add_argument("--quick", action="store_true", help="with --scaling: the two smallest subsets")
    parser.add_argument("--cores", type=int, default=8, help="snakemake --cores (default 8, the README's)")
    args = parser.parse_args(argv)
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    (full if args.full else scaling)(args, config)


if __name__ == "__main__":
    main()
