"""Shared helpers of the benchmark scripts: one-thread pinning, the environment record, timing.

Import this module *after* the libraries whose thread pools it must pin (NumPy's OpenBLAS, torch, the
OpenMP runtimes of scikit-learn and torch): ``threadpoolctl`` only limits libraries already loaded.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import math
import os
import platform
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

BLAS_ENV = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "MKL_ENABLE_INSTRUCTIONS",
)


def pin_one_thread():
    """Limit every loaded BLAS/OpenMP pool to one thread (threadpoolctl) and torch's own pools; return the
    threadpoolctl limiter (keep a reference: the limit holds while it lives)."""
    from threadpoolctl import threadpool_limits

    try:
        import torch

        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # already set, or parallel work already started
            pass
    except ImportError:
        pass
    return threadpool_limits(limits=1)


def environment() -> dict:
    """What the numbers were measured on: CPU, load, versions, the BLAS kernels threadpoolctl reports."""
    from threadpoolctl import threadpool_info

    env = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpu": _cpu_name(),
        "cpus": os.cpu_count(),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "blas_env": {k: os.environ[k] for k in BLAS_ENV if k in os.environ},
        "threadpools": [
            {k: info.get(k) for k in ("user_api", "internal_api", "prefix", "version", "architecture", "num_threads")}
            for info in threadpool_info()
        ],
    }
    for name in ("sklearn", "torch", "threadpoolctl"):
        try:
            env[name] = __import__(name).__version__
        except ImportError:
            env[name] = None
    try:
        import torch

        env["torch_threads"] = torch.get_num_threads()
        env["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    except ImportError:
        pass
    try:
        import nnbench

        env["nnbench"] = nnbench.__version__
        env["nnbench_source"] = source_fingerprint(Path(nnbench.__file__).parent)
    except ImportError:
        env["nnbench"] = None
    return env


HOT_PATH = ("network.py", "trainer.py", "optimizers.py", "losses.py", "activations.py", "kernels.py")


def source_fingerprint(package: Path) -> dict:
    """Which trainer code was measured: the git commit (read only), whether the package differs from it,
    and a hash of the hot-path modules as they were imported."""
    digest = hashlib.sha256()
    for name in HOT_PATH:
        f = package / name
        if f.exists():
            digest.update(f.read_bytes())
    out = {"hot_path_sha256": digest.hexdigest()[:12]}
    try:

        def git(*a):
            return subprocess.run(["git", *a], cwd=package, capture_output=True, text=True, timeout=10).stdout.strip()

        out["git_commit"] = git("rev-parse", "--short", "HEAD") or None
        out["uncommitted_changes"] = bool(git("status", "--porcelain", "--", *HOT_PATH))
    except (OSError, subprocess.SubprocessError):
        pass
    return out


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _source(src) -> str:
    if not src:
        return ""
    dirty = " + uncommitted changes to the hot path" if src.get("uncommitted_changes") else ""
    return f"(commit {src.get('git_commit')}{dirty}; hot-path sha256 {src['hot_path_sha256']})"


def environment_markdown(env: dict) -> str:
    """The environment as a few Markdown lines."""
    numpy_blas = [t for t in env["threadpools"] if t["user_api"] == "blas"]
    blas = "; ".join(
        f"{t['prefix']} {t['version']} kernel {t['architecture']} ({t['num_threads']} thread)" for t in numpy_blas
    )
    lines = [
        f"- CPU: {env['cpu']} × {env['cpus']} logical CPUs (shared machine), load average at start {env['loadavg']}",
        f"- Python {env['python']}, NumPy {env['numpy']}, scikit-learn {env['sklearn']}, "
        f"torch {env['torch']}, nnbench {env['nnbench']} {_source(env.get('nnbench_source'))}",
        f"- BLAS (threadpoolctl): {blas}",
        f"- BLAS environment variables: {env['blas_env'] or 'none set'}",
    ]
    if env.get("torch"):
        lines.append(
            f"- torch: {env.get('torch_threads')} thread, CPU capability {env.get('torch_cpu_capability')}"
            " (its own MKL/oneDNN, not the OpenBLAS above)"
        )
    return "\n".join(lines)


def freeze_heap():
    """Collect once and move every live object to the permanent generation (``gc.freeze``), so that the
    collections between timed sections stay cheap (a full collection with torch loaded takes ~0.1 s)."""
    gc.collect()
    gc.freeze()


@contextmanager
def no_gc():
    """Keep the cyclic garbage collector off for the timed section (as ``timeit`` does)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def timed(fn, *args) -> float:
    """Wall time of fn(*args) in seconds, with the garbage collector off (collected just before)."""
    gc.collect()
    with no_gc():
        start = time.perf_counter()
        fn(*args)
        return time.perf_counter() - start


def write_csv(path, rows) -> Path:
    """``rows`` (dicts) as a CSV file: every key as a column, in first-seen order; finite floats to 6
    significant digits."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = list(dict.fromkeys(key for row in rows for key in row))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: f"{v:.6g}" if isinstance(v, float) and math.isfinite(v) else v for k, v in row.items()})
    return path
