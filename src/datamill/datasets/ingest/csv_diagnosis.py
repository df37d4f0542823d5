"""Why DuckDB refused a CSV (error path only): the file re-read in Python to name the bad line."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

import duckdb

from datamill.datasets.ingest.csv_source import CsvSource
from datamill.datasets.ingest.errors import CSV_LINE, duckdb_reason, invalid_bytes
from datamill.datasets.ingest.job import Job
from datamill.datasets.ingest.lines import rest_of_line, too_long
from datamill.datasets.sniff import UTF8
from datamill.problems import Invalid

if TYPE_CHECKING:
    from _csv import Reader as CsvReader


def diagnose_csv(job: Job, source: CsvSource, exc: duckdb.Error | None) -> Invalid:
    """Re-read the file in Python to name the line that breaks it, else tidy DuckDB's words."""
    found = _scan_csv(source, job.max_line_bytes)
    if found is not None:
        return found
    if exc is None:
        return Invalid("The file could not be read as a table: its rows do not line up.")
    line = CSV_LINE.search(str(exc))
    reason = duckdb_reason(exc)
    if line:
        number = source.line(int(line[1]))
        return Invalid(f"{source.line_word} {number} could not be read: {reason}")
    return Invalid(f"The file could not be read as a table: {reason}")


def _scan_csv(source: CsvSource, limit: int) -> Invalid | None:
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)  # a field may be as long as the longest allowed line
    with source.path.open("rb") as file:
        lines = _checked_lines(file, limit, source)
        reader = csv.reader(lines, delimiter=source.delimiter, quotechar='"', strict=True)
        try:
            return _scan_records(reader, source)
        except Invalid as problem:
            return problem


def _checked_lines(file: IO[bytes], limit: int, source: CsvSource) -> Iterator[str]:
    """The file's lines as text, raising on the first one that is too long or not UTF-8."""
    number = 0
    while line := file.readline(limit + 3):
        number += 1
        content = line.rstrip(b"\r\n")
        if len(content) > limit:
            length = len(content) + (0 if line.endswith(b"\n") else rest_of_line(file))
            raise Invalid(too_long(source.line_word, source.line(number), length, limit))
        if number == 1:
            line = line.removeprefix(codecs.BOM_UTF8)
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as exc:
            column = len(line[: exc.start].decode("utf-8", errors="replace")) + 1
            word, at = source.line_word, source.line(number)
            raise Invalid(invalid_bytes(word, at, line[exc.start], column, UTF8)) from None


def _scan_records(reader: CsvReader, source: CsvSource) -> Invalid | None:
    """The first record with a field count unlike the first line's, or a broken quoted field."""
    width, word = len(source.names), source.line_word
    first = "the header" if source.header else "the first line"
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            return Invalid(_quote_problem(word, source.line(start), str(exc)))
        if row and len(row) != width:
            fields = "field" if len(row) == 1 else "fields"
            at = source.line(start)
            return Invalid(f"{word} {at} has {len(row)} {fields}; {first} has {width}.")
        start = reader.line_num + 1


def _quote_problem(word: str, line: int, reason: str) -> str:
    """Python's csv errors, in words: an open quote at the end, or text after a closing quote."""
    if "end of data" in reason:
        return f"{word} {line} opens a quoted field that is never closed."
    if "expected after" in reason:
        return (
            f"{word} {line} has a quoted field followed by more text; a closing quote must be "
            "followed by the delimiter or the end of the line."
        )
    return f"{word} {line} could not be parsed: {reason}."
