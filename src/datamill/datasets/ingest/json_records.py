"""JSON: an array of records or JSON Lines, read by DuckDB; nested values are kept as JSON text.

When DuckDB refuses the file, Python's parser re-reads it (up to :data:`JSON_DIAGNOSE_MAX`) to name
the line and column where the JSON breaks.
"""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path

import duckdb

from datamill.datasets.formats import Format
from datamill.datasets.ingest.errors import EMPTY, duckdb_reason
from datamill.datasets.ingest.job import IngestResult, Job
from datamill.datasets.ingest.output import copy_to_parquet, describe, literal
from datamill.datasets.ingest.transcode import resolve_encoding, transcode
from datamill.datasets.sniff import SAMPLE_BYTES, check_text, clean_names
from datamill.datasets.types import Column
from datamill.problems import Invalid

JSON_DIAGNOSE_MAX = 256 << 20  # above this, malformed JSON is located by DuckDB's message alone
_JSON_SHAPE = (
    'Datamill expects an array of objects, like [{"id": 1}, {"id": 2}], '
    "or one object per line (JSON Lines)."
)


def read_json(job: Job, raw: Path, fmt: Format) -> IngestResult:
    """An array of records or JSON Lines, read by DuckDB; nested values are kept as JSON text."""
    with raw.open("rb") as file:
        sample = file.read(SAMPLE_BYTES)
    complete = len(sample) >= raw.stat().st_size
    encoding = resolve_encoding(job.options, sample, complete)
    check_text(sample, encoding)
    decoder = codecs.getincrementaldecoder(encoding.codec)(errors="replace")
    layout = _json_layout(decoder.decode(sample[encoding.bom :], final=complete))
    path = raw if encoding.is_utf8 and not encoding.bom else transcode(job, raw, encoding)
    columns, count, warnings = _load_json(job, path)
    details = {"encoding": encoding.name, "layout": layout}
    return IngestResult(fmt, columns, count, warnings, details)


def _json_layout(text: str) -> str:
    """``array`` or ``lines``; refuse a lone value or an array of non-objects, with the why."""
    body = text.lstrip()
    if not body:
        raise Invalid(EMPTY)
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


def _load_json(job: Job, path: Path) -> tuple[list[Column], int, list[str]]:
    """Type from DuckDB's sample first; a late record that breaks a type means typing it all."""
    relation = f"read_json({literal(str(path))}, format='auto')"
    try:
        return _copy_json(job, relation)
    except duckdb.Error as exc:
        job.out.unlink(missing_ok=True)
        if "transform error" not in str(exc) and not isinstance(exc, duckdb.ConversionException):
            raise _diagnose_json(path, exc) from exc
    relation = f"read_json({literal(str(path))}, format='auto', sample_size=-1)"
    try:
        columns, count, warnings = _copy_json(job, relation)
    except duckdb.Error as exc:
        job.out.unlink(missing_ok=True)
        raise _diagnose_json(path, exc) from exc
    late = (
        "A record late in the file changed a column's type, so types were read from every record."
    )
    return columns, count, [*warnings, late]


def _copy_json(job: Job, relation: str) -> tuple[list[Column], int, list[str]]:
    described = describe(job.engine, relation)
    if [name for name, _ in described] == ["json"] and described[0][1].startswith(("JSON", "MAP")):
        raise Invalid(
            "The JSON records could not be turned into columns: every item must be an object "
            f"and every key a non-empty name. {_JSON_SHAPE}"
        )
    names, warnings = clean_names([name for name, _ in described])
    columns, count = copy_to_parquet(job, relation, described, names)
    return columns, count, warnings


def _diagnose_json(path: Path, exc: duckdb.Error) -> Invalid:
    """Python's parser names line and column; DuckDB only knows the record."""
    if path.stat().st_size <= JSON_DIAGNOSE_MAX:
        found = _json_syntax_problem(path.read_text(encoding="utf-8", errors="replace"))
        if found is not None:
            return found
    line = re.search(r"in line (\d+)", str(exc))
    reason = duckdb_reason(exc)
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
