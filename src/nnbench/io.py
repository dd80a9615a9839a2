"""Writing files so that an interrupted job never leaves one that looks finished."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_atomic(path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, flush it to disk, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path, obj, indent=None) -> None:
    """JSON (compact unless ``indent``), refusing NaN and infinities, written atomically."""
    separators = None if indent else (",", ":")
    write_atomic(path, json.dumps(obj, indent=indent, separators=separators, allow_nan=False) + "\n")
