"""The results manifest: every result file with its size and SHA-256, so that a result set can be verified.

    nnbench manifest --root results --out results/manifest.json     # write (atomically)
    nnbench manifest --root results --check results/manifest.json   # verify: exit 1 naming every change

The manifest is JSON::

    {"schema": "nnbench.manifest/2",
     "root": "results",
     "files": [{"path": "runs/circles/he/none/adam.json", "bytes": 81234, "sha256": "...",
                "digest": "..."}, ...]}

``path`` is relative to the root, with ``/`` separators, sorted; every regular file under the root is listed
except the manifest itself. A cell file (``runs/**.json``) is verified before it is listed
(:func:`nnbench.results.read_cell`: the content digest its training job wrote, its identity against its path,
its values), and its entry carries that ``digest``: the manifest vouches only for cell files as their
training jobs wrote them, never for an edited one. ``--check`` verifies the bytes of every file and, for
cell files, the content digest again. The workflow writes it last (rule ``manifest``,
``workflow/rules/manifest.smk``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

from .results import ResultFileError, read_cell

SCHEMA = "nnbench.manifest/2"
SCHEMAS = ("nnbench.manifest/1", SCHEMA)  # /1 had no digests; --check reads both


def sha256(path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _is_cell_file(rel: str) -> bool:
    parts = rel.split("/")
    return parts[0] == "runs" and len(parts) == 5 and rel.endswith(".json")  # runs/{dataset}/{init}/{reg}/{opt}.json


def build(root, exclude=(), verify_cells: bool = True) -> dict:
    """The manifest of every regular file under ``root`` except the paths in ``exclude``; each cell file
    verified and listed with its digest (unless not ``verify_cells``: a bare listing, for ``--check``)."""
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
            rel = path.relative_to(root).as_posix()
            entry = {"path": rel, "bytes": path.stat().st_size, "sha256": sha256(path)}
            if verify_cells and _is_cell_file(rel):
                entry["digest"] = read_cell(path, from_path=True)["digest"]
            files.append(entry)
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
            continue
        if path.stat().st_size != entry["bytes"] or sha256(path) != entry["sha256"]:
            lines.append(f"{rel}: changed (sha256 {entry['sha256'][:12]}... -> {sha256(path)[:12]}...)")
        if _is_cell_file(rel):
            try:
                digest = read_cell(path, from_path=True)["digest"]
            except ResultFileError as err:
                lines.append(f"{rel}: {err.problem}")
                continue
            if "digest" in entry and digest != entry["digest"]:
                lines.append(f"{rel}: its content digest is not the one listed")
    return lines


def read_manifest(path) -> dict:
    """A manifest file, refusing anything that is not one (naming the file and what is wrong)."""
    fix = "give the manifest.json that `nnbench manifest --out` wrote"
    try:
        manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultFileError(path, "missing", fix) from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ResultFileError(path, f"not readable JSON ({err})", fix) from None
    if not isinstance(manifest, dict) or manifest.get("schema") not in SCHEMAS:
        schema = manifest.get("schema") if isinstance(manifest, dict) else None
        raise ResultFileError(path, f"not an nnbench manifest (schema {schema!r})", fix)
    files = manifest.get("files")
    ok = isinstance(files, list) and all(
        isinstance(f, dict)
        and isinstance(f.get("path"), str)
        and f["path"]
        and _is_int(f.get("bytes"))
        and isinstance(f.get("sha256"), str)
        and (isinstance(f.get("digest"), str) or "digest" not in f)
        for f in files
    )
    if not ok:
        raise ResultFileError(path, "'files' must be a list of {path, bytes, sha256[, digest]} entries", fix)
    if any(Path(f["path"]).is_absolute() or ".." in Path(f["path"]).parts for f in files):
        raise ResultFileError(path, "a listed path leaves the root", fix)
    return manifest


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def main(argv=None) -> int:
    from .io import write_json_atomic

    parser = argparse.ArgumentParser(
        prog="nnbench manifest", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", default="results", help="the folder to list (default: results)")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--out", help="where to write the manifest (JSON, atomically)")
    group.add_argument("--check", metavar="MANIFEST", help="verify the files under --root against this manifest")
    args = parser.parse_args(argv)
    try:
        if args.check:
            manifest = read_manifest(args.check)
            lines = verify(manifest, args.root)
            new = build(args.root, exclude=[args.check], verify_cells=False)
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
