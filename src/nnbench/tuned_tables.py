"""The fair-comparison tables, from the tuning files of every problem (``nnbench.tuning``):

``tuned_runs.csv``
    one row per trial: the cell, ``budget`` (the smallest budget that contains the trial: trial t belongs to
    every budget b > t), ``trial``, the hyper-parameters (one column each; empty where the optimizer has no
    such key), ``val_accuracy`` (the trial's score: mean validation accuracy over the tuning seeds, a
    diverged run counting 0) and ``diverged`` (tuning runs that diverged).
``tuned_summary.csv``
    one row per cell × budget: the chosen ``trial`` and its hyper-parameters, its ``val_accuracy``, and over
    the evaluation seeds ``runs``, ``ok``, ``diverged``, ``test_mean``, ``test_std``, ``test_ci_low``,
    ``test_ci_high`` (Student-t 95 % interval, ``nnbench.tables.t_interval``).
``tuned_eval_runs.csv``
    one row per evaluation run and budget (the seed-level numbers the report's paired tests use).
``time_to_target.csv``
    one row per evaluation run of a cell's chosen setting at each budget: ``target`` (the data set's
    validation accuracy target), ``epochs_to_target`` and ``seconds_to_target`` (training epochs and seconds
    at the first validation record ≥ target; ``inf`` when never reached, a diverged run included).
``performance_profiles.csv``
    ``metric`` (epochs, seconds), ``method`` (optimizer), ``tau``, ``rho`` (``nnbench.profiles``), over the
    problems (data set × init × reg) at the largest budget; a problem's time for a method is the **median
    over the evaluation seeds** of its chosen setting's times (inf when the median is inf: when at least
    half of the runs never reach the target).
``tuning_scores.csv``
    ``metric``, ``method``, ``score`` (area under ρ on [1, τ_max] / (τ_max − 1)), ``solved`` (problems whose
    median time is finite), ``problems``.

Infinite times are written ``inf``, never left empty.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from . import profiles
from .tables import t_interval
from .tuning import PROBLEM_KEYS, problems, read_tuning, settings_hash, settings_of, time_to_target

CELL = [*PROBLEM_KEYS, "opt"]
METRICS = {"epochs": "epochs_to_target", "seconds": "seconds_to_target"}


def _budget_of(trial: int, budgets) -> int:
    return next(b for b in budgets if b > trial)


def build(config, records: dict) -> dict[str, pd.DataFrame]:
    """Every table (see the module docstring) from ``records`` {problem tuple: tuning record}."""
    s = settings_of(config)
    budgets = s["budgets"]
    keys = sorted({k for sp in (s["space"] or {}).values() for k in sp} | {"lr"}, key=lambda k: (k != "lr", k))
    trials, summary, evals, ttt = [], [], [], []
    for problem, record in records.items():
        target = float(s["targets"][problem[0]])
        for opt, cell in record["cells"].items():
            here = dict(zip(CELL, (*problem, opt)))
            for t in cell["trials"]:
                trials.append(
                    {
                        **here,
                        "budget": _budget_of(t["trial"], budgets),
                        "trial": t["trial"],
                        **{k: t["hp"].get(k, math.nan) for k in keys},
                        "val_accuracy": t["score"],
                        "diverged": sum(r["status"] != "ok" for r in t["runs"]),
                    }
                )
            for b in budgets:
                chosen = int(cell["chosen"][str(b)])
                trial = cell["trials"][chosen]
                runs = cell["eval"][str(chosen)]
                ok = [r["test_accuracy"] for r in runs if r["status"] == "ok" and r["test_accuracy"] is not None]
                mean, std, lo, hi = t_interval(ok)
                summary.append(
                    {
                        **here,
                        "budget": b,
                        "trial": chosen,
                        **{k: trial["hp"].get(k, math.nan) for k in keys},
                        "val_accuracy": trial["score"],
                        "runs": len(runs),
                        "ok": len(ok),
                        "diverged": len(runs) - len(ok),
                        "test_mean": mean,
                        "test_std": std,
                        "test_ci_low": lo,
                        "test_ci_high": hi,
                    }
                )
                for r in runs:
                    epochs, seconds = time_to_target(r["monitor"] if r["status"] == "ok" else None, target)
                    row = {**here, "budget": b, "trial": chosen, "seed": r["seed"], "status": r["status"]}
                    evals.append({**row, "test_acc": r["test_accuracy"], "val_acc": r["val_accuracy"]})
                    ttt.append(
                        {
                            **row,
                            "target": target,
                            "final_val_accuracy": r["val_accuracy"],
                            "epochs_to_target": epochs,
                            "seconds_to_target": seconds,
                        }
                    )
    ttt = pd.DataFrame(ttt)
    prof, scores = profile_tables(ttt, s["optimizers"], budgets[-1], float(s["tau_max"]))
    return {
        "tuned_runs": pd.DataFrame(trials),
        "tuned_summary": pd.DataFrame(summary),
        "tuned_eval_runs": pd.DataFrame(evals),
        "time_to_target": ttt,
        "performance_profiles": prof,
        "tuning_scores": scores,
    }


def problem_times(ttt: pd.DataFrame, budget: int, metric: str) -> pd.DataFrame:
    """Problems × optimizers: the median over evaluation seeds of the time to target at ``budget``."""
    at = ttt[ttt["budget"] == budget]
    return at.pivot_table(index=list(PROBLEM_KEYS), columns="opt", values=METRICS[metric], aggfunc="median")


def profile_tables(ttt: pd.DataFrame, methods, budget: int, tau_max: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, scores = [], []
    for metric in METRICS:
        times = problem_times(ttt, budget, metric)[list(methods)]
        rho = profiles.profile(times, profiles.taus_for(times, tau_max))
        for method in methods:
            rows += [{"metric": metric, "method": method, "tau": tau, "rho": v} for tau, v in rho[method].items()]
        for method, value in profiles.score(times, tau_max).items():
            scores.append(
                {
                    "metric": metric,
                    "method": method,
                    "score": value,
                    "solved": int(np.isfinite(times[method]).sum()),
                    "problems": len(times),
                }
            )
    return pd.DataFrame(rows), pd.DataFrame(scores)


def read_records(config, in_dir) -> dict:
    """Every problem's tuning file under ``in_dir`` (``{dataset}/{init}/{reg}.json``), each verified."""
    s = settings_of(config)
    return {p: read_tuning(Path(in_dir, *p).with_suffix(".json"), p, settings_hash(config, s, p)) for p in problems(s)}


def write(tables: dict[str, pd.DataFrame], out_dir) -> None:
    from .io import write_csv

    for name, table in tables.items():
        write_csv(Path(out_dir, f"{name}.csv"), table, float_format="%.10g")
