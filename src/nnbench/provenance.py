"""What a result or a report was made with: the installed versions of packages (read from their metadata,
importing nothing). The one place both the result records (:func:`nnbench.trainer.versions`) and the report's
provenance section read them from."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version


def package_versions(packages: Iterable[str]) -> dict[str, str]:
    """``{package: version}`` for each of ``packages`` that is installed, in the given order."""
    found = {}
    for package in packages:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass
    return found
