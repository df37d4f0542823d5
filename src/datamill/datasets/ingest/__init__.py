"""Turn an uploaded file into a normalised Parquet revision file.

Every format ends the same way: one DuckDB ``COPY (SELECT <casts>) TO out`` that stores each column
as one of the six Datamill types, in row groups of at most :data:`ROW_GROUP_SIZE` rows, zstd
compressed. CSV goes to DuckDB directly with a dialect we sniffed ourselves, so a good file never
passes through Python; only when DuckDB fails do we re-read the file in Python, slowly, to say
exactly which line is wrong and why. Excel is streamed into a temporary CSV first; JSON and Parquet
are read by DuckDB too. Whatever fails, nothing is left behind: no ``out``, no temporary file.

This module holds the entry point, :func:`ingest`, which picks the reader for the file's format;
each reader lives in a module of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from datamill.datasets.engine import Engine
from datamill.datasets.formats import Format, detect_format
from datamill.datasets.ingest.delimited import read_text_table
from datamill.datasets.ingest.errors import EMPTY, duckdb_reason
from datamill.datasets.ingest.job import IngestOptions, IngestResult, Job
from datamill.datasets.ingest.json_records import read_json
from datamill.datasets.ingest.output import ROW_GROUP_SIZE
from datamill.datasets.ingest.parquet import read_parquet
from datamill.datasets.ingest.xlsx import read_xlsx
from datamill.problems import Invalid

__all__ = ["ROW_GROUP_SIZE", "IngestOptions", "IngestResult", "ingest"]

_READERS: dict[Format, Callable[[Job, Path, Format], IngestResult]] = {
    "csv": read_text_table,
    "tsv": read_text_table,
    "xlsx": read_xlsx,
    "json": read_json,
    "parquet": read_parquet,
}


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
    job = Job(engine, out, tmp_dir, options, max_line_bytes)
    try:
        if raw.stat().st_size == 0:
            raise Invalid(EMPTY)
        fmt = detect_format(raw, filename)
        return _READERS[fmt](job, raw, fmt)
    except duckdb.Error as exc:
        out.unlink(missing_ok=True)
        raise Invalid(f"The file could not be read: {duckdb_reason(exc)}") from exc
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    finally:
        job.remove_scratch()
