"""Example ``python`` tasks on tables: ``function: table_tools:flag_outliers`` (with
``examples/tasks`` on the worker's import path).

A table input arrives as a pandas DataFrame (nullable types: an integer column with nulls stays
integers); a DataFrame returned for a table output is stored as Parquet. What a function prints
is kept in the step's log, and a ``progress`` parameter receives a callable that reports how far
the step is.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd


def flag_outliers(
    table: pd.DataFrame,
    column: str,
    k: float,
    progress: Callable[[float, str | None], None],
) -> dict[str, object]:
    """``table`` with a boolean ``outlier`` column: ``column`` more than ``k`` standard
    deviations from its mean."""
    progress(0.0, f"reading {len(table)} rows")
    values = table[column].astype("Float64")
    distance = (values - values.mean()).abs()
    flagged = table.assign(outlier=(distance > k * values.std()).fillna(False))
    count = int(flagged["outlier"].sum())
    print(f"{count} outliers in {column}")  # noqa: T201 - a task's prints are its log
    progress(1.0, "done")
    return {"table": flagged, "count": count}


def head(table: pd.DataFrame, n: int) -> dict[str, object]:
    """The first ``n`` rows of ``table``, unchanged."""
    return {"table": table.head(n)}
