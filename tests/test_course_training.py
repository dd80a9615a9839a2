"""The course's two training experiments, reproduced to the printed digit (initialization: 3 × 15,000
full-batch iterations; optimization: 7 × 5,000 epochs of mini-batches; about a minute together). The other
course tests, quick enough to run under every BLAS kernel before each commit, are in test_course.py; CI runs
these under the Sandybridge and Nehalem kernels too (.ci/kernels, through the workflow's course jobs)."""

import pytest

from nnbench import course


def test_initialization_reproduces_the_seed_table():
    rows = {r["model"]: r for r in course.initialization()}
    assert rows["zeros"]["train_accuracy"] == 0.5
    assert rows["large random"]["train_accuracy"] == 0.83
    assert rows["he"]["train_accuracy"] == pytest.approx(298 / 300, abs=0)
    assert (rows["zeros"]["test_accuracy"], rows["large random"]["test_accuracy"], rows["he"]["test_accuracy"]) == (
        0.5,
        0.86,
        0.96,
    )


def test_optimization_epoch_costs_equal_the_course_printed_ones():
    rows = course.optimization()
    assert len(rows) == len(course.PUBLISHED_COSTS)
    for row in rows:
        assert "equal the course's printed ones" in row["note"], row
    acc = {r["model"]: r["train_accuracy"] for r in rows}
    assert acc["mini-batch gradient descent"] == pytest.approx(215 / 300, abs=0)
    assert acc["adam"] == pytest.approx(283 / 300, abs=0)
