"""Tuning at equal budget (the config's ``tuning:`` section): every optimizer of a grid cell gets the same
number of trials, chosen on a validation split, and its choice is re-run on evaluation seeds.

A *problem* is one data set × initialization × regularization; a *cell* is a problem × optimizer. For each
cell (``tune_problem``, one workflow job per problem):

1. **Trials.** Trial 0 is the optimizer's configured definition (the grid's hand-picked setting: budget 1).
   Trials 1 … B−1 (B the largest budget) are the first B−1 points u ∈ [0, 1)^d of ONE scrambled quasi-random
   sequence (``scipy.stats.qmc.Sobol`` or ``Halton``, ``scramble=True, seed=qmc_seed``; d = the largest
   number of tuned hyper-parameters of any optimizer), the same points for every optimizer, each mapped to
   the optimizer's own space (:func:`to_space`): column j of u sets the optimizer's j-th key of ``space``,

   - ``lr`` and ``weight_decay``: log-uniform on [lo, hi], x = 10^(log10 lo + u·(log10 hi − log10 lo));
   - any other key (a β of ``optimizer_options``: ``beta``, ``beta1``, ``beta2``): an r-range [r_lo, r_hi]
     with β = 1 − 10^r, r = r_lo + u·(r_hi − r_lo) (so 0.9 … 0.999 is r ∈ [−3, −1]).

   Each trial trains on the training part of every *tuning seed* (stacked on the run axis, as the grid
   stacks seeds) with ``val_fraction`` of the training data carved off as a validation split
   (``nnbench.data.load``: the test split is carved first and is the same with or without it). Its score is
   the mean over the tuning seeds of the validation accuracy at the end of training, a diverged run
   counting 0. All trials × tuning seeds of a cell train together on the run axis, as the grid's seeds do
   (``nnbench.trainer.per_run``: each run's learning rate and β as an (R, 1) array; every run's numbers are
   those it has trained alone, ``tests/test_tuning.py``).
2. **Choice per budget** (:func:`choose`): at budget b, the trial among 0 … b−1 with the best score (ties:
   the lowest trial index). Budgets are nested: the trials of the largest budget are trained once.
3. **Evaluation.** Each budget's chosen trial is re-run on the *evaluation seeds* (disjoint from the tuning
   seeds: refused otherwise), once per distinct chosen trial; its test accuracy is the cell's result at
   that budget. Evaluation runs record the validation accuracy every ``eval_every`` epochs and after the
   last (``nnbench.trainer.fit``'s monitor), from which :func:`time_to_target` reads the first epoch and
   training second at which it reaches the data set's target.

The test split is never read before step 3: trial records hold validation accuracies only.

Files: ``results/tuning/{dataset}/{init}/{reg}.json`` (:func:`tuning_record`, written atomically with a
SHA-256 ``digest`` of its canonical JSON; :func:`read_tuning` refuses a damaged file by name).
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .registry import SpecError

SCHEMA = "nnbench.tuning/1"
METHODS = ("sobol", "halton")
LOG_KEYS = ("lr", "weight_decay")  # log-uniform on [lo, hi]; every other key is a β as 1 − 10^r
PROBLEM_KEYS = ("dataset", "init", "reg")

DEFAULTS = {
    "enabled": False,
    "datasets": None,  # None: the grid's
    "inits": None,
    "regs": None,
    "optimizers": None,
    "budgets": [1],
    "method": "sobol",
    "qmc_seed": 0,
    "space": {},
    "tuning_seeds": [1000],
    "eval_seeds": [0, 1, 2, 3, 4],
    "val_fraction": 0.2,
    "eval_every": 5,
    "targets": {},
    "tau_max": 4.0,
}


# ----------------------------------------------------------------------------------------------
# settings


def settings_of(config: Mapping, scoring: bool = True) -> dict:
    """The config's ``tuning`` section over :data:`DEFAULTS`, with the grid slice filled in and every value
    checked (a bad value is refused naming ``tuning.<key>`` and the value). ``scoring`` False: the settings a
    training job needs, without ``targets`` and ``tau_max`` (which only the tables read: the workflow's
    training jobs do not get them, so that changing a target re-makes the tables and nothing else)."""
    from .config import seed_list

    given = dict(config.get("tuning") or {})
    optimizers_given = given.get("optimizers") is not None
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise SpecError("tuning", unknown, f"unknown setting(s); known: {', '.join(DEFAULTS)}")
    s = {**DEFAULTS, **given}
    for axis in ("datasets", "inits", "regs", "optimizers"):
        # names outside the grid are left out: a config merged over config/config.yaml with a smaller grid
        # tunes what is left of the default slice
        grid = list(config.get(axis) or [])
        if s[axis] is not None and not isinstance(s[axis], list):
            raise SpecError(f"tuning.{axis}", s[axis], "must be a list of the grid's names")
        given = grid if s[axis] is None else s[axis]
        s[axis] = [n for n in given if n in grid]
        if not s[axis]:
            raise SpecError(f"tuning.{axis}", given, f"names none of the grid's {axis} {grid}")
    budgets = s["budgets"]
    if (
        not isinstance(budgets, list)
        or not budgets
        or any(isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in budgets)
        or budgets != sorted(set(budgets))
        or budgets[0] != 1
    ):
        raise SpecError("tuning.budgets", budgets, "must be increasing distinct integers >= 1, the first 1")
    if s["method"] not in METHODS:
        raise SpecError("tuning.method", s["method"], f"one of {', '.join(METHODS)}")
    if isinstance(s["qmc_seed"], bool) or not isinstance(s["qmc_seed"], int) or s["qmc_seed"] < 0:
        raise SpecError("tuning.qmc_seed", s["qmc_seed"], "must be a non-negative integer")
    s["tuning_seeds"] = seed_list({"seeds": s["tuning_seeds"]}, "tuning.tuning_seeds")
    s["eval_seeds"] = seed_list({"seeds": s["eval_seeds"]}, "tuning.eval_seeds")
    both = sorted(set(s["tuning_seeds"]) & set(s["eval_seeds"]))
    if both:
        raise SpecError(
            "tuning.eval_seeds",
            s["eval_seeds"],
            f"overlap the tuning seeds {s['tuning_seeds']} in {both}: a setting chosen on a seed must be "
            "evaluated on others",
        )
    vf = s["val_fraction"]
    if isinstance(vf, bool) or not isinstance(vf, (int, float)) or not 0 < vf < 1:
        raise SpecError("tuning.val_fraction", vf, "must be in (0, 1)")
    if isinstance(s["eval_every"], bool) or not isinstance(s["eval_every"], int) or s["eval_every"] < 1:
        raise SpecError("tuning.eval_every", s["eval_every"], "must be an integer >= 1")
    space = s["space"] or {}
    for opt, keys in space.items():
        if not isinstance(keys, dict):
            raise SpecError(f"tuning.space.{opt}", keys, "must map hyper-parameters to [lo, hi]")
        for key, rng in keys.items():
            ok = isinstance(rng, list) and len(rng) == 2 and all(isinstance(x, (int, float)) for x in rng)
            ok = ok and rng[0] < rng[1] and (key not in LOG_KEYS or rng[0] > 0) and (key in LOG_KEYS or rng[1] <= 0)
            if not ok:
                why = "[lo, hi], 0 < lo < hi (log-uniform)" if key in LOG_KEYS else "[r_lo, r_hi] <= 0 (β = 1 − 10^r)"
                raise SpecError(f"tuning.space.{opt}.{key}", rng, f"must be {why}")
    if budgets[-1] > 1:
        missing = [o for o in s["optimizers"] if not space.get(o)]
        if missing and optimizers_given:
            raise SpecError("tuning.space", sorted(space), f"budgets above 1 need a search space for {missing}")
        # not listed: the grid's optimizers that have a search space (a grid with optimizers of its own
        # defined over config/config.yaml compares those it can tune; the report names the ones compared)
        s["optimizers"] = [o for o in s["optimizers"] if space.get(o)]
        if not s["optimizers"]:
            raise SpecError("tuning.space", sorted(space), f"budgets above 1 need a search space for {missing}")
    if not scoring:
        return s
    tau = s["tau_max"]
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not tau > 1:
        raise SpecError("tuning.tau_max", tau, "must be a number > 1")
    targets = s["targets"] or {}
    for d in s["datasets"]:
        t = targets.get(d)
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t <= 1:
            raise SpecError(f"tuning.targets.{d}", t, "every tuned data set needs a target accuracy in (0, 1]")
    return s


def enabled(config: Mapping) -> bool:
    """``tuning.enabled``, and the slice shares at least one name with the grid on every axis: a config whose
    grid has none of the slice's data sets (say, a user's own data set merged over config/config.yaml) has no
    fair comparison rather than an error."""
    t = config.get("tuning") or {}
    if not t.get("enabled"):
        return False
    for axis in ("datasets", "inits", "regs", "optimizers"):
        grid, given = list(config.get(axis) or []), t.get(axis)
        if isinstance(given, list) and not any(n in grid for n in given):
            return False
    return True


def problems(s: Mapping) -> list[tuple[str, str, str]]:
    return [(d, i, r) for d in s["datasets"] for i in s["inits"] for r in s["regs"]]


def check_config(config: Mapping) -> None:
    """The tuning section checked, and each optimizer's trial spec built at both ends of its search space (a
    hyper-parameter the optimizer does not take, or a range reaching a value it refuses, is refused naming
    it), before any job runs. The corners rather than the sequence's points: the Snakefile calls this at
    every start of Snakemake (on a cluster, once per job), and drawing them imports scipy.stats (0.6 s)."""
    if not enabled(config):
        return
    s = settings_of(config)
    corners = np.array([np.zeros(dims(s)), np.ones(dims(s))])
    for opt in s["optimizers"]:
        for d, i, r in problems(s)[:1]:
            for row in corners:
                try:
                    trial_spec(config, s, (d, i, r), opt, to_space(row, s["space"].get(opt, {}))).build_optimizer()
                except (SpecError, TypeError, ValueError) as err:
                    raise SpecError(f"tuning.space.{opt}", s["space"].get(opt), str(err)) from None


# ----------------------------------------------------------------------------------------------
# the search space


def dims(s: Mapping) -> int:
    """d: the largest number of tuned hyper-parameters of any optimizer (at least 1)."""
    return max([len((s["space"] or {}).get(o) or {}) for o in s["optimizers"]] + [1])


def unit_points(method: str, n: int, d: int, seed: int) -> np.ndarray:
    """The first n points (n, d) of the scrambled quasi-random sequence (nested in n)."""
    from scipy.stats import qmc

    if n <= 0:
        return np.zeros((0, d))
    engine = (
        qmc.Sobol(d=d, scramble=True, seed=seed) if method == "sobol" else qmc.Halton(d=d, scramble=True, seed=seed)
    )
    with warnings.catch_warnings():  # "balance properties ... n a power of 2": the prefix is wanted
        warnings.simplefilter("ignore", UserWarning)
        return engine.random(n)


def to_space(u: np.ndarray, space: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """One unit point → the optimizer's hyper-parameters (see the module docstring): column j sets the j-th
    key of ``space``; the columns beyond its keys are unused."""
    out = {}
    for j, (key, (lo, hi)) in enumerate(space.items()):
        if key in LOG_KEYS:
            out[key] = float(10 ** (math.log10(lo) + float(u[j]) * (math.log10(hi) - math.log10(lo))))
        else:
            out[key] = float(1 - 10 ** (lo + float(u[j]) * (hi - lo)))
    return out


def trial_spec(config: Mapping, s: Mapping, problem: Sequence[str], opt: str, hp: Mapping[str, float]):
    """The RunSpec (seed: the first tuning seed) of one trial: the cell's spec with the validation split and
    ``hp`` over it (``lr`` the learning rate, every other key an ``optimizer_options`` entry)."""
    from .config import cell_spec
    from .spec import RunSpec

    spec = cell_spec(dict(config), *problem, opt)
    spec["dataset_options"] = {**(spec.get("dataset_options") or {}), "val_fraction": s["val_fraction"]}
    options = dict(spec.get("optimizer_options") or {})
    for key, value in hp.items():
        if key == "lr":
            spec["lr"] = value
        else:
            options[key] = value
    spec["optimizer_options"] = options
    return RunSpec.from_dict({**spec, "seed": s["tuning_seeds"][0]})


def default_hp(config: Mapping, problem: Sequence[str], opt: str, keys) -> dict[str, float]:
    """Trial 0: the configured values of the tuned keys (the optimizer's own default where not configured)."""
    from .config import cell_spec
    from .spec import RunSpec

    spec = RunSpec.from_dict({**cell_spec(dict(config), *problem, opt), "seed": 0})
    optimizer = spec.build_optimizer()
    return {k: float(spec.lr) if k == "lr" else float(getattr(optimizer, k)) for k in keys}


# ----------------------------------------------------------------------------------------------
# choice and time to target


def choose(scores: Sequence[float], budgets: Sequence[int]) -> dict[int, int]:
    """{budget b: the trial among 0 … b−1 with the highest score (ties: the lowest index)}; NaN scores lose."""
    x = np.asarray(scores, dtype=float)
    x = np.where(np.isnan(x), -np.inf, x)
    if len(x) < max(budgets):
        raise ValueError(f"{len(x)} trial scores for a budget of {max(budgets)}")
    return {int(b): int(np.argmax(x[:b])) for b in budgets}


def time_to_target(monitor: Mapping | None, target: float) -> tuple[float, float]:
    """(epochs, seconds) of training at the first record whose validation accuracy is ≥ ``target``;
    (inf, inf) if none does (a diverged run's records after its divergence hold None and never count)."""
    if monitor:
        for epoch, acc, sec in zip(monitor["epochs"], monitor["val_accuracy"], monitor["seconds"]):
            if acc is not None and acc >= target:
                return float(epoch), float(sec)
    return math.inf, math.inf


# ----------------------------------------------------------------------------------------------
# training one problem


def _run_summary(res: Mapping, with_test: bool) -> dict:
    out = {"seed": res["seed"], "status": res["status"], "val_accuracy": res["val_accuracy"]}
    if with_test:
        out.update(
            test_accuracy=res["test_accuracy"],
            train_accuracy=res["train_accuracy"],
            seconds=res["seconds"],
            monitor=res["monitor"],
        )
    return out


def score(runs: Sequence[Mapping]) -> float:
    """A trial's score: the mean validation accuracy over its tuning runs, a diverged run counting 0."""
    return float(
        np.mean([r["val_accuracy"] if r["status"] == "ok" and r["val_accuracy"] is not None else 0.0 for r in runs])
    )


def tune_cell(config: Mapping, s: Mapping, problem: Sequence[str], opt: str, points=None, log=print) -> dict:
    """Trials, choice per budget and evaluation runs of one cell (see the module docstring)."""
    from .trainer import run

    space = dict((s["space"] or {}).get(opt) or {})
    budgets = s["budgets"]
    u = unit_points(s["method"], budgets[-1] - 1, dims(s), s["qmc_seed"])
    hps = [default_hp(config, problem, opt, space or ["lr"])] + [to_space(row, space) for row in u]
    # every trial x tuning seed on the run axis at once (trainer.per_run: the same numbers as alone)
    seeds = s["tuning_seeds"]
    variants = [trial_spec(config, s, problem, opt, hp).replace(seed=seed) for hp in hps for seed in seeds]
    results = run(variants[0], [v.seed for v in variants], points, variants=variants)
    trials = []
    for t, hp in enumerate(hps):
        runs = [_run_summary(r, False) for r in results[t * len(seeds) : (t + 1) * len(seeds)]]
        trials.append({"trial": t, "hp": hp, "score": score(runs), "runs": runs})
        log(f"{'/'.join(problem)}/{opt} trial {t} {hp}: validation {trials[-1]['score']:.4f}")
    chosen = choose([t["score"] for t in trials], budgets)
    evaluation = {}
    for t in sorted(set(chosen.values())):
        spec = trial_spec(config, s, problem, opt, hps[t]).replace(seed=s["eval_seeds"][0])
        evaluation[str(t)] = [
            _run_summary(r, True) for r in run(spec, s["eval_seeds"], points, monitor_every=s["eval_every"])
        ]
    return {"trials": trials, "chosen": {str(b): t for b, t in chosen.items()}, "eval": evaluation}


def settings_hash(config: Mapping, s: Mapping, problem: Sequence[str]) -> str:
    """What a problem's file was made from: every cell's resolved spec and the tuning settings."""
    from .config import cell_spec

    part = {
        "cells": {o: cell_spec(dict(config), *problem, o) for o in s["optimizers"]},
        "tuning": {k: s[k] for k in DEFAULTS if k not in ("datasets", "inits", "regs", "targets", "tau_max")},
    }
    return hashlib.sha256(json.dumps(part, sort_keys=True, default=str).encode()).hexdigest()


def tune_problem(config: Mapping, problem: Sequence[str], points=None, log=print) -> dict:
    """The record of one problem: every optimizer's cell (``tune_cell``), with its digest."""
    s = settings_of(config, scoring=False)
    cells = {opt: tune_cell(config, s, problem, opt, points, log) for opt in s["optimizers"]}
    return tuning_record(problem, settings_hash(config, s, problem), cells)


# ----------------------------------------------------------------------------------------------
# files


def tuning_record(problem: Sequence[str], config_hash: str, cells: Mapping) -> dict:
    from .results import cell_digest

    record = {
        "schema": SCHEMA,
        "problem": dict(zip(PROBLEM_KEYS, problem)),
        "config_hash": config_hash,
        "cells": dict(cells),
    }
    record["digest"] = cell_digest(record)
    return record


def read_tuning(path, problem: Sequence[str] | None = None, config_hash: str | None = None) -> dict:
    """A problem's tuning file, verified: JSON, schema, digest, the problem it names, the config it was made
    from. Anything else raises :class:`~nnbench.results.ResultFileError` naming the file."""
    from .results import ResultFileError, cell_digest, remake_fix

    path = Path(path)
    fix = remake_fix(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultFileError(path, "missing", fix) from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ResultFileError(path, f"not valid JSON ({err})", fix) from None
    if not isinstance(record, dict) or record.get("schema") != SCHEMA:
        raise ResultFileError(path, f"not a tuning record (schema {SCHEMA!r})", fix)
    if record.get("digest") != cell_digest(record):
        raise ResultFileError(path, "content does not match its digest (edited or damaged after it was written)", fix)
    if problem is not None and record.get("problem") != dict(zip(PROBLEM_KEYS, problem)):
        raise ResultFileError(path, f"holds the problem {record.get('problem')}, not {'/'.join(problem)}", fix)
    if config_hash is not None and record.get("config_hash") != config_hash:
        raise ResultFileError(path, "was made from another config (tuning settings or cell specs changed)", fix)
    return record
