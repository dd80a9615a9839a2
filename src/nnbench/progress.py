"""Progress bars for the commands that run long (``nnbench course``, ``nnbench studies NAME``, ``nnbench report``):
shown on a terminal, silent in logs.

:func:`progress` wraps an iterable in a ``tqdm`` bar written to standard error, or in a disabled one (which prints
nothing at all) when the bar would land in a file: the bar is shown when standard error is a terminal
(``sys.stderr.isatty()``), so a Snakemake job's log (``> log 2>&1``) and a CI log stay free of it. The environment
variable ``NNBENCH_PROGRESS`` overrides that: ``0`` (or ``off``, ``false``, ``no``) never shows a bar, ``1`` (or
``on``, ``true``, ``yes``) always does. The bar is removed when done (``leave=False``): what a command prints on
standard output is unchanged.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

ENV = "NNBENCH_PROGRESS"
OFF = {"0", "off", "false", "no"}
ON = {"1", "on", "true", "yes"}


def enabled(stream=None) -> bool:
    """Whether bars are shown: ``NNBENCH_PROGRESS`` if set (``0``/``1``, see the module docstring), else whether
    ``stream`` (default standard error) is a terminal."""
    value = os.environ.get(ENV, "").strip().lower()
    if value in OFF:
        return False
    if value in ON:
        return True
    if value:
        raise ValueError(f"{ENV}={os.environ[ENV]!r}: expected 0 or 1 (or off/on)")
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str | None = None, unit: str = "it"):
    """``iterable`` wrapped in a tqdm bar on standard error (``total`` items, labelled ``desc``, counting
    ``unit``), disabled unless :func:`enabled`. Without ``iterable``: a bar to ``update()`` by hand (use it as a
    context manager)."""
    from tqdm.auto import tqdm

    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=not enabled(),
        leave=False,
        dynamic_ncols=True,
    )
