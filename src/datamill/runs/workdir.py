"""The working directory of one step attempt, and the files staged into it and collected from it.

A working directory is ``<data_dir>/work/<run id>/<step>/<attempt>``, built from checked names
only. File values travel between steps as paths relative to the data directory; inside the
working directory a task sees its inputs under ``inputs/`` and leaves its outputs under
``outputs/``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from datamill.pipelines.names import SLUG
from datamill.storage.files import UnsafePathError, check_id, resolve_inside

INPUTS_DIR = "inputs"
OUTPUTS_DIR = "outputs"
LOG_FILE = "log.txt"


def workdir_path(data_dir: Path, run_id: str, step: str, attempt: int) -> Path:
    """Where attempt ``attempt`` of ``step`` of run ``run_id`` works."""
    if not SLUG.fullmatch(step):
        raise UnsafePathError(f"not a step name: {step!r}")
    if attempt < 1:
        raise UnsafePathError(f"not an attempt number: {attempt!r}")
    return data_dir / "work" / check_id(run_id) / step / str(attempt)


def make_workdir(path: Path) -> Path:
    """An empty working directory at ``path`` with its ``inputs/`` and ``outputs/``.

    Anything left there by an earlier, interrupted start of the same attempt is removed.
    """
    if path.exists():
        shutil.rmtree(path)
    (path / INPUTS_DIR).mkdir(parents=True)
    (path / OUTPUTS_DIR).mkdir()
    return path


def stage_file(data_dir: Path, stored: str, target: Path) -> Path:
    """Put the file stored at ``stored`` (relative to ``data_dir``) at ``target``.

    A hard link when the file system allows it (stored files are never changed in place), a copy
    otherwise.
    """
    source = resolve_inside(data_dir, stored)
    if not source.is_file():
        raise FileNotFoundError(f"the file {stored!r} does not exist")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    return target


def stored_path(data_dir: Path, workdir: Path, path: str | os.PathLike[str]) -> str:
    """``path`` (absolute, or relative to ``workdir``) as stored: relative to ``data_dir``.

    Raises ``UnsafePathError`` for a path outside the working directory and
    ``FileNotFoundError`` for one that is not a file.
    """
    found = Path(path)
    full = found if found.is_absolute() else workdir / found
    inside = full.resolve()
    if not inside.is_relative_to(workdir.resolve()):
        raise UnsafePathError(f"{os.fspath(path)!r} is outside the working directory")
    if not inside.is_file():
        raise FileNotFoundError(f"{os.fspath(path)!r} is not a file")
    return inside.relative_to(data_dir.resolve()).as_posix()
