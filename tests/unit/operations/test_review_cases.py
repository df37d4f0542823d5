"""Inputs that once gave wrong data or a server error: names that differ only in case, helper
column names, extreme numbers, bad formats and patterns."""

from __future__ import annotations

from pathlib import Path

import pytest

from datamill.problems import Invalid
from tests.fixtures.tables import Revision


@pytest.fixture
def table(tmp_path: Path) -> Revision:
    return Revision(
        tmp_path,
        {"id": [1, 2], "x": [10.0, None], "city": ["Oslo", "oslo"]},
        {"id": "int", "x": "float", "city": "text"},
    )


def test_a_new_column_named_like_another_in_another_case_is_a_422(table: Revision) -> None:
    with pytest.raises(Invalid, match="there is already a column 'id'"):
        table.apply("derive-column", name="ID", expression="id * 100")
    with pytest.raises(Invalid, match="two columns 'X'"):
        table.apply("rename-columns", names={"id": "X"})


def test_one_hot_of_values_differing_in_case_makes_distinct_columns(table: Revision) -> None:
    result = table.apply("one-hot", column="city")
    assert result.names == ["id", "x", "city", "city_Oslo", "city_oslo_2"]
    assert result.column("city_Oslo") == [True, False]
    assert result.column("city_oslo_2") == [False, True]


def test_helper_columns_never_clash_with_the_tables(tmp_path: Path) -> None:
    table = Revision(
        tmp_path,
        {"_y0": [1, 2, 3], "v": [0.0, None, 20.0], "_n": ["a", "a", "b"]},
        {"_y0": "int", "v": "float", "_n": "text"},
    )
    assert table.apply("interpolate", column="v").column("v") == [0.0, 10.0, 20.0]
    kept = table.apply("drop-duplicates", columns=["_n"], keep="none")
    assert kept.column("_n") == ["b"]


def test_clipping_an_int_column_with_huge_bounds_keeps_it_int(table: Revision) -> None:
    result = table.apply("clip", column="id", lower=-1e30, upper=1e30)
    assert result.types["id"] == "int" and result.column("id") == [1, 2]


def test_a_bad_format_or_pattern_is_a_422_before_anything_runs(table: Revision) -> None:
    with pytest.raises(Invalid) as caught:
        table.apply("change-type", column="city", to="date", format="%Q")
    assert (caught.value.errors or [])[0]["loc"][-1] == "format"
    with pytest.raises(Invalid) as caught:
        table.apply("split-column", column="city", pattern="(")
    assert (caught.value.errors or [])[0]["loc"][-1] == "pattern"


def test_an_int_filled_with_a_mean_of_one_half_rounds_away_from_zero(tmp_path: Path) -> None:
    table = Revision(tmp_path, {"n": [2, 3, None]}, {"n": "int"})
    assert table.apply("fill-statistic", column="n", statistic="mean").column("n") == [2, 3, 3]


def test_an_empty_list_of_conditions_is_a_422(table: Revision) -> None:
    with pytest.raises(Invalid):
        table.apply("filter-rows", conditions=[], keep=False)


@pytest.mark.parametrize("expression", ["repeat(city, 2000000000)", "lpad(city, 999999999, 'x')"])
def test_functions_that_blow_up_memory_are_refused(table: Revision, expression: str) -> None:
    with pytest.raises(Invalid, match="is not allowed"):
        table.apply("derive-column", name="big", expression=expression)
