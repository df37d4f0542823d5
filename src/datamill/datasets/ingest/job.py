"""One ingest: the options a user sent, the result it gives, the scratch files it must remove."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datamill.datasets.engine import Engine
from datamill.datasets.types import Column
from datamill.storage.files import temp_path


@dataclass(frozen=True)
class IngestOptions:
    """Overrides a user may send with the upload; None means "work it out from the file"."""

    delimiter: str | None = None
    header: bool | None = None
    encoding: str | None = None
    sheet: str | None = None


@dataclass(frozen=True)
class IngestResult:
    format: str
    columns: list[Column]
    row_count: int
    warnings: list[str]
    details: dict[str, Any]


@dataclass
class Job:
    """One ingest: where to write, with what, and the scratch files to remove at the end."""

    engine: Engine
    out: Path
    tmp_dir: Path
    options: IngestOptions
    max_line_bytes: int
    scratch_files: list[Path] = field(default_factory=list)

    def scratch(self, suffix: str) -> Path:
        path = temp_path(self.tmp_dir, suffix)
        self.scratch_files.append(path)
        return path

    def remove_scratch(self) -> None:
        for path in self.scratch_files:
            path.unlink(missing_ok=True)
