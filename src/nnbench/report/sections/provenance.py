"""Section 9, provenance and cost: the config as run, seeds, versions (installed and recorded in the results),
git commit, machine, date, and the Snakemake benchmarks per rule."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd

from nnbench.contract import blas
from nnbench.provenance import package_versions

from ..format import fmt_mb, fmt_seconds
from ..inputs import ReportInputs

PACKAGES = [
    "nnbench",
    "numpy",
    "scipy",
    "scikit-learn",
    "pandas",
    "matplotlib",
    "seaborn",
    "jinja2",
    "pyyaml",
    "snakemake",
]


def _versions() -> dict[str, str]:
    """The report's packages, and the BLAS library and kernel (``nnbench.contract.blas``)."""
    return {"python": platform.python_version(), **package_versions(PACKAGES), **blas()}


def _git(cwd: Path) -> dict:
    def run(*args):
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        commit = run("rev-parse", "HEAD")
    except (OSError, subprocess.SubprocessError):  # no git, not a repository, or a timeout
        return {"commit": "unknown (no git commit found)", "short": "unknown", "dirty": None}
    try:
        dirty = bool(run("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):  # no git, not a repository, or a timeout
        dirty = None
    return {"commit": commit, "short": commit[:12], "dirty": dirty}


def _machine() -> dict:
    info = {
        "host": platform.node(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or "",
        "cpus": os.cpu_count(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["processor"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory"] = f"{int(line.split()[1]) / 1024**2:.1f} GB"
                break
    except OSError:
        pass
    return info


def _now() -> _dt.datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc)
    return _dt.datetime.now(_dt.timezone.utc)


def benchmarks_block(bench: pd.DataFrame | None) -> dict | None:
    if bench is None or bench.empty or "s" not in bench.columns:
        return None
    b = bench.copy()
    b["s"] = pd.to_numeric(b["s"], errors="coerce")
    rss = pd.to_numeric(b["max_rss"], errors="coerce") if "max_rss" in b.columns else pd.Series(np.nan, index=b.index)
    b["max_rss"] = rss
    b["rule"] = b["rule"].astype(str) if "rule" in b.columns else "?"
    b["wildcards"] = b["wildcards"].fillna("").astype(str) if "wildcards" in b.columns else ""
    per_rule = []
    for rule, g in b.groupby("rule", sort=True):
        per_rule.append(
            {
                "rule": rule,
                "jobs": len(g),
                "total": fmt_seconds(g["s"].sum()),
                "mean": fmt_seconds(g["s"].mean()),
                "max": fmt_seconds(g["s"].max()),
                "rss": fmt_mb(g["max_rss"].max()),
            }
        )
    slow = b.sort_values("s", ascending=False).head(10)
    return {
        "jobs": len(b),
        "total": fmt_seconds(b["s"].sum()),
        "max_rss": fmt_mb(b["max_rss"].max()),
        "cpu": fmt_seconds(pd.to_numeric(b["cpu_time"], errors="coerce").sum()) if "cpu_time" in b.columns else None,
        "per_rule": per_rule,
        "slowest": [
            {"rule": r["rule"], "wildcards": r["wildcards"], "s": fmt_seconds(r["s"]), "rss": fmt_mb(r["max_rss"])}
            for r in slow.to_dict("records")
        ],
    }


def provenance(inputs: ReportInputs, runs: pd.DataFrame, seeds: list[int], config_source: str) -> dict:
    cfg = inputs.config
    hashes = runs["config_hash"].dropna().nunique() if "config_hash" in runs.columns else 0
    return {
        "config": json.dumps(cfg, indent=2, ensure_ascii=False, default=str) if cfg else "",
        "config_source": config_source,
        "seeds": seeds,
        "seeds_seen": sorted(int(s) for s in runs["seed"].dropna().unique()) if "seed" in runs.columns else [],
        "n_runs": len(runs),
        "n_cells": hashes,
        "versions": _versions(),
        "result_versions": inputs.result_versions(),
        "git": _git(Path.cwd()),
        "machine": _machine(),
        "date": _now().strftime("%Y-%m-%d %H:%M:%S UTC"),
    }
