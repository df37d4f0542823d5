"""How Arrow values look in JSON rows: the grid's wire encoding."""

from __future__ import annotations

import json
import math
from datetime import date, datetime

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from datamill.datasets.values import column_values, to_records, to_rows

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
