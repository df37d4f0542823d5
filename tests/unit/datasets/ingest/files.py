"""Uploads for the ingest tests, and the ``Lab`` that ingests them and checks nothing is left.

Every input is generated here or in the tests. Each failure case checks the status class, that the
message names the problem (and the line), and that neither ``out`` nor a temporary file is left
behind. Each test module declares its own ``lab`` fixture with :func:`open_lab`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datamill.datasets.engine import Engine
from datamill.datasets.ingest import IngestOptions, IngestResult, ingest
from datamill.problems import Problem


@dataclass
class Lab:
    """One engine, one upload folder, one ``out`` and one scratch folder per test."""

    engine: Engine
    root: Path

    @property
    def out(self) -> Path:
        return self.root / "revision.parquet"

    @property
    def scratch(self) -> Path:
        return self.root / "scratch"

    def upload(self, name: str, data: bytes) -> Path:
        path = self.root / "uploads" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        return path

    def ingest(self, name: str, data: bytes, **options: Any) -> IngestResult:
        raw = self.upload(name, data)
        result = ingest(
            self.engine, raw, name, self.out, IngestOptions(**options), tmp_dir=self.scratch
        )
        assert self.out.exists()
        assert self.scratch_files() == []
        return result

    def fails(self, kind: type[Problem], name: str, data: bytes, **options: Any) -> str:
        """Ingest must raise exactly ``kind`` and leave nothing behind; returns the detail."""
        raw = self.upload(name, data)
        with pytest.raises(Problem) as caught:
            ingest(self.engine, raw, name, self.out, IngestOptions(**options), tmp_dir=self.scratch)
        assert type(caught.value) is kind, caught.value.detail
        assert not self.out.exists()
        assert self.scratch_files() == []
        return caught.value.detail

    def scratch_files(self) -> list[str]:
        return sorted(p.name for p in self.scratch.iterdir()) if self.scratch.exists() else []

    def rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = pq.read_table(self.out).to_pylist()
        return rows

    def schema(self) -> dict[str, pa.DataType]:
        return {field.name: field.type for field in pq.read_schema(self.out)}


def open_lab(tmp_path: Path) -> Iterator[Lab]:
    """The body of each module's ``lab`` fixture: a lab in ``tmp_path``, its engine closed after."""
    engine = Engine(memory_limit="1GB", temp_dir=tmp_path / "spill")
    yield Lab(engine, tmp_path)
    engine.close()


def csv_bytes(rows: list[list[Any]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def numbered_lines(count: int, start: int = 0) -> bytes:
    """``count`` lines of ``i,i*2,name_i`` — a body long enough to pass any sample."""
    return "".join(f"{i},{i * 2},name_{i}\n" for i in range(start, start + count)).encode()


def workbook_bytes(rows: list[list[Any]], *, extra_sheet: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Data"
    for row in rows:
        sheet.append(row)
    if extra_sheet:
        other = book.create_sheet(extra_sheet)
        other.append(["other"])
        other.append(["value"])
    sink = io.BytesIO()
    book.save(sink)
    return sink.getvalue()


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
