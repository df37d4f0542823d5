"""How Arrow values look in JSON rows: the grid's wire encoding."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given
from hypothesis import strategies as st

from datamill.datasets.values import (
    column_values,
    format_days,
    format_microseconds,
    to_records,
    to_rows,
)

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

TABLE = pa.table(
    {
        "i": pa.array([1, None, -(2**63)], pa.int64()),
        "f": pa.array([1.25, math.nan, None], pa.float64()),
        "g": pa.array([math.inf, -math.inf, 0.0], pa.float64()),
        "b": pa.array([True, False, None], pa.bool_()),
        "d": pa.array([date(2024, 1, 31), None, date(1, 1, 1)], pa.date32()),
        "t": pa.array(
            [datetime(2024, 1, 31, 12, 0), datetime(2024, 1, 31, 12, 0, 0, 120), None],
            pa.timestamp("us"),
        ),
        "s": pa.array(["Zoë", "", None], pa.string()),
    }
)


def test_rows_come_in_column_order_with_every_type_encoded() -> None:
    assert to_rows(TABLE) == [
        [1, 1.25, "Infinity", True, "2024-01-31", "2024-01-31T12:00:00", "Zoë"],
        [None, "NaN", "-Infinity", False, None, "2024-01-31T12:00:00.000120", ""],
        [-(2**63), None, 0.0, None, "0001-01-01", None, None],
    ]


def test_rows_are_strict_json() -> None:
    json.dumps(to_rows(TABLE), allow_nan=False)


def test_record_batches_and_slices_encode_like_tables() -> None:
    batch = TABLE.to_batches()[0]
    assert to_rows(batch) == to_rows(TABLE)
    assert to_rows(TABLE.slice(1, 1)) == [to_rows(TABLE)[1]]


def test_records_pair_each_value_with_its_column_name() -> None:
    assert to_records(TABLE.select(["i", "s"]).slice(0, 2)) == [
        {"i": 1, "s": "Zoë"},
        {"i": None, "s": ""},
    ]


def test_empty_tables_give_no_rows_and_tables_without_columns_give_empty_rows() -> None:
    assert to_rows(TABLE.slice(0, 0)) == []
    assert to_rows(pa.table({"x": [1, 2]}).drop_columns(["x"])) == [[], []]


def test_timestamps_beyond_python_datetime_range_are_still_iso_text() -> None:
    far = pa.array([253_402_300_800_000_000], pa.timestamp("us"))
    assert column_values(far) == ["10000-01-01T00:00:00"]
    assert column_values(pa.array([3_000_000], pa.date32())) == ["10183-09-21"]


def test_timestamps_of_other_units_and_with_zones_are_shown_naive() -> None:
    seconds = pa.array([0], pa.timestamp("s"))
    nanos = pa.array([1_500], pa.timestamp("ns"))
    zoned = pa.array([0], pa.timestamp("us", tz="Europe/Paris"))
    assert column_values(seconds) == ["1970-01-01T00:00:00"]
    assert column_values(nanos) == ["1970-01-01T00:00:00.000001500"]
    assert column_values(zoned) == ["1970-01-01T00:00:00"]


@given(st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)), max_size=50))
def test_floats_round_trip_through_json(values: list[float | None]) -> None:
    encoded = column_values(pa.array(values, pa.float64()))
    decoded = [
        float(item) if isinstance(item, str) else item
        for item in json.loads(json.dumps(encoded, allow_nan=False))
    ]
    for before, after in zip(values, decoded, strict=True):
        if before is None or after is None:
            assert before is after
        elif math.isnan(before):
            assert math.isnan(after)
        else:
            assert after == before


@given(st.lists(st.one_of(st.none(), st.datetimes()), max_size=30))
def test_timestamps_match_python_isoformat(values: list[datetime | None]) -> None:
    encoded = column_values(pa.array(values, pa.timestamp("us")))
    assert encoded == [None if value is None else value.isoformat() for value in values]


def test_years_beyond_arrows_sixteen_bit_year_are_formatted_exactly() -> None:
    days = [17_542_597, -18_981_653, 2**31 - 2, -(2**31) + 2]  # 50000 AD, 50001 BC, DuckDB's ends
    assert column_values(pa.array([*days, None], pa.date32())) == [
        "50000-01-01",
        "-50000-01-01",
        "5881580-07-10",
        "-5877641-06-25",  # DuckDB: 5877642-06-25 (BC)
        None,
    ]
    micros = [6_249_223_180_800_000_000, -(2**63) + 1, 2**63 - 1]
    assert column_values(pa.array([*micros, 1], pa.timestamp("us"))) == [
        "200000-01-01T00:00:00",
        "-290308-12-21T19:59:05.224193",
        "294247-01-10T04:00:54.775807",
        "1970-01-01T00:00:00.000001",
    ]


@given(st.integers(-(2**31) + 1, 2**31 - 1))
def test_format_days_agrees_with_python_and_arrow_where_they_reach(days: int) -> None:
    if date.min.toordinal() <= days + EPOCH_ORDINAL <= date.max.toordinal():
        assert format_days(days) == date.fromordinal(days + EPOCH_ORDINAL).isoformat()
    if -11_000_000 <= days <= 11_000_000:  # about ±30,000 years: Arrow's own range
        arrow = pc.strftime(pa.array([days], pa.date32()), format="%Y-%m-%d")
        assert [format_days(days)] == arrow.to_pylist()


@given(st.integers(-(2**62), 2**62))
def test_format_microseconds_agrees_with_python_where_it_reaches(micros: int) -> None:
    try:
        expected = (datetime(1970, 1, 1) + timedelta(microseconds=micros)).isoformat()
    except OverflowError:
        return
    assert format_microseconds(micros) == expected
