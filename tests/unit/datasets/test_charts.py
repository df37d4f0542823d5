"""Chart points: every point when few, a seeded sample or bucket means when many."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from datamill.datasets.charts import xy_points
from datamill.datasets.view import Filter, View
from datamill.problems import Invalid
from tests.fixtures.tables import Revision


@pytest.fixture
def cursor() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect() as connection:
        yield connection


def test_a_small_view_is_drawn_whole_in_x_order_without_nulls_or_non_finite_values(
    tmp_path: Path, cursor: duckdb.DuckDBPyConnection
) -> None:
    table = Revision(
        tmp_path,
        {"x": [3, 1, None, 2, 5], "y": [30.0, 10.0, 5.0, math.nan, None]},
        {"x": "int", "y": "float"},
    )
    found = xy_points(cursor, table.path, table.columns, "x", "y", View(), "scatter", 100)
    assert found["points"] == [[1, 10.0], [3, 30.0]]
    assert (found["total"], found["reduced"]) == (2, False)


def test_a_large_scatter_is_a_seeded_sample_of_the_asked_size(
    tmp_path: Path, cursor: duckdb.DuckDBPyConnection
) -> None:
    n = 20_000
    table = Revision(
        tmp_path, {"x": list(range(n)), "y": [float(i % 7) for i in range(n)]},
        {"x": "int", "y": "float"},
    )  # fmt: skip
    first = xy_points(cursor, table.path, table.columns, "x", "y", View(), "scatter", 500)
    again = xy_points(cursor, table.path, table.columns, "x", "y", View(), "scatter", 500)
    assert len(first["points"]) == 500 and first["reduced"] and first["total"] == n
    assert first["points"] == again["points"]  # the same view draws the same picture
    assert all(y == x % 7 for x, y in first["points"])
    assert [x for x, _ in first["points"]] == sorted(x for x, _ in first["points"])


def test_a_line_averages_y_over_equal_buckets_of_x_like_pandas(
    tmp_path: Path, cursor: duckdb.DuckDBPyConnection
) -> None:
    n = 10_000
    xs = list(range(n))
    ys = [float((i * 37) % 101) for i in range(n)]
    table = Revision(tmp_path, {"x": xs, "y": ys}, {"x": "int", "y": "float"})
    found = xy_points(cursor, table.path, table.columns, "x", "y", View(), "line", 100)
    expected = pd.DataFrame({"x": xs, "y": ys}).groupby(pd.Series(xs) // 100)
    assert [x for x, _ in found["points"]] == list(expected["x"].min())
    assert [y for _, y in found["points"]] == pytest.approx(list(expected["y"].mean()))


def test_a_line_over_time_keeps_times_as_iso_text(
    tmp_path: Path, cursor: duckdb.DuckDBPyConnection
) -> None:
    start = dt.datetime(2025, 3, 1)
    times = [start + dt.timedelta(hours=h) for h in (2, 0, 1, 1)]
    table = Revision(tmp_path, {"t": times, "v": [4, 1, 2, 4]}, {"t": "timestamp", "v": "int"})
    found = xy_points(cursor, table.path, table.columns, "t", "v", View(), "line", 100)
    assert found["points"] == [
        ["2025-03-01T00:00:00", 1.0],
        ["2025-03-01T01:00:00", 3.0],
        ["2025-03-01T02:00:00", 4.0],
    ]


def test_the_grid_filters_apply(tmp_path: Path, cursor: duckdb.DuckDBPyConnection) -> None:
    table = Revision(
        tmp_path, {"x": [1, 2, 3, 4], "y": [1.0, 2.0, 3.0, 4.0], "k": ["a", "b", "a", "b"]},
        {"x": "int", "y": "float", "k": "text"},
    )  # fmt: skip
    view = View(filters=(Filter("k", "eq", "a"),))
    found = xy_points(cursor, table.path, table.columns, "x", "y", view, "scatter", 10)
    assert found["points"] == [[1, 1.0], [3, 3.0]]


@pytest.mark.parametrize(
    ("x", "y", "field"),
    [("k", "y", "x"), ("x", "k", "y"), ("nope", "y", "x"), ("x", "nope", "y")],
)
def test_a_column_of_the_wrong_type_or_unknown_is_refused_naming_the_axis(
    tmp_path: Path, cursor: duckdb.DuckDBPyConnection, x: str, y: str, field: str
) -> None:
    table = Revision(
        tmp_path, {"x": [1], "y": [1.0], "k": ["a"]}, {"x": "int", "y": "float", "k": "text"}
    )
    with pytest.raises(Invalid) as refused:
        xy_points(cursor, table.path, table.columns, x, y, View(), "scatter", 10)
    assert refused.value.errors is not None
    assert refused.value.errors[0]["loc"] == ["query", field]


@pytest.mark.parametrize("kind", ["scatter", "line"])
def test_nan_and_infinite_x_values_are_left_out_however_many_points(
    tmp_path: Path, cursor: duckdb.DuckDBPyConnection, kind: str
) -> None:
    xs = [float(i) for i in range(1000)] + [math.nan, math.inf, -math.inf]
    table = Revision(tmp_path, {"x": xs, "y": [1.0] * len(xs)}, {"x": "float", "y": "float"})
    few = xy_points(cursor, table.path, table.columns, "x", "y", View(), kind, 10)  # type: ignore[arg-type]
    assert few["total"] == 1000 and few["reduced"]
    assert all(math.isfinite(x) for x, _ in few["points"])
