"""Atomic files under the data directory.

Every file is first written to a temporary name in the same directory, flushed to disk, then renamed
into place, so a reader never sees a half-written revision and a crash leaves only a ``.tmp`` file
that nothing references. Paths are built here from ids only, never from user input.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class UnsafePathError(ValueError):
    """Raised when a path would leave the directory it must stay in."""


def check_id(value: str) -> str:
    """Return ``value`` if it is a UUID string: the only thing allowed into a stored path."""
    if not _ID.match(value):
        raise UnsafePathError(f"not an id: {value!r}")
    return value


def revision_relpath(dataset_id: str, revision_id: str) -> str:
    return f"{check_id(dataset_id)}/{check_id(revision_id)}.parquet"


def resolve_inside(root: Path, relpath: str) -> Path:
    """Join ``relpath`` onto ``root`` and refuse anything that escapes it."""
    path = (root / relpath).resolve()
    if not path.is_relative_to(root.resolve()):
        raise UnsafePathError(f"{relpath!r} escapes {root}")
    return path


def temp_path(directory: Path, suffix: str = "") -> Path:
    """A fresh, unused name in ``directory`` for a file that is still being written."""
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f".{uuid.uuid4().hex}{suffix}.tmp"


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(temp: Path, final: Path) -> None:
    """Flush ``temp`` to disk and rename it to ``final`` in one step."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fsync_file(temp)
    temp.replace(final)
    fsync_dir(final.parent)


@contextmanager
def atomic_target(final: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it becomes ``final``, on error it is removed."""
    temp = temp_path(final.parent, final.suffix)
    try:
        yield temp
        publish(temp, final)
    finally:
        temp.unlink(missing_ok=True)


def remove_quietly(path: Path) -> None:
    path.unlink(missing_ok=True)
