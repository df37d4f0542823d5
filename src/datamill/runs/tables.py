"""Table values of a step: Parquet files under the data directory, handed to a python function as
pandas DataFrames and to a command as CSV (or Parquet) files, and taken back the same ways.

Only an attempt with a table port imports this module: pandas, pyarrow and DuckDB cost a task
without tables nothing.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from datamill.config import Settings
from datamill.datasets.engine import Engine
from datamill.datasets.ingest import IngestOptions, ingest
from datamill.datasets.ingest.output import literal
from datamill.problems import Problem
from datamill.storage.files import atomic_target

PARQUET_SUFFIXES = (".parquet", ".pq")


class TableError(ValueError):
    """Why a table could not be read, staged or written: part of the attempt's failure reason."""


def read_dataframe(source: Path) -> pd.DataFrame:
    """The stored table at ``source`` as a DataFrame of pandas' nullable types.

    Nullable, so that an integer column with nulls stays integers (``Int64``, nulls ``pd.NA``)
    and comes back as integers when the function returns it.
    """
    try:
        frame = pd.read_parquet(source, engine="pyarrow", dtype_backend="numpy_nullable")
    except (pa.ArrowException, OSError, ValueError) as problem:
        raise TableError(f"cannot read the table: {problem}") from None
    return frame


def stage_as_csv(source: Path, target: Path) -> None:
    """Write the stored table at ``source`` as a CSV file with a header row at ``target``.

    A null is an empty field; text is quoted only when it must be.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    sql = (
        f"COPY (SELECT * FROM read_parquet({literal(str(source))})) "
        f"TO {literal(str(target))} (FORMAT csv, HEADER true)"
    )
    try:
        with closing(duckdb.connect(":memory:")) as db:
            db.execute(sql)
    except duckdb.Error as problem:
        target.unlink(missing_ok=True)
        raise TableError(f"cannot read the table: {problem}") from None


def write_returned(value: object, target: Path) -> None:
    """Write what a function returned for a table output as Parquet at ``target``, atomically.

    A pandas DataFrame (its index is dropped), a pyarrow Table, or anything that exports an Arrow
    stream (a polars DataFrame, say).
    """
    table = _arrow_table(value)
    with atomic_target(target) as temp:
        pq.write_table(table, temp, compression="zstd")


def _arrow_table(value: object) -> pa.Table:
    try:
        if isinstance(value, pd.DataFrame):
            return pa.Table.from_pandas(value, preserve_index=False)
        if isinstance(value, pa.Table):
            return value
        if hasattr(value, "__arrow_c_stream__"):
            return pa.table(value)
    except (pa.ArrowException, TypeError, ValueError) as problem:
        raise TableError(f"cannot be stored as a table: {problem}") from None
    raise TableError(f"expected a pandas DataFrame or a pyarrow Table, got {type(value).__name__}")


class OutputReader:
    """Reads the table files a command left, as an upload is read: any format an upload may be
    in (by extension), columns typed by sniffing, the first row of a CSV naming the columns.

    Holds one DuckDB engine for all the table outputs of an attempt; close it when done. Its
    SQL may touch only the attempt's working directory (and the temporary directory): the
    sources are resolved paths inside it, and nothing else of the data directory is its business.
    """

    def __init__(self, settings: Settings, workdir: Path) -> None:
        self._tmp_dir = settings.tmp_dir
        self._engine = Engine(
            settings.duckdb_memory_limit,
            settings.tmp_dir / "duckdb",
            allowed_dirs=[workdir.resolve(), settings.tmp_dir.resolve()],
        )

    def convert(self, source: Path, target: Path) -> None:
        """Store the table file at ``source`` as normalised Parquet at ``target``, atomically."""
        try:
            with atomic_target(target) as temp:
                ingest(
                    self._engine,
                    source,
                    source.name,
                    temp,
                    IngestOptions(header=True),
                    tmp_dir=self._tmp_dir,
                )
        except Problem as problem:
            raise TableError(problem.detail) from None

    def close(self) -> None:
        self._engine.close()

    def __enter__(self) -> OutputReader:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()
