"""One-hot encoding, editing a cell, and merging clusters."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from datamill.operations.base import OperationError
from datamill.problems import Invalid
from tests.fixtures.tables import Revision


@pytest.fixture
def cities(tmp_path: Path) -> Revision:
    return Revision(
        tmp_path,
        {
            "city": ["Oslo", "Rome", None, "Oslo", "Été"],
            "d": [date(2024, 1, i) for i in range(1, 6)],
        },
        {"city": "text", "d": "date"},
    )


def test_one_hot_like_pandas_get_dummies(cities: Revision) -> None:
    result = cities.apply("one-hot", column="city")
    dummies = pd.get_dummies(cities.frame()["city"], prefix="city")
    assert result.names == ["city", "city_Oslo", "city_Rome", "city_Été", "d"]
    for name in ("city_Oslo", "city_Rome", "city_Été"):
        assert result.column(name) == [bool(v) for v in dummies[name]]


def test_one_hot_top_values_and_dropping_the_original(cities: Revision) -> None:
    result = cities.apply("one-hot", column="city", top=1, drop_original=True, prefix="is_")
    assert result.names == ["is_Oslo", "d"]


def test_one_hot_refuses_too_many_values_without_top(tmp_path: Path) -> None:
    table = Revision(tmp_path, {"v": list(range(1001))}, {"v": "int"})
    with pytest.raises(OperationError, match="more than 1000 distinct values"):
        table.apply("one-hot", column="v")


def test_edit_cell_coerces_to_the_column_type(cities: Revision) -> None:
    result = cities.apply("edit-cell", row=2, column="d", value="2030-12-31")
    assert result.column("d")[2] == date(2030, 12, 31)
    assert result.column("d")[1] == date(2024, 1, 2)
    emptied = cities.apply("edit-cell", row=0, column="city", value=None)
    assert emptied.column("city")[0] is None


def test_edit_cell_with_a_value_that_does_not_fit_is_a_422(cities: Revision) -> None:
    with pytest.raises(Invalid) as caught:
        cities.apply("edit-cell", row=9, column="d", value="tomorrow")
    assert [e["loc"][-1] for e in caught.value.errors or []] == ["row", "value"]


def test_merge_clusters_rewrites_only_the_chosen_values(cities: Revision) -> None:
    clusters = [{"values": ["Oslo", "Été"], "to": "Norway"}]
    result = cities.apply("merge-clusters", column="city", clusters=clusters)
    assert result.column("city") == ["Norway", "Rome", None, "Norway", "Norway"]


def test_a_value_in_two_clusters_is_a_422(cities: Revision) -> None:
    clusters = [{"values": ["Oslo"], "to": "a"}, {"values": ["Oslo", "Rome"], "to": "b"}]
    with pytest.raises(Invalid, match="also in cluster 0"):
        cities.apply("merge-clusters", column="city", clusters=clusters)
