"""Comparing two revisions: by key, by position, or by content."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datamill.datasets.compare import Side, compare_revisions
from datamill.datasets.types import Column
from datamill.problems import Invalid


def side(directory: Path, name: str, data: dict[str, list[object]], types: dict[str, str]) -> Side:
    path = directory / f"{name}.parquet"
    pq.write_table(pa.table(data), path)
    columns: list[Column] = [{"name": n, "type": types[n]} for n in data]  # type: ignore[misc]
    return Side(path, columns, len(next(iter(data.values()))))


@pytest.fixture
def before(tmp_path: Path) -> Side:
    return side(
        tmp_path,
        "before",
        {"id": [1, 2, 3, 4], "city": ["oslo", "rome", None, "oslo"], "x": [1.0, 2.0, 3.0, 4.0]},
        {"id": "int", "city": "text", "x": "float"},
    )


def test_same_row_count_compares_by_position_and_counts_cells(before: Side, tmp_path: Path) -> None:
    after = side(
        tmp_path,
        "after",
        {
            "id": [1, 2, 3, 4],
            "city": ["Oslo", "rome", "?", "Oslo"],
            "x": ["1.0", "2.0", "3.5", "4.0"],
        },
        {"id": "int", "city": "text", "x": "text"},
    )
    with duckdb.connect() as cursor:
        found = compare_revisions(cursor, before, after, [], 10)
    assert found["match"] == "position"
    assert found["columns"]["retyped"] == [{"column": "x", "from": "float", "to": "text"}]
    assert (found["added"], found["removed"], found["changed"]) == (0, 0, 3)
    assert found["cells_changed"] == {"city": 3, "x": 1}
    assert found["sample"]["changed"][1] == {
        "at": 2,
        "cells": {"city": {"before": None, "after": "?"}, "x": {"before": "3.0", "after": "3.5"}},
    }


def test_a_key_matches_rows_across_deletions_and_insertions(before: Side, tmp_path: Path) -> None:
    after = side(
        tmp_path,
        "after",
        {"id": [4, 1, 9], "city": ["oslo", "OSLO", "lima"], "when": [date(2024, 1, 1)] * 3},
        {"id": "int", "city": "text", "when": "date"},
    )
    with duckdb.connect() as cursor:
        found = compare_revisions(cursor, before, after, ["id"], 10)
    assert found["match"] == "key"
    assert found["columns"] == {"added": ["when"], "removed": ["x"], "retyped": []}
    assert (found["added"], found["removed"], found["changed"]) == (1, 2, 1)
    assert found["sample"]["added"] == [[9, "lima"]]
    assert sorted(found["sample"]["removed"], key=str) == [[2, "rome"], [3, None]]
    assert found["sample"]["changed"] == [
        {"at": ["1"], "cells": {"city": {"before": "oslo", "after": "OSLO"}}}
    ]


def test_without_a_key_different_row_counts_compare_by_content(
    before: Side, tmp_path: Path
) -> None:
    after = side(
        tmp_path,
        "after",
        {"id": [1, 2, 4], "city": ["oslo", "rome", "oslo"], "x": [1.0, 2.0, 4.0]},
        {"id": "int", "city": "text", "x": "float"},
    )
    with duckdb.connect() as cursor:
        found = compare_revisions(cursor, before, after, [], 10)
    assert found["match"] == "content"
    assert (found["added"], found["removed"]) == (0, 1)
    assert found["sample"]["removed"] == [[3, None, 3.0]]


def test_a_key_column_missing_from_one_side_is_a_422(before: Side, tmp_path: Path) -> None:
    after = side(tmp_path, "after", {"other": [1]}, {"other": "int"})
    with duckdb.connect() as cursor, pytest.raises(Invalid, match="not in both"):
        compare_revisions(cursor, before, after, ["id"], 10)


def test_a_key_of_mixed_types_compares(before: Side, tmp_path: Path) -> None:
    after = side(
        tmp_path,
        "after",
        {"id": [1, 2, 3, 4], "city": ["oslo", "rome", None, "OSLO"], "x": [1.0, 2.0, 3.0, 4.0]},
        {"id": "int", "city": "text", "x": "float"},
    )
    with duckdb.connect() as cursor:
        found = compare_revisions(cursor, before, after, ["id", "x"], 10)
    assert found["changed"] == 1 and found["sample"]["changed"][0]["at"] == ["4", "4.0"]


def test_a_key_that_repeats_is_a_422(before: Side, tmp_path: Path) -> None:
    with duckdb.connect() as cursor, pytest.raises(Invalid, match="not unique"):
        compare_revisions(cursor, before, before, ["city"], 10)


def test_a_column_named_like_the_row_number_is_a_422(tmp_path: Path) -> None:
    odd = side(tmp_path, "odd", {"file_row_number": [1]}, {"file_row_number": "int"})
    with duckdb.connect() as cursor, pytest.raises(Invalid, match="rename it"):
        compare_revisions(cursor, odd, odd, [], 10)
