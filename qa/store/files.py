"""Files of a local build, written atomically and checked cheaply.

Each artifact is recorded in the manifest as [size, digest of its first and last 64 KiB, SHA-256 of
the whole]: opening compares the first two, `qa verify`-style checks (`full`) the third. A file is
written to a temporary name, fsynced, and renamed; a folder is fsynced after what it holds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path



SAMPLE_BYTES = 64 * 1024


def _files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]


def file_records(path: Path) -> dict[str, list]:
    """Each file of an artifact: [size, digest of its ends, SHA-256 of the whole]."""
    out = {}
    for p in _files(path):
        name = p.relative_to(path).as_posix() if path.is_dir() else ""
        out[name] = [p.stat().st_size, _ends_digest(p), _sha256(p)]
    return out


def check_artifacts(build: Path, manifest: dict, *, full: bool = False) -> str | None:
    """What is wrong with a build's files, or None: every recorded file present, of its size,
    with the digest of its first and last 64 KiB (`full`: of its whole bytes)."""
    for name, records in (manifest.get("artifacts") or {}).items():
        if not isinstance(records, dict):
            return f"{name} has no file records"
        path = build / name
        present = {(p.relative_to(path).as_posix() if path.is_dir() else ""): p for p in _files(path)} if path.exists() else {}
        if set(present) != set(records):
            return f"{name} is missing files or has extra ones"
        for rel, (size, ends, whole) in records.items():
            p = present[rel]
            if p.stat().st_size != size or _ends_digest(p) != ends or (full and _sha256(p) != whole):
                return f"{name} fails its checksum"
    return None


def _ends_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(0)
        h.update(fh.read(SAMPLE_BYTES))
        if size > SAMPLE_BYTES:
            fh.seek(max(SAMPLE_BYTES, size - SAMPLE_BYTES))
            h.update(fh.read())
    return h.hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def write_lines(path: Path, lines: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for line in lines:
            fh.write(line + "\n")


def read_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line]


def replace_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.chmod(tmp, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_tree(folder: Path) -> None:
    """fsync every file below `folder`, then every folder, deepest first."""
    for path in sorted(folder.rglob("*"), key=lambda p: -len(p.parts)):
        if path.is_file():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
        else:
            fsync_dir(path)
    fsync_dir(folder)


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_old_builds(root: Path, keep: str, count: int) -> None:
    """Remove all but the `count` newest builds; the live one (`keep`) always stays."""
    builds = sorted((p for p in root.glob("build-*") if p.is_dir()), key=lambda p: p.name)
    for old in builds[: max(0, len(builds) - count)]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)


def clean_leftovers(root: Path) -> None:
    """Remove temporary folders of builds whose process is gone (a crash mid-build)."""
    for tmp in root.glob(".tmp-build-*"):
        try:
            pid = int(tmp.name.split("-")[2])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError):
            shutil.rmtree(tmp, ignore_errors=True)
        except PermissionError:
            pass
