"""Finding clusters of similar values: key collision and nearest neighbours."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datamill.datasets.types import Column
from datamill.datasets.view import Filter, View
from datamill.operations.clusters import ClusterOptions, find_clusters
from datamill.problems import Invalid

CITIES = ["New York", "new york", "New York ", "York, New", "NYC", "Boston", "boston", "Bostn",
          "Chicago", "Chicagoo", None, "New York"]  # fmt: skip
COLUMNS: list[Column] = [{"name": "city", "type": "text"}, {"name": "n", "type": "int"}]


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"city": CITIES, "n": list(range(len(CITIES)))}), path)
    return path


def clusters(table: Path, **options: object) -> list[list[tuple[str, int]]]:
    with duckdb.connect() as cursor:
        found, _ = find_clusters(cursor, table, COLUMNS, "city", ClusterOptions(**options))  # type: ignore[arg-type]
    return [c.values for c in found]


def test_fingerprint_clusters_biggest_first_most_common_value_first(table: Path) -> None:
    assert clusters(table) == [
        [("New York", 2), ("New York ", 1), ("York, New", 1), ("new york", 1)],
        [("Boston", 1), ("boston", 1)],
    ]


def test_ngram_fingerprint_keeps_word_order(table: Path) -> None:
    found = clusters(table, method="ngram-fingerprint")
    assert [v for v, _ in found[0]] == ["New York", "New York ", "new york"]


def test_levenshtein_neighbours_within_the_radius_sharing_a_block(table: Path) -> None:
    found = clusters(table, method="levenshtein", radius=1, block_size=3)
    assert [sorted(v for v, _ in c) for c in found] == [
        ["Bostn", "Boston", "boston"],  # 3 rows, 3 values
        ["New York", "New York "],  # 3 rows, 2 values
        ["Chicago", "Chicagoo"],
    ]
    assert clusters(table, method="levenshtein", radius=1, block_size=7) == [
        [("New York", 2), ("New York ", 1)],
        [("Chicago", 1), ("Chicagoo", 1)],
    ]  # "Boston" is shorter than a block of 7: compared with nothing


def test_clusters_under_a_view_see_only_its_rows(table: Path) -> None:
    view = View(filters=(Filter("n", "lt", 3),))
    with duckdb.connect() as cursor:
        found, distinct = find_clusters(cursor, table, COLUMNS, "city", ClusterOptions(), view)
    assert distinct == 3 and len(found) == 1


def test_clusters_of_a_number_column_are_a_422(table: Path) -> None:
    with duckdb.connect() as cursor, pytest.raises(Invalid, match="not text"):
        find_clusters(cursor, table, COLUMNS, "n", ClusterOptions())


def test_levenshtein_refuses_blocks_that_would_compare_too_many_pairs(tmp_path: Path) -> None:
    path = tmp_path / "many.parquet"
    pq.write_table(
        pa.table({"city": [f"aa{i}" for i in range(5000)], "n": list(range(5000))}), path
    )
    with duckdb.connect() as cursor, pytest.raises(Invalid, match="raise block_size"):
        find_clusters(
            cursor, path, COLUMNS, "city", ClusterOptions(method="levenshtein", block_size=2)
        )
