"""Tests of the learning-rate schedules (nnbench.schedules) against values computed by hand."""

import math

import pytest

from nnbench.registry import SpecError, make
from nnbench.schedules import SCHEDULES


def sched(name, **options):
    return make(SCHEDULES, "schedule", name, options)


def test_registry_has_every_schedule():
    assert set(SCHEDULES) == {"constant", "inverse_time", "staircase", "exponential"}


# ----------------------------------------------------------------------------- constant


@pytest.mark.parametrize("epoch", [0, 1, 7, 1000])
def test_constant(epoch):
    assert sched("constant", lr0=0.3)(epoch) == 0.3


def test_constant_default_lr0():
    assert sched("constant")(5) == 0.01


# ----------------------------------------------------------------------------- inverse_time


def test_inverse_time_course_check():
    s = sched("inverse_time", lr0=0.5, rate=1)
    assert round(s(2), 4) == 0.1667
    assert s(2) == pytest.approx(0.5 / 3, rel=1e-15)


@pytest.mark.parametrize("epoch,expected", [(0, 0.5), (1, 0.25), (2, 0.5 / 3), (3, 0.125), (9, 0.05)])
def test_inverse_time_values(epoch, expected):
    assert sched("inverse_time", lr0=0.5, rate=1.0)(epoch) == pytest.approx(expected, rel=1e-15)


def test_inverse_time_other_rate():
    # 0.1 / (1 + 0.5 * 4) = 0.1 / 3
    assert sched("inverse_time", lr0=0.1, rate=0.5)(4) == pytest.approx(0.0333333333333, rel=1e-11)
    # rate 0 is constant
    assert sched("inverse_time", lr0=0.1, rate=0)(100) == pytest.approx(0.1, rel=1e-15)


# ----------------------------------------------------------------------------- staircase


def test_staircase_course_check():
    s = sched("staircase", lr0=0.5, rate=0.3, interval=100)
    assert s(10) == 0.5
    assert round(s(100), 4) == 0.3846
    assert s(100) == pytest.approx(0.3846153846153846, rel=1e-15)


@pytest.mark.parametrize(
    "epoch,expected",
    [
        (0, 0.5),
        (10, 0.5),
        (99, 0.5),  # ⌊epoch/100⌋ = 0
        (100, 0.5 / 1.3),
        (150, 0.5 / 1.3),
        (199, 0.5 / 1.3),  # = 1
        (200, 0.5 / 1.6),
        (299, 0.3125),  # = 2: 0.5 / 1.6 = 0.3125
        (1000, 0.125),  # = 10: 0.5 / 4
    ],
)
def test_staircase_values(epoch, expected):
    s = sched("staircase", lr0=0.5, rate=0.3, interval=100)
    assert s(epoch) == pytest.approx(expected, rel=1e-14)


def test_staircase_interval_one_equals_inverse_time():
    st = sched("staircase", lr0=0.2, rate=0.7, interval=1)
    it = sched("inverse_time", lr0=0.2, rate=0.7)
    for epoch in range(20):
        assert st(epoch) == pytest.approx(it(epoch), rel=1e-15)


# ----------------------------------------------------------------------------- exponential


def test_exponential_course_check():
    s = sched("exponential", lr0=0.5, gamma=0.9)
    assert s(3) == pytest.approx(0.5 * 0.9**3, rel=1e-15)
    assert s(3) == pytest.approx(0.3645, rel=1e-12)
    assert s(0) == 0.5


@pytest.mark.parametrize("epoch,expected", [(0, 0.1), (1, 0.05), (2, 0.025), (10, 0.1 / 1024)])
def test_exponential_values(epoch, expected):
    assert sched("exponential", lr0=0.1, gamma=0.5)(epoch) == pytest.approx(expected, rel=1e-15)


def test_exponential_gamma_one_is_constant():
    assert sched("exponential", lr0=0.1, gamma=1)(500) == 0.1


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_every_schedule_starts_at_lr0_and_never_increases(name):
    s = sched(name, lr0=0.25)
    values = [s(e) for e in range(0, 3000, 7)]
    assert values[0] == 0.25
    assert all(b <= a for a, b in zip(values, values[1:]))
    assert all(v > 0 and math.isfinite(v) for v in values)


# ----------------------------------------------------------------------------- validation

BAD = [
    ("constant", {"lr0": 0}, "lr"),
    ("constant", {"lr0": -1}, "lr"),
    ("constant", {"lr0": "fast"}, "lr"),
    ("inverse_time", {"lr0": 0.0}, "lr"),
    ("inverse_time", {"rate": -1}, "rate"),
    ("inverse_time", {"rate": -0.01}, "rate"),
    ("staircase", {"lr0": -0.5}, "lr"),
    ("staircase", {"rate": -0.3}, "rate"),
    ("staircase", {"interval": 0}, "interval"),
    ("staircase", {"interval": -100}, "interval"),
    ("staircase", {"interval": 2.5}, "interval"),
    ("staircase", {"interval": "100"}, "interval"),
    ("staircase", {"interval": True}, "interval"),
    ("exponential", {"lr0": 0}, "lr"),
    ("exponential", {"gamma": 0}, "gamma"),
    ("exponential", {"gamma": -0.5}, "gamma"),
    ("exponential", {"gamma": 1.01}, "gamma"),
    ("exponential", {"gamma": 2}, "gamma"),
    ("exponential", {"gamma": float("inf")}, "gamma"),
    ("constant", {"rate": 0.1}, "rate"),  # constant has no rate
    ("inverse_time", {"gamma": 0.9}, "gamma"),  # unknown option
    ("exponential", {"interval": 10}, "interval"),
]


@pytest.mark.parametrize("name,options,field", BAD)
def test_bad_values_raise(name, options, field):
    with pytest.raises(SpecError) as info:
        sched(name, **options)
    message = str(info.value)
    assert field in message
    assert info.value.field.startswith("schedule_options.")
    (value,) = options.values()
    assert repr(value) in message


@pytest.mark.parametrize("name", ["cosine", "Constant", None])
def test_unknown_schedule_raises(name):
    with pytest.raises(SpecError) as info:
        make(SCHEDULES, "schedule", name, {})
    assert info.value.field == "schedule"
    assert repr(name) in str(info.value)
