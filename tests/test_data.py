"""Tests of the data layer (nnbench.data)."""

import re

import numpy as np
import pytest
import scipy.io

from nnbench import data
from nnbench.data import DATASETS, check_options, grid_2d, load

BUILTIN = [n for n in DATASETS if n != "file"]


def rng(seed=0):
    return np.random.default_rng(seed)


def assert_split_ok(s, n_features=None):
    parts = [(s.X_train, s.y_train), (s.X_val, s.y_val), (s.X_test, s.y_test)]
    for X, y in parts:
        assert X.dtype == np.float64 and y.dtype == np.int64
        assert X.ndim == 2 and y.ndim == 1 and X.shape[1] == y.shape[0]
        assert X.shape[0] == s.n_features
        assert np.isfinite(X).all()
        assert y.size == 0 or (y.min() >= 0 and y.max() < s.n_classes)
    if n_features is not None:
        assert s.n_features == n_features
    assert s.n_classes >= 2 and len(s.classes) == s.n_classes


# ----------------------------------------------------------------------------- registry


@pytest.mark.parametrize("name", BUILTIN)
def test_shapes_and_dtypes(name):
    s = load(name, {"val_fraction": 0.1}, rng())
    info = DATASETS[name]
    assert_split_ok(s, 2 if info.two_d else None)
    m = s.X_train.shape[1] + s.X_val.shape[1] + s.X_test.shape[1]
    assert s.X_test.shape[1] == round(0.25 * m) and s.X_val.shape[1] == round(0.1 * m)
    assert set(np.unique(s.y_train)) == set(range(s.n_classes))
    assert info.description and check_options(name, {}) == {k: v for k, v in info.defaults.items()}


def test_known_sizes():
    expected = {
        "circles": (2, 400, 2),
        "moons": (2, 400, 2),
        "spirals": (2, 400, 2),
        "flower": (2, 400, 2),
        "digits": (64, 1797, 10),
        "breast_cancer": (30, 569, 2),
    }
    for name, (n, m, c) in expected.items():
        s = load(name, {}, rng())
        assert (s.n_features, s.X_train.shape[1] + s.X_test.shape[1], s.n_classes) == (n, m, c)
    s = load("spirals", {"arms": 3, "n_samples": 301}, rng())
    assert s.n_classes == 3 and s.X_train.shape[1] + s.X_test.shape[1] == 301


@pytest.mark.parametrize("name", BUILTIN)
def test_determinism(name):
    a, b = load(name, {}, rng(3)), load(name, {}, rng(3))
    for f in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


def all_points(s):
    X = np.concatenate([s.X_train, s.X_val, s.X_test], axis=1)
    y = np.concatenate([s.y_train, s.y_val, s.y_test])
    order = np.lexsort(np.vstack([X, y]))
    return X[:, order], y[order]


@pytest.mark.parametrize("name", BUILTIN)
def test_split_seed_changes_split_not_points(name):
    a, b = load(name, {"standardize": False}, rng(0)), load(name, {"standardize": False}, rng(1))
    assert not np.array_equal(a.X_train, b.X_train)
    for u, v in zip(all_points(a), all_points(b)):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("name", ["circles", "moons", "spirals", "flower"])
def test_data_seed_changes_points(name):
    a, b = load(name, {"data_seed": 0}, rng()), load(name, {"data_seed": 1}, rng())
    assert not np.array_equal(all_points(a)[0], all_points(b)[0])


def test_standardize_uses_training_stats_only():
    s = load("breast_cancer", {}, rng())
    np.testing.assert_allclose(s.X_train.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(s.X_train.std(axis=1), 1, atol=1e-12)
    assert np.abs(s.X_test.mean(axis=1)).max() > 1e-3  # test set not re-centred on its own
    raw = load("breast_cancer", {"standardize": False}, rng())
    mu, sd = raw.X_train.mean(axis=1, keepdims=True), raw.X_train.std(axis=1, keepdims=True)
    np.testing.assert_allclose(s.X_test, (raw.X_test - mu) / sd)
    d = load("digits", {}, rng())  # constant pixels: std 0 -> 1, no NaN
    assert np.isfinite(d.X_train).all()


def test_synthetic_not_standardized_by_default():
    s, t = load("flower", {}, rng()), load("flower", {"standardize": True}, rng())
    assert np.abs(s.X_train).max() > 3  # the flower's petals reach a = 4
    np.testing.assert_allclose(t.X_train.mean(axis=1), 0, atol=1e-12)


def test_grid_2d():
    s = load("moons", {"val_fraction": 0.2}, rng())
    xs, ys, pts = grid_2d(s, resolution=7, margin=0.5)
    assert xs.shape == ys.shape == (7,) and pts.shape == (2, 49)
    X = np.concatenate([s.X_train, s.X_val, s.X_test], axis=1)
    assert xs[0] == pytest.approx(X[0].min() - 0.5) and xs[-1] == pytest.approx(X[0].max() + 0.5)
    assert ys[0] == pytest.approx(X[1].min() - 0.5) and ys[-1] == pytest.approx(X[1].max() + 0.5)
    np.testing.assert_array_equal(pts[:, 7 * 2 + 3], [xs[3], ys[2]])  # row-major in (ys, xs)
    with pytest.raises(ValueError, match="2 features"):
        grid_2d(load("breast_cancer", {}, rng()))


# ----------------------------------------------------------------------------- files


def write_csv(path, text):
    path.write_text(text)
    return str(path)


def write_bytes(path, content):
    path.write_bytes(content)
    return str(path)


def test_csv_round_trip_with_header_and_string_labels(tmp_path):
    p = write_csv(
        tmp_path / "d.csv", "a,b,kind\n" + "".join(f"{i},{i * 2},{'cat' if i % 2 else 'dog'}\n" for i in range(20))
    )
    s = load("file", {"path": p, "standardize": False, "test_fraction": 0.0}, rng())
    assert_split_ok(s, 2)
    assert s.feature_names == ("a", "b") and s.classes == ("cat", "dog")
    order = np.argsort(s.X_train[0])
    np.testing.assert_array_equal(s.X_train[:, order], [np.arange(20), 2 * np.arange(20)])
    np.testing.assert_array_equal(s.y_train[order], np.arange(20) % 2 == 0)  # dog (even) -> 1


def test_csv_no_header_label_column_and_numeric_labels(tmp_path):
    p = write_csv(tmp_path / "d.csv", "".join(f"{2 * (i % 2) - 1},{i}.5,{i}\n" for i in range(10)))
    s = load("file", {"path": p, "label_column": 0, "standardize": False, "test_fraction": 0.0}, rng())
    assert s.feature_names is None and s.classes == (-1, 1) and s.n_features == 2
    order = np.argsort(s.X_train[0])
    np.testing.assert_array_equal(s.y_train[order], np.arange(10) % 2)
    p2 = write_csv(tmp_path / "h.csv", "x,label,z\n1,1.0,0\n2,2.0,0\n3,1,0\n4,2,1\n")
    s2 = load("file", {"path": p2, "label_column": "label", "test_fraction": 0.0}, rng())
    assert s2.classes == (1, 2) and s2.feature_names == ("x", "z") and s2.n_features == 2


def test_npz_round_trip(tmp_path):
    X, y = np.arange(40.0).reshape(20, 2), np.arange(20) % 3 + 5
    np.savez(tmp_path / "d.npz", X=X, y=y)
    s = load("file", {"path": str(tmp_path / "d.npz"), "standardize": False}, rng())
    assert_split_ok(s, 2)
    assert s.classes == (5, 6, 7) and s.X_test.shape == (2, 5)
    Xs, ys = all_points(s)
    order = np.argsort(Xs[0])
    np.testing.assert_array_equal(Xs[:, order], X.T)
    np.testing.assert_array_equal(ys[order], y - 5)


def test_npz_with_own_test_and_val(tmp_path):
    X, y = np.random.default_rng(0).normal(size=(30, 3)), np.arange(30) % 2
    np.savez(tmp_path / "t.npz", X=X, y=y, X_test=X[:4], y_test=y[:4])
    s = load("file", {"path": str(tmp_path / "t.npz"), "standardize": False, "val_fraction": 0.2}, rng())
    np.testing.assert_array_equal(s.X_test, X[:4].T)
    assert s.X_train.shape[1] == 24 and s.X_val.shape[1] == 6
    np.savez(tmp_path / "tv.npz", X=X, y=y, X_test=X[:4], y_test=y[:4], Xval=X[4:9], yval=y[4:9])
    s = load("file", {"path": str(tmp_path / "tv.npz"), "standardize": False}, rng())
    np.testing.assert_array_equal(s.X_val, X[4:9].T)
    np.testing.assert_array_equal(s.X_test, X[:4].T)
    assert s.X_train.shape[1] == 30


def test_course_mat_layout_uses_xval_as_test(tmp_path):
    g = np.random.default_rng(0)
    X, Xval = g.normal(size=(211, 2)), g.normal(size=(200, 2))
    y, yval = (X[:, :1] > 0).astype(np.uint8), (Xval[:, :1] > 0).astype(np.uint8)  # (m, 1) like data.mat
    scipy.io.savemat(tmp_path / "data.mat", {"X": X, "y": y, "Xval": Xval, "yval": yval})
    a = load("file", {"path": str(tmp_path / "data.mat"), "standardize": False}, rng(0))
    b = load("file", {"path": str(tmp_path / "data.mat"), "standardize": False}, rng(1))
    assert_split_ok(a, 2)
    assert a.X_train.shape == (2, 211) and a.X_val.shape == (2, 0)
    np.testing.assert_array_equal(a.X_test, Xval.T)
    np.testing.assert_array_equal(a.y_test, yval.ravel())
    np.testing.assert_array_equal(b.X_test, Xval.T)  # the test set does not depend on the split seed
    s = load("file", {"path": str(tmp_path / "data.mat")}, rng(0))  # standardized with train stats
    np.testing.assert_allclose(s.X_train.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(s.X_test, (Xval.T - X.T.mean(1, keepdims=True)) / X.T.std(1, keepdims=True))


def test_mat_without_held_out_part_is_split(tmp_path):
    scipy.io.savemat(tmp_path / "d.mat", {"X": np.arange(40.0).reshape(20, 2), "y": np.arange(20) % 2})
    s = load("file", {"path": str(tmp_path / "d.mat")}, rng())
    assert s.X_train.shape == (2, 15) and s.X_test.shape == (2, 5)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "name, options, match",
    [
        ("nope", {}, r"unknown data set 'nope'.*circles.*moons"),
        ("circles", {"colour": 1}, r"unknown option 'colour' for data set 'circles'"),
        ("digits", {"noise": 0.1}, r"unknown option 'noise' for data set 'digits'"),
        ("circles", {"n_samples": 3}, r"'n_samples' = 3"),
        ("circles", {"n_samples": 400.5}, r"'n_samples' = 400.5"),
        ("moons", {"noise": -0.1}, r"'noise' = -0.1"),
        ("moons", {"noise": float("nan")}, r"'noise' = nan"),
        ("circles", {"factor": 1.0}, r"'factor' = 1.0"),
        ("spirals", {"arms": 1}, r"'arms' = 1"),
        ("spirals", {"arms": 3, "n_samples": 5}, r"'n_samples' = 5"),
        ("flower", {"data_seed": -1}, r"'data_seed' = -1"),
        ("moons", {"test_fraction": 1.0}, r"'test_fraction' = 1.0"),
        ("moons", {"test_fraction": -0.1}, r"'test_fraction' = -0.1"),
        ("moons", {"val_fraction": 1.5}, r"'val_fraction' = 1.5"),
        ("moons", {"test_fraction": 0.6, "val_fraction": 0.4}, r"test_fraction \+ val_fraction = 0.6 \+ 0.4"),
        ("digits", {"standardize": "yes"}, r"'standardize' = 'yes'"),
        ("file", {}, r"'path' = None is required"),
        ("file", {"path": "data.xlsx"}, r"'path' = 'data.xlsx' has unknown extension '.xlsx'"),
        ("file", {"path": "data.npz", "label_column": 0}, r"'label_column' = 0 applies to .csv files only"),
    ],
)
def test_bad_options(name, options, match):
    with pytest.raises(ValueError, match=match):
        check_options(name, options)
    with pytest.raises(ValueError, match=match):
        load(name, options, rng())


def test_rng_must_be_a_generator():
    with pytest.raises(TypeError, match="Generator"):
        load("moons", {}, 0)


def test_too_few_samples_for_split():
    with pytest.raises(ValueError, match="no training samples"):
        load("moons", {"n_samples": 4, "test_fraction": 0.5, "val_fraction": 0.49}, rng())


def mat(path, **arrays):
    scipy.io.savemat(path, arrays)
    return str(path)


def npz(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


X10 = np.arange(20.0).reshape(10, 2)
Y10 = np.arange(10) % 2

FILE_ERRORS = [
    # (writer(tmp_path) -> path, exception, message after the quoted path)
    (lambda t: str(t / "missing.csv"), FileNotFoundError, "does not exist"),
    (lambda t: write_csv(t / "empty.csv", ""), ValueError, "is empty"),
    (lambda t: write_csv(t / "blank.csv", "\n \n"), ValueError, "is empty"),
    (lambda t: write_csv(t / "hdr.csv", "a,b,y\n"), ValueError, "header but no data rows"),
    (lambda t: write_csv(t / "one.csv", "1\n2\n"), ValueError, "at least 2 columns"),
    (lambda t: write_csv(t / "ragged.csv", "1,2,0\n1,1\n"), ValueError, "row 2 has 2 columns"),
    (lambda t: write_csv(t / "text.csv", "a,b,y\n1,2,0\n1,x,1\n"), ValueError, "row 3 has a non-numeric feature"),
    (lambda t: write_csv(t / "nan.csv", "1,nan,0\n2,3,1\n"), ValueError, "NaN or infinite"),
    (lambda t: write_csv(t / "ylab.csv", "1,2,0.5\n2,3,1\n"), ValueError, "labels must be integers, found 0.5"),
    (lambda t: write_csv(t / "ynan.csv", "1,2,nan\n2,3,1\n"), ValueError, "y contains NaN"),
    (lambda t: write_csv(t / "oneclass.csv", "1,2,1\n2,3,1\n"), ValueError, "at least 2 classes, found 1"),
    (lambda t: write_bytes(t / "bin.csv", b"\xff\xfe\x00\x81garbage"), ValueError, "not a readable CSV"),
    (lambda t: npz(t / "noy.npz", X=X10), ValueError, "has no array 'y'"),
    (lambda t: npz(t / "nox.npz", y=Y10), ValueError, "has no array 'X'"),
    (lambda t: npz(t / "len.npz", X=X10, y=Y10[:9]), ValueError, "X has 10 samples .* y has 9 labels"),
    (lambda t: npz(t / "dim.npz", X=np.arange(10.0), y=Y10), ValueError, "X must be 2-D"),
    (lambda t: npz(t / "ydim.npz", X=X10, y=np.ones((10, 2))), ValueError, "y must be a vector"),
    (lambda t: npz(t / "inf.npz", X=np.where(X10 > 5, np.inf, X10), y=Y10), ValueError, "NaN or infinite"),
    (lambda t: npz(t / "half.npz", X=X10, y=Y10, Xval=X10), ValueError, "has array 'Xval' but no array 'yval'"),
    (
        lambda t: npz(t / "feat.npz", X=X10, y=Y10, X_test=np.ones((3, 3)), y_test=Y10[:3]),
        ValueError,
        "different numbers of features",
    ),
    (lambda t: npz(t / "zero.npz", X=np.ones((0, 2)), y=np.ones(0)), ValueError, "no samples"),
    (lambda t: write_bytes(t / "bad.npz", b"not a zip file"), ValueError, "not a readable .npz"),
    (lambda t: write_bytes(t / "bad.mat", b"not a mat file at all, just text"), ValueError, "not a readable MATLAB"),
    (lambda t: mat(t / "noy.mat", X=X10, Xval=X10), ValueError, "has no array 'y'"),
    (lambda t: mat(t / "onecl.mat", X=X10, y=np.ones((10, 1))), ValueError, "at least 2 classes"),
]


@pytest.mark.parametrize("writer, exc, match", FILE_ERRORS)
def test_bad_files(tmp_path, writer, exc, match):
    path = writer(tmp_path)
    with pytest.raises(exc, match=f"data file {re.escape(repr(path))}.*{match}"):
        load("file", {"path": path}, rng())


def test_path_is_a_directory(tmp_path):
    d = tmp_path / "dir.csv"
    d.mkdir()
    with pytest.raises(ValueError, match="is not a file"):
        load("file", {"path": str(d)}, rng())


def test_missing_label_column_name(tmp_path):
    p = write_csv(tmp_path / "d.csv", "a,b,y\n1,2,0\n3,4,1\n")
    with pytest.raises(ValueError, match="no column named 'label'"):
        load("file", {"path": p, "label_column": "label"}, rng())
    with pytest.raises(ValueError, match="label_column 5 is out of range"):
        load("file", {"path": p, "label_column": 5}, rng())


def test_module_api():
    assert set(data.__all__) >= {"Split", "DATASETS", "load", "check_options", "grid_2d"}


# -------------------------------------------------------------- CSV labels and delimiters (issue 18, finding 8)


def _two_class_rows(sep, blank_at=None):
    rows = [f"{i / 10}{sep}{(i * 7 % 10) / 10}{sep}{'' if i == blank_at else i % 2}" for i in range(20)]
    return f"x1{sep}x2{sep}label\n" + "\n".join(rows) + "\n"


@pytest.mark.parametrize("blank_at", [0, 7, 19])
def test_a_blank_label_is_refused_naming_file_row_and_column(tmp_path, blank_at):
    path = tmp_path / "d.csv"
    path.write_text(_two_class_rows(",", blank_at))
    with pytest.raises(ValueError, match=rf"d.csv'?: row {blank_at + 2}, column 'label' \(the label\) is blank"):
        data.load("file", {"path": str(path)}, np.random.default_rng(0))


def test_a_blank_label_without_header_names_the_column_number(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("0.1,0.2,1\n0.3,0.4,\n0.5,0.6,0\n")
    with pytest.raises(ValueError, match=r"row 2, column 3 \(the label\) is blank"):
        data.load("file", {"path": str(path), "test_fraction": 0.34}, np.random.default_rng(0))


@pytest.mark.parametrize("sep", [";", "\t", "|", ","])
def test_the_delimiter_is_sniffed(tmp_path, sep):
    path = tmp_path / "d.csv"
    path.write_text(_two_class_rows(sep))
    split = data.load("file", {"path": str(path)}, np.random.default_rng(0))
    assert split.n_features == 2 and split.n_classes == 2


def test_an_unknown_delimiter_is_named_in_the_error(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(_two_class_rows(" "))
    with pytest.raises(ValueError, match="delimiter may be a comma, semicolon, tab or '|'"):
        data.load("file", {"path": str(path)}, np.random.default_rng(0))
