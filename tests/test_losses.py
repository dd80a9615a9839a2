"""The output losses: values by hand, stability at extreme logits, the targets' shapes."""

import math

import numpy as np
import pytest

from nnbench.losses import binary_cross_entropy_sum, softmax, softmax_cross_entropy_sum, targets


def test_binary_cross_entropy_by_hand():
    z = np.array([[[0.0, 2.0, -1.0]]])  # one run, one unit, three examples
    y = np.array([[[1.0, 0.0, 1.0]]])
    # −log σ(0) − log(1 − σ(2)) − log σ(−1) = log 2 + log(1 + e²) + log(1 + e)
    expected = math.log(2) + math.log1p(math.exp(2)) + math.log1p(math.exp(1))
    assert binary_cross_entropy_sum(z, y) == pytest.approx([expected], rel=1e-15)


def test_binary_cross_entropy_matches_logaddexp_to_an_ulp_and_stays_finite():
    """Element by element against NumPy's logaddexp(0, z) − y·z: equal to within the rounding of log(1 + e^z),
    a couple of units in the last place of max(|z|, 1)."""
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(0, 30, 997), [-1e308, 1e308, 0.0]])
    y = (rng.random(z.shape) > 0.5).astype(float)
    for zi, yi in zip(z, y):
        got = binary_cross_entropy_sum(np.array([[[zi]]]), np.array([[[yi]]]))[0]
        want = np.logaddexp(0.0, zi) - yi * zi
        assert math.isfinite(got)
        assert abs(got - want) <= 2 * np.spacing(max(abs(zi), 1.0)), (zi, yi, got, want)
    assert binary_cross_entropy_sum(np.array([[[-800.0]]]), np.array([[[1.0]]]))[0] == 800.0  # σ rounds to 0


def test_binary_cross_entropy_sums_each_run_separately():
    z = np.array([[[1.0, -1.0]], [[3.0, 0.5]]])
    y = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    both = binary_cross_entropy_sum(z, y)
    assert both.shape == (2,)
    assert both[1] == binary_cross_entropy_sum(z[1:], y[1:])[0]


def test_softmax_cross_entropy_by_hand_and_stable():
    z = np.array([[[1.0, 1000.0], [2.0, 0.0], [3.0, -1000.0]]])  # 3 classes, 2 examples
    y = targets(np.array([[2, 0]]), 3)
    p = softmax(z)
    np.testing.assert_allclose(p.sum(axis=-2), 1.0)
    first = -math.log(math.exp(3) / (math.exp(1) + math.exp(2) + math.exp(3)))
    assert softmax_cross_entropy_sum(z, y)[0] == pytest.approx(first + 0.0, rel=1e-14)


def test_targets_shapes():
    y = np.array([[0, 1, 1], [1, 0, 0]])
    assert targets(y, 1).shape == (2, 1, 3)
    onehot = targets(np.array([[0, 2]]), 3)
    assert onehot.shape == (1, 3, 2)
    np.testing.assert_array_equal(onehot[0], [[1, 0], [0, 0], [0, 1]])
