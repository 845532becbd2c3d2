"""An item's files and the job's manifest, written so a crash never leaves half of one.

A result is saved into a staging folder first (each file written whole, then renamed),
then each file is linked to its final name, `<stem>.png` or `<stem>-2.png`; a final
name that already exists is the same item's file from an earlier attempt that died
before it was written down, and is kept as it is. The manifest is appended to as
items finish and rewritten whole, from the queue, at the end of a run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from py302._errors import Py302Error

__all__ = [
    "MANIFEST",
    "BatchOutputError",
    "append_manifest",
    "place_files",
    "prepared_out",
    "staging_folder",
    "write_manifest",
]

MANIFEST = "manifest.jsonl"
_STAGING = ".py302-staging"


class BatchOutputError(Py302Error):
    """The output folder (or its manifest) could not be written: names it and why."""

    def __init__(self, path: Path, error: OSError) -> None:
        self.path = path
        super().__init__(
            f"{path}: cannot write there ({error.strerror or error}); choose another --out"
        )


def prepared_out(out: Path) -> Path:
    """`out`, created if needed; `BatchOutputError` when it cannot be."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BatchOutputError(out, exc) from exc
    return out


def staging_folder(out: Path, key: str) -> Path:
    """An empty folder for the item's files while they are saved (a crashed attempt's
    leftovers are ours, and removed)."""
    folder = out / _STAGING / key
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def place_files(saved: list[Path], out: Path, stem: str) -> list[str]:
    """Move the staged files to their final names; those names, relative to `out`."""
    placed = []
    for index, path in enumerate(saved, start=1):
        suffix = f"-{index}" if len(saved) > 1 else ""
        final = out / f"{stem}{suffix}{path.suffix}"
        try:
            os.link(path, final)
        except FileExistsError:
            pass  # the same item's file, saved by an attempt that died before recording it
        except OSError:  # a file system without hard links
            if not final.exists():
                os.replace(path, final)
        placed.append(final.name)
    if saved:
        shutil.rmtree(saved[0].parent, ignore_errors=True)
    return placed


def append_manifest(out: Path, row: dict[str, Any]) -> None:
    """Add one finished item's line (one write: lines from several processes never
    interleave)."""
    line = (json.dumps(row, sort_keys=True) + "\n").encode()
    descriptor = os.open(out / MANIFEST, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)


def write_manifest(out: Path, rows: Iterable[dict[str, Any]]) -> Path:
    """The whole manifest, replacing the appended one only once it is complete."""
    target = out / MANIFEST
    try:
        return _replaced(target, rows)
    except OSError as exc:
        raise BatchOutputError(target, exc) from exc


def _replaced(target: Path, rows: Iterable[dict[str, Any]]) -> Path:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".manifest-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            for row in rows:
                stream.write(json.dumps(row, sort_keys=True) + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return target
