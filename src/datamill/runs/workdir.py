"""The working directory of one step attempt, and the files staged into it and collected from it.

A working directory is ``<data_dir>/work/<run id>/<step>/<attempt>``, built from checked names
only. File values travel between steps as paths relative to the data directory; inside the
working directory a task sees its inputs under ``inputs/`` and leaves its outputs under
``outputs/``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
from pathlib import Path

from datamill.pipelines.names import SLUG
from datamill.storage.files import UnsafePathError, check_id, resolve_inside

INPUTS_DIR = "inputs"
OUTPUTS_DIR = "outputs"
LOG_FILE = "log.txt"
FICLONE = 0x40049409
"""The Linux ioctl that makes a file share another's blocks until either is written (a reflink)."""


class OutputPathError(ValueError):
    """Why the path of an output cannot be taken: completes "output '<name>' ..."."""


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
    """Put a copy of the file stored at ``stored`` (relative to ``data_dir``) at ``target``.

    Never a link: a program may write to its input in place (``sort -o f f``, ``>>``), and the
    stored file (a dataset's revision, another step's output) must not change. The copy is a
    reflink where the file system has them (instant, no extra space), a plain copy otherwise.
    """
    source = resolve_inside(data_dir, stored)
    if not source.is_file():
        raise FileNotFoundError(f"the file {stored!r} does not exist")
    target.parent.mkdir(parents=True, exist_ok=True)
    copy_file(source, target)
    return target


def copy_file(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target``, which must not exist yet: a reflink, else a copy."""
    with source.open("rb") as reading, target.open("xb") as writing:
        try:
            fcntl.ioctl(writing.fileno(), FICLONE, reading.fileno())
            return
        except OSError:  # no reflinks on this file system (or across these two)
            pass
    shutil.copyfile(source, target)  # sendfile on Linux


def output_file(workdir: Path, path: str | os.PathLike[str]) -> Path:
    """The real path of an output at ``path`` (absolute, or relative to ``workdir``).

    What a task leaves is not trusted: a symbolic link (say, unpacked from a user's archive)
    could make an artifact of any file the worker can read. So the path is resolved, and must
    end inside the working directory at a regular file that has no other name outside it.
    Raises :class:`FileNotFoundError` when nothing is there, :class:`OutputPathError` otherwise.
    """
    found = Path(path)
    full = found if found.is_absolute() else workdir / found
    if not os.path.lexists(full):
        raise FileNotFoundError(f"{os.fspath(path)} was not written")
    root = workdir.resolve()
    real = full.resolve()
    if not real.is_relative_to(root):
        raise OutputPathError("points outside the working directory")
    try:
        info = real.stat()
    except FileNotFoundError:
        raise OutputPathError(f"is a link to nothing ({os.fspath(path)})") from None
    if not stat.S_ISREG(info.st_mode):
        raise OutputPathError(f"is not a regular file ({os.fspath(path)})")
    if info.st_nlink > 1 and _names_inside(root, info) < info.st_nlink:
        raise OutputPathError("points outside the working directory (a hard link)")
    return real


def _names_inside(root: Path, info: os.stat_result) -> int:
    """How many names the file of ``info`` has under ``root``."""
    count = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):
                other = (Path(folder) / name).lstat()
                count += (other.st_ino, other.st_dev) == (info.st_ino, info.st_dev)
    return count


def stored_path(data_dir: Path, real: Path) -> str:
    """The real path of an output (see :func:`output_file`) as stored: relative to ``data_dir``."""
    return real.relative_to(data_dir.resolve()).as_posix()
