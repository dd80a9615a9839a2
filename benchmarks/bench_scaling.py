"""How nnbench's training cost grows: time per run vs samples, width, depth and runs trained together.

Every point trains a ReLU network with a sigmoid output (binary labels) for a fixed number of epochs of
mini-batch (64) Adam (lr 0.01) through ``nnbench.trainer.fit``, one thread, float64. One factor varies at a
time around the base point

    m = 800 samples, 10 features, 2 hidden layers of width 32, R = 5 runs (seeds) trained together, 20 epochs

(R = 5 is the default grid's seeds per cell, which the workflow trains together). "Time per run" is the
fit's wall time divided by R: what one seed of a grid cell costs. Cost is linear in epochs, so scale by
epochs / 20 for longer training.

Method: all points are measured once per repeat, in an order rotated between repeats (so machine noise
spreads over every point), and the median over repeats is kept. A least-squares cost model (non-negative
coefficients) is then fitted to all points and printed, with its error, so that the cost of a bigger grid
can be predicted on the machine that ran this script:

    seconds per epoch ≈ steps·(a + b·L + e·R·P) + m·R·(c·N + d·P)

with steps = ⌈m / 64⌉ mini-batches, L layers, N = Σ units of the hidden and output layers, P = Σ weights
(Σ n_l·n_{l−1}); a: fixed cost per step, b: per layer and step (Python and NumPy call overhead), c: per
unit and example (element-wise work), d: per weight and example (the matrix products, 3 per weight), e:
per weight and step (the Adam update).

  python benchmarks/bench_scaling.py            # default: 5 repeats, both engines, a few minutes
  python benchmarks/bench_scaling.py --quick    # smoke run
  python benchmarks/bench_scaling.py --engines numpy   # the NumPy engine alone

Every point is measured on each engine of ``--engines`` (numba when installed: ``pip install -e '.[fast]'``),
each with its own cost model; ``scaling_model.json`` holds NumPy's at the top (``predict_tuning.py`` reads it)
and every engine's under ``engines``. Writes ``benchmarks/results/scaling.csv``, ``benchmarks/results/scaling_model.json`` and ``docs/scaling.png``.

``--stacking`` measures instead what stacking seeds costs per run (issue 15): the networks of
:data:`STACKING` (tiny [2, 10, 5, 1] × 300, medium [64, 100, 50, 10] × 1,797, wide [784, 256, 128, 10] ×
1,000, each full batch and in batches of 64; medium also in batches of 256 and 512) trained with R = 1, 5 and 10 runs together on the NumPy
engine, Adam lr 0.01. At R = 5 and 10 the step runs both ways, all runs at once ("stacked") and run by run
(``trainer.STACK_BYTES_PER_RUN`` set for the measurement), and the rule's choice (``trainer.stacks_runs``)
is marked. A ratio is the median over repeats of (time per run at R) / (time per run at R = 1) within the
repeat; below 1, stacking saves. It also counts the page faults per step (``getrusage``). Writes ``benchmarks/results/stacking.csv``; works on code without the
run-by-run step too (then only "stacked"), to measure a commit before it.

  python benchmarks/bench_scaling.py --stacking [--repeats 5] [--cases medium,wide] [--csv PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import environment, environment_markdown, freeze_heap, pin_one_thread, timed, write_csv  # noqa: E402

BATCH, LR = 64, 0.01
BASE = {"m": 800, "features": 10, "width": 32, "depth": 2, "runs": 5}
SWEEPS = {
    "m": [100, 200, 400, 800, 1600, 3200],
    "width": [4, 8, 16, 32, 64, 128, 256],
    "depth": [1, 2, 4, 8, 16],
    "runs": [1, 2, 5, 10, 20],
}
LABELS = {"m": "samples m", "width": "hidden width", "depth": "hidden layers", "runs": "runs trained together R"}


# --stacking: name -> (sizes, examples, batch size or None for full batch, epochs per fit)
STACKING = {
    "tiny": ((2, 10, 5, 1), 300, None, 400),
    "tiny-mb64": ((2, 10, 5, 1), 300, 64, 100),
    "medium": ((64, 100, 50, 10), 1797, None, 20),
    "medium-mb64": ((64, 100, 50, 10), 1797, 64, 3),
    "medium-mb256": ((64, 100, 50, 10), 1797, 256, 3),
    "medium-mb512": ((64, 100, 50, 10), 1797, 512, 3),
    "wide": ((784, 256, 128, 10), 1000, None, 4),
    "wide-mb64": ((784, 256, 128, 10), 1000, 64, 2),
}
STACKING_RUNS = (1, 5, 10)


def points():
    """(factor, value, config) for every point; the base point appears once per sweep."""
    for factor, values in SWEEPS.items():
        for v in values:
            yield factor, v, {**BASE, factor: v}


def sizes(cfg) -> tuple[int, ...]:
    return (cfg["features"], *([cfg["width"]] * cfg["depth"]), 1)


def data(m_max: int, features: int):
    """Gaussian features and a non-linear binary label (sign of x0·x1), shared by every run."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((features, m_max))
    y = (X[0] * X[1] > 0).astype(np.int64)
    return X, y


class Point:
    def __init__(self, factor, value, cfg, X, y, epochs, engine="numpy"):
        from nnbench.initializers import He
        from nnbench.losses import targets
        from nnbench.network import Network
        from nnbench.optimizers import Adam
        from nnbench.schedules import Constant
        from nnbench.streams import Streams
        from nnbench.trainer import fit

        self.factor, self.value, self.cfg, self.epochs, self.engine = factor, value, cfg, epochs, engine
        R, m = cfg["runs"], cfg["m"]
        self.net = Network(sizes(cfg), activation="relu")
        self.X = np.ascontiguousarray(np.broadcast_to(X[:, :m], (R, X.shape[0], m)))
        self.Y = targets(np.broadcast_to(y[:m], (R, m)), 1)
        self.initial = self.net.init_params(He(), Streams(range(R)).init)
        self.fit, self.Adam, self.Constant, self.Streams = fit, Adam, Constant, Streams
        self.times, self.diverged = [], False

    def run(self):
        params = {k: v.copy() for k, v in self.initial.items()}
        streams = self.Streams(range(self.cfg["runs"]))
        args = (self.net, params, self.X, self.Y)
        kw = dict(
            optimizer=self.Adam(),
            schedule=self.Constant(LR),
            epochs=self.epochs,
            streams=streams,
            batch_size=BATCH,
            engine=self.engine,
        )
        out = {}
        t = timed(lambda: out.setdefault("o", self.fit(*args, **kw)))
        self.diverged |= bool(np.any(out["o"].epochs_run < self.epochs))
        self.times.append(t)

    # the cost model's features per epoch: steps, steps·L, steps·R·P, m·R·N, m·R·P
    def features(self):
        s = sizes(self.cfg)
        R, m = self.cfg["runs"], self.cfg["m"]
        L, N = len(s) - 1, sum(s[1:])
        P = sum(a * b for a, b in zip(s[:-1], s[1:]))
        steps = math.ceil(m / BATCH)
        return np.array([steps, steps * L, steps * R * P, m * R * N, m * R * P], dtype=float)


MODEL_TERMS = [
    "a: per step",
    "b: per layer·step",
    "e: per weight·run·step",
    "c: per unit·run·example",
    "d: per weight·run·example",
]


def fit_model(pts):
    """Non-negative least squares on relative errors: seconds per epoch ≈ features · coef."""
    from scipy.optimize import nnls

    F = np.array([p.features() for p in pts])
    t = np.array([np.median(p.times) / p.epochs for p in pts])
    w = 1 / t  # relative error: every point counts alike, from 100 samples to width 256
    coef, _ = nnls(F * w[:, None], t * w)
    pred = F @ coef
    rel = pred / t - 1
    return coef, pred, rel


def predict_per_run(coef, sizes_, m, runs, epochs, batch=BATCH) -> float:
    """The cost model's seconds per run for a network ``sizes_`` trained on m examples."""
    L, N = len(sizes_) - 1, sum(sizes_[1:])
    P = sum(a * b for a, b in zip(sizes_[:-1], sizes_[1:]))
    steps = math.ceil(m / min(batch, m))
    per_epoch = steps * (coef[0] + coef[1] * L + coef[2] * runs * P) + m * runs * (coef[3] * N + coef[4] * P)
    return per_epoch * epochs / runs


def validate(coef, repeats: int):
    """Predict, then measure, real cells of the default grid (config/config.yaml, he init, no
    regularization, adam, its 5 seeds together) through ``nnbench.trainer.run``; its ``seconds`` is the fit's
    wall time per run."""
    import yaml

    from nnbench import data as nndata
    from nnbench.config import cell_spec, seed_list
    from nnbench.spec import RunSpec
    from nnbench.trainer import run

    path = HERE.parent / "config" / "config.yaml"
    if not path.exists():
        return []
    config = yaml.safe_load(path.read_text())
    out = []
    for dataset in ("circles", "digits"):
        if dataset not in config.get("datasets", []):
            continue
        spec = RunSpec.from_dict(cell_spec(config, dataset, "he", "none", "adam"))
        seeds = seed_list(config)
        times = [run(spec, seeds)[0]["seconds"] for _ in range(repeats)]

        split = nndata.load(spec.dataset, spec.dataset_options, np.random.default_rng(0))
        n_out = 1 if split.n_classes == 2 else split.n_classes
        sz = (split.X_train.shape[0], *spec.hidden, n_out)
        m = split.X_train.shape[1]
        pred = predict_per_run(coef, sz, m, len(seeds), spec.epochs, spec.batch_size or m)
        out.append(
            {
                "cell": f"{dataset}/he/none/adam",
                "network": "-".join(map(str, sz)),
                "m_train": m,
                "epochs": spec.epochs,
                "runs": len(seeds),
                "measured_ms_per_run": float(np.median(times)) * 1e3,
                "predicted_ms_per_run": pred * 1e3,
            }
        )
    return out


def plot(rows, model_pred, path: Path, title: str, engines=("numpy",)):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    sns.set_theme(style="whitegrid", context="notebook")
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    axes = axes.ravel()
    for ax, factor in zip(axes, SWEEPS):
        slopes = []
        for k, engine in enumerate(engines):
            sub = [r for r in rows if r["factor"] == factor and r.get("engine", "numpy") == engine]
            x = np.array([r["value"] for r in sub], float)
            y = np.array([r["ms_per_run"] for r in sub])
            lo = np.array([r["ms_per_run_q25"] for r in sub])
            hi = np.array([r["ms_per_run_q75"] for r in sub])
            pred = np.array([model_pred[(engine, factor, r["value"])] for r in sub]) * 1e3
            color = f"C{2 * k}"
            ax.errorbar(x, y, yerr=[y - lo, hi - y], fmt="o-", color=color, capsize=3, label=f"{engine}: measured")
            ax.plot(x, pred, "--", color=color, alpha=0.6, label=f"{engine}: cost model")
            slopes.append(f"{engine} {np.polyfit(np.log(x[-3:]), np.log(y[-3:]), 1)[0]:.2f}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(x)
        ax.set_xticklabels([f"{v:g}" for v in x])
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(LABELS[factor])
        ax.set_ylabel("ms per run (fit time / R)")
        ax.set_title(f"vs {LABELS[factor]} (last-3 slope: {', '.join(slopes)})", fontsize=10)
        base = BASE[factor]
        ax.axvline(base, color="0.6", lw=0.8, ls=":")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


class StackingPoint:
    """One network trained with ``runs`` runs together, ``mode`` "stacked" or "run by run" (R = 1: "one")."""

    def __init__(self, case, runs, mode, quick):
        from nnbench import trainer
        from nnbench.initializers import He
        from nnbench.losses import targets
        from nnbench.network import Network
        from nnbench.streams import Streams

        self.case, self.runs, self.mode = case, runs, mode
        sizes_, m, self.batch, epochs = STACKING[case]
        self.epochs = max(1, epochs // 4) if quick else epochs
        rng = np.random.default_rng(0)
        X = rng.standard_normal((sizes_[0], m))
        y = (X[0] * X[1] > 0).astype(np.int64) if sizes_[-1] == 1 else rng.integers(0, sizes_[-1], m)
        self.net = Network(sizes_, activation="relu")
        self.X = np.ascontiguousarray(np.broadcast_to(X, (runs, *X.shape)))
        self.Y = targets(np.broadcast_to(y, (runs, m)), sizes_[-1])
        self.initial = self.net.init_params(He(), Streams(range(runs)).init)
        self.trainer, self.Streams = trainer, Streams
        stacks = getattr(trainer, "stacks_runs", None)
        self.rule = (
            ("stacked" if stacks is None or stacks(self.net, min(self.batch or m, m)) else "run by run")
            if runs > 1
            else "one"
        )
        self.times, self.faults = [], []

    def run(self):
        from nnbench.optimizers import Adam
        from nnbench.schedules import Constant

        t = self.trainer
        if hasattr(t, "STACK_BYTES_PER_RUN"):
            t.STACK_BYTES_PER_RUN = 0 if self.mode == "run by run" else 1 << 62
        elif self.mode == "run by run":
            raise SystemExit("this code has no run-by-run step")
        params = {k: v.copy() for k, v in self.initial.items()}
        kw = dict(optimizer=Adam(), schedule=Constant(LR), epochs=self.epochs, streams=self.Streams(range(self.runs)))
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        self.times.append(timed(lambda: t.fit(self.net, params, self.X, self.Y, batch_size=self.batch, **kw)))
        steps = self.epochs * math.ceil(self.X.shape[-1] / (self.batch or self.X.shape[-1]))
        self.faults.append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / steps)


def stacking(args):
    """``--stacking``: time per run at R = 1, 5, 10, stacked and run by run, per network of STACKING."""
    from nnbench import trainer

    repeats = args.repeats or (2 if args.quick else 5)
    modes = ("stacked", "run by run") if hasattr(trainer, "stacks_runs") else ("stacked",)
    limiter = pin_one_thread()  # noqa: F841
    env = environment()
    print("## bench_scaling --stacking: time per run with R runs (seeds) trained together\n")
    print(environment_markdown(env))
    print(f"- NumPy engine, Adam lr {LR}, {repeats} repeats, order rotated\n")
    pts = []
    for case in args.cases.split(",") if args.cases else STACKING:
        for R in STACKING_RUNS:
            for mode in ("one",) if R == 1 else modes:
                pts.append(StackingPoint(case, R, mode, args.quick))
    for p in pts:  # warm-up
        p.run()
        p.times.clear()
        p.faults.clear()
    freeze_heap()
    for r in range(repeats):
        k = (r * len(pts)) // repeats
        for p in pts[k:] + pts[:k]:
            p.run()
    rows = []
    print(
        "| case | network | m | batch | epochs | R | mode | the rule's | ms per run | × R = 1 (per run) "
        "| page faults per step |"
    )
    print("|---|---|---:|---:|---:|---:|---|---|---:|---:|---:|")
    for p in pts:
        one = next(q for q in pts if q.case == p.case and q.runs == 1)
        per_run = np.array(p.times) / p.runs
        ratio = float(np.median(per_run / np.array(one.times)))
        sizes_, m, batch, _ = STACKING[p.case]
        row = {
            "case": p.case,
            "sizes": "-".join(map(str, sizes_)),
            "m": m,
            "batch": batch or m,
            "epochs": p.epochs,
            "runs": p.runs,
            "mode": p.mode,
            "rule": p.mode == p.rule or p.runs == 1,
            "ms_per_run": float(np.median(per_run)) * 1e3,
            "ms_per_run_q25": float(np.percentile(per_run, 25)) * 1e3,
            "ms_per_run_q75": float(np.percentile(per_run, 75)) * 1e3,
            "ratio_to_R1": ratio,
            "page_faults_per_step": float(np.median(p.faults)),
            "repeats": len(per_run),
        }
        rows.append(row)
        print(
            f"| {p.case} | {row['sizes']} | {m} | {row['batch']} | {p.epochs} | {p.runs} | {p.mode} | "
            f"{'←' if row['rule'] and p.runs > 1 else ''} | {row['ms_per_run']:.2f} | {ratio:.3f} | "
            f"{row['page_faults_per_step']:.0f} |"
        )
    env["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nload average at end: {env['loadavg_end']}")
    csv = args.csv if args.csv != str(HERE / "results" / "scaling.csv") else str(HERE / "results" / "stacking.csv")
    print(f"wrote {write_csv(csv, rows)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 repeats, 3 epochs")
    parser.add_argument("--repeats", type=int, help="repeats per point (default 5, quick 2)")
    parser.add_argument("--epochs", type=int, help="epochs per fit (default 20, quick 3)")
    parser.add_argument("--csv", default=str(HERE / "results" / "scaling.csv"))
    parser.add_argument("--plot", default=str(HERE.parent / "docs" / "scaling.png"))
    parser.add_argument("--stacking", action="store_true", help="per-run cost of R = 1, 5, 10 runs together")
    parser.add_argument("--cases", help="with --stacking: comma-separated cases of STACKING (default: all)")
    parser.add_argument(
        "--engines", default="numpy,numba", help="comma-separated engines (default: numpy,numba; numba if installed)"
    )
    args = parser.parse_args(argv)
    if args.stacking:
        return stacking(args)
    repeats = args.repeats or (2 if args.quick else 5)
    epochs = args.epochs or (3 if args.quick else 20)
    engines = [e for e in args.engines.split(",") if e]
    from nnbench.trainer import numba_installed

    if "numba" in engines and not numba_installed():
        print("numba is not installed (pip install -e '.[fast]'): measuring without it")
        engines.remove("numba")
    if "numpy" not in engines:
        raise SystemExit("--engines must include numpy (the default engine, whose model predict_tuning.py reads)")

    limiter = pin_one_thread()  # noqa: F841
    env = environment()
    print("## bench_scaling: nnbench time per run vs samples, width, depth, runs together\n")
    print(environment_markdown(env))
    print(f"- base point {BASE}, mini-batch {BATCH}, Adam lr {LR}, {epochs} epochs, {repeats} repeats\n")

    X, y = data(max(SWEEPS["m"]), BASE["features"])
    pts = [Point(f, v, cfg, X, y, epochs, engine) for engine in engines for f, v, cfg in points()]
    for p in pts:  # warm-up (and numba's compilation, or its cache's loading)
        p.run()
        p.times.clear()
    freeze_heap()
    start = time.perf_counter()
    for r in range(repeats):
        k = (r * len(pts)) // repeats
        for p in pts[k:] + pts[:k]:
            p.run()
    elapsed = time.perf_counter() - start

    model_pred, rows, models = {}, [], {}
    for engine in engines:
        mine = [p for p in pts if p.engine == engine]
        coef, pred, rel = fit_model(mine)
        models[engine] = (coef, rel)
        for p, pr in zip(mine, pred):
            R = p.cfg["runs"]
            t = np.array(p.times)
            steps = p.epochs * math.ceil(p.cfg["m"] / BATCH)
            model_pred[(engine, p.factor, p.value)] = pr * p.epochs / R
            rows.append(
                {
                    "engine": engine,
                    "factor": p.factor,
                    "value": p.value,
                    **{k: p.cfg[k] for k in ("m", "features", "width", "depth", "runs")},
                    "sizes": "-".join(map(str, sizes(p.cfg))),
                    "epochs": p.epochs,
                    "batch_size": BATCH,
                    "steps": steps,
                    "repeats": len(t),
                    "ms_per_run": float(np.median(t)) / R * 1e3,
                    "ms_per_run_q25": float(np.percentile(t, 25)) / R * 1e3,
                    "ms_per_run_q75": float(np.percentile(t, 75)) / R * 1e3,
                    "us_per_run_step": float(np.median(t)) / R / steps * 1e6,
                    "model_ms_per_run": pr * p.epochs / R * 1e3,
                    "model_rel_error": float(pr / (np.median(t) / p.epochs) - 1),
                    "diverged": p.diverged,
                }
            )

    print("| engine | factor | value | network | R | ms per run | IQR | µs per run-step | model ms | model error |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['engine']} | {r['factor']} | {r['value']} | {r['sizes']} | {r['runs']} | {r['ms_per_run']:.2f} | "
            f"{r['ms_per_run_q25']:.2f}–{r['ms_per_run_q75']:.2f} | {r['us_per_run_step']:.1f} | "
            f"{r['model_ms_per_run']:.2f} | {r['model_rel_error']:+.0%} |"
        )
    for engine, (coef, rel) in models.items():
        print(f"\nCost model of the {engine} engine, seconds per epoch ≈ steps·(a + b·L + e·R·P) + m·R·(c·N + d·P):\n")
        print("| term | coefficient |")
        print("|---|---:|")
        for name, c in zip(MODEL_TERMS, coef):
            print(f"| {name} | {c * 1e9:.3g} ns |")
        print(
            f"\nmodel error over the {len(rel)} points: median |error| {np.median(np.abs(rel)):.0%}, "
            f"max |error| {np.max(np.abs(rel)):.0%}"
        )
        d = coef[4]
        if d > 0:
            print(f"(d = {d * 1e9:.3g} ns per weight·example ≈ {3 * 2 / d / 1e9:.1f} GFLOP/s in the matrix products)")
    if any(r["diverged"] for r in rows):
        print(
            "note: some fits diverged (stopped early): "
            + ", ".join(f"{r['engine']} {r['factor']}={r['value']}" for r in rows if r["diverged"])
        )
    coef, rel = models["numpy"]
    checks = validate(coef, repeats)
    if checks:
        print(
            "\nThe NumPy model against real cells of the default grid (nnbench.trainer.run, the cell's seeds together):\n"
        )
        print("| cell | network | m train | epochs | R | predicted ms per run | measured ms per run |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for c in checks:
            print(
                f"| {c['cell']} | {c['network']} | {c['m_train']} | {c['epochs']} | {c['runs']} | "
                f"{c['predicted_ms_per_run']:.1f} | {c['measured_ms_per_run']:.1f} |"
            )
    env["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nmeasured in {elapsed:.0f} s; load average at end: {env['loadavg_end']}")

    out = write_csv(args.csv, rows)
    model = {  # the NumPy engine's (the default; benchmarks/predict_tuning.py reads it), then every engine's
        "formula": "seconds per epoch = steps*(a + b*L + e*R*P) + m*R*(c*N + d*P)",
        "coefficients_seconds": dict(zip("abecd", map(float, coef))),
        "median_abs_rel_error": float(np.median(np.abs(rel))),
        "max_abs_rel_error": float(np.max(np.abs(rel))),
        "engines": {
            engine: {
                "coefficients_seconds": dict(zip("abecd", map(float, c))),
                "median_abs_rel_error": float(np.median(np.abs(r))),
                "max_abs_rel_error": float(np.max(np.abs(r))),
            }
            for engine, (c, r) in models.items()
        },
        "batch_size": BATCH,
        "grid_cells": checks,
        "environment": env,
    }
    out.with_name("scaling_model.json").write_text(json.dumps(model, indent=1) + "\n")
    title = (
        f"nnbench fit ({', '.join(engines)} engine{'s' if len(engines) > 1 else ''}): mini-batch {BATCH} Adam, "
        f"{epochs} epochs, float64, 1 thread; base point (dotted): m={BASE['m']}, {BASE['features']} features,\n"
        f"{BASE['depth']} hidden layers of {BASE['width']}, R={BASE['runs']}; {env['cpu']}, {env['cpus']} CPUs "
        f"shared, load {env['loadavg']}; median of {repeats} repeats, IQR bars"
    )
    plot(rows, model_pred, Path(args.plot), title, engines)
    print(f"wrote {out}, {out.with_name('scaling_model.json')} and {args.plot}")


if __name__ == "__main__":
    main()
