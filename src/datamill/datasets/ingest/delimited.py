"""CSV and TSV: sniff the dialect from a sample, then let DuckDB read the whole file in one pass."""

from __future__ import annotations

from pathlib import Path

from datamill.datasets.formats import Format
from datamill.datasets.ingest.csv_load import load_csv
from datamill.datasets.ingest.csv_source import CsvSource
from datamill.datasets.ingest.errors import EMPTY
from datamill.datasets.ingest.job import IngestResult, Job
from datamill.datasets.ingest.lines import read_sample
from datamill.datasets.ingest.transcode import resolve_encoding, transcode
from datamill.datasets.sniff import (
    check_text,
    clean_names,
    decode_sample,
    default_names,
    detect_delimiter,
    detect_header,
    parse_rows,
)
from datamill.problems import Invalid

_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def read_text_table(job: Job, raw: Path, fmt: Format) -> IngestResult:
    """Sniff the dialect from a sample, then let DuckDB read the whole file in one pass."""
    sample, complete = read_sample(raw, job.max_line_bytes)
    encoding = resolve_encoding(job.options, sample, complete)
    check_text(sample, encoding)
    text = decode_sample(sample, encoding, complete=complete)
    if not text.strip():
        raise Invalid(EMPTY)
    delimiter = _delimiter_option(job.options.delimiter)
    if delimiter is None:
        delimiter = "\t" if fmt == "tsv" else detect_delimiter(text)
    rows = parse_rows(text, delimiter, complete=complete)
    if not rows:
        raise Invalid("The file could not be read as a table: its first line cannot be parsed.")
    header = job.options.header if job.options.header is not None else detect_header(rows)
    names, warnings = clean_names(rows[0]) if header else (default_names(len(rows[0])), [])
    path = raw if encoding.is_utf8 else transcode(job, raw, encoding)
    columns, count = load_csv(job, CsvSource(path, delimiter, header, names), warnings)
    details = {"encoding": encoding.name, "delimiter": delimiter, "header": header}
    return IngestResult(fmt, columns, count, warnings, details)


def _delimiter_option(value: str | None) -> str | None:
    if value is None:
        return None
    delimiter = _DELIMITER_NAMES.get(value.lower(), value)
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise Invalid('The delimiter must be one character, such as ",", ";", "|" or "tab".')
    return delimiter
