"""Parquet: damaged files refused, types and names normalised, row groups rewritten."""

from __future__ import annotations

import datetime as dt
import decimal
import io

import pyarrow as pa
import pyarrow.parquet as pq

from datamill.datasets.ingest import ROW_GROUP_SIZE
from datamill.problems import Invalid
from tests.unit.datasets.ingest.files import (
    Lab,
    parquet_bytes,
)


def test_a_truncated_parquet_file_is_invalid(lab: Lab) -> None:
    data = parquet_bytes(pa.table({"a": list(range(1000))}))
    detail = lab.fails(Invalid, "cut.parquet", data[: len(data) // 2])
    assert detail.startswith("The Parquet file is damaged")


def test_a_parquet_file_with_corrupt_pages_is_invalid(lab: Lab) -> None:
    data = bytearray(parquet_bytes(pa.table({"a": [f"value {i}" for i in range(1000)]})))
    data[8:400] = bytes(392)
    detail = lab.fails(Invalid, "corrupt.parquet", bytes(data))
    assert detail.startswith("The Parquet file is damaged")


def test_parquet_types_are_normalised(lab: Lab) -> None:
    paris = dt.timezone(dt.timedelta(hours=2))
    table = pa.table(
        {
            "dec": pa.array([decimal.Decimal("1.25"), None], pa.decimal128(10, 2)),
            "i32": pa.array([1, -2], pa.int32()),
            "f32": pa.array([1.1, 2.5], pa.float32()),
            "tz": pa.array(
                [dt.datetime(2024, 1, 1, 10, 0, tzinfo=paris), None], pa.timestamp("us", tz="UTC")
            ),
            "ns": pa.array([0, 1_000_000_000], pa.timestamp("ns")),
            "nested": pa.array([{"x": 1}, {"x": 2}]),
            "label": pa.array(["a", "b"]).dictionary_encode(),
        }
    )
    result = lab.ingest("typed.parquet", parquet_bytes(table))
    assert {c["name"]: c["type"] for c in result.columns} == {
        "dec": "float",
        "i32": "int",
        "f32": "float",
        "tz": "timestamp",
        "ns": "timestamp",
        "nested": "text",
        "label": "text",
    }
    schema = lab.schema()
    assert schema["dec"] == pa.float64() and schema["i32"] == pa.int64()
    assert schema["f32"] == pa.float64() and schema["tz"] == pa.timestamp("us")
    assert lab.rows()[0] == {
        "dec": 1.25,
        "i32": 1,
        "f32": 1.1,
        "tz": dt.datetime(2024, 1, 1, 8, 0),
        "ns": dt.datetime(1970, 1, 1),
        "nested": '{"x":1}',
        "label": "a",
    }


def test_parquet_column_names_are_cleaned(lab: Lab) -> None:
    table = pa.Table.from_arrays(
        [pa.array([1]), pa.array([2]), pa.array([3])], names=["a", "a", ""]
    )
    result = lab.ingest("dups.parquet", parquet_bytes(table))
    assert [c["name"] for c in result.columns] == ["a", "a_2", "column_3"]
    assert lab.rows() == [{"a": 1, "a_2": 2, "column_3": 3}]
    assert len(result.warnings) == 2


def test_parquet_is_rewritten_in_bounded_row_groups(lab: Lab) -> None:
    table = pa.table({"n": pa.array(range(250_000), pa.int32())})
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=250_000)
    result = lab.ingest("big.parquet", sink.getvalue())
    metadata = pq.read_metadata(lab.out)
    assert result.row_count == 250_000
    assert all(
        metadata.row_group(i).num_rows <= ROW_GROUP_SIZE for i in range(metadata.num_row_groups)
    )
