"""Dolan–Moré performance profiles over time-to-target, and their AlgoPerf-style area score.

Given the time t_{p,s} ≥ 0 (epochs or seconds; ``inf`` when method s never reaches problem p's target) of
each method s on each problem p:

    r_{p,s} = t_{p,s} / min_s' t_{p,s'}          (the performance ratio; inf when t_{p,s} is inf)
    ρ_s(τ)  = |{p : r_{p,s} ≤ τ}| / |P|          (the share of problems s solves within τ× the best)

A problem no method solves stays in P (every method fails it: ρ < 1 for all), as in MLCommons AlgoPerf
(``scoring/performance_profile.py``: ``rho = (r <= tau).sum() / NUM_BASE_WORKLOADS``, where an unsolved
workload's ratio is inf/inf = NaN and never ≤ τ). A best time of 0 (a target met at the first record in
0 s cannot happen: times are counted after ≥ 1 epoch) is refused.

The score of a method is the area under ρ_s over τ ∈ [1, τ_max], normalised by (τ_max − 1) to lie in
[0, 1]: AlgoPerf's ``compute_leaderboard_score(normalize=True)``. AlgoPerf integrates with the trapezoid
rule on a grid of τ; here ρ_s is a step function and the integral is exact:

    score_s = (1 / (τ_max − 1)) · Σ_p max(0, τ_max − max(1, r_{p,s})) / |P|

(each problem solved within ratio r contributes the length of [r, τ_max]). AlgoPerf also sets times more
than 4× the best to inf; with τ_max = 4 that changes neither ρ on [1, 4] nor the score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def ratios(times: pd.DataFrame) -> pd.DataFrame:
    """r_{p,s} for a table of times (rows: problems, columns: methods)."""
    t = times.astype(float)
    if (t < 0).any().any() or t.isna().any().any():
        raise ValueError("times must be >= 0 or inf, never missing (a run that never reaches its target is inf)")
    best = t.min(axis=1)
    if (best == 0).any():
        raise ValueError(f"a best time of 0 on problem(s) {list(best.index[best == 0])}: ratios are undefined")
    r = t.div(best.where(np.isfinite(best)), axis=0)  # an unsolved problem: NaN, never ≤ τ
    return r.where(np.isfinite(t), np.inf).fillna(np.inf)


def profile(times: pd.DataFrame, taus) -> pd.DataFrame:
    """ρ_s(τ): rows τ, columns methods."""
    r = ratios(times)
    taus = np.asarray(taus, dtype=float)
    rho = {s: [(r[s] <= tau).sum() / len(r) for tau in taus] for s in r.columns}
    return pd.DataFrame(rho, index=pd.Index(taus, name="tau"))


def score(times: pd.DataFrame, tau_max: float = 4.0) -> pd.Series:
    """The exact normalised area under ρ_s on [1, τ_max] per method (see the module docstring)."""
    r = ratios(times)
    if not tau_max > 1:
        raise ValueError(f"tau_max must be > 1, got {tau_max}")
    length = (tau_max - np.maximum(1.0, r)).clip(lower=0)
    return (length.sum(axis=0) / len(r) / (tau_max - 1)).rename("score")


def taus_for(times: pd.DataFrame, tau_max: float, points: int = 200) -> np.ndarray:
    """τ values to tabulate ρ at: an even grid on [1, τ_max] and every ratio within it (the steps)."""
    r = ratios(times).to_numpy().ravel()
    steps = r[np.isfinite(r) & (r <= tau_max)]
    return np.unique(np.concatenate([np.linspace(1.0, tau_max, points), steps]))
