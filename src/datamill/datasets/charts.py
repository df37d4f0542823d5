"""Points for charts of two columns, small whatever the table's size.

A browser cannot draw ten million points, nor should it receive them: a scatter plot gets a
uniform sample of the view's rows (DuckDB's reservoir sample, seeded, so the same view draws the
same picture), a line chart the mean of ``y`` over equal-width buckets of ``x``. Both are one
scan of the revision, out of core. Histograms and bars of value counts are the facets'.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import duckdb

from datamill.datasets.types import Column, quote_ident
from datamill.datasets.values import to_rows
from datamill.datasets.view import View, require_column, where_clause

ChartKind = Literal["scatter", "line"]
MAX_POINTS = 10_000
SAMPLE_SEED = 7
X_TYPES = ("int", "float", "date", "timestamp")
Y_TYPES = ("int", "float")


def _position(column: Column) -> str:
    """``x`` as a number to bucket by: dates and times by their epoch."""
    name = quote_ident(column["name"])
    if column["type"] in ("date", "timestamp"):
        return f"epoch_ms(CAST({name} AS TIMESTAMP))"
    return f"CAST({name} AS DOUBLE)"


def xy_points(
    cursor: duckdb.DuckDBPyConnection,
    path: Path,
    columns: list[Column],
    x: str,
    y: str,
    view: View,
    kind: ChartKind,
    points: int,
) -> dict[str, Any]:
    """The points to draw ``y`` against ``x`` among the view's rows where both have a value."""
    x_column = require_column(columns, x, "x", X_TYPES, "the x axis")
    y_column = require_column(columns, y, "y", Y_TYPES, "the y axis")
    xs, ys = quote_ident(x), quote_ident(y)
    where, params = where_clause(view, columns)
    position = _position(x_column)
    both = (
        f"{xs} IS NOT NULL AND {ys} IS NOT NULL "
        f"AND isfinite(CAST({ys} AS DOUBLE)) AND isfinite({position})"
    )
    where = f"{where} AND {both}" if where else f"WHERE {both}"
    source = f"(SELECT {xs} AS x, {ys} AS y, {position} AS pos FROM read_parquet(?) {where})"
    args = [str(path), *params]
    total = int(cursor.execute(f"SELECT count(*) FROM {source}", args).fetchall()[0][0])
    reduced = total > points
    if kind == "scatter":
        sample = f" USING SAMPLE reservoir({int(points)} ROWS) REPEATABLE ({SAMPLE_SEED})"
        sql = f"SELECT x, y FROM {source}{sample if reduced else ''} ORDER BY pos, y"
    elif not reduced:
        sql = f"SELECT x, avg(y) AS y FROM {source} GROUP BY x, pos ORDER BY pos"
    else:
        low, high = cursor.execute(f"SELECT min(pos), max(pos) FROM {source}", args).fetchall()[0]
        width = (high - low) / points if high > low else 1.0
        bucket = f"least(CAST(floor((pos - ?) / ?) AS BIGINT), {int(points) - 1})"
        sql = (
            f"SELECT arg_min(x, pos) AS x, avg(y) AS y FROM {source} "
            f"GROUP BY {bucket} ORDER BY min(pos)"
        )
        args = [*args, float(low), float(width)]
    table = cursor.sql(sql, params=args).to_arrow_table()
    return {
        "kind": kind,
        "x": x_column,
        "y": y_column,
        "total": total,
        "reduced": reduced,
        "points": to_rows(table),
    }
