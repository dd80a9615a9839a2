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
