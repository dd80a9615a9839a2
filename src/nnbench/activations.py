"""Hidden-layer activations: ``ACTIVATIONS[name] = (g, g_prime)``.

``g(Z)`` is the activation; ``g_prime(Z, A)`` is its derivative dA/dZ, given both the pre-activation Z and
the activation A = g(Z) (whichever is cheaper). Backpropagation multiplies: dZ = dA * g_prime(Z, A).
"""

from __future__ import annotations

import numpy as np

LEAKY_SLOPE = 0.01


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z)), written as the course writes it (it saturates to exactly 0 or 1; e^(−z)
    overflows to inf for z < −709, which gives exactly 0: callers that expect such z ignore the overflow
    with ``np.errstate``, as the trainer does)."""
    e = np.exp(-z)
    e += 1
    return np.reciprocal(e, out=e)


def relu(z):
    """ReLU(z) = max(z, 0); derivative 1[z > 0]."""
    return np.maximum(z, 0)


def leaky_relu(z):
    """LeakyReLU(z) = z if z > 0 else 0.01·z; derivative 1 or 0.01."""
    return np.where(z > 0, z, LEAKY_SLOPE * z)


ACTIVATIONS = {
    "relu": (relu, lambda z, a: a > 0),
    "leaky_relu": (leaky_relu, lambda z, a: np.where(z > 0, 1.0, LEAKY_SLOPE)),
    "tanh": (np.tanh, lambda z, a: 1 - a * a),  # tanh' = 1 − tanh²
    "sigmoid": (sigmoid, lambda z, a: a * (1 - a)),  # σ' = σ(1 − σ)
}
