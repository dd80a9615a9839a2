"""Optimizers: ``OPTIMIZERS[name](**hyper_parameters)``, each with ``init(params) -> state`` and
``update(params, grads, state, lr)``, which updates ``params`` and ``state`` in place.

Conventions (each tested against a step computed by hand in ``tests/test_optimizers.py``); g is the
gradient, α the learning rate of this step, t the number of steps taken including this one:

- sgd:       W ← W − α g
- momentum:  v ← β v + (1 − β) g;  W ← W − α v                      (the course's form, v₀ = 0)
- nesterov:  v ← β v + (1 − β) g;  W ← W − α (β v + (1 − β) g)      (look-ahead, Sutskever/Bengio form)
- rmsprop:   s ← β s + (1 − β) g²; W ← W − α g / (√s + ε)           (ε outside the root, as PyTorch)
- adam:      v ← β₁ v + (1 − β₁) g; s ← β₂ s + (1 − β₂) g²;
             v̂ = v/(1 − β₁ᵗ); ŝ = s/(1 − β₂ᵗ); W ← W − α v̂ / (√ŝ + ε)   (the course's and PyTorch's)
- adamw:     W ← W − α λ W on weight matrices only (decoupled weight decay, before the step), then adam

``params`` and ``grads`` are dicts of arrays updated alike (:class:`Optimizer`, the protocol every optimizer
follows). An optimizer that treats some parameters apart declares a ``mask`` (optax's ``adamw(mask=...)``): a
function of the parameters' roles (``Network.roles``: "weight", "bias", "scale", "shift") to ``{name: bool}``,
and applies its masked transformation to the keys ``init(params, mask)`` marks True (AdamW: the decay, on the
weights, :func:`weights_only`). The trainer passes every parameter as one group ``{"all": ...}`` (a view of
its flat buffer: an update is a few whole-buffer operations) to an optimizer without a mask, and
``{"masked": ..., "rest": ...}`` (``Network.groups``) to one with a mask.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np

from .registry import check_number

Mask = Callable[[Mapping[str, str]], dict[str, bool]]  # parameter roles -> which parameters a transformation acts on


class Optimizer(Protocol):
    """``init(params, mask=None) -> state``; ``update(params, grads, state, lr)`` updates ``params`` and ``state``
    in place. ``mask`` (None for most): the optimizer's mask over the parameters' roles; ``init``'s ``mask``
    argument is its value for these params (``{key: bool}``; None: every key)."""

    mask: ClassVar[Mask | None]

    def init(self, params: Mapping[str, np.ndarray], mask: Mapping[str, bool] | None = None) -> dict: ...

    def update(
        self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray], state: dict, lr: float
    ) -> None: ...


def weights_only(roles: Mapping[str, str]) -> dict[str, bool]:
    """The mask of the weight matrices: True for role "weight", False for biases and norm scales and shifts."""
    return {k: role == "weight" for k, role in roles.items()}


def _ema(avg: np.ndarray, value: np.ndarray, beta: float, scratch: np.ndarray) -> None:
    """avg ← β·avg + (1 − β)·value, in place (the moment update shared by momentum, RMSprop, Adam);
    ``scratch`` is a preallocated array of the same shape, so that a step allocates nothing."""
    avg *= beta
    avg += np.multiply(value, 1 - beta, out=scratch)


def _zeros_like(params):
    return {k: np.zeros_like(v) for k, v in params.items()}


def _scratch(params, count):
    """``count`` work arrays per parameter array (reused at every step)."""
    return {k: [np.empty_like(v) for _ in range(count)] for k, v in params.items()}


def _check_beta(name, beta):
    check_number(name, beta, low=0, high=1, high_open=True)


@dataclass(frozen=True)
class SGD:
    """Plain (full- or mini-batch) gradient descent: W ← W − α g."""

    mask: ClassVar[Mask | None] = None  # treats every parameter alike (see Optimizer)

    def init(self, params, mask=None):
        return {"scratch": _scratch(params, 1)}

    def update(self, params, grads, state, lr):
        for k, p in params.items():
            (tmp,) = state["scratch"][k]
            p -= np.multiply(grads[k], lr, out=tmp)


@dataclass(frozen=True)
class Momentum:
    """v ← β v + (1 − β) g; W ← W − α v (v starts at 0)."""

    beta: float = 0.9
    mask: ClassVar[Mask | None] = None

    def __post_init__(self):
        _check_beta("beta", self.beta)

    def init(self, params, mask=None):
        return {"v": _zeros_like(params), "scratch": _scratch(params, 1)}

    def update(self, params, grads, state, lr):
        for k, p in params.items():
            v, (tmp,) = state["v"][k], state["scratch"][k]
            _ema(v, grads[k], self.beta, tmp)
            p -= np.multiply(v, lr, out=tmp)


@dataclass(frozen=True)
class Nesterov(Momentum):
    """v ← β v + (1 − β) g; W ← W − α (β v + (1 − β) g): the step looks ahead along the new velocity."""

    def update(self, params, grads, state, lr):
        for k, p in params.items():
            v, g, (tmp,) = state["v"][k], grads[k], state["scratch"][k]
            _ema(v, g, self.beta, tmp)
            p -= lr * (self.beta * v + (1 - self.beta) * g)


@dataclass(frozen=True)
class RMSprop:
    """s ← β s + (1 − β) g²; W ← W − α g / (√s + ε)."""

    beta: float = 0.9
    eps: float = 1e-8
    mask: ClassVar[Mask | None] = None

    def __post_init__(self):
        _check_beta("beta", self.beta)
        check_number("eps", self.eps, low=0, low_open=True)

    def init(self, params, mask=None):
        return {"s": _zeros_like(params), "scratch": _scratch(params, 2)}

    def update(self, params, grads, state, lr):
        for k, p in params.items():
            s, g, (a, b) = state["s"][k], grads[k], state["scratch"][k]
            _ema(s, np.multiply(g, g, out=a), self.beta, b)
            np.sqrt(s, out=b)
            b += self.eps
            np.multiply(g, lr, out=a)  # α·g / (√s + ε)
            p -= np.divide(a, b, out=a)


@dataclass(frozen=True)
class Adam:
    """v ← β₁v + (1−β₁)g; s ← β₂s + (1−β₂)g²; W ← W − α·(v/(1−β₁ᵗ)) / (√(s/(1−β₂ᵗ)) + ε)."""

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    mask: ClassVar[Mask | None] = None

    def __post_init__(self):
        _check_beta("beta1", self.beta1)
        _check_beta("beta2", self.beta2)
        check_number("eps", self.eps, low=0, low_open=True)

    def init(self, params, mask=None):
        return {"t": 0, "v": _zeros_like(params), "s": _zeros_like(params), "scratch": _scratch(params, 2)}

    def update(self, params, grads, state, lr):
        state["t"] += 1
        t = state["t"]
        c1, c2 = 1 - self.beta1**t, 1 - self.beta2**t
        for k, p in params.items():
            v, s, g, (a, b) = state["v"][k], state["s"][k], grads[k], state["scratch"][k]
            _ema(v, g, self.beta1, a)
            _ema(s, np.multiply(g, g, out=b), self.beta2, a)
            np.divide(s, c2, out=b)  # √(s/c2) + ε
            np.sqrt(b, out=b)
            b += self.eps
            np.divide(v, c1, out=a)  # α·(v/c1) / (√(s/c2) + ε)
            a *= lr
            p -= np.divide(a, b, out=a)


@dataclass(frozen=True)
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): W ← W − α λ W on the parameters its mask
    selects (:func:`weights_only`: the weight matrices, not biases, γ or β), then the Adam step. ``init``'s
    ``mask`` marks the keys that decay (None: every key, as optax's ``adamw`` without a mask)."""

    weight_decay: float = 0.01
    mask: ClassVar[Mask | None] = staticmethod(weights_only)

    def __post_init__(self):
        super().__post_init__()
        check_number("weight_decay", self.weight_decay, low=0)

    def init(self, params, mask=None):
        return {**super().init(params), "decay": [k for k in params if mask is None or mask[k]]}

    def update(self, params, grads, state, lr):
        for k in state["decay"]:
            params[k] -= (lr * self.weight_decay) * params[k]
        super().update(params, grads, state, lr)


OPTIMIZERS = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}
