"""The course's experiments through the suite's own trainer: gradient checking, the verdicts, the regularization
experiment on a file, the course's dropout quirk and the command. The two long training experiments are in
test_course_training.py."""

import csv

import numpy as np
import pytest
import scipy.io

from nnbench import course
from nnbench.cli import main
from nnbench.initializers import He, Zeros


def test_gradient_checking_reproduces_the_course():
    """The course prints both differences with 16 digits; the numerical contract reproduces them within the
    relative tolerance stated beside each (course.PUBLISHED_RTOL), whatever the BLAS kernel."""
    rows = {r["model"]: r for r in course.run("gradient-checking")}
    for model, published in course.PUBLISHED["gradient-checking"].items():
        row = rows[model]
        assert row["reproduced"] is True, row
        assert row["difference"] == pytest.approx(published, rel=course.PUBLISHED_RTOL[model], abs=0)
        assert row["deviation"] == abs(row["difference"] - published) / published
        assert row["blas_kernel"] and row["published_rtol"] == course.PUBLISHED_RTOL[model]
    assert (
        rows["correct backward pass"]["difference"] < 2e-7 < rows["planted bugs (dW2 x 2, db1 with 4/m)"]["difference"]
    )
    assert rows["correct backward pass, the suite's stable cost"]["difference"] < 1e-8
    assert rows["correct backward pass, the suite's stable cost"]["reproduced"] is None  # nothing published


def test_verdicts_at_the_printed_precision_or_the_stated_tolerance():
    row = {
        "model": "he",
        "train_accuracy": 0.9933333333333333,
        "published_train_accuracy": 0.99,
        "test_accuracy": 0.955,
        "published_test_accuracy": 0.96,
    }
    v = course.verdict(row)
    assert v["reproduced"] is True and v["published_rtol"] is None  # 0.9933 prints as 0.99; 0.955 as 0.96
    assert v["deviation"] == pytest.approx(0.005 / 0.96)
    assert course.verdict({**row, "test_accuracy": 0.9549})["reproduced"] is False
    assert course.verdict({**row, "test_accuracy": None})["reproduced"] is None  # not run
    bug = "planted bugs (dW2 x 2, db1 with 4/m)"
    p = course.PUBLISHED["gradient-checking"][bug]
    check = lambda ours: course.verdict({"model": bug, "difference": ours, "published_difference": p})  # noqa: E731
    assert check(0.2850931567761624)["reproduced"] is True  # one ulp away (Haswell)
    assert check(0.285093156780699)["reproduced"] is True  # 1.6e-11 away (Sandybridge, Nehalem: no FMA)
    assert check(p * (1 + 2e-10))["reproduced"] is False
    correct = course.PUBLISHED["gradient-checking"]["correct backward pass"]
    assert (
        course.verdict(
            {"model": "correct backward pass", "difference": 1.189041787877932e-07, "published_difference": correct}
        )["reproduced"]
        is True
    )  # no FMA: 4.2e-5 away
    assert (
        course.verdict(
            {"model": "correct backward pass", "difference": correct * 1.001, "published_difference": correct}
        )["reproduced"]
        is False
    )


def test_regularization_without_data_says_how_to_give_it():
    rows = course.regularization(None)
    assert [r["model"] for r in rows] == list(course.PUBLISHED["regularization"])
    assert all(r["train_accuracy"] is None and "football_mat" in r["note"] for r in rows)


def test_regularization_runs_on_a_file_in_the_course_layout(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.uniform(-0.8, 0.4, (211, 2))
    Xval = rng.uniform(-0.8, 0.4, (200, 2))
    label = lambda A: (A[:, 1] > 0.3 * np.sin(6 * A[:, 0])).astype(float)[:, None]  # noqa: E731
    path = tmp_path / "data.mat"
    scipy.io.savemat(path, {"X": X, "y": label(X), "Xval": Xval, "yval": label(Xval)})
    real_train = course.train_course_model
    monkeypatch.setattr(course, "train_course_model", lambda *a, **k: real_train(*a, **{**k, "epochs": 2000}))
    rows = course.regularization(path)
    assert [r["model"] for r in rows] == list(course.PUBLISHED["regularization"])
    for r in rows:
        assert 0.7 < r["train_accuracy"] <= 1 and 0.6 < r["test_accuracy"] <= 1


def test_regularization_with_a_malformed_file_is_a_clear_error(tmp_path):
    path = tmp_path / "data.mat"
    scipy.io.savemat(path, {"X": np.zeros((5, 2)), "y": np.zeros((5, 1))})
    with pytest.raises(ValueError, match="Xval"):
        course.regularization(path)
    with pytest.raises(FileNotFoundError, match="missing.mat"):
        course.regularization(tmp_path / "missing.mat")


def test_course_dropout_mask_is_the_same_at_every_step():
    from nnbench.streams import CourseStreams

    s = CourseStreams()
    shapes = [((1, 20, 211), 0.86), ((1, 3, 211), 0.86)]
    a, b = s.dropout_masks(shapes), s.dropout_masks(shapes)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    rs = np.random.RandomState(1)
    np.testing.assert_array_equal(a[0][0], rs.rand(20, 211) < 0.86)


def test_course_command_writes_the_table(tmp_path, capsys):
    out = tmp_path / "course_gradient_checking.csv"
    assert main(["course", "gradient-checking", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["model"] for r in rows][:2] == ["correct backward pass", "planted bugs (dW2 x 2, db1 with 4/m)"]
    assert set(rows[0]) == {
        "experiment",
        "model",
        "difference",
        "published_difference",
        "note",
        "published_rtol",
        "deviation",
        "reproduced",
        "blas_kernel",
    }
    assert [r["reproduced"] for r in rows] == ["True", "True", ""]
    assert "correct backward pass" in capsys.readouterr().out


def test_course_models_on_one_run_axis_equal_each_model_trained_alone():
    """train_course_models (the initialization and optimization experiments' seven and three models
    together) gives each model, bit for bit, what train_course_model gives it alone: its weights, every
    epoch cost, with the course's shuffles, dropout masks and lagged schedules."""
    X, y = course.moons_data()
    models = [(init, opt, sch) for (_, opt, sch), init in zip(course.OPTIMIZATION_RUNS, [He(), Zeros()] * 4)]
    kw = dict(epochs=40, batch_size=64, keep_prob=(0.8, 1.0))
    net, params, outcome = course.train_course_models((2, 5, 2, 1), models, X, y, **kw)
    for r, (init, opt, sch) in enumerate(models):
        _, alone, one = course.train_course_model((2, 5, 2, 1), init, X, y, lr=None, optimizer=opt, schedule=sch, **kw)
        for k in alone:
            np.testing.assert_array_equal(params[k][r], alone[k][0])
        np.testing.assert_array_equal(outcome.curve[r], one.curve[0])
