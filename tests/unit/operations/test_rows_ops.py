"""Row operations against pandas: delete, filter, sort, drop duplicates, sample."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datamill.operations.catalog import get_operation
from datamill.problems import Invalid
from tests.fixtures.tables import Revision, values

NAMES = ["b", None, "a", "b", "ä", "a", ""]
PRICES = [3.0, 1.0, None, 3.0, -0.0, 2.5, float("inf")]


@pytest.fixture
def shop(tmp_path: Path) -> Revision:
    return Revision(
        tmp_path,
        {"id": list(range(7)), "name": NAMES, "price": PRICES},
        {"id": "int", "name": "text", "price": "float"},
    )


def test_delete_rows_by_position(shop: Revision) -> None:
    result = shop.apply("delete-rows", rows=[0, 5, 5])
    assert result.column("id") == [1, 2, 3, 4, 6]
    assert result.applied.changes["rows_before"] == 7
    assert result.applied.changes["rows_after"] == 5


def test_deleting_a_row_that_does_not_exist_is_a_422(shop: Revision) -> None:
    with pytest.raises(Invalid) as caught:
        shop.apply("delete-rows", rows=[1, 7, -1])
    assert [e["loc"] for e in caught.value.errors or []] == [
        ["body", "params", "rows", 1],
        ["body", "params", "rows", 2],
    ]


def test_filter_with_grid_conditions_keeps_or_drops(shop: Revision) -> None:
    conditions = [{"column": "price", "op": "ge", "value": 2.5}]
    kept = shop.apply("filter-rows", conditions=conditions)
    frame = shop.frame()
    expected = frame[frame["price"].map(lambda p: p is not None and p >= 2.5)]
    assert kept.column("id") == list(expected["id"])
    dropped = shop.apply("filter-rows", conditions=conditions, keep=False)
    assert dropped.column("id") == [i for i in range(7) if i not in set(expected["id"])]


def test_filter_with_an_expression(shop: Revision) -> None:
    result = shop.apply("filter-rows", expression="name = 'a' OR id > 5")
    assert result.column("id") == [2, 5, 6]


def test_a_filter_condition_on_a_bad_value_is_a_422_at_its_place(shop: Revision) -> None:
    with pytest.raises(Invalid) as caught:
        shop.apply("filter-rows", conditions=[{"column": "id", "op": "gt", "value": "x"}])
    assert (caught.value.errors or [])[0]["loc"] == ["body", "params", "conditions", 0, "value"]


def test_a_filter_condition_with_an_unknown_operator_is_a_422_at_its_place(
    shop: Revision,
) -> None:
    """The operators are an enum in the schema, so that the browser's form offers them."""
    with pytest.raises(Invalid) as caught:
        shop.apply("filter-rows", conditions=[{"column": "id", "op": "bigger", "value": 1}])
    assert (caught.value.errors or [])[0]["loc"] == ["body", "params", "conditions", 0, "op"]
    schema = get_operation("filter-rows").params.model_json_schema()
    assert "between" in schema["$defs"]["Condition"]["properties"]["op"]["enum"]


def test_a_filter_expression_must_be_a_condition(shop: Revision) -> None:
    with pytest.raises(Invalid, match="not true/false"):
        shop.apply("filter-rows", expression="id + 1")


def test_sort_like_pandas_stable_sort_with_nulls_last(shop: Revision) -> None:
    result = shop.apply("sort-rows", keys=[{"column": "name"}, {"column": "price", "desc": True}])
    frame = shop.frame().astype({"price": float})
    expected = frame.sort_values(
        ["name", "price"], ascending=[True, False], na_position="last", kind="stable"
    )
    assert result.column("id") == list(expected["id"])


def test_drop_duplicates_keeps_first_last_or_none_like_pandas(shop: Revision) -> None:
    frame = shop.frame()
    for keep, pandas_keep in (("first", "first"), ("last", "last"), ("none", False)):
        result = shop.apply("drop-duplicates", columns=["name", "price"], keep=keep)
        expected = frame.drop_duplicates(subset=["name", "price"], keep=pandas_keep)
        assert result.column("id") == list(expected["id"]), keep


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["x", "y", None, "é"]), st.integers(-2, 2) | st.none()),
        max_size=30,
    ),
    keep=st.sampled_from(["first", "last", "none"]),
)
def test_drop_duplicates_agrees_with_pandas_on_any_table(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str | None, int | None]], keep: str
) -> None:
    table = Revision(
        tmp_path_factory.mktemp("dups"),
        {"id": list(range(len(rows))), "k": [r[0] for r in rows], "v": [r[1] for r in rows]},
        {"id": "int", "k": "text", "v": "int"},
    )
    result = table.apply("drop-duplicates", columns=["k", "v"], keep=keep)
    expected = table.frame().drop_duplicates(
        subset=["k", "v"], keep=False if keep == "none" else keep
    )
    assert result.column("id") == list(expected["id"])


def test_sample_is_reproducible_and_keeps_the_table_order(shop: Revision) -> None:
    first = shop.apply("sample-rows", count=4, seed=7).column("id")
    again = shop.apply("sample-rows", count=4, seed=7).column("id")
    other = shop.apply("sample-rows", fraction=0.5, seed=8).column("id")
    assert first == again == sorted(first)
    assert len(first) == 4 and len(other) == 4  # round(3.5) == 4
    assert set(first) <= set(range(7))


def test_sample_needs_a_count_or_a_fraction(shop: Revision) -> None:
    with pytest.raises(Invalid, match="either a count or a fraction"):
        shop.apply("sample-rows", seed=1)


def test_operations_on_an_empty_table(tmp_path: Path) -> None:
    empty = Revision(tmp_path, {"a": [], "b": []}, {"a": "int", "b": "text"})
    assert empty.apply("sort-rows", keys=[{"column": "a"}]).records() == []
    assert empty.apply("drop-duplicates").records() == []
    assert empty.apply("sample-rows", fraction=0.5).records() == []
    assert values(pd.Series([], dtype=object)) == []


def test_a_long_operation_reports_its_progress(tmp_path: Path) -> None:
    import duckdb

    from datamill.operations.apply import apply_operation
    from datamill.operations.catalog import check_params, get_operation

    source = tmp_path / "big.parquet"
    with duckdb.connect() as cursor:
        cursor.execute(
            f"COPY (SELECT i AS n, md5(i::VARCHAR) AS s FROM range(2000000) t(i)) "
            f"TO '{source}' (FORMAT parquet)"
        )
    columns = [{"name": "n", "type": "int"}, {"name": "s", "type": "text"}]
    operation = get_operation("sort-rows")
    params = check_params(operation, {"keys": [{"column": "s"}]}, columns, 2000000)  # type: ignore[arg-type]
    fractions: list[float] = []
    with duckdb.connect() as cursor:
        apply_operation(
            cursor, operation, params, source, columns, tmp_path / "out.parquet",  # type: ignore[arg-type]
            fractions.append, every=0.005,
        )  # fmt: skip
    assert fractions, "no progress was reported"
    assert all(0 <= f <= 1 for f in fractions)
    assert fractions == sorted(fractions)
