"""Writing files so that an interrupted job never leaves one that looks finished."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_atomic(path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to a temporary file beside ``path``, flush it to disk, then rename it
    into place, with the permissions an ordinary new file gets. A stale temporary file of ``path``, left by
    a writer killed before its rename, is removed first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path, obj, indent=None) -> None:
    """JSON (compact unless ``indent``), refusing NaN and infinities, written atomically."""
    separators = None if indent else (",", ":")
    write_atomic(path, json.dumps(obj, indent=indent, separators=separators, allow_nan=False) + "\n")


def write_csv(path, table, float_format: str | None = None) -> None:
    """A pandas table as CSV (no index, ``\\n`` line ends, floats as ``float_format`` if given), atomically."""
    write_atomic(path, table.to_csv(index=False, lineterminator="\n", float_format=float_format))


def read_mapping(text: str, option: str) -> dict:
    """The value of a command-line ``option`` that takes a mapping: an inline JSON object (``{...}``), or the
    name of a JSON file (``.json``) or YAML file (anything else). Raises ValueError naming ``option`` and the
    value when the file is missing, does not parse, or does not hold a mapping."""
    if text.lstrip().startswith("{"):
        where = "inline JSON"
        try:
            value = json.loads(text)
        except ValueError as err:
            raise ValueError(f"{option}: the inline JSON does not parse: {err}") from None
    else:
        path = Path(text)
        where = repr(text)
        if not path.is_file():
            raise ValueError(f"{option} {text!r}: no such file (give a JSON/YAML file or an inline JSON object)")
        from .config import load_yaml  # refuses duplicate keys; errors name the file and line

        try:
            value = json.loads(path.read_text(encoding="utf-8")) if path.suffix == ".json" else load_yaml(path)
        except (OSError, ValueError) as err:
            raise ValueError(f"{option} {text!r}: {err}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{option}: expected a mapping ({where} holds {type(value).__name__})")
    return value
