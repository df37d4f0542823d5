"""Parquet: validated by pyarrow (it reads the footer strictly), then rewritten through DuckDB."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from datamill.datasets.formats import Format
from datamill.datasets.ingest.errors import duckdb_reason
from datamill.datasets.ingest.job import IngestResult, Job
from datamill.datasets.ingest.output import copy_to_parquet, describe, literal
from datamill.datasets.sniff import clean_names
from datamill.problems import Invalid


def read_parquet(job: Job, raw: Path, fmt: Format) -> IngestResult:
    """Validate with pyarrow (it reads the footer strictly), then rewrite through DuckDB."""
    arrow_names = _parquet_names(raw)
    relation = f"read_parquet({literal(str(raw))})"
    try:
        described = describe(job.engine, relation)
        same = len(arrow_names) == len(described)
        names, warnings = clean_names(arrow_names if same else [name for name, _ in described])
        columns, count = copy_to_parquet(job, relation, described, names)
    except duckdb.Error as exc:
        raise Invalid(f"The Parquet file is damaged: {duckdb_reason(exc)}") from exc
    return IngestResult(fmt, columns, count, warnings, {})


def _parquet_names(raw: Path) -> list[str]:
    try:
        with closing(pq.ParquetFile(raw)) as parquet:
            return [str(name) for name in parquet.schema_arrow.names]
    except (pa.ArrowException, OSError) as exc:
        raise Invalid(f"The Parquet file is damaged or incomplete: {exc}") from None
