"""Gradient checking by two-sided differences, as the course defines it.

For the flattened parameter vector θ (each array flattened in order, e.g. W1, b1, W2, b2, ...):
    gradapprox_i = (J(θ + ε e_i) − J(θ − ε e_i)) / (2ε),    ε = 1e-7
    difference   = ‖grad − gradapprox‖₂ / (‖grad‖₂ + ‖gradapprox‖₂)
Below 1e-7 the backward pass is taken as correct (the course flags a mistake above 2e-7).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

EPSILON = 1e-7
THRESHOLD = 1e-7


def relative_difference(grad: np.ndarray, approx: np.ndarray) -> float:
    """‖grad − approx‖₂ / (‖grad‖₂ + ‖approx‖₂) (0 when both are zero)."""
    denominator = np.linalg.norm(grad) + np.linalg.norm(approx)
    return float(np.linalg.norm(grad - approx) / denominator) if denominator else 0.0


def numerical_gradient(cost: Callable[[dict], float], params: dict, eps: float = EPSILON) -> np.ndarray:
    """Two-sided differences of ``cost`` over every parameter entry, flattened in ``params`` order."""
    approx = []
    for key, p in params.items():
        flat = p.reshape(-1)  # a view: perturb in place, then restore exactly
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            plus = cost(params)
            flat[i] = original - eps
            minus = cost(params)
            flat[i] = original
            approx.append((plus - minus) / (2 * eps))
    return np.array(approx)


def flatten(grads: dict, keys) -> np.ndarray:
    return np.concatenate([grads[k].reshape(-1) for k in keys])


def check_network(net, params, X, Y, *, masks=None, eps: float = EPSILON, grads=None, cost=None) -> float:
    """The course's relative difference between the backward pass and two-sided differences of the
    network's cost (loss + L2) for one run (leading axis of length 1).

    Dropout is checked with its ``masks`` held fixed; batch norm in training mode (batch statistics).
    ``grads`` replaces the backward pass's gradients (to show the check catching a planted bug);
    ``cost(params) -> float`` replaces the network's cost (the course computes it less exactly).
    """
    if X.shape[0] != 1:
        raise ValueError("gradient checking works on one run at a time (leading axis of length 1)")
    train = masks is not None or net.batchnorm
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}

    if cost is None:

        def cost(p):
            return float(net.cost(p, X, Y, train=train, masks=masks)[0])

    if grads is None:
        Z, cache = net.forward(params, X, train=train, masks=masks)
        grads = net.backward(params, cache, Z, Y)
    return relative_difference(flatten(grads, params), numerical_gradient(cost, params, eps))
