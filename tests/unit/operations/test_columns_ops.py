"""Column operations, each compared with what pandas does on the same small table."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from datamill.operations.base import OperationError
from datamill.problems import Invalid
from tests.fixtures.tables import Revision, values


@pytest.fixture
def people(tmp_path: Path) -> Revision:
    return Revision(
        tmp_path,
        {
            "id": [1, 2, 3, 4],
            "name": ["Ada Lovelace", "Émile  Zola", None, "Plato"],
            "price": [1.5, None, -2.25, 1e300],
            "qty": [2, 3, None, 0],
        },
        {"id": "int", "name": "text", "price": "float", "qty": "int"},
    )


def test_rename_columns_keeps_values_and_order(people: Revision) -> None:
    result = people.apply("rename-columns", names={"name": "full name", "qty": "n"})
    assert result.names == ["id", "full name", "price", "n"]
    assert result.column("full name") == people.data["name"]


def test_rename_to_an_existing_name_is_a_422_naming_the_field(people: Revision) -> None:
    with pytest.raises(Invalid) as caught:
        people.apply("rename-columns", names={"name": "id"})
    assert caught.value.errors == [
        {"loc": ["body", "params", "names", "name"], "msg": "there would be two columns 'id'"}
    ]


def test_unknown_column_is_a_422_listing_the_columns(people: Revision) -> None:
    with pytest.raises(Invalid) as caught:
        people.apply("delete-columns", columns=["nope"])
    (error,) = caught.value.errors or []
    assert error["loc"] == ["body", "params", "columns", 0]
    assert error["msg"].startswith("unknown column 'nope'; columns are 'id', 'name'")


def test_unknown_parameter_is_a_422(people: Revision) -> None:
    with pytest.raises(Invalid) as caught:
        people.apply("delete-columns", columns=["id"], colums=["x"])
    assert {"loc": ["body", "params", "colums"], "msg": "unknown parameter"} in (
        caught.value.errors or []
    )


def test_delete_columns_like_pandas_drop(people: Revision) -> None:
    result = people.apply("delete-columns", columns=["price", "id"])
    expected = people.frame().drop(columns=["price", "id"])
    assert result.names == list(expected.columns)
    assert result.applied.changes["columns_removed"] == ["id", "price"]


def test_deleting_every_column_fails_with_a_reason(people: Revision) -> None:
    with pytest.raises(OperationError, match="at least one column"):
        people.apply("delete-columns", columns=["id", "name", "price", "qty"])


def test_reorder_puts_the_listed_columns_first(people: Revision) -> None:
    result = people.apply("reorder-columns", columns=["qty", "name"])
    assert result.names == ["qty", "name", "id", "price"]


def test_duplicate_column_sits_beside_its_original_as_name_copy(people: Revision) -> None:
    result = people.apply("duplicate-column", column="price")
    assert result.names == ["id", "name", "price", "price_copy", "qty"]
    assert result.column("price_copy") == people.data["price"]


def test_change_type_text_to_int_counts_what_it_could_not_read(tmp_path: Path) -> None:
    table = Revision(
        tmp_path,
        {"v": [" 12", "3.0", "abc", None, "", "1e3", "3.5", "-7"]},
        {"v": "text"},
    )
    result = table.apply("change-type", column="v", to="int")
    assert result.column("v") == [12, 3, None, None, None, 1000, None, -7]
    assert result.types == {"v": "int"}
    assert result.applied.changes["unconverted"] == 2  # "abc" and "3.5"; "" is not a value
    assert result.applied.changes["columns_retyped"] == [
        {"column": "v", "from": "text", "to": "int"}
    ]
    expected = pd.to_numeric(table.frame()["v"].str.strip(), errors="coerce")
    assert [v if v is None else int(v) for v in values(expected)][:2] == [12, 3]


def test_strict_change_type_fails_naming_the_first_bad_value(tmp_path: Path) -> None:
    table = Revision(tmp_path, {"v": ["1", "x", "y"]}, {"v": "text"})
    with pytest.raises(OperationError, match=r"2 values of 'v' cannot be read as float.*'x'"):
        table.apply("change-type", column="v", to="float", strict=True)


def test_change_type_to_bool_date_timestamp_and_text(tmp_path: Path) -> None:
    table = Revision(
        tmp_path,
        {
            "b": ["yes", "No", "1", "maybe"],
            "d": ["2024-01-31", "31/01/2024", None, "2024-02-30"],
            "t": ["2024-01-31 10:00:00", "2024-01-31T10:00:01.5", "x", None],
            "f": [1.5, float("nan"), 2.0, None],
        },
        {"b": "text", "d": "text", "t": "text", "f": "float"},
    )
    assert table.apply("change-type", column="b", to="bool").column("b") == [
        True, False, True, None,
    ]  # fmt: skip
    assert table.apply("change-type", column="d", to="date").column("d") == [
        date(2024, 1, 31), None, None, None,
    ]  # fmt: skip
    formatted = table.apply("change-type", column="d", to="date", format="%d/%m/%Y")
    assert formatted.column("d")[1] == date(2024, 1, 31)
    assert table.apply("change-type", column="t", to="timestamp").column("t")[:3] == [
        datetime(2024, 1, 31, 10), datetime(2024, 1, 31, 10, 0, 1, 500000), None,
    ]  # fmt: skip
    assert table.apply("change-type", column="f", to="text").column("f") == [
        "1.5", "NaN", "2.0", None,
    ]  # fmt: skip
    assert table.apply("change-type", column="f", to="int").column("f") == [None, None, 2, None]


def test_a_date_cannot_become_a_number(tmp_path: Path) -> None:
    table = Revision(tmp_path, {"d": [date(2024, 1, 1)]}, {"d": "date"})
    with pytest.raises(Invalid, match="a date column cannot become int"):
        table.apply("change-type", column="d", to="int")


def test_split_by_delimiter_like_pandas_str_split_expand(tmp_path: Path) -> None:
    table = Revision(tmp_path, {"s": ["a,b", "c", None, "d,e,f", ""]}, {"s": "text"})
    result = table.apply("split-column", column="s", delimiter=",")
    expected = table.frame()["s"].str.split(",", expand=True)
    assert result.names == ["s", "s_1", "s_2", "s_3"]
    for index in range(3):
        assert result.column(f"s_{index + 1}") == values(expected[index])
    assert result.applied.changes["columns_made"] == 3


def test_split_by_regex_can_remove_the_original(tmp_path: Path) -> None:
    table = Revision(tmp_path, {"s": ["a1b22c", "x"], "z": [1, 2]}, {"s": "text", "z": "int"})
    result = table.apply("split-column", column="s", pattern="[0-9]+", remove_original=True)
    assert result.names == ["s_1", "s_2", "s_3", "z"]
    assert result.records()[0] == {"s_1": "a", "s_2": "b", "s_3": "c", "z": 1}


def test_split_needs_exactly_one_of_delimiter_and_pattern(tmp_path: Path) -> None:
    table = Revision(tmp_path, {"s": ["a"]}, {"s": "text"})
    with pytest.raises(Invalid, match="either a delimiter or a pattern"):
        table.apply("split-column", column="s")


def test_merge_columns_skips_nulls_like_a_join_of_the_present_values(people: Revision) -> None:
    result = people.apply("merge-columns", columns=["name", "qty"], separator="-", name="nq")
    expected = [
        "-".join(str(v) for v in (n, q) if v is not None)
        for n, q in zip(people.data["name"], people.data["qty"], strict=True)
    ]
    assert result.column("nq") == expected
    assert result.names == ["id", "name", "price", "qty", "nq"]


def test_derive_column_from_an_expression_like_pandas_eval(people: Revision) -> None:
    result = people.apply("derive-column", name="total", expression="price * qty")
    frame = people.frame()
    expected = [
        None if p is None or q is None else p * q
        for p, q in zip(frame["price"], frame["qty"], strict=True)
    ]
    assert result.column("total") == expected
    assert result.types["total"] == "float"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("(SELECT 1)", "subquery is not allowed"),
        ("read_parquet('/etc/passwd')", "function 'read_parquet' is not allowed"),
        ("nope + 1", "unknown column 'nope'"),
        ("price; DROP TABLE x", "one expression"),
        ("sum(price) OVER ()", "window is not allowed"),
        ("getenv('HOME')", "function 'getenv' is not allowed"),
        ("price FROM x", "not a query"),
    ],
)
def test_hostile_or_broken_expressions_are_a_422(
    people: Revision, expression: str, message: str
) -> None:
    with pytest.raises(Invalid, match=message) as caught:
        people.apply("derive-column", name="x", expression=expression)
    assert (caught.value.errors or [])[0]["loc"] == ["body", "params", "expression"]


def test_a_trailing_comment_does_not_swallow_the_query(people: Revision) -> None:
    result = people.apply("derive-column", name="x", expression="id + 1 -- one more")
    assert result.column("x") == [2, 3, 4, 5]
