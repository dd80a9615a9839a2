"""Study 3: random search against grid search at equal budgets (the course's "try random values, on the
right scale, not a grid").

Two hyper-parameters of one optimizer are tuned on a validation split: the learning rate α, on a log scale
from ``lr_range[0]`` to ``lr_range[1]``, and a momentum β (Adam's β1 by default) written as β = 1 − 10^r with
r uniform on ``r_range`` — the first matters far more than the second (the trials table shows it: see the
report). A *trial* trains one candidate (α, β) for ``epochs`` epochs; a search of budget k runs k trials
(or, for successive halving, the same number of training epochs) and returns the candidate with the best
validation accuracy, whose test accuracy is reported beside it. Methods:

* ``grid``: √k × √k points, both axes on their search scale (α log-spaced, r evenly spaced), ends included
  (budgets that are not squares have no grid search);
* ``random``: α = 10^U(log10 α_lo, log10 α_hi), r = U(r_lo, r_hi), from ``np.random.default_rng(seed)``;
* ``random_linear``: the same uniform draws on a linear scale, α = U(α_lo, α_hi), β = U(β(r_lo), β(r_hi));
* ``sobol``: a scrambled Sobol sequence (``scipy.stats.qmc.Sobol(2, scramble=True, seed=seed)``) on the
  search scale;
* ``halving``: successive halving with η = 3 over the first 3k candidates of ``random``: every candidate for
  ⌊E/9⌋ epochs, the best third for ⌊E/3⌋, the best ninth for E (each round trained from scratch: at most
  the k·E epochs of the other methods; fewer candidates when E is too short for that, see
  ``halving_plan``).

The random, random-linear and Sobol searches of one seed are nested: the search of budget k takes the
first k candidates of one sequence, so each candidate is trained once and the best of k can only grow with
k. Search ``seed`` also seeds the training runs (split, initial weights, shuffles: ``nnbench.trainer.run``
with ``seeds=[seed]``), the same for every method, so the methods are compared on the same splits. Grid
search draws nothing: its repetitions differ only by that training seed.

Tables: ``trials`` (every trained candidate) and the result (one row per method × budget × seed: the best
validation accuracy found, the test accuracy of that candidate, its α and β, and the seed's best
validation accuracy over every trial of every method, the reference for "within X points of the best").
"""

from __future__ import annotations

import math
import time
import warnings
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas is imported where it is used: the Snakefile imports this registry (0.3 s)
    import pandas as pd

from ..progress import progress

METHODS = ("grid", "random", "random_linear", "sobol", "halving")
TRIAL_COLUMNS = [
    "method",
    "seed",
    "budget",
    "trial",
    "lr",
    "beta",
    "r",
    "epochs",
    "status",
    "val_acc",
    "test_acc",
    "seconds",
]
RESULT_COLUMNS = [
    "method",
    "budget",
    "seed",
    "trials",
    "epochs_trained",
    "best_val",
    "test_at_best",
    "lr_at_best",
    "beta_at_best",
    "seed_best_val",
    "gap_to_best",
]

DEFAULTS = {
    "dataset": "spirals",
    "dataset_options": {"n_samples": 400, "noise": 0.05, "val_fraction": 0.2},
    "hidden": [20, 10],
    "activation": "relu",
    "init": "he",
    "optimizer": "adam",
    "beta_name": "beta1",  # the optimizer option that r sets: beta1 (adam, adamw) or beta (momentum, ...)
    "batch_size": 64,
    "epochs": 40,
    "lr_range": [1e-4, 1.0],
    "r_range": [-3.0, -1.0],  # β = 1 − 10^r: 0.9 .. 0.999
    "budgets": [9, 16, 25, 49],
    "methods": list(METHODS),
    "seeds": 5,
}


def settings_of(settings: dict | None) -> dict:
    from . import merged

    s = merged(DEFAULTS, settings, "search")
    bad = [m for m in s["methods"] if m not in METHODS]
    if bad:
        raise ValueError(f"studies.search.methods: unknown {bad}; known: {', '.join(METHODS)}")
    return s


# ----------------------------------------------------------------------------------------------
# candidates: each a (k, 2) array of (log10 α, r) on the search scale, or (α, β) for random_linear


def to_search_scale(u: np.ndarray, s: dict) -> tuple[np.ndarray, np.ndarray]:
    """Unit-square points → (α, r) with log10 α and r uniform."""
    lo, hi = math.log10(s["lr_range"][0]), math.log10(s["lr_range"][1])
    r_lo, r_hi = s["r_range"]
    return 10 ** (lo + (hi - lo) * u[:, 0]), r_lo + (r_hi - r_lo) * u[:, 1]


def to_linear_scale(u: np.ndarray, s: dict) -> tuple[np.ndarray, np.ndarray]:
    """Unit-square points → (α, r) with α and β = 1 − 10^r uniform."""
    a_lo, a_hi = s["lr_range"]
    b_lo, b_hi = (1 - 10 ** s["r_range"][0], 1 - 10 ** s["r_range"][1])
    beta = b_lo + (b_hi - b_lo) * u[:, 1]
    return a_lo + (a_hi - a_lo) * u[:, 0], np.log10(1 - beta)


def grid_points(k: int, s: dict) -> tuple[np.ndarray, np.ndarray] | None:
    n = math.isqrt(k)
    if n * n != k:
        return None
    axis = np.linspace(0.0, 1.0, n) if n > 1 else np.array([0.5])
    u = np.array([(a, b) for a in axis for b in axis])
    return to_search_scale(u, s)


def unit_points(method: str, k: int, seed: int) -> np.ndarray:
    """The first k points of the method's sequence on the unit square (nested in k)."""
    if method == "sobol":
        from scipy.stats import qmc

        with warnings.catch_warnings():  # "balance properties ... n a power of 2": the prefix is wanted
            warnings.simplefilter("ignore", UserWarning)
            return qmc.Sobol(d=2, scramble=True, seed=seed).random(k)
    return np.random.default_rng(seed).random((k, 2))


# ----------------------------------------------------------------------------------------------
# trials


def _spec(s: dict, lr: float, r: float, epochs: int, seed: int):
    from . import study_spec

    return study_spec(
        s, optimizer_options={s["beta_name"]: float(1 - 10**r)}, lr=float(lr), epochs=int(epochs), seed=int(seed)
    )


def train(s: dict, candidates: list[tuple[float, float]], epochs: int, seeds: list[int]) -> list[list[dict]]:
    """Every candidate (lr, r) trained for every seed, all of them together on the run axis (``trainer.run``'s
    ``variants``: each run the numbers it has when trained alone): ``rows[c][j]`` = {status, val_acc,
    test_acc, seconds} of candidate c on ``seeds[j]``, ``seconds`` the training time per run."""
    from ..trainer import run

    specs = [_spec(s, lr, r, epochs, seeds[0]) for lr, r in candidates]
    runs = [(spec, seed) for spec in specs for seed in seeds]
    start = time.perf_counter()
    results = run(specs[0], [seed for _, seed in runs], variants=[spec for spec, _ in runs])
    seconds = (time.perf_counter() - start) / len(runs)
    rows = [
        {"status": res["status"], "val_acc": res["val_accuracy"], "test_acc": res["test_accuracy"], "seconds": seconds}
        for res in results
    ]
    return [rows[c * len(seeds) : (c + 1) * len(seeds)] for c in range(len(candidates))]


def _val(x) -> float:
    return -math.inf if x is None or not np.isfinite(x) else float(x)


def halving_plan(k: int, epochs: int, eta: int = 3) -> tuple[int, list[int]]:
    """(candidates, epochs of each round) of successive halving with budget k × ``epochs`` epochs: rounds of
    ⌊E/η²⌋, ⌊E/η⌋ and E epochs (at least 1), each keeping the best 1/η; η·k candidates, fewer when the
    rounding of short runs would overspend the budget."""
    rounds = [max(1, epochs // eta**2), max(1, epochs // eta), epochs]

    def cost(n):
        total = 0
        for level, e in enumerate(rounds):
            total += n * e
            n = max(1, n // eta)
        return total

    n0 = eta * k
    while n0 > 1 and cost(n0) > k * epochs:
        n0 -= 1
    return n0, rounds


def halving(s: dict, k: int, seed: int, eta: int = 3) -> list[dict]:
    """Successive halving of budget k (see the module docstring): its trials, round by round."""
    n0, rounds = halving_plan(k, int(s["epochs"]), eta)
    lr, r = to_search_scale(unit_points("random", n0, seed), s)  # the random search's first n0 points
    alive = list(range(n0))
    trials = []
    for level, epochs in enumerate(rounds):
        scored = []
        for i, (res,) in zip(alive, train(s, [(lr[i], r[i]) for i in alive], epochs, [seed])):
            trials.append({"trial": i, "lr": lr[i], "r": r[i], "epochs": epochs, "round": level, **res})
            scored.append((_val(res["val_acc"]), -i, i))
        if level < len(rounds) - 1:
            keep = max(1, len(alive) // eta)
            alive = [i for _, _, i in sorted(scored, reverse=True)[:keep]]
    return trials


def run_study(settings: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(result table, trials table); see the module docstring."""
    import pandas as pd

    from ..config import seed_list

    s = settings_of(settings)
    seeds, budgets = seed_list(s), sorted(int(b) for b in s["budgets"])
    k_max = budgets[-1]
    trials = []
    for method in progress(s["methods"], desc="search study", unit="method"):
        if method == "grid":
            for k in budgets:
                points = grid_points(k, s)
                if points is None:
                    continue
                candidates = list(zip(*points))
                for t, ((lr, r), rows) in enumerate(zip(candidates, train(s, candidates, s["epochs"], seeds))):
                    for seed, res in zip(seeds, rows):
                        trials.append(
                            {
                                "method": method,
                                "seed": seed,
                                "budget": k,
                                "trial": t,
                                "lr": lr,
                                "r": r,
                                "epochs": s["epochs"],
                                **res,
                            }
                        )
        elif method == "halving":
            for seed in seeds:
                for k in budgets:
                    for row in halving(s, k, seed):
                        row.pop("round")
                        trials.append({"method": method, "seed": seed, "budget": k, **row})
        else:
            for seed in seeds:
                u = unit_points(method, k_max, seed)
                lrs, rs = (to_linear_scale if method == "random_linear" else to_search_scale)(u, s)
                candidates = list(zip(lrs, rs))
                for t, ((lr, r), (res,)) in enumerate(zip(candidates, train(s, candidates, s["epochs"], [seed]))):
                    # nested: one trial serves every budget ≥ t + 1; "budget" = the smallest such
                    trials.append(
                        {
                            "method": method,
                            "seed": seed,
                            "budget": next(b for b in budgets if b > t),
                            "trial": t,
                            "lr": lr,
                            "r": r,
                            "epochs": s["epochs"],
                            **res,
                        }
                    )
    tt = pd.DataFrame(trials)
    tt["beta"] = 1 - 10 ** tt["r"]
    tt = tt[TRIAL_COLUMNS]
    return results_table(tt, s, seeds, budgets), tt


def members(tt: pd.DataFrame, method: str, seed: int, k: int) -> pd.DataFrame:
    """The trials of one search: method, seed and budget k."""
    t = tt[(tt["method"] == method) & (tt["seed"] == seed)]
    return t[t["budget"] == k] if method in ("grid", "halving") else t[t["trial"] < k]


def results_table(tt: pd.DataFrame, s: dict, seeds, budgets) -> pd.DataFrame:
    """Best-of-budget per method, budget and seed (see the module docstring). A diverged trial is never the
    best; successive halving picks among its last round's candidates."""
    import pandas as pd

    rows = []
    seed_best = {seed: tt.loc[tt["seed"] == seed, "val_acc"].max() for seed in seeds}
    for method in s["methods"]:
        for k in budgets:
            for seed in seeds:
                t = members(tt, method, seed, k)
                if t.empty:
                    continue
                final = t[t["epochs"] == t["epochs"].max()] if method == "halving" else t
                ok = final[final["val_acc"].notna()].sort_values(["val_acc", "trial"], ascending=[False, True])
                best = ok.iloc[0] if len(ok) else None
                pick = lambda col: np.nan if best is None else float(best[col])  # noqa: E731
                rows.append(
                    {
                        "method": method,
                        "budget": k,
                        "seed": seed,
                        "trials": len(t),
                        "epochs_trained": int(t["epochs"].sum()),
                        "best_val": pick("val_acc"),
                        "test_at_best": pick("test_acc"),
                        "lr_at_best": pick("lr"),
                        "beta_at_best": pick("beta"),
                        "seed_best_val": seed_best[seed],
                        "gap_to_best": seed_best[seed] - pick("val_acc"),
                    }
                )
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


from . import Study, findings  # noqa: E402 - the registry's declaration, below everything it names

STUDY = Study(
    name="search",
    title="Random vs grid search at equal budget",
    defaults=DEFAULTS,
    tables=("study_search", "study_search_trials"),
    optional=("study_search_trials",),
    run=lambda s, config: dict(zip(("study_search", "study_search_trials"), run_study(s))),
    check=settings_of,
    findings=findings.search_findings,
    figures=findings.search_figures,
    block=findings.search_block,
    summary=lambda t: f"{len(t['study_search_trials'])} trials, {len(t['study_search'])} searches",
)
