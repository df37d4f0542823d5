"""Excel (.xlsx): the sheet streamed into a UTF-8 CSV scratch file, then loaded like any other CSV.

The zip is inspected before it is unpacked, so a damaged archive, a zip that is no workbook and a
zip bomb are refused without reading their members.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import warnings
import zipfile
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import openpyxl

from datamill.datasets.formats import Format
from datamill.datasets.ingest.csv_load import load_csv
from datamill.datasets.ingest.csv_source import CsvSource
from datamill.datasets.ingest.errors import EMPTY
from datamill.datasets.ingest.job import IngestResult, Job
from datamill.datasets.sniff import clean_names, default_names
from datamill.problems import Invalid, Problem

XLSX_MAX_UNPACKED = 1 << 30
XLSX_MAX_RATIO = 100
# Small members (styles, shared strings) may legitimately compress better than 100 to 1.
_XLSX_RATIO_FLOOR = 1 << 20


def read_xlsx(job: Job, raw: Path, fmt: Format) -> IngestResult:
    """Stream the sheet into a UTF-8 CSV scratch file, then load it like any other CSV."""
    _inspect_workbook(raw)
    target = job.scratch(".csv")
    sheet, first_row, rows = _sheet_to_csv(raw, target, job.options.sheet)
    if first_row is None:
        raise Invalid(EMPTY)
    header = job.options.header if job.options.header is not None else True
    names, warnings = clean_names(first_row) if header else (default_names(len(first_row)), [])
    source = CsvSource(target, ",", header, names, "Row", rows)
    columns, count = load_csv(job, source, warnings)
    return IngestResult(fmt, columns, count, warnings, {"sheet": sheet, "header": header})


def _inspect_workbook(raw: Path) -> None:
    """Refuse a damaged zip, a zip that is no workbook, and a zip bomb, before unpacking it."""
    try:
        with zipfile.ZipFile(raw) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise Invalid("The workbook is damaged: it is not a readable zip archive.") from None
    if not any(member.filename == "xl/workbook.xml" for member in members):
        raise Invalid("The file is a zip archive but not an Excel workbook (no xl/workbook.xml).")
    unpacked = sum(member.file_size for member in members)
    if unpacked > XLSX_MAX_UNPACKED:
        raise Invalid(
            f"The workbook would unpack to {unpacked / (1 << 30):.1f} GB, more than the "
            f"{XLSX_MAX_UNPACKED / (1 << 30):.0f} GB limit; it looks like a zip bomb."
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _XLSX_RATIO_FLOOR and ratio > XLSX_MAX_RATIO:
            raise Invalid(
                f'The workbook member "{member.filename}" is compressed {ratio:.0f} to 1, more '
                f"than the {XLSX_MAX_RATIO} to 1 limit; the file looks like a zip bomb."
            )


def _sheet_to_csv(
    raw: Path, target: Path, wanted: str | None
) -> tuple[str, list[str] | None, array[int]]:
    """Write the sheet's non-blank rows to ``target``; return its name, first row, and row numbers.

    openpyxl warns about workbook features it ignores (styles, validation); they do not affect the
    values, so the warnings are silenced rather than surfaced as errors.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = _open_workbook(raw)
        try:
            sheet = _pick_sheet(book, wanted)
            # A table need not start at A1: begin where the sheet's used range begins.
            top, left = sheet.min_row or 1, sheet.min_column or 1
            rows = sheet.iter_rows(min_row=top, min_col=left)
            first_row, numbers = _write_sheet(rows, target, top)
            return str(sheet.title), first_row, numbers
        except Problem:
            raise
        except Exception as exc:  # openpyxl raises many kinds of errors on a damaged sheet
            raise Invalid(f"The workbook is damaged: {exc}.") from None
        finally:
            book.close()


def _open_workbook(raw: Path) -> Any:
    try:
        return openpyxl.load_workbook(raw, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of errors on a damaged workbook
        raise Invalid(f"The workbook is damaged and cannot be opened ({exc}).") from None


def _pick_sheet(book: Any, wanted: str | None) -> Any:
    names = [str(name) for name in book.sheetnames]
    if wanted is None:
        if not names:
            raise Invalid("The workbook has no sheets.")
        return book[names[0]]
    if wanted not in names:
        listed = ", ".join(f'"{name}"' for name in names)
        raise Invalid(f'The workbook has no sheet named "{wanted}"; its sheets are {listed}.')
    return book[wanted]


def _write_sheet(
    rows: Iterable[Sequence[Any]], target: Path, top: int
) -> tuple[list[str] | None, array[int]]:
    """Write the non-blank rows, as wide as the widest one; blank rows are spacing, not data.

    Rows are padded as they go; only a row wider than every row before it costs a second pass.
    """
    numbers: array[int] = array("q")
    width, widened, first_row = 0, False, None
    with target.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        for number, row in enumerate(rows, start=top):
            values = _trim([_cell_text(cell) for cell in row])
            if not values:
                continue
            first_row = values if first_row is None else first_row
            widened = widened or (bool(numbers) and len(values) > width)
            width = max(width, len(values))
            writer.writerow(values + [""] * (width - len(values)))
            numbers.append(number)
    if widened:
        _pad_csv(target, width)
    return (first_row + [""] * (width - len(first_row)) if first_row else None), numbers


def _trim(values: list[str]) -> list[str]:
    end = len(values)
    while end and not values[end - 1]:
        end -= 1
    return values[:end]


def _pad_csv(path: Path, width: int) -> None:
    """Give every row the same number of fields (a sheet's rows end where their data ends)."""
    padded = path.with_name(path.name + ".pad")
    try:
        with (
            path.open(encoding="utf-8", newline="") as source,
            padded.open("w", encoding="utf-8", newline="") as sink,
        ):
            writer = csv.writer(sink, lineterminator="\n")
            for row in csv.reader(source):
                writer.writerow(row + [""] * (width - len(row)))
        padded.replace(path)
    finally:
        padded.unlink(missing_ok=True)


def _cell_text(cell: Any) -> str:
    """A cell as CSV text DuckDB types correctly: ISO dates, ``true``/``false``, repr floats."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        is_date = value.time() == dt.time() and not _shows_time(getattr(cell, "number_format", ""))
        return value.date().isoformat() if is_date else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


_FORMAT_LITERALS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')


def _shows_time(number_format: str | None) -> bool:
    """Whether an Excel number format displays a time of day (hours or seconds)."""
    bare = _FORMAT_LITERALS.sub("", number_format or "").lower()
    return "h" in bare or "s" in bare
