"""Missing values against pandas: empty to null, fills, interpolation, dropping."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datamill.problems import Invalid
from tests.fixtures.tables import Revision, close, values


@pytest.fixture
def gaps(tmp_path: Path) -> Revision:
    return Revision(
        tmp_path,
        {
            "city": ["Oslo", "", None, "  ", "Rome", None],
            "n": [None, 2, None, 4, None, 10],
            "x": [1.0, None, None, 4.0, None, None],
        },
        {"city": "text", "n": "int", "x": "float"},
    )


def test_empty_and_blank_text_become_null(gaps: Revision) -> None:
    assert gaps.apply("empty-to-null").column("city") == ["Oslo", None, None, None, "Rome", None]
    strict = gaps.apply("empty-to-null", blank=False).column("city")
    assert strict == ["Oslo", None, None, "  ", "Rome", None]


def test_fill_constant_reads_the_value_as_the_column_type(gaps: Revision) -> None:
    result = gaps.apply("fill-constant", column="n", value="7")
    assert result.column("n") == values(gaps.frame()["n"].fillna(7))
    assert result.applied.changes["filled"] == 3


def test_a_constant_of_the_wrong_type_is_a_422(gaps: Revision) -> None:
    with pytest.raises(Invalid) as caught:
        gaps.apply("fill-constant", column="n", value="seven")
    assert (caught.value.errors or [])[0]["loc"] == ["body", "params", "value"]


@pytest.mark.parametrize("statistic", ["mean", "median", "mode"])
def test_fill_with_a_statistic_like_pandas(gaps: Revision, statistic: str) -> None:
    frame = gaps.frame().astype({"x": float})
    result = gaps.apply("fill-statistic", column="x", statistic=statistic)
    series = frame["x"]
    fill = {"mean": series.mean(), "median": series.median(), "mode": series.mode().min()}
    assert close(result.column("x"), values(series.fillna(fill[statistic])))


def test_an_int_column_filled_with_its_mean_stays_int(gaps: Revision) -> None:
    result = gaps.apply("fill-statistic", column="n", statistic="mean")
    assert result.types["n"] == "int"
    assert result.column("n") == [5, 2, 5, 4, 5, 10]  # mean 5.33 rounded


def test_mean_of_a_text_column_is_a_422(gaps: Revision) -> None:
    with pytest.raises(Invalid, match="use mode"):
        gaps.apply("fill-statistic", column="city", statistic="mean")


def test_fill_down_and_up_like_pandas_ffill_bfill(gaps: Revision) -> None:
    frame = gaps.frame()
    down = gaps.apply("fill-direction", columns=["n", "city"], direction="down")
    assert down.column("n") == values(frame["n"].ffill())
    assert down.column("city") == values(frame["city"].ffill())
    up = gaps.apply("fill-direction", columns=["n"], direction="up")
    assert up.column("n") == values(frame["n"].bfill())


def test_linear_interpolation_like_pandas_inside_only(gaps: Revision) -> None:
    frame = gaps.frame().astype({"x": float})
    result = gaps.apply("interpolate", column="x")
    expected = frame["x"].interpolate(method="linear", limit_area="inside")
    assert close(result.column("x"), values(expected))


def test_time_interpolation_weighs_by_the_time_column(tmp_path: Path) -> None:
    times = [datetime(2024, 1, 1), datetime(2024, 1, 2), datetime(2024, 1, 5), datetime(2024, 1, 6)]
    table = Revision(
        tmp_path, {"t": times, "y": [0.0, None, None, 5.0]}, {"t": "timestamp", "y": "float"}
    )
    result = table.apply("interpolate", column="y", method="time", index="t")
    expected = pd.Series(
        [0.0, None, None, 5.0], index=pd.DatetimeIndex(times), dtype=float
    ).interpolate(method="time")
    assert close(result.column("y"), list(expected))


def test_time_interpolation_needs_a_time_column(gaps: Revision) -> None:
    with pytest.raises(Invalid, match="needs a date or time column"):
        gaps.apply("interpolate", column="x", method="time")


def test_drop_missing_like_pandas_dropna(gaps: Revision) -> None:
    frame = gaps.frame()
    assert len(gaps.apply("drop-missing").records()) == len(frame.dropna())
    assert gaps.apply("drop-missing", columns=["n"]).column("n") == [2, 4, 10]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(-100, 100) | st.none(), max_size=25))
def test_fill_down_agrees_with_pandas_on_any_column(
    tmp_path_factory: pytest.TempPathFactory, column: list[int | None]
) -> None:
    table = Revision(tmp_path_factory.mktemp("ffill"), {"v": column}, {"v": "int"})
    result = table.apply("fill-direction", columns=["v"])
    assert result.column("v") == values(pd.Series(column, dtype=object).ffill())
