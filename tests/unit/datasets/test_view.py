"""Parsing grid views from query parameters, and the SQL they become."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from datamill.datasets.engine import Engine
from datamill.datasets.types import Column
from datamill.datasets.view import (
    Filter,
    SortKey,
    View,
    order_clause,
    parse_view,
    text_form,
    where_clause,
)
from datamill.problems import Invalid

COLUMNS: list[Column] = [
    {"name": "id", "type": "int"},
    {"name": "val", "type": "float"},
    {"name": "ok", "type": "bool"},
    {"name": "day", "type": "date"},
    {"name": "at", "type": "timestamp"},
    {"name": "name", "type": "text"},
    {"name": 'we"ird', "type": "text"},
]


def errors_of(sort: str | None = None, filter: str | None = None) -> list[dict[str, Any]]:
    with pytest.raises(Invalid) as caught:
        parse_view(sort, filter, None, COLUMNS)
    assert caught.value.status == 422
    assert caught.value.errors is not None
    return [dict(error) for error in caught.value.errors]


def one_filter(column: str, op: str, **value: Any) -> str:
    return json.dumps([{"column": column, "op": op, **value}])


# -- parsing: what is accepted -------------------------------------------------------------------


def test_absent_or_empty_parameters_give_the_identity_view() -> None:
    for sort, filter, q in [
        (None, None, None),
        ("", "  ", ""),
        ("[]", "[]", None),
        ("null", "null", None),
    ]:
        view = parse_view(sort, filter, q, COLUMNS)
        assert view == View()
        assert view.is_identity


def test_sort_keys_keep_their_order_and_default_to_ascending() -> None:
    view = parse_view('[{"column": "val", "desc": true}, {"column": "id"}]', None, None, COLUMNS)
    assert view.sort == (SortKey("val", True), SortKey("id", False))
    assert not view.is_identity
    assert view.keeps_all_rows


def test_filter_values_are_coerced_to_the_column_type() -> None:
    filters = [
        {"column": "id", "op": "eq", "value": "42"},
        {"column": "id", "op": "lt", "value": 7.0},
        {"column": "val", "op": "ge", "value": "NaN"},
        {"column": "val", "op": "le", "value": 3},
        {"column": "ok", "op": "eq", "value": "TRUE"},
        {"column": "day", "op": "between", "value": ["2024-01-01", "2024-12-31"]},
        {"column": "at", "op": "gt", "value": "2024-01-01T10:00:00+02:00"},
        {"column": "at", "op": "lt", "value": "2024-01-02"},
        {"column": "name", "op": "in", "value": ["a", 12]},
        {"column": "id", "op": "contains", "value": 12},
        {"column": "name", "op": "is_null"},
        {"column": "name", "op": "not_null", "value": None},
    ]
    view = parse_view(None, json.dumps(filters), None, COLUMNS)
    values = [item.value for item in view.filters]
    assert values[:2] == [42, 7]
    assert math.isnan(values[2])  # type: ignore[arg-type]
    assert values[3:] == [
        3.0,
        True,
        (date(2024, 1, 1), date(2024, 12, 31)),
        datetime(2024, 1, 1, 8, 0),  # converted to UTC, stored naive
        datetime(2024, 1, 2),
        ("a", "12"),
        "12",
        None,
        None,
    ]


def test_q_is_kept_as_given_and_empty_q_means_no_search() -> None:
    assert parse_view(None, None, " Zoë ", COLUMNS).q == " Zoë "
    assert parse_view(None, None, "", COLUMNS).q is None
    assert not parse_view(None, None, "x", COLUMNS).keeps_all_rows


def test_key_is_stable_ignores_filter_order_and_separates_different_views() -> None:
    a = {"column": "id", "op": "gt", "value": 1}
    b = {"column": "name", "op": "eq", "value": "x"}
    first = parse_view('[{"column": "id"}]', json.dumps([a, b]), "q", COLUMNS)
    second = parse_view('[{"column": "id"}]', json.dumps([b, a]), "q", COLUMNS)
    assert first.key() == second.key()
    others = [
        parse_view('[{"column": "id", "desc": true}]', json.dumps([a, b]), "q", COLUMNS),
        parse_view('[{"column": "id"}]', json.dumps([a]), "q", COLUMNS),
        parse_view('[{"column": "id"}]', json.dumps([a, b]), None, COLUMNS),
        parse_view(None, one_filter("day", "eq", value="2024-01-01"), None, COLUMNS),
        parse_view(None, one_filter("name", "eq", value="2024-01-01"), None, COLUMNS),
    ]
    assert len({first.key(), *(view.key() for view in others)}) == 1 + len(others)


def test_views_are_hashable_values() -> None:
    view = parse_view('[{"column": "id"}]', one_filter("id", "in", value=[1, 2]), None, COLUMNS)
    assert hash(view) == hash(
        parse_view('[{"column": "id"}]', one_filter("id", "in", value=[1, 2]), None, COLUMNS)
    )
    assert view.filters[0] == Filter("id", "in", (1, 2))


# -- parsing: every bad item, with its exact location ---------------------------------------------


@pytest.mark.parametrize(
    ("sort", "loc", "words"),
    [
        ("[{", ["query", "sort"], "not valid JSON"),
        ('{"column": "id"}', ["query", "sort"], "list"),
        ('["id"]', ["query", "sort", 0], "object"),
        ('[{"column": "nope"}]', ["query", "sort", 0, "column"], "unknown column 'nope'"),
        ('[{"column": 3}]', ["query", "sort", 0, "column"], "column name"),
        ('[{"desc": true}]', ["query", "sort", 0, "column"], "required"),
        ('[{"column": "id", "desc": "yes"}]', ["query", "sort", 0, "desc"], "true or false"),
        (
            '[{"column": "id", "descending": true}]',
            ["query", "sort", 0, "descending"],
            "unknown field",
        ),
        (
            '[{"column": "id"}, {"column": "id", "desc": true}]',
            ["query", "sort", 1, "column"],
            "already",
        ),
    ],
)
def test_a_bad_sort_names_its_item(sort: str, loc: list[Any], words: str) -> None:
    errors = errors_of(sort=sort)
    assert [error["loc"] for error in errors] == [loc]
    assert words in errors[0]["msg"]


def test_an_unknown_column_message_lists_the_columns_that_exist_truncated() -> None:
    many: list[Column] = [{"name": f"c{index}", "type": "int"} for index in range(50)]
    with pytest.raises(Invalid) as caught:
        parse_view('[{"column": "zz"}]', None, None, many)
    assert caught.value.errors is not None
    message = caught.value.errors[0]["msg"]
    assert "'zz'" in message and "'c0'" in message and "'c19'" in message
    assert "'c20'" not in message and "30 more" in message


@pytest.mark.parametrize(
    ("item", "loc", "words"),
    [
        ({"column": "nope", "op": "eq", "value": 1}, ["column"], "unknown column 'nope'"),
        ({"column": "id", "op": "like", "value": 1}, ["op"], "unknown op 'like'"),
        ({"column": "id", "value": 1}, ["op"], "unknown op None"),
        ({"column": "id", "op": "eq", "value": "abc"}, ["value"], "'id'"),
        ({"column": "id", "op": "eq", "value": 1.5}, ["value"], "integer"),
        ({"column": "id", "op": "eq", "value": True}, ["value"], "integer"),
        ({"column": "id", "op": "eq", "value": 2**63}, ["value"], "64-bit"),
        ({"column": "id", "op": "eq"}, ["value"], "required"),
        ({"column": "id", "op": "eq", "value": None}, ["value"], "is_null"),
        ({"column": "id", "op": "eq", "value": [1]}, ["value"], "one int value"),
        ({"column": "val", "op": "gt", "value": "many"}, ["value"], "'val'"),
        ({"column": "ok", "op": "eq", "value": 1}, ["value"], "true or false"),
        ({"column": "day", "op": "eq", "value": "31/01/2024"}, ["value"], "ISO date"),
        ({"column": "day", "op": "eq", "value": 20240131}, ["value"], "ISO date"),
        ({"column": "at", "op": "eq", "value": "yesterday"}, ["value"], "ISO timestamp"),
        ({"column": "name", "op": "eq", "value": True}, ["value"], "text value"),
        ({"column": "id", "op": "between", "value": [1]}, ["value"], "[low, high]"),
        ({"column": "id", "op": "between", "value": 1}, ["value"], "[low, high]"),
        ({"column": "id", "op": "between", "value": [1, "x"]}, ["value", 1], "'id'"),
        ({"column": "id", "op": "in", "value": 1}, ["value"], "list"),
        ({"column": "id", "op": "in", "value": [1, 2, "x"]}, ["value", 2], "'id'"),
        ({"column": "id", "op": "in", "value": [None]}, ["value", 0], "is_null"),
        ({"column": "id", "op": "is_null", "value": 3}, ["value"], "no value"),
        ({"column": "name", "op": "contains", "value": ["a"]}, ["value"], "text value"),
        ({"column": "name", "op": "regex", "value": "a("}, ["value"], "regular expression"),
        ({"column": "name", "op": "regex", "value": "(?=a)"}, ["value"], "regular expression"),
        ({"column": "name", "op": "regex", "value": r"(a)\1"}, ["value"], "regular expression"),
        ({"column": "name", "op": "regex", "value": 5}, ["value"], "regular expression"),
        ({"column": "name", "op": "eq", "value": "x", "extra": 1}, ["extra"], "unknown field"),
    ],
)
def test_a_bad_filter_names_its_item(item: dict[str, Any], loc: list[Any], words: str) -> None:
    errors = errors_of(filter=json.dumps([{"column": "id", "op": "is_null"}, item]))
    assert [error["loc"] for error in errors] == [["query", "filter", 1, *loc]]
    assert words in errors[0]["msg"]


@pytest.mark.parametrize(
    ("filter", "loc"),
    [
        ("{", ["query", "filter"]),
        ('{"column": "id"}', ["query", "filter"]),
        ("[1]", ["query", "filter", 0]),
    ],
)
def test_a_malformed_filter_parameter_is_reported_at_its_level(filter: str, loc: list[Any]) -> None:
    assert [error["loc"] for error in errors_of(filter=filter)] == [loc]


def test_every_bad_item_of_a_request_is_reported_at_once() -> None:
    sort = '[{"column": "a"}, {"column": "id"}, {"column": "b"}]'
    filters = [
        {"column": "id", "op": "gt", "value": "x"},
        {"column": "name", "op": "eq", "value": "fine"},
        {"column": "nope", "op": "bad"},
    ]
    locs = [error["loc"] for error in errors_of(sort=sort, filter=json.dumps(filters))]
    assert locs == [
        ["query", "sort", 0, "column"],
        ["query", "sort", 2, "column"],
        ["query", "filter", 0, "value"],
        ["query", "filter", 2, "column"],
        ["query", "filter", 2, "op"],
    ]


# -- SQL: run against DuckDB on a small table ------------------------------------------------------

ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "val": 1.5,
        "ok": True,
        "day": date(2024, 1, 1),
        "at": datetime(2024, 1, 1, 9),
        "name": "Apple",
        'we"ird': "x'y",
    },
    {
        "id": 2,
        "val": math.nan,
        "ok": False,
        "day": date(2024, 2, 1),
        "at": datetime(2024, 1, 1, 9, 0, 0, 500),
        "name": "apricot",
        'we"ird': None,
    },
    {"id": 3, "val": None, "ok": None, "day": None, "at": None, "name": None, 'we"ird': "Zoë"},
    {
        "id": 4,
        "val": math.inf,
        "ok": True,
        "day": date(2024, 3, 1),
        "at": datetime(2023, 12, 31),
        "name": "Banana",
        'we"ird': "%_",
    },
    {
        "id": None,
        "val": -math.inf,
        "ok": False,
        "day": date(2023, 1, 1),
        "at": datetime(2024, 6, 1),
        "name": "ÉCLAIR",
        'we"ird': "a%b",
    },
    {
        "id": 6,
        "val": 1.5,
        "ok": True,
        "day": date(2024, 1, 1),
        "at": datetime(2024, 1, 1, 9),
        "name": "apple",
        'we"ird': "it's",
    },
]
SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("val", pa.float64()),
        ("ok", pa.bool_()),
        ("day", pa.date32()),
        ("at", pa.timestamp("us")),
        ("name", pa.string()),
        ('we"ird', pa.string()),
    ]
)


@pytest.fixture(scope="module")
def table_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("view") / "t.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS, schema=SCHEMA), path)
    return path


def ids(
    path: Path, sort: str | None = None, filter: str | None = None, q: str | None = None
) -> list[Any]:
    """The ``id`` column of the view, in view order, as DuckDB computes it from our SQL."""
    view = parse_view(sort, filter, q, COLUMNS)
    where, params = where_clause(view, COLUMNS)
    sql = f"SELECT id FROM read_parquet(?) {where} {order_clause(view)}"
    with duckdb.connect() as connection:
        return [row[0] for row in connection.execute(sql, [str(path), *params]).fetchall()]


def test_nulls_sort_last_both_ways_and_nan_is_the_largest_float(table_path: Path) -> None:
    assert ids(table_path, '[{"column": "val"}]') == [None, 1, 6, 4, 2, 3]
    assert ids(table_path, '[{"column": "val", "desc": true}]') == [2, 4, 1, 6, None, 3]
    assert ids(table_path, '[{"column": "name", "desc": true}]') == [None, 2, 6, 4, 1, 3]


def test_ties_keep_file_order_under_every_key(table_path: Path) -> None:
    assert ids(table_path, '[{"column": "day"}, {"column": "at", "desc": true}]') == [
        None,
        1,
        6,
        2,
        4,
        3,
    ]
    assert ids(table_path, '[{"column": "ok", "desc": true}]') == [1, 4, 6, 2, None, 3]


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        (one_filter("val", "eq", value=1.5), [1, 6]),
        (one_filter("val", "ne", value=1.5), [2, 4, None]),
        (one_filter("val", "gt", value=100), [2, 4]),
        (one_filter("val", "eq", value="NaN"), [2]),
        (one_filter("val", "lt", value="Infinity"), [1, None, 6]),
        (one_filter("id", "between", value=[2, 4]), [2, 3, 4]),
        (one_filter("id", "between", value=[4, 2]), []),
        (one_filter("id", "in", value=[4, 1, 99]), [1, 4]),
        (one_filter("id", "in", value=[]), []),
        (one_filter("id", "is_null"), [None]),
        (one_filter("name", "not_null"), [1, 2, 4, None, 6]),
        (one_filter("ok", "eq", value=False), [2, None]),
        (one_filter("day", "ge", value="2024-02-01"), [2, 4]),
        (one_filter("at", "eq", value="2024-01-01T09:00:00.000500"), [2]),
        (one_filter("at", "le", value="2024-01-01T10:00:00+01:00"), [1, 4, 6]),
        (one_filter("at", "lt", value="2024-01-01T10:00:00+01:00"), [4]),
        (one_filter("name", "contains", value="AP"), [1, 2, 6]),
        (one_filter("name", "contains", value="éclair"), [None]),
        (one_filter("name", "starts_with", value="b"), [4]),
        (one_filter("name", "regex", value="^[a-z]"), [2, 6]),
        (one_filter("name", "regex", value="(?i)^a"), [1, 2, 6]),
        (one_filter('we"ird', "contains", value="'"), [1, 6]),
        (one_filter('we"ird', "contains", value="%"), [4, None]),
        (one_filter('we"ird', "starts_with", value="_"), []),
        (one_filter("id", "contains", value=1), [1]),
        (one_filter("val", "contains", value="nan"), [2]),
        (one_filter("val", "starts_with", value="-Inf"), [None]),
        (one_filter("ok", "starts_with", value="TR"), [1, 4, 6]),
        (one_filter("day", "starts_with", value="2024-0"), [1, 2, 4, 6]),
        (one_filter("at", "starts_with", value="2024-01-01T09:00:00"), [1, 2, 6]),
        (one_filter("at", "regex", value=r"T09:00:00$"), [1, 6]),
        (one_filter("at", "regex", value=r"\.000500$"), [2]),
    ],
)
def test_filters_select_the_rows_their_op_describes(
    table_path: Path, filter: str, expected: list[Any]
) -> None:
    assert ids(table_path, filter=filter) == expected


def test_filters_combine_with_and(table_path: Path) -> None:
    filters = [
        {"column": "name", "op": "contains", "value": "a"},
        {"column": "ok", "op": "eq", "value": True},
    ]
    assert ids(table_path, filter=json.dumps(filters)) == [1, 4, 6]


def test_q_searches_every_text_column_ignoring_case(table_path: Path) -> None:
    assert ids(table_path, q="APP") == [1, 6]
    assert ids(table_path, q="zoë") == [3]
    assert ids(table_path, q="'") == [1, 6]
    assert ids(table_path, q="2024") == []  # dates are not text columns


def test_q_over_a_table_without_text_columns_matches_nothing() -> None:
    columns: list[Column] = [{"name": "n", "type": "int"}]
    where, params = where_clause(parse_view(None, None, "1", columns), columns)
    with duckdb.connect() as connection:
        rows = connection.execute(
            f"SELECT n FROM (VALUES (1), (11)) t(n) {where}", params
        ).fetchall()
    assert rows == []


def test_identity_view_has_no_where_clause_and_orders_by_file_position() -> None:
    assert where_clause(View(), COLUMNS) == ("", [])
    assert order_clause(View()) == "ORDER BY file_row_number"


@given(st.text(min_size=1, max_size=30))
def test_values_are_bound_never_spliced_into_the_sql(text: str) -> None:
    def clause(value: str) -> tuple[str, list[Any]]:
        filters = one_filter("name", "eq", value=value)
        return where_clause(parse_view(None, filters, value, COLUMNS), COLUMNS)

    sql, params = clause(text)
    assert sql == clause("x")[0]
    assert params == [text, text, text]


def test_text_form_matches_the_grid_encoding_of_timestamps() -> None:
    column: Column = {"name": "at", "type": "timestamp"}
    with duckdb.connect() as connection:
        rows = connection.execute(
            f"SELECT {text_form(column)} FROM (VALUES (TIMESTAMP '2024-01-02 03:04:05'), "
            "(TIMESTAMP '2024-01-02 03:04:05.25'), (NULL)) t(\"at\")"
        ).fetchall()
    assert [row[0] for row in rows] == ["2024-01-02T03:04:05", "2024-01-02T03:04:05.250000", None]


# -- hostile values: every one an Invalid naming its item, never a server error --------------------


@pytest.mark.parametrize(
    ("item", "loc"),
    [
        ({"column": "val", "op": "eq", "value": 10**400}, ["value"]),
        ({"column": "val", "op": "in", "value": [1, 10**400]}, ["value", 1]),
        ({"column": "val", "op": "between", "value": [-(10**400), 1]}, ["value", 0]),
        ({"column": "val", "op": "lt", "value": "1e400"}, ["value"]),
        ({"column": "at", "op": "eq", "value": "0001-01-01T00:00:00+01:00"}, ["value"]),
        ({"column": "at", "op": "gt", "value": "9999-12-31T23:59:59-01:00"}, ["value"]),
    ],
)
def test_values_beyond_the_columns_range_are_invalid(item: dict[str, Any], loc: list[Any]) -> None:
    errors = errors_of(filter=json.dumps([item]))
    assert [error["loc"] for error in errors] == [["query", "filter", 0, *loc]]
    assert repr(item["column"]) in errors[0]["msg"]


@pytest.mark.parametrize("param", ["sort", "filter"])
@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_json_nested_too_deeply_is_invalid(param: str, depth: int) -> None:
    """Too deep to parse is refused as such; parsed, the inner lists are not objects."""
    errors = errors_of(**{param: "[" * depth + "]" * depth})
    assert all(error["loc"][:2] == ["query", param] for error in errors)
    if depth == 100_000:
        assert errors == [{"loc": ["query", param], "msg": f"{param} is nested too deeply"}]


def test_deeply_nested_values_and_ops_are_named_not_echoed() -> None:
    deep = "[" * 900 + "]" * 900
    item = '{"column": "id", "op": %s}, {"column": "id", "op": "eq", "value": %s}'
    errors = errors_of(filter=f"[{item % (deep, deep)}]")
    assert [error["loc"] for error in errors] == [
        ["query", "filter", 0, "op"],
        ["query", "filter", 1, "value"],
    ]
    assert all(len(error["msg"]) < 400 for error in errors)


@pytest.mark.parametrize("param", ["sort", "filter"])
def test_sort_and_filter_take_at_most_a_hundred_items(param: str) -> None:
    items = [{"column": "id", "op": "is_null"} if param == "filter" else {"column": "id"}] * 101
    errors = errors_of(**{param: json.dumps(items)})
    assert [error["loc"] for error in errors] == [["query", param]]
    assert "at most 100" in errors[0]["msg"]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("id", "1_0"),
        ("id", " 1_0 "),
        ("id", "1e3"),
        ("id", "0x10"),
        ("id", "\u0661\u0662"),  # Arabic-Indic digits, which int() accepts
        ("id", "1" * 400),
        ("val", "1_0.5"),
        ("val", "0x1p3"),
        ("val", "\u0661\u066b\u0665"),
    ],
)
def test_numbers_in_python_only_syntax_are_refused(column: str, value: str) -> None:
    errors = errors_of(filter=one_filter(column, "eq", value=value))
    assert [error["loc"] for error in errors] == [["query", "filter", 0, "value"]]


def test_plain_signed_decimal_numbers_are_accepted() -> None:
    filters = [
        {"column": "id", "op": "in", "value": ["+5", "-5", " 7 ", "0007"]},
        {"column": "val", "op": "in", "value": ["-1.5e3", ".5", "+Infinity", "nan"]},
    ]
    view = parse_view(None, json.dumps(filters), None, COLUMNS)
    assert view.filters[0].value == (5, -5, 7, 7)
    floats = view.filters[1].value
    assert isinstance(floats, tuple) and floats[:3] == (-1500.0, 0.5, math.inf)
    assert math.isnan(floats[3])  # type: ignore[arg-type]


def test_numbers_given_to_text_ops_mean_their_json_text_as_the_grid_shows_it() -> None:
    filters = [
        {"column": "name", "op": "contains", "value": math.nan},
        {"column": "name", "op": "starts_with", "value": -math.inf},
        {"column": "name", "op": "eq", "value": math.inf},
        {"column": "id", "op": "contains", "value": 12},
    ]
    view = parse_view(None, json.dumps(filters), None, COLUMNS)
    assert [item.value for item in view.filters] == ["NaN", "-Infinity", "Infinity", "12"]


def test_a_non_finite_number_never_matches_python_text_like_inf() -> None:
    columns: list[Column] = [{"name": "s", "type": "text"}]
    view = parse_view(None, one_filter("s", "contains", value=-math.inf), None, columns)
    where, params = where_clause(view, columns)
    with duckdb.connect() as connection:
        rows = connection.execute(
            f"SELECT s FROM (VALUES ('-inf'), ('-Infinity'), ('nan')) t(s) {where}", params
        ).fetchall()
    assert rows == [("-Infinity",)]


# -- regular expressions are checked without a global connection -----------------------------------


def test_regexes_are_checked_on_a_cursor_of_the_engine_given_and_it_is_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = Engine("64MB", tmp_path / "spill", threads=1)
    taken: list[duckdb.DuckDBPyConnection] = []
    original = engine.cursor

    def cursor() -> duckdb.DuckDBPyConnection:
        taken.append(original())
        return taken[-1]

    monkeypatch.setattr(engine, "cursor", cursor)
    try:
        filters = [
            {"column": "name", "op": "regex", "value": "^a"},
            {"column": "name", "op": "regex", "value": "a("},
        ]
        errors = errors_of_with(filter=json.dumps(filters), engine=engine)
        assert [error["loc"] for error in errors] == [["query", "filter", 1, "value"]]
        assert len(taken) == 1
        with pytest.raises(duckdb.ConnectionException):
            taken[0].execute("SELECT 1")
        assert parse_view(None, one_filter("id", "eq", value=1), None, COLUMNS, engine=engine)
        assert len(taken) == 1  # no regex, no cursor
    finally:
        engine.close()


def test_without_an_engine_regexes_are_checked_on_a_private_connection_that_is_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[duckdb.DuckDBPyConnection] = []
    original = duckdb.connect

    def connect(*args: Any, **kwargs: Any) -> duckdb.DuckDBPyConnection:
        opened.append(original(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(duckdb, "connect", connect)
    view = parse_view(None, one_filter("name", "regex", value="^a"), None, COLUMNS)
    assert view.filters[0].value == "^a"
    assert len(opened) == 1
    with pytest.raises(duckdb.ConnectionException):
        opened[0].execute("SELECT 1")


def errors_of_with(engine: Engine, filter: str) -> list[dict[str, Any]]:
    with pytest.raises(Invalid) as caught:
        parse_view(None, filter, None, COLUMNS, engine=engine)
    assert caught.value.errors is not None
    return [dict(error) for error in caught.value.errors]
