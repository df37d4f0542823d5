"""Exports of a revision under a view as CSV, JSON, Parquet or Excel, streamed from a file.

DuckDB writes CSV, JSON and Parquet with ``COPY`` into a temporary file (a few seconds for ten
million rows, memory bounded by DuckDB's limit, several times faster than formatting rows in
Python), which is then streamed in 1 MiB chunks. The identity view's Parquet export is the
revision file itself. Excel is written by openpyxl's write-only mode from Arrow batches, so only one
batch is ever in memory; every text cell is written as a string cell, never as a formula, so a
value such as ``=HYPERLINK(...)`` stays the text it was.

The temporary file is deleted as soon as the stream is read to its end or fails, and whenever
``Export.cleanup`` is called: the API passes it to its response as a background task, which
Starlette runs once the response is over, the client having gone away included. Cleanup is
idempotent and also closes the open file. A ``weakref.finalize`` backs it up for an export dropped
without either (deleted when it is garbage-collected, or at interpreter exit).

Values look as they do in the grid (``values.py``): timestamps ``YYYY-MM-DDTHH:MM:SS[.ffffff]``,
non-finite floats ``NaN``/``Infinity``/``-Infinity`` (strings in JSON); CSV is RFC 4180 (CRLF,
quotes only where needed, a null is an empty field and an empty text ``""``), UTF-8, with a header.
"""

from __future__ import annotations

import math
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from datamill.datasets.engine import Engine
from datamill.datasets.types import Column, quote_ident
from datamill.datasets.values import column_values
from datamill.datasets.view import View, order_clause, text_form, where_clause
from datamill.problems import Invalid, field_error
from datamill.storage.files import temp_path

ExportFormat = Literal["csv", "json", "parquet", "xlsx"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "json", "parquet", "xlsx")
MEDIA_TYPES: dict[ExportFormat, str] = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXCEL_MAX_ROWS = 1_048_575  # 1,048,576 rows per sheet, one of them the header
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_TEXT = 32_767
_EXCEL_FIRST_YEAR = 1900
_EXCEL_EXACT_INT = 10**15  # Excel keeps 15 significant digits; longer integers are kept as text
CHUNK_BYTES = 1024 * 1024
_BATCH_ROWS = 10_000


@dataclass
class Export:
    """What the API streams: the body in chunks, its media type and the file name's extension.

    ``cleanup`` closes the body's file and deletes it when it is a temporary one (the revision
    file itself is only closed). It is idempotent; the API runs it after the response, as the
    response's background task, so that a client going away never leaves a file behind.
    """

    media_type: str
    extension: str
    chunks: Iterator[bytes]
    cleanup: Callable[[], None]


def export(
    engine: Engine,
    path: Path,
    columns: list[Column],
    view: View,
    fmt: str,
    *,
    tmp_dir: Path | None = None,
) -> Export:
    """The view of the revision at ``path`` in format ``fmt``; ``Invalid`` for what cannot be."""
    if fmt not in FORMATS:
        raise Invalid(
            f"Unknown export format {fmt!r}.",
            errors=[field_error(["query", "format"], f"expected one of {', '.join(FORMATS)}")],
        )
    directory = tmp_dir or Path(tempfile.gettempdir())
    writer = _WRITERS[fmt]
    chunks = writer(_Source(engine, path, columns, view, directory))
    return Export(MEDIA_TYPES[fmt], fmt, chunks, chunks.close)


@dataclass
class _Source:
    engine: Engine
    path: Path
    columns: list[Column]
    view: View
    directory: Path

    def copy(self, select: list[str], options: str, suffix: str) -> Path:
        """Write the view, with these select expressions, to a new temporary file by ``COPY``."""
        where, params = where_clause(self.view, self.columns)
        order = "" if self.view.is_identity else order_clause(self.view)
        query = f"SELECT {', '.join(select)} FROM read_parquet(?) {where} {order}"
        target = temp_path(self.directory, suffix)
        try:
            with closing(self.engine.cursor()) as cursor:
                cursor.execute(
                    f"COPY ({query}) TO ? ({options})", [str(self.path), *params, str(target)]
                )
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return target


# -- streaming files -------------------------------------------------------------------------------


def stream_file(path: Path, *, delete: bool) -> FileChunks:
    """The file in chunks; with ``delete`` it is removed however the stream ends, or if unread."""
    return FileChunks(path, delete=delete)


class FileChunks(Iterator[bytes]):
    """A file in chunks of ``CHUNK_BYTES``, opened at once.

    ``close`` is idempotent and safe from any thread: it closes the file and, with ``delete``,
    removes it. Reading to the end or a failed read closes it too, and so does a finalizer when
    the stream is dropped without being closed.
    """

    def __init__(self, path: Path, *, delete: bool) -> None:
        self._file = _OpenFile(path, delete)
        self._finalizer = weakref.finalize(self, self._file.close)

    def __next__(self) -> bytes:
        try:
            chunk = self._file.read()
        except BaseException:
            self.close()
            raise
        if not chunk:
            self.close()
            raise StopIteration
        return chunk

    def close(self) -> None:
        self._finalizer()


class _OpenFile:
    """The handle behind ``FileChunks``, kept apart so that its finalizer can close it."""

    def __init__(self, path: Path, delete: bool) -> None:
        self._path = path
        self._delete = delete
        self._lock = threading.Lock()
        try:
            self._handle: BinaryIO | None = path.open("rb")
        except BaseException:
            self._remove()
            raise

    def read(self) -> bytes:
        with self._lock:
            return b"" if self._handle is None else self._handle.read(CHUNK_BYTES)

    def close(self) -> None:
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()
        self._remove()

    def _remove(self) -> None:
        if self._delete:
            self._path.unlink(missing_ok=True)


# -- formats ---------------------------------------------------------------------------------------


def _csv(source: _Source) -> FileChunks:
    select = [_csv_expr(column) for column in source.columns]
    options = "FORMAT csv, HEADER true, NEW_LINE '\\r\\n'"
    return stream_file(source.copy(select, options, ".csv"), delete=True)


def _csv_expr(column: Column) -> str:
    if column["type"] in ("float", "timestamp"):
        return f"{text_form(column)} AS {quote_ident(column['name'])}"
    return quote_ident(column["name"])


def _json(source: _Source) -> FileChunks:
    select = [_json_expr(column) for column in source.columns]
    return stream_file(source.copy(select, "FORMAT json, ARRAY true", ".json"), delete=True)


def _json_expr(column: Column) -> str:
    ident = quote_ident(column["name"])
    if column["type"] == "float":
        special = f"to_json({text_form(column)})"
        return f"CASE WHEN isfinite({ident}) THEN to_json({ident}) ELSE {special} END AS {ident}"
    if column["type"] == "timestamp":
        return f"{text_form(column)} AS {ident}"
    return ident


def _parquet(source: _Source) -> FileChunks:
    if source.view.is_identity and _all_columns(source):
        return stream_file(source.path, delete=False)
    select = [quote_ident(column["name"]) for column in source.columns]
    options = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000"
    return stream_file(source.copy(select, options, ".parquet"), delete=True)


def _all_columns(source: _Source) -> bool:
    """True when the export's columns are exactly the file's, so the file itself can be sent."""
    names: list[str] = pq.read_schema(source.path).names
    return names == [column["name"] for column in source.columns]


def _xlsx(source: _Source) -> FileChunks:
    _check_excel_size(source)
    table = _view_parquet(source)
    target = temp_path(source.directory, ".xlsx")
    try:
        _write_workbook(table or source.path, source.columns, target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        if table is not None:
            table.unlink(missing_ok=True)
    return stream_file(target, delete=True)


def _check_excel_size(source: _Source) -> None:
    where, params = where_clause(source.view, source.columns)
    with closing(source.engine.cursor()) as cursor:
        sql = f"SELECT count(*) FROM read_parquet(?) {where}"
        rows = int(cursor.execute(sql, [str(source.path), *params]).fetchall()[0][0])
    if rows > EXCEL_MAX_ROWS or len(source.columns) > EXCEL_MAX_COLUMNS:
        raise Invalid(
            f"This view has {rows:,} rows and {len(source.columns):,} columns; an Excel sheet "
            f"holds at most {EXCEL_MAX_ROWS:,} rows (plus the header) and {EXCEL_MAX_COLUMNS:,} "
            "columns. Export it as csv or parquet, or filter it first.",
            errors=[field_error(["query", "format"], "too many rows or columns for xlsx")],
        )


def _view_parquet(source: _Source) -> Path | None:
    """A temporary Parquet file of the view, or None when the revision itself can be read."""
    if source.view.is_identity:
        return None
    select = [quote_ident(column["name"]) for column in source.columns]
    return source.copy(select, "FORMAT parquet, COMPRESSION zstd", ".parquet")


def _write_workbook(parquet: Path, columns: list[Column], target: Path) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("data")
    sheet.append([_text_cell(sheet, _excel_text(column["name"])) for column in columns])
    with pq.ParquetFile(parquet) as reader:
        names = [column["name"] for column in columns]
        for batch in reader.iter_batches(batch_size=_BATCH_ROWS, columns=names):
            for row in zip(*(_excel_column(array) for array in batch.columns), strict=True):
                sheet.append([_text_cell(sheet, v) if isinstance(v, str) else v for v in row])
    workbook.save(target)


def _text_cell(sheet: Any, text: str) -> WriteOnlyCell:
    """A string cell: openpyxl would otherwise make text starting with ``=`` a live formula."""
    cell = WriteOnlyCell(sheet, text)
    cell.data_type = "s"
    return cell


def _excel_column(array: pa.Array) -> list[Any]:
    """Cells Excel can hold: real dates and numbers; text where Excel would lose information."""
    if pa.types.is_date(array.type) or pa.types.is_timestamp(array.type):
        return _excel_dates(array)
    return [_excel_value(value) for value in array.to_pylist()]


def _excel_dates(array: pa.Array) -> list[Any]:
    """Dates and times as such, except outside Excel's calendar (1900-9999): ISO text there."""
    try:
        values: list[Any] = array.to_pylist()
    except (ValueError, OverflowError):  # beyond year 9999
        return column_values(array)
    if not any(_before_excel(value) for value in values):
        return values
    texts = column_values(array)
    return [t if _before_excel(v) else v for v, t in zip(values, texts, strict=True)]


def _before_excel(value: date | datetime | None) -> bool:
    """Excel's calendar starts in 1900; earlier dates are written as their ISO text."""
    return value is not None and value.year < _EXCEL_FIRST_YEAR


def _excel_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _EXCEL_EXACT_INT:
        return str(value)
    if isinstance(value, str):
        return _excel_text(value)
    return value


def _excel_text(value: str) -> str:
    """Text without the control characters Excel refuses, cut at Excel's cell limit."""
    cleaned: str = ILLEGAL_CHARACTERS_RE.sub("", value)
    return cleaned[:EXCEL_MAX_TEXT]


_WRITERS: dict[ExportFormat, Callable[[_Source], FileChunks]] = {
    "csv": _csv,
    "json": _json,
    "parquet": _parquet,
    "xlsx": _xlsx,
}
