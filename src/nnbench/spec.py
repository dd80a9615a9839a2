"""The run specification: everything that determines a run, validated on creation.

A run is a pure function of its ``RunSpec`` (seed included) and the package versions. Every bad value is
refused here, before any work, with a :class:`~nnbench.registry.SpecError` naming the field and value.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .activations import ACTIVATIONS
from .initializers import INITIALIZERS
from .optimizers import OPTIMIZERS
from .registry import SpecError, check_number, make
from .schedules import SCHEDULES


def check_engine(engine, batchnorm: bool = False) -> None:
    """Refuse an engine that is unknown, not installed, or (numba) asked for batch norm. "auto" is always
    accepted: it picks numba only where numba can run (``trainer.choose_engine``)."""
    from .trainer import ENGINE_CHOICES, numba_installed

    if not isinstance(engine, str) or engine not in ENGINE_CHOICES:
        raise SpecError("engine", engine, f"unknown engine; known: {', '.join(ENGINE_CHOICES)}")
    if engine == "numba" and not numba_installed():
        raise SpecError("engine", engine, "needs the numba package: pip install 'nnbench[fast]'")
    if engine == "numba" and batchnorm:
        raise SpecError("engine", engine, "has no batch norm (batchnorm: true); use engine numpy")


@dataclass(frozen=True)
class RunSpec:
    """One training run (see ``docs/design.md`` for every field)."""

    dataset: str
    dataset_options: dict = field(default_factory=dict)
    hidden: tuple = (10, 5)
    activation: str = "relu"
    init: str = "he"
    init_options: dict = field(default_factory=dict)
    l2: float = 0.0
    keep_prob: Any = 1.0
    batchnorm: bool = False
    optimizer: str = "sgd"
    optimizer_options: dict = field(default_factory=dict)
    lr: float = 0.01
    schedule: str = "constant"
    schedule_options: dict = field(default_factory=dict)
    batch_size: int | None = None
    epochs: int = 100
    seed: int = 0
    curve_every: int = 1
    engine: str = "numpy"

    def __post_init__(self):
        from . import data  # the data layer validates its own options

        if not isinstance(self.dataset, str):
            raise SpecError("dataset", self.dataset, "must be a data set name")
        for name in ("dataset_options", "init_options", "optimizer_options", "schedule_options"):
            if not isinstance(getattr(self, name), dict):
                raise SpecError(name, getattr(self, name), "must be a mapping of option names to values")
        if self.dataset not in data.DATASETS:
            raise SpecError("dataset", self.dataset, f"unknown data set; known: {', '.join(sorted(data.DATASETS))}")
        try:
            object.__setattr__(self, "dataset_options", dict(data.check_options(self.dataset, self.dataset_options)))
        except (ValueError, TypeError, KeyError, OSError) as err:
            raise SpecError("dataset_options", self.dataset_options, str(err)) from None
        hidden = self.hidden
        if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
            raise SpecError("hidden", hidden, "must be a list of layer widths")
        for width in hidden:
            check_number("hidden", width, low=1, integer=True)
        object.__setattr__(self, "hidden", tuple(int(w) for w in hidden))
        if isinstance(self.keep_prob, (list, tuple)):
            object.__setattr__(self, "keep_prob", list(self.keep_prob))
        if not isinstance(self.activation, str) or self.activation not in ACTIVATIONS:
            raise SpecError("activation", self.activation, f"unknown activation; known: {', '.join(ACTIVATIONS)}")
        make(INITIALIZERS, "init", self.init, self.init_options)
        check_number("l2", self.l2, low=0)
        keep = self.keep_probs
        if len(keep) != len(self.hidden):
            raise SpecError("keep_prob", self.keep_prob, f"needs one value per hidden layer ({len(self.hidden)})")
        for k in keep:
            check_number("keep_prob", k, low=0, high=1, low_open=True)
        if not isinstance(self.batchnorm, bool):
            raise SpecError("batchnorm", self.batchnorm, "must be true or false")
        make(OPTIMIZERS, "optimizer", self.optimizer, self.optimizer_options)
        check_number("lr", self.lr, low=0, low_open=True)
        if "lr0" in self.schedule_options:
            raise SpecError("schedule_options.lr0", self.schedule_options["lr0"], "set the base learning rate with lr")
        make(SCHEDULES, "schedule", self.schedule, self.schedule_options)
        if self.batch_size is not None:
            check_number("batch_size", self.batch_size, low=1, integer=True)
        check_number("epochs", self.epochs, low=1, integer=True)
        check_number("seed", self.seed, low=0, integer=True)
        check_number("curve_every", self.curve_every, low=1, integer=True)
        check_engine(self.engine, self.batchnorm)

    @property
    def keep_probs(self) -> tuple:
        """keep_prob per hidden layer (a single number applies to every hidden layer)."""
        if isinstance(self.keep_prob, (list, tuple)):
            return tuple(self.keep_prob)
        return (self.keep_prob,) * len(self.hidden)

    def build_network(self, n_features: int, n_classes: int):
        """The run's :class:`~nnbench.network.Network` for data of ``n_features`` features and ``n_classes``
        classes: one sigmoid output unit for two classes, a softmax over ``n_classes`` otherwise."""
        from .network import Network

        return Network(
            sizes=(n_features, *self.hidden, 1 if n_classes == 2 else n_classes),
            activation=self.activation,
            keep_prob=self.keep_probs,
            batchnorm=self.batchnorm,
            l2=self.l2,
        )

    def build_initializer(self):
        return make(INITIALIZERS, "init", self.init, self.init_options)

    def build_optimizer(self):
        return make(OPTIMIZERS, "optimizer", self.optimizer, self.optimizer_options)

    def build_schedule(self):
        return make(SCHEDULES, "schedule", self.schedule, {"lr0": self.lr, **self.schedule_options})

    @classmethod
    def from_dict(cls, d: dict) -> RunSpec:
        """Build from a plain mapping (YAML/JSON), refusing unknown keys by name."""
        if not isinstance(d, dict):
            raise SpecError("spec", d, "must be a mapping of field names to values")
        known = {f.name for f in dataclasses.fields(cls)}
        for key in d:
            if key not in known:
                raise SpecError(key, d[key], f"unknown field; known: {', '.join(sorted(known))}")
        if "dataset" not in d:
            raise SpecError("dataset", None, "is required")
        return cls(**d)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    def replace(self, **changes) -> RunSpec:
        return dataclasses.replace(self, **changes)
