"""Dolan–Moré performance profiles and the AlgoPerf-style area score (nnbench.profiles), on an example
computed by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from nnbench import profiles

INF = math.inf
# 3 problems x 3 methods: a wins p1, b wins p2, nobody solves p3, c solves only p1 (at 4x the best)
TIMES = pd.DataFrame({"a": [10.0, 30.0, INF], "b": [20.0, 10.0, INF], "c": [40.0, INF, INF]}, index=["p1", "p2", "p3"])


def test_ratios_by_hand():
    r = profiles.ratios(TIMES)
    assert r.loc["p1"].tolist() == [1.0, 2.0, 4.0]
    assert r.loc["p2"].tolist() == [3.0, 1.0, INF]
    assert r.loc["p3"].tolist() == [INF, INF, INF]  # unsolved by all: never within any tau


def test_profile_by_hand_keeps_unsolved_problems_in_the_denominator():
    rho = profiles.profile(TIMES, [1.0, 2.0, 3.0, 4.0])
    # a: ratios 1, 3, inf; b: 2, 1, inf; c: 4, inf, inf; |P| = 3 (AlgoPerf keeps unsolved workloads)
    assert rho["a"].tolist() == pytest.approx([1 / 3, 1 / 3, 2 / 3, 2 / 3])
    assert rho["b"].tolist() == pytest.approx([1 / 3, 2 / 3, 2 / 3, 2 / 3])
    assert rho["c"].tolist() == pytest.approx([0, 0, 0, 1 / 3])


def test_score_is_the_exact_normalised_area_by_hand():
    s = profiles.score(TIMES, tau_max=4.0)
    # a: problems at ratio 1 and 3 -> lengths 3 and 1 of [1, 4]: (3 + 1) / 3 problems / 3 = 4/9
    assert s["a"] == pytest.approx(4 / 9)
    assert s["b"] == pytest.approx((2 + 3) / 9)  # ratios 2 and 1
    assert s["c"] == pytest.approx(0.0)  # ratio 4: a point, no area


def test_score_matches_a_fine_trapezoid_of_the_profile():
    taus = np.linspace(1, 4, 30001)
    rho = profiles.profile(TIMES, taus)
    trapz = np.trapezoid if hasattr(np, "trapezoid") else np.trapz
    for m in TIMES.columns:
        assert trapz(rho[m], taus) / 3 == pytest.approx(profiles.score(TIMES)[m], abs=1e-3)


def test_every_method_best_everywhere_scores_one():
    t = pd.DataFrame({"x": [1.0, 5.0], "y": [1.0, 5.0]})
    assert profiles.score(t).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("bad", [np.nan, -1.0])
def test_missing_or_negative_times_are_refused(bad):
    t = TIMES.copy()
    t.loc["p1", "a"] = bad
    with pytest.raises(ValueError, match="never missing"):
        profiles.ratios(t)


def test_taus_include_every_step():
    taus = profiles.taus_for(TIMES, 4.0, points=5)
    assert {1.0, 2.0, 3.0, 4.0} <= set(taus.tolist())
