"""Learning-rate schedules: ``SCHEDULES[name](lr0=..., **options)(epoch) -> α``.

The trainer asks for α once per epoch (epochs count from 0) and uses it for every step of that epoch:
- constant:     α = α0
- inverse_time: α = α0 / (1 + r·epoch)                 (the course calls this "exponential decay")
- staircase:    α = α0 / (1 + r·⌊epoch / T⌋)           (the course's fixed-interval scheduling)
- exponential:  α = α0 · γ^epoch
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .registry import check_number


@dataclass(frozen=True)
class Constant:
    """α = α0."""

    lr0: float = 0.01

    def __post_init__(self):
        check_number("lr0", self.lr0, low=0, low_open=True)

    def __call__(self, epoch: int) -> float:
        return self.lr0


@dataclass(frozen=True)
class InverseTime(Constant):
    """α = α0 / (1 + r·epoch), written as the course writes it: 1/(1 + r·epoch)·α0."""

    rate: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        check_number("rate", self.rate, low=0)

    def __call__(self, epoch):
        return 1 / (1 + self.rate * epoch) * self.lr0


@dataclass(frozen=True)
class Staircase(Constant):
    """α = α0 / (1 + r·⌊epoch/T⌋): constant for T epochs at a time (T = interval)."""

    rate: float = 1.0
    interval: int = 1000

    def __post_init__(self):
        super().__post_init__()
        check_number("rate", self.rate, low=0)
        check_number("interval", self.interval, low=1, integer=True)

    def __call__(self, epoch):
        return 1 / (1 + self.rate * math.floor(epoch / self.interval)) * self.lr0


@dataclass(frozen=True)
class Exponential(Constant):
    """α = α0 · γ^epoch, 0 < γ ≤ 1."""

    gamma: float = 0.95

    def __post_init__(self):
        super().__post_init__()
        check_number("gamma", self.gamma, low=0, high=1, low_open=True)

    def __call__(self, epoch):
        return self.lr0 * self.gamma**epoch


SCHEDULES = {
    "constant": Constant,
    "inverse_time": InverseTime,
    "staircase": Staircase,
    "exponential": Exponential,
}
