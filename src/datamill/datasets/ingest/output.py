"""The one ``COPY`` every format ends in: a relation, each column cast to its Datamill type.

Row groups hold at most :data:`ROW_GROUP_SIZE` rows and are zstd compressed, whatever the format.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import duckdb

from datamill.datasets.engine import Engine
from datamill.datasets.ingest.job import Job
from datamill.datasets.types import STORAGE_TYPE, Column, cast_target, quote_ident

ROW_GROUP_SIZE = 100_000
# DuckDB treats ROW_GROUP_SIZE as a target and may pass it by up to one vector (2,048 rows) when it
# merges the batches of parallel threads, so we aim one vector lower to keep every group <= 100,000.
_DUCKDB_VECTOR = 2048
_ROW_GROUP_TARGET = ROW_GROUP_SIZE - _DUCKDB_VECTOR


def describe(engine: Engine, relation: str) -> list[tuple[str, str]]:
    """The column names and DuckDB types of a relation (DuckDB reads only a sample)."""
    with closing(engine.cursor()) as cursor:
        rows = cursor.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    return [(str(row[0]), str(row[1])) for row in rows]


def copy_to_parquet(
    job: Job, relation: str, described: Sequence[tuple[str, str]], names: Sequence[str]
) -> tuple[list[Column], int]:
    """Write the relation to ``out``, each column cast to its Datamill storage type."""
    with closing(job.engine.cursor()) as cursor:
        return copy_select(cursor, f"SELECT * FROM {relation}", [], described, names, job.out)


def copy_select(
    cursor: duckdb.DuckDBPyConnection,
    select: str,
    params: Sequence[Any],
    described: Sequence[tuple[str, str]],
    names: Sequence[str],
    out: Path,
) -> tuple[list[Column], int]:
    """Write the rows of ``select`` to ``out``, each column cast to its Datamill storage type
    and renamed to ``names``; the columns written and the row count."""
    casts = ", ".join(
        f"{_cast(source, kind)} AS {quote_ident(name)}"
        for (source, kind), name in zip(described, names, strict=True)
    )
    options = f"FORMAT parquet, ROW_GROUP_SIZE {_ROW_GROUP_TARGET}, COMPRESSION zstd"
    sql = f"COPY (SELECT {casts} FROM ({select})) TO {literal(str(out))} ({options})"
    row = cursor.execute(sql, list(params)).fetchone()
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


def literal(value: str) -> str:
    """A SQL string literal (DuckDB keeps backslashes as they are)."""
    return "'" + value.replace("'", "''") + "'"
