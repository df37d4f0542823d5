"""Turn an uploaded file into a normalised Parquet revision file.

Every format ends the same way: one DuckDB ``COPY (SELECT <casts>) TO out`` that stores each column
as one of the six Datamill types, in row groups of at most :data:`ROW_GROUP_SIZE` rows, zstd
compressed. CSV goes to DuckDB directly with a dialect we sniffed ourselves, so a good file never
passes through Python; only when DuckDB fails do we re-read the file in Python, slowly, to say
exactly which line is wrong and why. Excel is streamed into a temporary CSV first; JSON and Parquet
are read by DuckDB too. Whatever fails, nothing is left behind: no ``out``, no temporary file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import re
import warnings
import zipfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

from datamill.datasets.engine import Engine
from datamill.datasets.formats import Format, detect_format
from datamill.datasets.sniff import (
    SAMPLE_BYTES,
    UTF8,
    Encoding,
    check_text,
    clean_names,
    decode_sample,
    default_names,
    detect_delimiter,
    detect_encoding,
    detect_header,
    named_encoding,
    parse_rows,
)
from datamill.datasets.types import STORAGE_TYPE, Column, cast_target, quote_ident
from datamill.problems import Invalid, Problem
from datamill.storage.files import temp_path

if TYPE_CHECKING:
    from _csv import Reader as CsvReader

ROW_GROUP_SIZE = 100_000
# DuckDB treats ROW_GROUP_SIZE as a target and may pass it by up to one vector (2,048 rows) when it
# merges the batches of parallel threads, so we aim one vector lower to keep every group <= 100,000.
_DUCKDB_VECTOR = 2048
_ROW_GROUP_TARGET = ROW_GROUP_SIZE - _DUCKDB_VECTOR
XLSX_MAX_UNPACKED = 1 << 30
XLSX_MAX_RATIO = 100
# Small members (styles, shared strings) may legitimately compress better than 100 to 1.
_XLSX_RATIO_FLOOR = 1 << 20
JSON_DIAGNOSE_MAX = 256 << 20  # above this, malformed JSON is located by DuckDB's message alone
_CHUNK = 4 << 20
_MB = 1 << 20
_EMPTY = "The file is empty."
_ENCODING_HINT = "If the file uses another encoding, upload it again naming that encoding."
_JSON_SHAPE = (
    'Datamill expects an array of objects, like [{"id": 1}, {"id": 2}], '
    "or one object per line (JSON Lines)."
)
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


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
class _Job:
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


@dataclass(frozen=True)
class _CsvSource:
    """A UTF-8 CSV file for DuckDB, with the dialect and the column names it must be read with."""

    path: Path
    delimiter: str
    header: bool
    names: list[str]
    line_word: str = "Line"  # Excel sheets count rows, not lines
    line_numbers: Sequence[int] | None = None  # the sheet row of each CSV line, when they differ

    def line(self, number: int) -> int:
        if self.line_numbers is None or not 0 < number <= len(self.line_numbers):
            return number
        return self.line_numbers[number - 1]


def ingest(
    engine: Engine,
    raw: Path,
    filename: str,
    out: Path,
    options: IngestOptions,
    *,
    tmp_dir: Path,
    max_line_bytes: int = 2 * 1024 * 1024,
) -> IngestResult:
    """Read ``raw`` (uploaded as ``filename``) and write it to ``out`` as a revision Parquet file.

    Raises a :class:`~datamill.problems.Problem` naming what is wrong with the file; on any failure
    ``out`` and every temporary file in ``tmp_dir`` are removed.
    """
    job = _Job(engine, out, tmp_dir, options, max_line_bytes)
    try:
        if raw.stat().st_size == 0:
            raise Invalid(_EMPTY)
        fmt = detect_format(raw, filename)
        return _READERS[fmt](job, raw, fmt)
    except duckdb.Error as exc:
        out.unlink(missing_ok=True)
        raise Invalid(f"The file could not be read: {_duckdb_reason(exc)}") from exc
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    finally:
        job.remove_scratch()


# --- CSV and TSV -------------------------------------------------------------------------------


def _read_text_table(job: _Job, raw: Path, fmt: Format) -> IngestResult:
    """Sniff the dialect from a sample, then let DuckDB read the whole file in one pass."""
    sample, complete = _read_sample(raw, job.max_line_bytes)
    encoding = _encoding(job.options, sample, complete)
    check_text(sample, encoding)
    text = decode_sample(sample, encoding, complete=complete)
    if not text.strip():
        raise Invalid(_EMPTY)
    delimiter = _delimiter_option(job.options.delimiter)
    if delimiter is None:
        delimiter = "\t" if fmt == "tsv" else detect_delimiter(text)
    rows = parse_rows(text, delimiter, complete=complete)
    if not rows:
        raise Invalid("The file could not be read as a table: its first line cannot be parsed.")
    header = job.options.header if job.options.header is not None else detect_header(rows)
    names, warnings = clean_names(rows[0]) if header else (default_names(len(rows[0])), [])
    path = raw if encoding.is_utf8 else _transcode(job, raw, encoding)
    columns, count = _load_csv(job, _CsvSource(path, delimiter, header, names), warnings)
    details = {"encoding": encoding.name, "delimiter": delimiter, "header": header}
    return IngestResult(fmt, columns, count, warnings, details)


def _read_sample(path: Path, max_line_bytes: int) -> tuple[bytes, bool]:
    """The first :data:`SAMPLE_BYTES`, extended to the end of line 1; and whether that is all.

    A first line longer than the limit is refused here: nothing useful can be sniffed from it.
    """
    size = path.stat().st_size
    with path.open("rb") as file:
        sample = bytearray(file.read(SAMPLE_BYTES))
        while b"\n" not in sample and len(sample) < size:
            if len(sample) > max_line_bytes:
                length = len(sample) + _rest_of_line(file)
                raise Invalid(_too_long("Line", 1, length, max_line_bytes))
            sample += file.read(SAMPLE_BYTES)
    return bytes(sample), len(sample) >= size


def _rest_of_line(file: IO[bytes]) -> int:
    """How many more bytes the current line runs for, not counting its line break."""
    length = 0
    while chunk := file.readline(_CHUNK):
        length += len(chunk.rstrip(b"\r\n"))
        if chunk.endswith(b"\n"):
            break
    return length


def _too_long(word: str, number: int, length: int, limit: int) -> str:
    return f"{word} {number} is {length / _MB:.1f} MB long; the limit is {limit / _MB:.1f} MB."


def _encoding(options: IngestOptions, sample: bytes, complete: bool) -> Encoding:
    if options.encoding:
        return named_encoding(options.encoding, sample)
    return detect_encoding(sample, complete=complete)


def _delimiter_option(value: str | None) -> str | None:
    if value is None:
        return None
    delimiter = _DELIMITER_NAMES.get(value.lower(), value)
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise Invalid('The delimiter must be one character, such as ",", ";", "|" or "tab".')
    return delimiter


_Decode = Callable[[bytes, bool], str]


def _decoder(codec: str) -> _Decode:
    """A chunk decoder; cp1252 reads the five bytes it leaves undefined as Latin-1.

    cp1252 is the guess for any 8-bit text, so it must not fail: a stray 0x81 in a Windows export
    should not turn a good upload into an error.
    """
    if codec == "cp1252":
        table = _cp1252_table()
        return lambda data, final: codecs.charmap_decode(data, "strict", table)[0]
    return codecs.getincrementaldecoder(codec)(errors="strict").decode


@cache
def _cp1252_table() -> str:
    return "".join(
        bytes([byte]).decode("cp1252", errors="ignore") or chr(byte) for byte in range(256)
    )


def _transcode(job: _Job, raw: Path, encoding: Encoding) -> Path:
    """Stream ``raw`` into a UTF-8 scratch file, the only encoding DuckDB reads at full speed."""
    target = job.scratch(".csv")
    decode = _decoder(encoding.codec)
    with raw.open("rb") as source, target.open("wb") as sink:
        source.seek(encoding.bom)
        try:
            while chunk := source.read(_CHUNK):
                sink.write(decode(chunk, False).encode("utf-8"))
            sink.write(decode(b"", True).encode("utf-8"))
        except UnicodeDecodeError as exc:
            sink.flush()
            raise Invalid(_decode_problem(target, exc, encoding)) from None
    return target


def _decode_problem(written: Path, exc: UnicodeDecodeError, encoding: Encoding) -> str:
    """Locate a bad byte: lines already written, plus the lines in the chunk before the byte."""
    with written.open("rb") as file:
        lines_before = sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(_CHUNK), b""))
    prefix = exc.object[: exc.start].decode(encoding.codec, errors="replace")
    line = lines_before + prefix.count("\n") + 1
    column = len(prefix) - (prefix.rfind("\n") + 1) + 1
    return _invalid_bytes("Line", line, exc.object[exc.start], column, encoding)


def _invalid_bytes(word: str, line: int, byte: int, column: int, encoding: Encoding) -> str:
    label = encoding.name.upper().removesuffix("-SIG").removesuffix("-LE").removesuffix("-BE")
    return (
        f"{word} {line} is not valid {label} (byte 0x{byte:02x} at column {column}). "
        + _ENCODING_HINT
    )


def _load_csv(job: _Job, source: _CsvSource, warnings: list[str]) -> tuple[list[Column], int]:
    """DuckDB ``read_csv`` straight into Parquet; a column a late row breaks is retried as text."""
    forced: dict[str, str] = {}
    for _ in range(len(source.names) + 1):
        try:
            return _copy_csv(job, source, forced)
        except duckdb.ConversionException as exc:
            job.out.unlink(missing_ok=True)
            warning = _force_text(exc, source, forced)
            if warning is None:
                raise _diagnose_csv(job, source, exc) from exc
            warnings.append(warning)
        except duckdb.Error as exc:
            job.out.unlink(missing_ok=True)
            raise _diagnose_csv(job, source, exc) from exc
    raise Invalid("The file could not be read: every column kept changing type.")


def _copy_csv(job: _Job, source: _CsvSource, forced: dict[str, str]) -> tuple[list[Column], int]:
    relation = _csv_relation(source, forced, job.max_line_bytes)
    described = _describe(job.engine, relation)
    if len(described) != len(source.names):
        raise _diagnose_csv(job, source, None)
    return _copy(job, relation, described, source.names)


def _csv_relation(source: _CsvSource, forced: dict[str, str], max_line_bytes: int) -> str:
    """The ``read_csv`` call with the whole dialect spelled out, so DuckDB's sniffer only types.

    ``skip=0`` and ``comment=''`` matter: left to itself DuckDB drops leading lines of a ragged file
    and every line starting with ``#``, without a word.
    """
    options = [
        f"delim={_literal(source.delimiter)}",
        "quote='\"'",
        "escape='\"'",
        f"header={'true' if source.header else 'false'}",
        "skip=0",
        "comment=''",
        f"names=[{', '.join(map(_literal, source.names))}]",
        "strict_mode=true",
        "null_padding=false",
        f"max_line_size={max_line_bytes}",
    ]
    if forced:
        types = ", ".join(f"{_literal(name)}: {_literal(kind)}" for name, kind in forced.items())
        options.append(f"types={{{types}}}")
    return f"read_csv({_literal(str(source.path))}, {', '.join(options)})"


_CONVERSION = re.compile(
    r'converting column "(?P<column>.*?)"\. '
    r'Could not convert string "(?P<value>.*?)" to \'(?P<type>[^\']+)\'',
    re.S,
)
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")


def _force_text(exc: duckdb.Error, source: _CsvSource, forced: dict[str, str]) -> str | None:
    """Mark the column a late row broke as text; the warning says which row, or None if unknown."""
    message = str(exc)
    match = _CONVERSION.search(message)
    if match is None or match["column"] not in source.names or match["column"] in forced:
        return None
    forced[match["column"]] = "VARCHAR"
    line = _CSV_LINE.search(message)
    where = f"{source.line_word.lower()} {source.line(int(line[1]))}" if line else "a later row"
    value = match["value"] if len(match["value"]) <= 40 else match["value"][:37] + "..."
    kind = cast_target(match["type"])
    return (
        f'Column "{match["column"]}" is stored as text: it looked like {kind}, '
        f'but {where} holds "{value}".'
    )


# --- CSV diagnosis (error path only) -----------------------------------------------------------


def _diagnose_csv(job: _Job, source: _CsvSource, exc: duckdb.Error | None) -> Invalid:
    """Re-read the file in Python to name the line that breaks it, else tidy DuckDB's words."""
    found = _scan_csv(source, job.max_line_bytes)
    if found is not None:
        return found
    if exc is None:
        return Invalid("The file could not be read as a table: its rows do not line up.")
    line = _CSV_LINE.search(str(exc))
    reason = _duckdb_reason(exc)
    if line:
        number = source.line(int(line[1]))
        return Invalid(f"{source.line_word} {number} could not be read: {reason}")
    return Invalid(f"The file could not be read as a table: {reason}")


def _scan_csv(source: _CsvSource, limit: int) -> Invalid | None:
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)  # a field may be as long as the longest allowed line
    with source.path.open("rb") as file:
        lines = _checked_lines(file, limit, source)
        reader = csv.reader(lines, delimiter=source.delimiter, quotechar='"', strict=True)
        try:
            return _scan_records(reader, source)
        except Invalid as problem:
            return problem


def _checked_lines(file: IO[bytes], limit: int, source: _CsvSource) -> Iterator[str]:
    """The file's lines as text, raising on the first one that is too long or not UTF-8."""
    number = 0
    while line := file.readline(limit + 3):
        number += 1
        content = line.rstrip(b"\r\n")
        if len(content) > limit:
            length = len(content) + (0 if line.endswith(b"\n") else _rest_of_line(file))
            raise Invalid(_too_long(source.line_word, source.line(number), length, limit))
        if number == 1:
            line = line.removeprefix(codecs.BOM_UTF8)
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as exc:
            column = len(line[: exc.start].decode("utf-8", errors="replace")) + 1
            word, at = source.line_word, source.line(number)
            raise Invalid(_invalid_bytes(word, at, line[exc.start], column, UTF8)) from None


def _scan_records(reader: CsvReader, source: _CsvSource) -> Invalid | None:
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


def _duckdb_reason(exc: BaseException) -> str:
    """DuckDB's explanation without its error class, echoed line, hints and option dump."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = re.sub(r"^[\w ]*Error: ", "", lines[0]) if lines else "unknown error"
    if first.startswith(("CSV Error on Line", "Error when sniffing")):
        useful = [
            line
            for line in lines[1:]
            if not line.startswith(("Original Line", "Possible", "*", "file =", "The search"))
            and "=" not in line
        ]
        first = useful[0] if useful else "its layout does not match the rest of the file."
    first = first.rstrip()
    return first if first.endswith(".") else first + "."


# --- Excel -------------------------------------------------------------------------------------


def _read_xlsx(job: _Job, raw: Path, fmt: Format) -> IngestResult:
    """Stream the sheet into a UTF-8 CSV scratch file, then load it like any other CSV."""
    _inspect_workbook(raw)
    target = job.scratch(".csv")
    sheet, first_row, rows = _sheet_to_csv(raw, target, job.options.sheet)
    if first_row is None:
        raise Invalid(_EMPTY)
    header = job.options.header if job.options.header is not None else True
    names, warnings = clean_names(first_row) if header else (default_names(len(first_row)), [])
    source = _CsvSource(target, ",", header, names, "Row", rows)
    columns, count = _load_csv(job, source, warnings)
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


# --- JSON --------------------------------------------------------------------------------------


def _read_json(job: _Job, raw: Path, fmt: Format) -> IngestResult:
    """An array of records or JSON Lines, read by DuckDB; nested values are kept as JSON text."""
    with raw.open("rb") as file:
        sample = file.read(SAMPLE_BYTES)
    complete = len(sample) >= raw.stat().st_size
    encoding = _encoding(job.options, sample, complete)
    check_text(sample, encoding)
    decoder = codecs.getincrementaldecoder(encoding.codec)(errors="replace")
    layout = _json_layout(decoder.decode(sample[encoding.bom :], final=complete))
    path = raw if encoding.is_utf8 and not encoding.bom else _transcode(job, raw, encoding)
    columns, count, warnings = _load_json(job, path)
    details = {"encoding": encoding.name, "layout": layout}
    return IngestResult(fmt, columns, count, warnings, details)


def _json_layout(text: str) -> str:
    """``array`` or ``lines``; refuse a lone value or an array of non-objects, with the why."""
    body = text.lstrip()
    if not body:
        raise Invalid(_EMPTY)
    if body.startswith("{"):
        return "lines"
    if not body.startswith("["):
        kind = _json_kind(body)
        if kind is None:
            return "lines"  # not JSON at all: let the parser say where
        raise Invalid(f"The file holds a single JSON {kind}, not records. {_JSON_SHAPE}")
    item = body[1:].lstrip()
    if item.startswith("]"):
        raise Invalid("The file holds an empty JSON array, so there are no records to import.")
    kind = _json_kind(item)
    if item and kind is not None:
        raise Invalid(f"The JSON array holds {kind} values, not records. {_JSON_SHAPE}")
    return "array"


def _json_kind(text: str) -> str | None:
    """What kind of value ``text`` starts with, if it is one that cannot be a record."""
    if text.startswith("["):
        return "array"
    if text.startswith('"'):
        return "string"
    if text[:1].isdigit() or text.startswith("-"):
        return "number"
    for word, kind in (("true", "boolean"), ("false", "boolean"), ("null", "null")):
        if text.startswith(word):
            return kind
    return None


def _load_json(job: _Job, path: Path) -> tuple[list[Column], int, list[str]]:
    """Type from DuckDB's sample first; a late record that breaks a type means typing it all."""
    relation = f"read_json({_literal(str(path))}, format='auto')"
    try:
        return _copy_json(job, relation)
    except duckdb.Error as exc:
        job.out.unlink(missing_ok=True)
        if "transform error" not in str(exc) and not isinstance(exc, duckdb.ConversionException):
            raise _diagnose_json(path, exc) from exc
    relation = f"read_json({_literal(str(path))}, format='auto', sample_size=-1)"
    try:
        columns, count, warnings = _copy_json(job, relation)
    except duckdb.Error as exc:
        job.out.unlink(missing_ok=True)
        raise _diagnose_json(path, exc) from exc
    late = (
        "A record late in the file changed a column's type, so types were read from every record."
    )
    return columns, count, [*warnings, late]


def _copy_json(job: _Job, relation: str) -> tuple[list[Column], int, list[str]]:
    described = _describe(job.engine, relation)
    if [name for name, _ in described] == ["json"] and described[0][1].startswith(("JSON", "MAP")):
        raise Invalid(
            "The JSON records could not be turned into columns: every item must be an object "
            f"and every key a non-empty name. {_JSON_SHAPE}"
        )
    names, warnings = clean_names([name for name, _ in described])
    columns, count = _copy(job, relation, described, names)
    return columns, count, warnings


def _diagnose_json(path: Path, exc: duckdb.Error) -> Invalid:
    """Python's parser names line and column; DuckDB only knows the record."""
    if path.stat().st_size <= JSON_DIAGNOSE_MAX:
        found = _json_syntax_problem(path.read_text(encoding="utf-8", errors="replace"))
        if found is not None:
            return found
    line = re.search(r"in line (\d+)", str(exc))
    reason = _duckdb_reason(exc)
    if line:
        return Invalid(f"Line {line[1]} is not valid JSON: {reason}")
    return Invalid(f"The JSON file could not be read: {reason}")


def _json_syntax_problem(text: str) -> Invalid | None:
    """Where Python's parser stops; JSON Lines are parsed line by line to blame the right line."""
    lines = text.split("\n")
    if all(line.lstrip().startswith("{") for line in lines if line.strip()):
        for number, line in enumerate(lines, start=1):
            error = _json_error(line)
            if error is not None:
                return Invalid(
                    f"Line {number} is not valid JSON: {error.msg} (column {error.colno})."
                )
        return None
    error = _json_error(text)
    if error is None:
        return None
    return Invalid(f"Line {error.lineno} is not valid JSON: {error.msg} (column {error.colno}).")


def _json_error(text: str) -> json.JSONDecodeError | None:
    """The first syntax error in a run of JSON values, or None."""
    decoder = json.JSONDecoder()
    index = _skip_space(text, 0)
    try:
        while index < len(text):
            _, index = decoder.raw_decode(text, index)
            index = _skip_space(text, index)
    except json.JSONDecodeError as exc:
        return exc
    return None


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


# --- Parquet -----------------------------------------------------------------------------------


def _read_parquet(job: _Job, raw: Path, fmt: Format) -> IngestResult:
    """Validate with pyarrow (it reads the footer strictly), then rewrite through DuckDB."""
    arrow_names = _parquet_names(raw)
    relation = f"read_parquet({_literal(str(raw))})"
    try:
        described = _describe(job.engine, relation)
        same = len(arrow_names) == len(described)
        names, warnings = clean_names(arrow_names if same else [name for name, _ in described])
        columns, count = _copy(job, relation, described, names)
    except duckdb.Error as exc:
        raise Invalid(f"The Parquet file is damaged: {_duckdb_reason(exc)}") from exc
    return IngestResult(fmt, columns, count, warnings, {})


def _parquet_names(raw: Path) -> list[str]:
    try:
        with closing(pq.ParquetFile(raw)) as parquet:
            return [str(name) for name in parquet.schema_arrow.names]
    except (pa.ArrowException, OSError) as exc:
        raise Invalid(f"The Parquet file is damaged or incomplete: {exc}") from None


# --- Shared: describe, cast, copy --------------------------------------------------------------


def _describe(engine: Engine, relation: str) -> list[tuple[str, str]]:
    """The column names and DuckDB types of a relation (DuckDB reads only a sample)."""
    with closing(engine.cursor()) as cursor:
        rows = cursor.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    return [(str(row[0]), str(row[1])) for row in rows]


def _copy(
    job: _Job, relation: str, described: Sequence[tuple[str, str]], names: Sequence[str]
) -> tuple[list[Column], int]:
    """Write the relation to ``out``, each column cast to its Datamill storage type."""
    select = ", ".join(
        f"{_cast(source, kind)} AS {quote_ident(name)}"
        for (source, kind), name in zip(described, names, strict=True)
    )
    options = f"FORMAT parquet, ROW_GROUP_SIZE {_ROW_GROUP_TARGET}, COMPRESSION zstd"
    sql = f"COPY (SELECT {select} FROM {relation}) TO {_literal(str(job.out))} ({options})"
    with closing(job.engine.cursor()) as cursor:
        row = cursor.execute(sql).fetchone()
    columns = [
        Column(name=name, type=cast_target(kind))
        for (_, kind), name in zip(described, names, strict=True)
    ]
    return columns, int(row[0]) if row else 0


_NESTED = ("STRUCT", "MAP", "UNION")


def _cast(column: str, duckdb_type: str) -> str:
    """The SQL that turns a DuckDB column into its Datamill storage type."""
    quoted, upper = quote_ident(column), duckdb_type.upper()
    storage = STORAGE_TYPE[cast_target(duckdb_type)]
    if upper == storage:
        return quoted
    if upper in {"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"}:
        return f"timezone('UTC', {quoted})"  # not CAST: that would use the session's zone
    if upper in {"FLOAT", "REAL", "FLOAT4"}:
        return f"CAST(CAST({quoted} AS VARCHAR) AS DOUBLE)"  # 1.1f becomes 1.1, not 1.100000023
    if upper == "JSON":
        return f"json_extract_string({quoted}, '$')"  # strings unquoted, objects as JSON text
    if upper.startswith(_NESTED) or upper.endswith("]"):
        return f"CAST(to_json({quoted}) AS VARCHAR)"
    return f"CAST({quoted} AS {storage})"


def _literal(value: str) -> str:
    """A SQL string literal (DuckDB keeps backslashes as they are)."""
    return "'" + value.replace("'", "''") + "'"


_READERS: dict[Format, Callable[[_Job, Path, Format], IngestResult]] = {
    "csv": _read_text_table,
    "tsv": _read_text_table,
    "xlsx": _read_xlsx,
    "json": _read_json,
    "parquet": _read_parquet,
}
