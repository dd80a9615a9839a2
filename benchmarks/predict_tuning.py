"""Predict the CPU cost of the fair comparison (config ``tuning:``) from the cost model of
``benchmarks/bench_scaling.py`` (``benchmarks/results/scaling_model.json``, docs/benchmarks.md §2).

For every problem (data set × init × reg of the tuning slice) and optimizer:

    trials      B × R_t runs trained together (B = the largest budget, R_t = len(tuning_seeds): every trial
                and tuning seed of a cell on the run axis)
    evaluation  between 1 and len(budgets) distinct chosen settings, each R_e = len(eval_seeds) seeds together

each run's seconds = ``predict_per_run(coef, sizes, m_fit, R, epochs, batch)`` (``bench_scaling``), with m_fit
the examples left after the test and validation splits and batch the optimizer's batch size (full batch for
gd); plus a fixed cost per job (Python start-up and imports, ``--job-seconds``). The model was fitted on Adam
without regularization: dropout and batch norm cost more per step, SGD less; the validation records every
``eval_every`` epochs are left out (a forward pass over the validation split). The lower bound assumes every
budget chooses the same trial (one evaluation), the upper bound a different one each time.

The model alone underestimates (docs/benchmarks.md §5): ``CALIBRATION`` multiplies each problem's
prediction by the factor of its regularizer's definition (measured / model upper bound of whole tuning
jobs on the 2-CPU machine of §5: plain 1.5, dropout 2.1, batch norm 2.6); the calibrated numbers are printed
beside the model's.

    python benchmarks/predict_tuning.py                                  # config/config.yaml's tuning part
    python benchmarks/predict_tuning.py --config config/tuned.yaml       # merged over config/config.yaml
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "src"))

from bench_scaling import predict_per_run  # noqa: E402


def merged(base: dict, over: dict) -> dict:
    """``over`` merged into ``base`` as Snakemake merges a --configfile: mappings key by key, the rest replaced."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


CALIBRATION = {"plain": 1.5, "dropout": 2.1, "batchnorm": 2.6}  # measured / model upper bound (§5)


def reg_kind(spec) -> str:
    """The calibration class of a spec's regularization: batchnorm, dropout (keep_prob < 1), else plain."""
    if spec.batchnorm:
        return "batchnorm"
    keep = spec.keep_prob if isinstance(spec.keep_prob, (int, float)) else min(spec.keep_prob)
    return "dropout" if keep < 1 else "plain"


def predict(config: dict, coef, job_seconds: float = 2.0, calibration: dict | None = None) -> dict:
    from nnbench import data, tuning

    s = tuning.settings_of(config)
    r_t, r_e, budget, n_budgets = len(s["tuning_seeds"]), len(s["eval_seeds"]), s["budgets"][-1], len(s["budgets"])
    shapes = {}
    low = high = 0.0
    calibrated = [0.0, 0.0]
    calibration = CALIBRATION if calibration is None else calibration
    for problem in tuning.problems(s):
        for opt in s["optimizers"]:
            spec = tuning.trial_spec(config, s, problem, opt, {})
            if problem[0] not in shapes:
                split = data.load(spec.dataset, spec.dataset_options, np.random.default_rng(0))
                shapes[problem[0]] = (split.X_train.shape[0], split.X_train.shape[1], split.n_classes)
            n_features, m_fit, n_classes = shapes[problem[0]]
            sizes = spec.build_network(n_features, n_classes).sizes
            batch = spec.batch_size or m_fit
            one = lambda runs: predict_per_run(coef, sizes, m_fit, runs, spec.epochs, batch) * runs  # noqa: E731
            trials = one(budget * r_t)
            lo_cell, hi_cell = trials + one(r_e), trials + n_budgets * one(r_e)
            low, high = low + lo_cell, high + hi_cell
            factor = calibration[reg_kind(spec)]
            calibrated[0] += factor * (lo_cell + job_seconds / len(s["optimizers"]))
            calibrated[1] += factor * (hi_cell + job_seconds / len(s["optimizers"]))
    jobs = len(tuning.problems(s))
    return {
        "problems": jobs,
        "cells": jobs * len(s["optimizers"]),
        "budgets": s["budgets"],
        "tuning_seeds": r_t,
        "eval_seeds": r_e,
        "cpu_seconds_low": low + jobs * job_seconds,
        "cpu_seconds_high": high + jobs * job_seconds,
        "calibrated_cpu_seconds_low": calibrated[0],
        "calibrated_cpu_seconds_high": calibrated[1],
    }


def main(argv=None) -> int:
    from nnbench.config import load_yaml

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", action="append", default=[], help="config files merged over config/config.yaml")
    p.add_argument("--model", default=str(HERE / "results" / "scaling_model.json"))
    p.add_argument("--job-seconds", type=float, default=2.0, help="fixed CPU seconds per job (start-up, imports)")
    args = p.parse_args(argv)
    config = load_yaml(ROOT / "config" / "config.yaml")
    for path in args.config:
        config = merged(config, load_yaml(path))
    model = json.loads(Path(args.model).read_text())
    coef = [model["coefficients_seconds"][k] for k in ("a", "b", "e", "c", "d")]
    out = predict(config, coef, args.job_seconds)
    print(json.dumps(out, indent=1))
    for what, key in (("model", "cpu_seconds"), ("calibrated", "calibrated_cpu_seconds")):
        lo, hi = out[f"{key}_low"], out[f"{key}_high"]
        print(
            f"{what}: {lo:,.0f}-{hi:,.0f} CPU s = {lo / 3600:.2f}-{hi / 3600:.2f} CPU-hours in {out['problems']} jobs"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
