"""Weight initializers: ``INITIALIZERS[name](**options)(rng, (n_out, n_in)) -> W``.

Each draws from the generator it is given (a ``numpy.random.Generator``, or a legacy ``RandomState`` in the
course-compatibility mode: both have ``standard_normal``) and returns a float64 array of shape (n_out, n_in).
Biases always start at zero (not drawn here). The scaling formulas are written as the course writes them
(e.g. ``randn / sqrt(n_in)``), so the course's runs are reproduced bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .registry import check_number


@dataclass(frozen=True)
class Zeros:
    """W = 0. Every unit of a layer then computes the same function: symmetry is never broken."""

    def __call__(self, rng, shape):
        return np.zeros(shape)


@dataclass(frozen=True)
class Large:
    """W = scale · N(0, 1), the course's "large random" initialization (scale = 10): Var = scale²."""

    scale: float = 10.0

    def __post_init__(self):
        check_number("scale", self.scale, low=0, low_open=True)

    def __call__(self, rng, shape):
        return rng.standard_normal(shape) * self.scale


@dataclass(frozen=True)
class Xavier:
    """Xavier as the course defines it: W = N(0, 1) / √n_in, so Var = 1/n_in."""

    def __call__(self, rng, shape):
        return rng.standard_normal(shape) / np.sqrt(shape[1])


@dataclass(frozen=True)
class Glorot:
    """Glorot & Bengio (2010), normal form: W = N(0, 1) · √(2 / (n_in + n_out)), so Var = 2/(n_in + n_out)."""

    def __call__(self, rng, shape):
        return rng.standard_normal(shape) * np.sqrt(2.0 / (shape[0] + shape[1]))


@dataclass(frozen=True)
class He:
    """He et al. (2015): W = N(0, 1) · √(2 / n_in), so Var = 2/n_in (suits ReLU)."""

    def __call__(self, rng, shape):
        return rng.standard_normal(shape) * np.sqrt(2.0 / shape[1])


@dataclass(frozen=True)
class LeCun:
    """LeCun (1998): W = N(0, 1) · √(1 / n_in), so Var = 1/n_in (the same variance as Xavier, as a product)."""

    def __call__(self, rng, shape):
        return rng.standard_normal(shape) * np.sqrt(1.0 / shape[1])


@dataclass(frozen=True)
class Orthogonal:
    """Saxe et al. (2014): W = gain · Q, Q with orthonormal rows or columns from the QR decomposition of a
    standard normal matrix A = QR, signs fixed by diag(R) so that Q is uniformly (Haar) distributed."""

    gain: float = 1.0

    def __post_init__(self):
        check_number("gain", self.gain, low=0, low_open=True)

    def __call__(self, rng, shape):
        n_out, n_in = shape
        a = rng.standard_normal((max(shape), min(shape)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        return self.gain * (q if n_out >= n_in else q.T)


INITIALIZERS = {
    "zeros": Zeros,
    "large": Large,
    "xavier": Xavier,
    "glorot": Glorot,
    "he": He,
    "lecun": LeCun,
    "orthogonal": Orthogonal,
}
