"""Loading a CSV into Parquet with DuckDB; a column a late row breaks is retried as text."""

from __future__ import annotations

import re

import duckdb

from datamill.datasets.ingest.csv_diagnosis import diagnose_csv
from datamill.datasets.ingest.csv_source import CsvSource, csv_relation
from datamill.datasets.ingest.errors import CSV_LINE
from datamill.datasets.ingest.job import Job
from datamill.datasets.ingest.output import copy_to_parquet, describe
from datamill.datasets.types import Column, cast_target
from datamill.problems import Invalid


def load_csv(job: Job, source: CsvSource, warnings: list[str]) -> tuple[list[Column], int]:
    """DuckDB ``read_csv`` straight into Parquet; a column a late row breaks is retried as text."""
    forced: dict[str, str] = {}
    for _ in range(len(source.names) + 1):
        try:
            return _copy_csv(job, source, forced)
        except duckdb.ConversionException as exc:
            job.out.unlink(missing_ok=True)
            warning = _force_text(exc, source, forced)
            if warning is None:
                raise diagnose_csv(job, source, exc) from exc
            warnings.append(warning)
        except duckdb.Error as exc:
            job.out.unlink(missing_ok=True)
            raise diagnose_csv(job, source, exc) from exc
    raise Invalid("The file could not be read: every column kept changing type.")


def _copy_csv(job: Job, source: CsvSource, forced: dict[str, str]) -> tuple[list[Column], int]:
    relation = csv_relation(source, forced, job.max_line_bytes)
    described = describe(job.engine, relation)
    if len(described) != len(source.names):
        raise diagnose_csv(job, source, None)
    return copy_to_parquet(job, relation, described, source.names)


_CONVERSION = re.compile(
    r'converting column "(?P<column>.*?)"\. '
    r'Could not convert string "(?P<value>.*?)" to \'(?P<type>[^\']+)\'',
    re.S,
)


def _force_text(exc: duckdb.Error, source: CsvSource, forced: dict[str, str]) -> str | None:
    """Mark the column a late row broke as text; the warning says which row, or None if unknown."""
    message = str(exc)
    match = _CONVERSION.search(message)
    if match is None or match["column"] not in source.names or match["column"] in forced:
        return None
    forced[match["column"]] = "VARCHAR"
    line = CSV_LINE.search(message)
    where = f"{source.line_word.lower()} {source.line(int(line[1]))}" if line else "a later row"
    value = match["value"] if len(match["value"]) <= 40 else match["value"][:37] + "..."
    kind = cast_target(match["type"])
    return (
        f'Column "{match["column"]}" is stored as text: it looked like {kind}, '
        f'but {where} holds "{value}".'
    )
