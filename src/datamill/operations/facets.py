"""Facets for the grid, under its current view: value counts, numeric histograms, ready views.

Read-only and answered by the API process with DuckDB over the revision, out of core:

- **value counts** of one column — what a facet panel lists and filters the grid by. Values come
  encoded as the rows API encodes them, so a click can become an ``eq`` filter as it is;
- **a histogram** of a number column: equal bins over its finite values, with the count of
  nulls and of NaN and infinities apart — what a range facet draws;
- **ready views**, pages of rows with their positions in the revision: rows with a null (in
  chosen columns), rows that have a duplicate (on chosen columns), and a column's outliers (by
  the rules of the outlier operation).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb

from datamill.datasets.types import Column, quote_ident
from datamill.datasets.values import column_values, to_rows
from datamill.datasets.view import ROW_NUMBER, View, require_column, where_clause
from datamill.operations.base import Table
from datamill.operations.outliers import DEFAULT_K, Method, fences
from datamill.problems import Invalid, field_error

MAX_BINS = 200
MAX_VALUES = 1000

ReadyView = Literal["nulls", "duplicates", "outliers"]


def _column(columns: list[Column], name: str, types: tuple[str, ...] | None = None) -> Column:
    return require_column(columns, name, "column", types, "this facet")


def value_counts(
    cursor: duckdb.DuckDBPyConnection,
    path: Path,
    columns: list[Column],
    column: str,
    view: View,
    limit: int,
) -> dict[str, Any]:
    """The most common values of ``column`` among the view's rows (ties by value), with the
    count of rows, of nulls and of distinct values."""
    _column(columns, column)
    name = quote_ident(column)
    where, params = where_clause(view, columns)
    source = f"(SELECT {name} AS v FROM read_parquet(?) {where})"
    rows, nulls, distinct = cursor.execute(
        f"SELECT count(*), count(*) - count(v), count(DISTINCT v) FROM {source}",
        [str(path), *params],
    ).fetchall()[0]
    top = cursor.sql(
        f"SELECT v, count(*) AS n FROM {source} WHERE v IS NOT NULL GROUP BY v "
        f"ORDER BY n DESC, v LIMIT {int(limit)}",
        params=[str(path), *params],
    ).to_arrow_table()
    values = column_values(top.column("v"))
    counts = top.column("n").to_pylist()
    return {
        "column": column,
        "rows": rows,
        "nulls": nulls,
        "distinct": distinct,
        "values": [{"value": v, "count": n} for v, n in zip(values, counts, strict=True)],
    }


def histogram(
    cursor: duckdb.DuckDBPyConnection,
    path: Path,
    columns: list[Column],
    column: str,
    view: View,
    bins: int,
) -> dict[str, Any]:
    """Equal bins between the smallest and largest finite value of a number column among the
    view's rows; the last bin includes its upper edge."""
    _column(columns, column, ("int", "float"))
    value = f"CAST({quote_ident(column)} AS DOUBLE)"
    where, params = where_clause(view, columns)
    source = f"(SELECT {value} AS x FROM read_parquet(?) {where})"
    low, high, nulls, other = cursor.execute(
        f"SELECT min(x) FILTER (WHERE isfinite(x)), max(x) FILTER (WHERE isfinite(x)), "
        f"count(*) - count(x), count(*) FILTER (WHERE NOT isfinite(x)) FROM {source}",
        [str(path), *params],
    ).fetchall()[0]
    counts = [0] * bins
    if low is not None:
        # Halves, so that the span of values near the ends of the doubles stays finite.
        half_span = (high / 2 - low / 2) if high > low else 0.5
        found = cursor.execute(
            f"SELECT least(CAST(floor((x / 2 - ? / 2) / ? * {bins}) AS BIGINT), {bins - 1}) "
            f"AS b, count(*) FROM {source} WHERE isfinite(x) GROUP BY b",
            [low, half_span, str(path), *params],
        ).fetchall()
        for index, count in found:
            counts[int(index)] = int(count)
        step = half_span / bins
        edges = [low + 2 * (i * step) for i in range(bins)] + [low + 2 * half_span]
        edges[-1] = high if high > low else edges[-1]
    else:
        edges = []
    return {
        "column": column,
        "min": low,
        "max": high,
        "nulls": nulls,
        "non_finite": other,
        "bins": [
            {"low": _tidy(edges[i]), "high": _tidy(edges[i + 1]), "count": counts[i]}
            for i in range(bins)
        ]
        if edges
        else [],
    }


def _tidy(edge: float) -> float:
    """An edge without the noise of binary fractions (594.94, not 594.9399999999999)."""
    return float(f"{edge:.12g}")


@dataclass(frozen=True)
class ReadyOptions:
    columns: tuple[str, ...] = ()
    """nulls: a null in any of these; duplicates: equal on these (both default: all)."""
    column: str | None = None
    """outliers: the number column."""
    method: Method = "iqr"
    k: float | None = None


def ready_view(
    cursor: duckdb.DuckDBPyConnection,
    path: Path,
    columns: list[Column],
    kind: ReadyView,
    options: ReadyOptions,
    offset: int,
    limit: int,
) -> dict[str, Any]:
    """A page of the ready view ``kind``: rows in the revision's order (duplicates grouped),
    each with its position, and how many rows the view has."""
    for name in options.columns:
        _column(columns, name)
    if any(c["name"] == ROW_NUMBER for c in columns):
        raise Invalid(
            f"A column named {ROW_NUMBER!r} hides the rows' positions: rename it to use the "
            "ready views."
        )
    chosen = [quote_ident(c) for c in (options.columns or [c["name"] for c in columns])]
    source = "read_parquet(?, file_row_number = true)"
    values: list[Any] = []
    if kind == "nulls":
        selected = f"SELECT * FROM {source} WHERE {' OR '.join(f'{c} IS NULL' for c in chosen)}"
        order = ROW_NUMBER
    elif kind == "duplicates":
        keys = ", ".join(chosen)
        selected = f"SELECT * FROM {source} QUALIFY count(*) OVER (PARTITION BY {keys}) > 1"
        order = f"{keys}, {ROW_NUMBER}"
    else:
        selected, values = _outliers(cursor, path, columns, options, source)
        order = ROW_NUMBER
    names = ", ".join(quote_ident(c["name"]) for c in columns)
    total_row = cursor.execute(
        f"SELECT count(*) FROM ({selected})", [str(path), *values]
    ).fetchall()
    page = cursor.sql(
        f"SELECT {ROW_NUMBER} AS _position, {names} FROM ({selected}) "
        f"ORDER BY {order} LIMIT {int(limit)} OFFSET {int(offset)}",
        params=[str(path), *values],
    ).to_arrow_table()
    return {
        "columns": columns,
        "rows": to_rows(page.drop_columns(["_position"])),
        "positions": page.column("_position").to_pylist(),
        "total": int(total_row[0][0]),
        "offset": offset,
    }


def _outliers(
    cursor: duckdb.DuckDBPyConnection,
    path: Path,
    columns: list[Column],
    options: ReadyOptions,
    source: str,
) -> tuple[str, list[Any]]:
    if options.column is None:
        raise Invalid(
            "The outliers view needs a number column.",
            errors=[field_error(["query", "column"], "required")],
        )
    _column(columns, options.column, ("int", "float"))
    table = Table(path, columns, 0, cursor)
    k = options.k if options.k is not None else DEFAULT_K[options.method]
    low, high = fences(table, options.column, options.method, k, 0.1)
    if low is None:
        return f"SELECT * FROM {source} WHERE FALSE", []
    value = f"CAST({quote_ident(options.column)} AS DOUBLE)"
    test = f"isfinite({value}) AND ({value} < ? OR {value} > ?)"
    return f"SELECT * FROM {source} WHERE {test}", [low, high]
