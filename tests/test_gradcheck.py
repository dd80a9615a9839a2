"""Backpropagation against two-sided differences, for every layer type, activation, loss and regularizer."""

import itertools

import numpy as np
import pytest

from nnbench.activations import ACTIVATIONS
from nnbench.gradcheck import THRESHOLD, check_network, relative_difference
from nnbench.initializers import He
from nnbench.losses import targets
from nnbench.network import Network

SHAPES = [(3, 4, 1), (5, 6, 4, 1), (4, 7, 5, 3), (2, 3, 4, 5, 2, 1), (6, 8, 4)]


def make_problem(sizes, seed, m=7):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((1, sizes[0], m))
    n_out = sizes[-1]
    y = rng.integers(0, max(n_out, 2), size=(1, m))
    return X, targets(y, n_out), rng


def perturb(net, params, rng):
    """Move β, γ, b away from their initial 0/1 so every gradient term is exercised."""
    return {k: v + 0.3 * rng.standard_normal(v.shape) if not k.startswith("W") else v for k, v in params.items()}


@pytest.mark.parametrize("sizes,activation", list(itertools.product(SHAPES, ACTIVATIONS)))
def test_plain_network(sizes, activation):
    X, Y, rng = make_problem(sizes, seed=len(sizes))
    net = Network(sizes, activation=activation)
    params = perturb(net, net.init_params(He(), [rng]), rng)
    assert check_network(net, params, X, Y) < THRESHOLD


@pytest.mark.parametrize("sizes", SHAPES)
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_l2(sizes, activation):
    X, Y, rng = make_problem(sizes, seed=1)
    net = Network(sizes, activation=activation, l2=0.7)
    params = perturb(net, net.init_params(He(), [rng]), rng)
    assert check_network(net, params, X, Y) < THRESHOLD


@pytest.mark.parametrize("sizes", SHAPES)
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_batchnorm_training_mode(sizes, activation):
    X, Y, rng = make_problem(sizes, seed=2, m=9)
    net = Network(sizes, activation=activation, batchnorm=True)
    params = perturb(net, net.init_params(He(), [rng]), rng)
    assert any(k.startswith("gamma") for k in params)
    assert check_network(net, params, X, Y) < THRESHOLD


@pytest.mark.parametrize("sizes", SHAPES)
def test_dropout_with_fixed_mask_and_l2_and_batchnorm(sizes):
    X, Y, rng = make_problem(sizes, seed=3, m=8)
    keep = tuple(0.8 for _ in sizes[1:-1])
    net = Network(sizes, keep_prob=keep, l2=0.3, batchnorm=True, activation="leaky_relu")
    params = perturb(net, net.init_params(He(), [rng]), rng)
    masks = [rng.random(shape) < k for shape, k in net.dropout_shapes(1, X.shape[-1])]
    assert check_network(net, params, X, Y, masks=masks) < THRESHOLD


def test_check_catches_a_planted_bug():
    X, Y, rng = make_problem((4, 5, 3, 1), seed=4)
    net = Network((4, 5, 3, 1))
    params = perturb(net, net.init_params(He(), [rng]), rng)
    Z, cache = net.forward(params, X)
    grads = net.backward(params, cache, Z, Y)
    grads["W2"] = grads["W2"] * 2
    assert check_network(net, params, X, Y, grads=grads) > 1e-3


def test_runs_along_the_leading_axis_are_independent():
    """Each run's gradient equals the gradient of that run trained alone."""
    rng = np.random.default_rng(5)
    net = Network((3, 6, 4, 3), keep_prob=(0.7, 0.9), batchnorm=True, l2=0.1)
    X = rng.standard_normal((3, 3, 10))
    Y = targets(rng.integers(0, 3, size=(3, 10)), 3)
    params = net.init_params(He(), [np.random.default_rng(s) for s in range(3)])
    masks = [rng.random(shape) < k for shape, k in net.dropout_shapes(3, 10)]
    Z, cache = net.forward(params, X, train=True, masks=masks)
    together = net.backward(params, cache, Z, Y)
    for r in range(3):
        one = {k: v[r : r + 1] for k, v in params.items()}
        Z1, cache1 = net.forward(one, X[r : r + 1], train=True, masks=[m[r : r + 1] for m in masks])
        alone = net.backward(one, cache1, Z1, Y[r : r + 1])
        for k in params:
            np.testing.assert_allclose(together[k][r], alone[k][0], rtol=1e-12, atol=1e-15)


def test_relative_difference_definition():
    assert relative_difference(np.array([1.0, 0.0]), np.array([1.0, 0.0])) == 0.0
    assert relative_difference(np.array([3.0, 4.0]), np.array([0.0, 0.0])) == 1.0
    assert relative_difference(np.zeros(2), np.zeros(2)) == 0.0
