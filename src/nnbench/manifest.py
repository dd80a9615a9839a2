"""The results manifest: every result file with its size and SHA-256, so that a result set can be verified.

    nnbench manifest --root results --out results/manifest.json     # write (atomically)
    nnbench manifest --root results --check results/manifest.json   # verify: exit 1 naming every change

The manifest is JSON::

    {"schema": "nnbench.manifest/1",
     "root": "results",
     "files": [{"path": "runs/circles/he/none/adam.json", "bytes": 81234, "sha256": "..."}, ...]}

``path`` is relative to the root, with ``/`` separators, sorted; every regular file under the root is listed
except the manifest itself. The workflow writes it last (rule ``manifest``, ``workflow/rules/manifest.smk``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

SCHEMA = "nnbench.manifest/1"


def sha256(path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def build(root, exclude=()) -> dict:
    """The manifest of every regular file under ``root`` except the paths in ``exclude``."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"manifest root {str(root)!r} is not a folder")
    skip = {Path(p).resolve() for p in exclude}
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.resolve() in skip or not path.is_file():
                continue
            files.append({"path": path.relative_to(root).as_posix(), "bytes": path.stat().st_size,
                          "sha256": sha256(path)})
    files.sort(key=lambda f: f["path"])
    return {"schema": SCHEMA, "root": root.as_posix(), "files": files}


def verify(manifest: dict, root) -> list[str]:
    """One line per file that changed, disappeared or appeared since ``manifest`` was written."""
    root = Path(root)
    listed = {f["path"]: f for f in manifest["files"]}
    lines = []
    for rel, entry in sorted(listed.items()):
        path = root / rel
        if not path.is_file():
            lines.append(f"{rel}: missing")
        elif path.stat().st_size != entry["bytes"] or sha256(path) != entry["sha256"]:
            lines.append(f"{rel}: changed (sha256 {entry['sha256'][:12]}... -> {sha256(path)[:12]}...)")
    return lines


def main(argv=None) -> int:
    from .io import write_json_atomic

    parser = argparse.ArgumentParser(prog="nnbench manifest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default="results", help="the folder to list (default: results)")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--out", help="where to write the manifest (JSON, atomically)")
    group.add_argument("--check", metavar="MANIFEST", help="verify the files under --root against this manifest")
    args = parser.parse_args(argv)
    try:
        if args.check:
            manifest = json.loads(Path(args.check).read_text())
            if manifest.get("schema") != SCHEMA:
                raise ValueError(f"{args.check!r} is not an nnbench manifest (schema {manifest.get('schema')!r})")
            lines = verify(manifest, args.root)
            new = build(args.root, exclude=[args.check])
            known = {f["path"] for f in manifest["files"]}
            lines += [f"{f['path']}: not in the manifest" for f in new["files"] if f["path"] not in known]
            for line in lines:
                print(line)
            print(f"{len(lines)} difference(s)" if lines else f"{len(known)} files verified")
            return 1 if lines else 0
        manifest = build(args.root, exclude=[args.out])
        write_json_atomic(args.out, manifest, indent=1)
        print(f"{len(manifest['files'])} files listed in {args.out}")
        return 0
    except (OSError, ValueError) as err:
        print(f"nnbench manifest: error: {err}", file=sys.stderr)
        return 2
