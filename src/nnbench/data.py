"""The data layer: a registry of data sets, each deterministic given its options.

A data set is an entry of :data:`DATASETS` (name -> :class:`DatasetInfo`). :func:`load` turns a
name, its options and the run's *split* random stream into a :class:`Split`:

1. the data set's loader produces the points, samples-first, from the options alone (synthetic sets
   draw them from their own ``data_seed`` option, so every run of a cell sees the same points);
2. the labels are mapped to ``0..C-1`` in sorted order of the original values;
3. ``rng`` permutes the samples, and consecutive slices give the test, validation and training parts
   (sizes ``round(test_fraction * m)``, ``round(val_fraction * m)``, the rest); a part the file
   provides itself is not drawn from the permutation;
4. with ``standardize`` every feature is z-scored with the *training* part's mean and std (std 0 -> 1);
5. the arrays are transposed to features-first, the course's layout: ``X`` is ``(n_features, m)``.

Options common to every data set: ``test_fraction`` (0.25), ``val_fraction`` (0.0), ``standardize``.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import numbers
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Split", "DatasetInfo", "DATASETS", "load", "check_options", "grid_2d", "save_points", "read_points"]


@dataclass(frozen=True)
class Split:
    """A data set split into training, validation and test parts, features-first.

    ``X_*`` are float64 ``(n_features, m_part)``; ``y_*`` are int64 ``(m_part,)`` labels in
    ``0..n_classes-1``. ``m_val`` may be 0. ``classes[k]`` is the original label value of class ``k``.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    feature_names: tuple[str, ...] | None = None
    classes: tuple | None = None

    @property
    def n_features(self) -> int:
        return self.X_train.shape[0]


class Raw(NamedTuple):
    """What a loader returns: samples-first arrays, raw labels, optional held-out parts."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    X_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    feature_names: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DatasetInfo:
    loader: Callable[[dict], Raw]  # validated options (defaults filled) -> Raw
    defaults: dict  # every option the data set accepts, with its default
    two_d: bool  # 2 features: decision boundaries can be drawn
    description: str


# ----------------------------------------------------------------------------- generators


def _circles(o: dict) -> Raw:
    """Two concentric circles: ``sklearn.datasets.make_circles(n_samples, noise=noise,
    factor=factor, random_state=data_seed)``. Outer circle radius 1 (class 0), inner radius
    ``factor`` (class 1), plus Gaussian noise of std ``noise`` on each coordinate."""
    from sklearn.datasets import make_circles

    X, y = make_circles(o["n_samples"], noise=o["noise"], factor=o["factor"], random_state=o["data_seed"])
    return Raw(X, y, feature_names=("x1", "x2"))


def _moons(o: dict) -> Raw:
    """Two interleaving half circles: ``sklearn.datasets.make_moons(n_samples, noise=noise,
    random_state=data_seed)``. Class 0: ``(cos t, sin t)``, class 1: ``(1 - cos t, 0.5 - sin t)``,
    ``t`` in ``[0, pi]``, plus Gaussian noise of std ``noise``."""
    from sklearn.datasets import make_moons

    X, y = make_moons(o["n_samples"], noise=o["noise"], random_state=o["data_seed"])
    return Raw(X, y, feature_names=("x1", "x2"))


def _group_sizes(n: int, k: int) -> list[int]:
    """``n`` split into ``k`` groups as evenly as possible."""
    return [n // k + (j < n % k) for j in range(k)]


def _spirals(o: dict) -> Raw:
    """K = ``arms`` interleaved spiral arms, class k = arm k (``n_samples`` split evenly).

    For the ``n_k`` points of arm ``k``, with ``t_i = i / (n_k - 1)``, ``i = 0..n_k-1``::

        theta_i = 2 pi (k / K + turns * t_i)
        x_i     = t_i * (cos theta_i, sin theta_i) + noise * e_i,   e_i ~ N(0, I_2)

    drawn with ``np.random.default_rng(data_seed)``. Adjacent arms are ``1 / (K * turns)`` apart
    radially, all meet at the origin.
    """
    g = np.random.default_rng(o["data_seed"])
    K, X, y = o["arms"], [], []
    for k, n_k in enumerate(_group_sizes(o["n_samples"], K)):
        t = np.linspace(0.0, 1.0, n_k)
        theta = 2 * np.pi * (k / K + o["turns"] * t)
        X.append(t[:, None] * np.c_[np.cos(theta), np.sin(theta)] + o["noise"] * g.standard_normal((n_k, 2)))
        y.append(np.full(n_k, k))
    return Raw(np.concatenate(X), np.concatenate(y), feature_names=("x1", "x2"))


def _flower(o: dict) -> Raw:
    """The course's planar "flower" (``planar_utils.load_planar_dataset``), two classes of
    ``N = n_samples / 2`` points, ``a = 4``, drawn with ``np.random.default_rng(data_seed)``::

        theta = linspace(j * 3.12, (j + 1) * 3.12, N) + noise * randn(N)
        r     = a * sin(4 * theta) + noise * randn(N)
        x     = (r * sin(theta), r * cos(theta)),  label j = 0, 1

    The course uses ``noise = 0.2`` and the global ``np.random.seed(1)``, so the points differ.
    """
    g, a, X, y = np.random.default_rng(o["data_seed"]), 4.0, [], []
    for j, N in enumerate(_group_sizes(o["n_samples"], 2)):
        theta = np.linspace(j * 3.12, (j + 1) * 3.12, N) + o["noise"] * g.standard_normal(N)
        r = a * np.sin(4 * theta) + o["noise"] * g.standard_normal(N)
        X.append(np.c_[r * np.sin(theta), r * np.cos(theta)])
        y.append(np.full(N, j))
    return Raw(np.concatenate(X), np.concatenate(y), feature_names=("x1", "x2"))


@functools.cache
def _sklearn_bundle(name: str) -> Raw:
    import sklearn.datasets

    b = getattr(sklearn.datasets, f"load_{name}")()
    X, y = np.asarray(b.data, dtype=np.float64), np.asarray(b.target)
    X.flags.writeable = y.flags.writeable = False  # cached: must never be changed
    return Raw(X, y, feature_names=tuple(str(f) for f in b.feature_names))


def _digits(o: dict) -> Raw:
    """``sklearn.datasets.load_digits``: 1797 8x8 images of hand-written digits, 64 pixel
    features (0..16), 10 classes."""
    return _sklearn_bundle("digits")


def _breast_cancer(o: dict) -> Raw:
    """``sklearn.datasets.load_breast_cancer`` (Wisconsin diagnostic): 569 samples, 30 real
    features, 2 classes (0 = malignant, 1 = benign)."""
    return _sklearn_bundle("breast_cancer")


# ----------------------------------------------------------------------------- files


def _read_csv(path: str, label_column: int | str) -> Raw:
    """Numeric CSV, samples as rows; the first row is a header when ``label_column`` is a name or any of its
    feature cells is not a number. The delimiter (comma, semicolon, tab or ``|``) is sniffed from the first
    lines (``csv.Sniffer``); a blank label is refused, naming its row and column."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            text = f.read()
        try:
            delimiter = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
        rows = [
            [c.strip() for c in r]
            for r in csv.reader(io.StringIO(text), delimiter=delimiter)
            if any(c.strip() for c in r)
        ]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"data file {path!r} is not a readable CSV file: {e}") from None
    if not rows:
        raise ValueError(f"data file {path!r} is empty")
    width = len(rows[0])
    if width < 2:
        raise ValueError(
            f"data file {path!r} needs at least 2 columns (features and a label), has {width} "
            f"(separated by {delimiter!r}; the delimiter may be a comma, semicolon, tab or '|')"
        )
    for i, r in enumerate(rows):
        if len(r) != width:
            raise ValueError(f"data file {path!r}: row {i + 1} has {len(r)} columns, the first row has {width}")

    def number(c: str) -> bool:
        try:
            float(c)
            return True
        except ValueError:
            return False

    if isinstance(label_column, str):
        if label_column not in rows[0]:
            raise ValueError(f"data file {path!r} has no column named {label_column!r} (header: {rows[0]})")
        col = rows[0].index(label_column)
    elif not -width <= label_column < width:
        raise ValueError(f"data file {path!r}: label_column {label_column} is out of range for {width} columns")
    else:
        col = label_column % width
    feats = [j for j in range(width) if j != col]
    header = isinstance(label_column, str) or not all(number(rows[0][j]) for j in feats)
    names, body = (tuple(rows[0][j] for j in feats), rows[1:]) if header else (None, rows)
    if not body:
        raise ValueError(f"data file {path!r} has a header but no data rows")
    X = np.empty((len(body), len(feats)))
    for i, r in enumerate(body):
        try:
            X[i] = [float(r[j]) for j in feats]
        except ValueError:
            raise ValueError(f"data file {path!r}: row {i + 1 + header} has a non-numeric feature: {r}") from None
    labels = [r[col] for r in body]
    for i, label in enumerate(labels):
        if not label:
            where = repr(rows[0][col]) if header else f"{col + 1}"
            raise ValueError(f"data file {path!r}: row {i + 1 + header}, column {where} (the label) is blank")
    y = np.array([float(v) for v in labels]) if all(map(number, labels)) else np.array(labels)
    return Raw(X, y, feature_names=names)


def _read_arrays(path: str, arrays: Mapping[str, Any]) -> Raw:
    """Arrays ``X``, ``y`` and optional held-out pairs from an .npz or .mat file.

    ``X_test``/``y_test`` are the test set; ``Xval``/``yval`` are the test set when there is no
    ``X_test`` (the course's layout), and the validation set otherwise.
    """

    def get(key):
        a = arrays.get(key)
        return None if a is None else np.asarray(a.toarray() if hasattr(a, "toarray") else a)

    for key in ("X", "y"):
        if key not in arrays:
            raise ValueError(f"data file {path!r} has no array {key!r} (arrays: {sorted(arrays)})")
    for xk, yk in (("X_test", "y_test"), ("Xval", "yval")):
        if (xk in arrays) != (yk in arrays):
            have, miss = (xk, yk) if xk in arrays else (yk, xk)
            raise ValueError(f"data file {path!r} has array {have!r} but no array {miss!r}")
    pairs = {"train": (get("X"), get("y")), "test": (get("X_test"), get("y_test")), "val": (get("Xval"), get("yval"))}
    if pairs["test"][0] is None:
        pairs["test"], pairs["val"] = pairs["val"], (None, None)
    return Raw(*pairs["train"], *pairs["test"], *pairs["val"])


def _read_npz(path: str) -> Raw:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as e:  # corrupt zip, not an npz, pickled objects, ...
        raise ValueError(f"data file {path!r} is not a readable .npz file: {e}") from None
    return _read_arrays(path, arrays)


def _read_mat(path: str) -> Raw:
    import scipy.io

    try:
        arrays = {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}
    except Exception as e:  # not a MAT file, truncated, v7.3 (HDF5), ...
        raise ValueError(f"data file {path!r} is not a readable MATLAB .mat file: {e}") from None
    return _read_arrays(path, arrays)


_READERS: dict[str, Callable[[dict], Raw]] = {
    ".csv": lambda o: _read_csv(o["path"], o["label_column"]),
    ".npz": lambda o: _read_npz(o["path"]),
    ".mat": lambda o: _read_mat(o["path"]),
}


def _file(o: dict) -> Raw:
    """The user's own file, option ``path`` (samples-first):

    * ``.csv``: numeric features, optional header, the label in the last column unless
      ``label_column`` (an index or a header name) says otherwise; labels may be strings;
    * ``.npz``: arrays ``X`` (m, n) and ``y`` (m,), optional ``X_test``/``y_test`` and ``Xval``/``yval``;
    * ``.mat``: the course's layout, ``X`` (m, n), ``y`` (m, 1), optional ``Xval``, ``yval``.

    Held-out arrays in the file replace the random split of that part: ``Xval``/``yval`` alone are
    the test set (the course's football data); with ``X_test``/``y_test`` they are the validation set.
    ``test_fraction`` / ``val_fraction`` are then ignored for that part.
    """
    path = o["path"]
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"data file {path!r} does not exist")
    if not p.is_file():
        raise ValueError(f"data file {path!r} is not a file")
    if p.stat().st_size == 0:
        raise ValueError(f"data file {path!r} is empty")
    return _READERS[p.suffix.lower()](o)


# ----------------------------------------------------------------------------- registry

_COMMON = {"test_fraction": 0.25, "val_fraction": 0.0}
_SYNTH = {"n_samples": 400, "noise": 0.2, "data_seed": 0, **_COMMON, "standardize": False}
_REAL = {**_COMMON, "standardize": True}

DATASETS: dict[str, DatasetInfo] = {
    "circles": DatasetInfo(
        _circles, {**_SYNTH, "noise": 0.05, "factor": 0.8}, True, "two concentric circles (sklearn)"
    ),
    "moons": DatasetInfo(_moons, dict(_SYNTH), True, "two interleaving half moons (sklearn)"),
    "spirals": DatasetInfo(
        _spirals,
        {**_SYNTH, "noise": 0.05, "arms": 2, "turns": 1.5},
        True,
        "K interleaved spiral arms, one class per arm",
    ),
    "flower": DatasetInfo(_flower, dict(_SYNTH), True, "the course's planar flower, two classes of petals"),
    "digits": DatasetInfo(_digits, dict(_REAL), False, "8x8 hand-written digits, 64 features, 10 classes (sklearn)"),
    "breast_cancer": DatasetInfo(
        _breast_cancer, dict(_REAL), False, "Wisconsin breast cancer, 30 features, 2 classes (sklearn)"
    ),
    "file": DatasetInfo(
        _file,
        {"path": None, "label_column": -1, **_REAL},
        False,
        "your own .csv, .npz or course-layout .mat file (option path)",
    ),
}


# ----------------------------------------------------------------------------- options


def _integer(lo: int, hi: int | None = None):
    def check(v):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < lo or (hi is not None and v > hi):
            raise ValueError(f"must be an integer >= {lo}" + (f" and <= {hi}" if hi is not None else ""))
        return int(v)

    return check


def _real(lo: float, hi: float | None = None, lo_open: bool = False, hi_open: bool = True, what: str = ""):
    def check(v):
        ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
        ok = ok and (v > lo if lo_open else v >= lo) and (hi is None or (v < hi if hi_open else v <= hi))
        if not ok:
            raise ValueError(f"must be {what}")
        return float(v)

    return check


def _boolean(v):
    if not isinstance(v, (bool, np.bool_)):
        raise ValueError("must be true or false")
    return bool(v)


def _path(v):
    if v is None:
        raise ValueError("is required: the path of a .csv, .npz or .mat file")
    if not isinstance(v, (str, os.PathLike)) or not os.fspath(v):
        raise ValueError("must be a file path")
    v = os.fspath(v)
    if Path(v).suffix.lower() not in _READERS:
        raise ValueError(f"has unknown extension {Path(v).suffix!r} (known: {', '.join(_READERS)})")
    return v


def _label_column(v):
    if isinstance(v, str) and v:
        return v
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        return int(v)
    raise ValueError("must be a column index or a header name")


_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "n_samples": _integer(4),
    "data_seed": _integer(0),
    "arms": _integer(2),
    "noise": _real(0.0, what="a finite number >= 0"),
    "factor": _real(0.0, 1.0, lo_open=True, what="in (0, 1)"),
    "turns": _real(0.0, lo_open=True, what="a finite number > 0"),
    "test_fraction": _real(0.0, 1.0, what="in [0, 1)"),
    "val_fraction": _real(0.0, 1.0, what="in [0, 1)"),
    "standardize": _boolean,
    "path": _path,
    "label_column": _label_column,
}


def _info(name: str) -> DatasetInfo:
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown data set {name!r} (known: {', '.join(DATASETS)})") from None


def check_options(name: str, options: Mapping | None = None) -> dict:
    """Validate ``options`` of data set ``name`` and fill in the defaults, without loading.

    Returns a new dict with every option of the data set (plain Python values). Raises
    ``ValueError`` naming the data set, the bad option and its value.
    """
    info = _info(name)
    options = {} if options is None else options
    if not isinstance(options, Mapping):
        raise ValueError(f"data set {name!r}: options must be a mapping, got {options!r}")
    for key in options:
        if key not in info.defaults:
            raise ValueError(f"unknown option {key!r} for data set {name!r} (allowed: {', '.join(info.defaults)})")
    out = {**info.defaults, **options}
    for key, value in out.items():
        try:
            out[key] = _VALIDATORS[key](value)
        except ValueError as e:
            raise ValueError(f"data set {name!r}: option {key!r} = {value!r} {e}") from None
    if out["test_fraction"] + out["val_fraction"] >= 1:
        raise ValueError(
            f"data set {name!r}: test_fraction + val_fraction = "
            f"{out['test_fraction']} + {out['val_fraction']} must be < 1"
        )
    if "arms" in out and out["n_samples"] < 2 * out["arms"]:
        raise ValueError(
            f"data set {name!r}: option 'n_samples' = {out['n_samples']} must be >= 2 * arms = {2 * out['arms']}"
        )
    if "path" in out and out["label_column"] != -1 and Path(out["path"]).suffix.lower() != ".csv":
        raise ValueError(
            f"data set {name!r}: option 'label_column' = {out['label_column']!r} "
            f"applies to .csv files only, not {out['path']!r}"
        )
    if "path" in out and not Path(out["path"]).exists():  # caught with the spec, before any work
        raise FileNotFoundError(f"data file {out['path']!r} does not exist")
    return out


# ----------------------------------------------------------------------------- load


def _checked(where: str, X, y) -> tuple[np.ndarray, np.ndarray]:
    """``X`` as float64 (m, n) and ``y`` as a 1-D array, refusing anything malformed."""
    X, y = np.asarray(X), np.asarray(y)
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{where}: X is not numeric (dtype {X.dtype})")
    if X.ndim != 2:
        raise ValueError(f"{where}: X must be 2-D (samples, features), has shape {X.shape}")
    if y.ndim != 1 and (y.ndim == 0 or y.size != max(y.shape)):
        raise ValueError(f"{where}: y must be a vector of labels, has shape {y.shape}")
    y = y.reshape(-1)
    if X.shape[0] != y.size:
        raise ValueError(
            f"{where}: X has {X.shape[0]} samples (rows) but y has {y.size} labels "
            "(files are samples-first: X is (m, n_features))"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{where}: no samples")
    if not np.isfinite(X).all():
        raise ValueError(f"{where}: X contains NaN or infinite values")
    return X.astype(np.float64), y


def _encode(where: str, ys: list[np.ndarray]) -> tuple[list[np.ndarray], tuple]:
    """Map the labels of all parts together to 0..C-1 in sorted order of their values."""
    if all(y.dtype.kind in "biuf" for y in ys):
        ys = [y.astype(np.float64) for y in ys]
        allv = np.concatenate(ys)
        if not np.isfinite(allv).all():
            raise ValueError(f"{where}: y contains NaN or infinite values")
        if (allv != np.round(allv)).any():
            bad = float(allv[allv != np.round(allv)][0])
            raise ValueError(f"{where}: labels must be integers, found {bad!r}")
        classes = np.unique(allv)
        names = tuple(int(c) for c in classes)
    elif all(y.dtype.kind in "US" for y in ys):
        ys = [y.astype(str) for y in ys]
        classes = np.unique(np.concatenate(ys))
        names = tuple(str(c) for c in classes)
    else:
        raise ValueError(f"{where}: labels must be all numbers or all strings, dtypes {[str(y.dtype) for y in ys]}")
    if classes.size < 2:
        raise ValueError(f"{where}: needs at least 2 classes, found {classes.size} ({list(names)})")
    return [np.searchsorted(classes, y).astype(np.int64) for y in ys], names


SPLIT_OPTIONS = ("test_fraction", "val_fraction", "standardize")  # options that do not change the points


def _points_key(name: str, options: Mapping) -> str:
    """What determines a data set's points: its name and every option but the split ones."""
    return json.dumps({"dataset": name, **{k: v for k, v in options.items() if k not in SPLIT_OPTIONS}}, sort_keys=True)


def save_points(path, name: str, options: Mapping | None) -> None:
    """Write the points of data set ``name`` (its loader's output, before any split) to an ``.npz``
    file, atomically, so that many training jobs can share them: generating them needs scikit-learn,
    whose import alone costs a job more than a second."""
    o = check_options(name, options)
    raw = DATASETS[name].loader(o)
    arrays = {k: np.asarray(v) for k, v in raw._asdict().items() if v is not None}
    from .io import write_atomic

    buf = io.BytesIO()
    np.savez(buf, _key=np.array(_points_key(name, o)), **arrays)
    write_atomic(path, buf.getvalue())


def read_points(path, name: str, options: Mapping | None) -> Raw:
    """The points saved by :func:`save_points`, refusing a file made for another data set or options."""
    from .results import ResultFileError, read_points_file, remake_fix

    o = check_options(name, options)
    arrays = read_points_file(path)
    key = str(arrays.pop("_key", ""))
    if key != _points_key(name, o):
        raise ResultFileError(path, f"holds {key or 'unknown points'}, not {_points_key(name, o)}", remake_fix(path))
    if "feature_names" in arrays:
        arrays["feature_names"] = tuple(arrays["feature_names"].tolist())
    try:
        return Raw(**arrays)
    except TypeError as err:
        raise ResultFileError(path, f"does not hold a data set's arrays ({err})", remake_fix(path)) from None


def load(name: str, options: Mapping | None, rng: np.random.Generator, points: Raw | None = None) -> Split:
    """Load data set ``name`` with ``options``, split by ``rng`` (the run's split stream).

    See the module docstring for the steps; ``rng`` is used for one permutation and nothing else.
    ``points`` (from :func:`read_points`) replaces step 1, the loader.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    o = check_options(name, options)
    raw = DATASETS[name].loader(o) if points is None else points
    where = f"data file {o['path']!r}" if "path" in o else f"data set {name!r}"

    parts = {"train": _checked(where, raw.X, raw.y)}
    for part, X, y in (("test", raw.X_test, raw.y_test), ("val", raw.X_val, raw.y_val)):
        if X is not None:
            parts[part] = _checked(f"{where} ({part} arrays)", X, y)
    if len({X.shape[1] for X, _ in parts.values()}) > 1:
        raise ValueError(
            f"{where}: parts have different numbers of features { {k: X.shape[1] for k, (X, _) in parts.items()} }"
        )
    codes, classes = _encode(where, [y for _, y in parts.values()])
    parts = {k: (X, c) for (k, (X, _)), c in zip(parts.items(), codes)}

    X, y = parts.pop("train")
    m = len(y)
    n_test = 0 if "test" in parts else round(o["test_fraction"] * m)
    n_val = 0 if "val" in parts else round(o["val_fraction"] * m)
    if m - n_test - n_val < 1:
        raise ValueError(f"{where}: {m} samples leave no training samples after the test/validation split")
    perm = rng.permutation(m)
    for part, idx in (("test", perm[:n_test]), ("val", perm[n_test : n_test + n_val])):
        parts.setdefault(part, (X[idx], y[idx]))
    parts["train"] = (X[perm[n_test + n_val :]], y[perm[n_test + n_val :]])

    if o["standardize"]:
        mu, sd = parts["train"][0].mean(axis=0), parts["train"][0].std(axis=0)
        sd[sd == 0] = 1.0
        parts = {k: ((X - mu) / sd, y) for k, (X, y) in parts.items()}

    arrays = {}
    for k, (X, y) in parts.items():
        arrays[f"X_{k}"], arrays[f"y_{k}"] = np.ascontiguousarray(X.T, dtype=np.float64), y
    return Split(**arrays, n_classes=len(classes), feature_names=raw.feature_names, classes=classes)


def grid_2d(split: Split, resolution: int = 60, margin: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A grid over all points of a 2-D split (extended by ``margin``) for decision-boundary plots.

    Returns ``xs`` (resolution,), ``ys`` (resolution,) and ``points`` (2, resolution**2), features-first,
    in row-major order of ``(ys, xs)``: reshape a per-point result to ``(len(ys), len(xs))`` so that
    entry ``[i, j]`` belongs to ``(xs[j], ys[i])`` (what ``contourf(xs, ys, Z)`` expects).
    """
    if split.n_features != 2:
        raise ValueError(f"grid_2d needs 2 features, the split has {split.n_features}")
    allX = np.concatenate([split.X_train, split.X_val, split.X_test], axis=1)
    lo, hi = allX.min(axis=1) - margin, allX.max(axis=1) + margin
    xs, ys = np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.vstack([gx.ravel(), gy.ravel()])
