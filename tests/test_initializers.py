"""Tests of the weight initializers (nnbench.initializers): shape, dtype, determinism, variance,
orthogonality, the course's bit-for-bit forms and option validation."""

import numpy as np
import pytest

from nnbench.initializers import INITIALIZERS
from nnbench.registry import SpecError, make

ALL = ["zeros", "large", "xavier", "glorot", "he", "lecun", "orthogonal"]
SHAPES = [(3, 5), (5, 3), (4, 4), (1, 7), (6, 1)]


def init(name, **options):
    return make(INITIALIZERS, "init", name, options)


def test_registry_has_every_initializer():
    assert set(INITIALIZERS) == set(ALL)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ALL)
def test_shape_dtype_finite(name, shape):
    W = init(name)(np.random.default_rng(0), shape)
    assert isinstance(W, np.ndarray)
    assert W.shape == shape
    assert W.dtype == np.float64
    assert np.isfinite(W).all()


@pytest.mark.parametrize("name", ALL)
def test_deterministic_for_the_same_seed(name):
    a = init(name)(np.random.default_rng(42), (6, 4))
    b = init(name)(np.random.default_rng(42), (6, 4))
    np.testing.assert_array_equal(a, b)
    c = init(name)(np.random.default_rng(43), (6, 4))
    if name == "zeros":
        np.testing.assert_array_equal(a, c)
    else:
        assert not np.array_equal(a, c)


def test_zeros_all_zero():
    W = init("zeros")(np.random.default_rng(0), (7, 3))
    assert W.shape == (7, 3) and not W.any()


def test_zeros_does_not_draw():
    rng = np.random.default_rng(5)
    init("zeros")(rng, (4, 4))
    assert rng.standard_normal() == np.random.default_rng(5).standard_normal()


N_OUT, N_IN = 400, 500
VARIANCE = {  # the docstrings' formulas
    "large": 10.0**2,
    "xavier": 1 / N_IN,
    "glorot": 2 / (N_IN + N_OUT),
    "he": 2 / N_IN,
    "lecun": 1 / N_IN,
}


@pytest.mark.parametrize("name", sorted(VARIANCE))
def test_empirical_variance(name):
    W = init(name)(np.random.default_rng(1), (N_OUT, N_IN))
    expected = VARIANCE[name]
    assert W.var() == pytest.approx(expected, rel=0.03)
    assert abs(W.mean()) < 0.02 * np.sqrt(expected)  # 200,000 draws: sd of mean ≈ 0.0022·σ


@pytest.mark.parametrize("scale", [0.5, 3.0])
def test_large_scale_option(scale):
    W = init("large", scale=scale)(np.random.default_rng(2), (N_OUT, N_IN))
    assert W.var() == pytest.approx(scale**2, rel=0.03)


def test_glorot_uses_both_fan_in_and_fan_out():
    # (4000, 50): Glorot 2/4050, far from the fan-in-only 2/50 (He) or 1/50 (Xavier)
    W = init("glorot")(np.random.default_rng(3), (4000, 50))
    assert W.var() == pytest.approx(2 / 4050, rel=0.03)
    # and symmetric in the two fans
    W = init("glorot")(np.random.default_rng(3), (50, 4000))
    assert W.var() == pytest.approx(2 / 4050, rel=0.03)


def test_fan_in_is_the_second_axis():
    # He on (2000, 100): Var = 2/100 (n_in), not 2/2000
    W = init("he")(np.random.default_rng(4), (2000, 100))
    assert W.var() == pytest.approx(2 / 100, rel=0.03)
    W = init("xavier")(np.random.default_rng(4), (2000, 100))
    assert W.var() == pytest.approx(1 / 100, rel=0.03)


def test_same_rng_stream_scaled():
    """xavier and lecun are the same draw times the same factor; he = √2 · lecun."""
    x = init("xavier")(np.random.default_rng(9), (5, 8))
    l = init("lecun")(np.random.default_rng(9), (5, 8))
    h = init("he")(np.random.default_rng(9), (5, 8))
    z = np.random.default_rng(9).standard_normal((5, 8))
    np.testing.assert_allclose(x, z / np.sqrt(8), rtol=1e-15)
    np.testing.assert_allclose(l, z * np.sqrt(1 / 8), rtol=1e-15)
    np.testing.assert_allclose(h, z * np.sqrt(2 / 8), rtol=1e-15)
    np.testing.assert_allclose(h, np.sqrt(2) * l, rtol=1e-14)


# ----------------------------------------------------------------------------- orthogonal


@pytest.mark.parametrize("gain", [1.0, 2.5])
@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (1, 6), (6, 1), (40, 100), (100, 40)])
def test_orthogonal(shape, gain):
    n_out, n_in = shape
    W = init("orthogonal", gain=gain)(np.random.default_rng(7), shape)
    assert W.shape == shape
    if n_out <= n_in:
        np.testing.assert_allclose(W @ W.T, gain**2 * np.eye(n_out), atol=1e-12)
    if n_out >= n_in:
        np.testing.assert_allclose(W.T @ W, gain**2 * np.eye(n_in), atol=1e-12)


def test_orthogonal_default_gain_and_not_trivial():
    W = init("orthogonal")(np.random.default_rng(0), (4, 4))
    np.testing.assert_allclose(W @ W.T, np.eye(4), atol=1e-12)
    assert not np.allclose(np.abs(W), np.eye(4))


def test_orthogonal_sign_fix_makes_it_haar():
    # Haar-distributed Q: E[Q_ij] = 0; without the diag(R) sign fix numpy's QR biases the diagonal.
    diag = [init("orthogonal")(np.random.default_rng(s), (3, 3))[0, 0] for s in range(2000)]
    assert abs(np.mean(diag)) < 0.05


# ----------------------------------------------------------------------------- the course's forms


def test_course_he_bitwise():
    W = init("he")(np.random.RandomState(3), (10, 2))
    expected = np.random.RandomState(3).randn(10, 2) * np.sqrt(2 / 2)
    assert W.dtype == np.float64
    assert np.array_equal(W, expected)


def test_course_he_bitwise_other_fan_in():
    W = init("he")(np.random.RandomState(3), (5, 3))
    assert np.array_equal(W, np.random.RandomState(3).randn(5, 3) * np.sqrt(2 / 3))


@pytest.mark.parametrize("shape", [(10, 2), (5, 3), (1, 5)])
def test_course_xavier_bitwise(shape):
    W = init("xavier")(np.random.RandomState(3), shape)
    assert np.array_equal(W, np.random.RandomState(3).randn(*shape) / np.sqrt(shape[1]))


def test_course_large_bitwise():
    W = init("large")(np.random.RandomState(3), (10, 2))
    assert np.array_equal(W, np.random.RandomState(3).randn(10, 2) * 10)


def test_course_layers_consume_one_stream():
    """Successive layers from one RandomState equal the course's successive randn calls."""
    rs = np.random.RandomState(3)
    he = init("he")
    W1, W2 = he(rs, (10, 2)), he(rs, (5, 10))
    ref = np.random.RandomState(3)
    assert np.array_equal(W1, ref.randn(10, 2) * np.sqrt(2 / 2))
    assert np.array_equal(W2, ref.randn(5, 10) * np.sqrt(2 / 10))


# ----------------------------------------------------------------------------- validation

BAD = [
    ("large", "scale", 0),
    ("large", "scale", -10.0),
    ("large", "scale", "10"),
    ("large", "scale", float("nan")),
    ("orthogonal", "gain", 0.0),
    ("orthogonal", "gain", -1),
    ("orthogonal", "gain", None),
]


@pytest.mark.parametrize("name,option,value", BAD)
def test_bad_options_raise(name, option, value):
    with pytest.raises(SpecError) as info:
        init(name, **{option: value})
    assert option in str(info.value)
    assert info.value.field == f"init_options.{option}"


@pytest.mark.parametrize(
    "name,option", [("he", "scale"), ("xavier", "gain"), ("zeros", "scale"), ("large", "gain"), ("orthogonal", "scale")]
)
def test_unknown_option_raises(name, option):
    with pytest.raises(SpecError) as info:
        init(name, **{option: 1.0})
    assert option in str(info.value)
    assert name in str(info.value)


@pytest.mark.parametrize("name", ["kaiming", "He", "", None])
def test_unknown_initializer_raises(name):
    with pytest.raises(SpecError) as info:
        make(INITIALIZERS, "init", name, {})
    assert info.value.field == "init"
    assert repr(name) in str(info.value)
