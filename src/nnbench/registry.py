"""One way to turn a config name and its options into an object, shared by every registry.

Every hyper-parameterized concept (initializer, optimizer, schedule) is a frozen dataclass whose fields
are its hyper-parameters, validated in ``__post_init__``; a registry is a plain dict from name to class.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Mapping
from typing import Any


class SpecError(ValueError):
    """A bad value in a run specification or config, naming the field and the value."""

    def __init__(self, field: str, value: Any, reason: str):
        self.field, self.value, self.reason = field, value, reason
        super().__init__(f"{field} = {value!r}: {reason}")


def make(registry: Mapping[str, type], kind: str, name: str, options: Mapping[str, Any] | None = None):
    """Build ``registry[name](**options)``, turning every mistake into a :class:`SpecError`.

    ``kind`` names the field in messages, e.g. ``make(OPTIMIZERS, "optimizer", "adam", {"beta1": 0.9})``.
    """
    if not isinstance(name, str) or name not in registry:
        raise SpecError(kind, name, f"unknown {kind}; known: {', '.join(sorted(registry))}")
    options = dict(options or {})
    cls = registry[name]
    fields = {f.name for f in dataclasses.fields(cls)}
    for key, value in options.items():
        if key not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise SpecError(
                f"{kind}_options.{key}", value, f"{kind} {name!r} has no option {key!r}; its options: {known}"
            )
    try:
        return cls(**options)
    except SpecError as err:
        raise SpecError(f"{kind}_options.{err.field}", err.value, err.reason) from None


def check_number(
    field: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> None:
    """Raise :class:`SpecError` unless ``value`` is a real number (an integer if asked) in the given range."""
    ok_type = isinstance(value, numbers.Integral if integer else numbers.Real)
    if isinstance(value, bool) or not ok_type:
        raise SpecError(field, value, "must be an integer" if integer else "must be a number")
    if value != value or value in (float("inf"), float("-inf")):
        raise SpecError(field, value, "must be finite")
    if low is not None and (value < low or (low_open and value == low)):
        raise SpecError(field, value, f"must be {'>' if low_open else '>='} {low}")
    if high is not None and (value > high or (high_open and value == high)):
        raise SpecError(field, value, f"must be {'<' if high_open else '<='} {high}")
